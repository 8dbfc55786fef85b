/**
 * Where an associate's name comes from when its owner releases it. MCX never stores a name,
 * so the owner's node asks the force's own records system (MCX_ASSOCIATE_DETAILS_URL) at the
 * moment of an allowed, audited request, and passes the answer straight through. Nothing here
 * logs the request's answer.
 */
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { McxError } from '@mcx/errors';

import { NodeErrorCode } from '../../errors.js';

/** The name of an associate, as the force's records system holds it. */
export interface AssociateName {
  givenName: string;
  familyName: string;
}

/** The force's records system, asked for one associate by the owner's own references. */
export interface AssociateDetailsSource {
  fetch(request: { associateId: string; ownerReference: string }): Promise<AssociateName>;
}

const NameSchema = z.object({ givenName: z.string().min(1).max(100), familyName: z.string().min(1).max(100) });

/**
 * An HTTP source: POST `{ associateId, ownerReference }` as JSON, with a bearer token read from
 * `tokenFile` when set; the answer is `{ givenName, familyName }`. 404 means the records system
 * holds no such person. Throws McxError DETAILS_NOT_HELD, DETAILS_SOURCE_UNAVAILABLE or
 * DETAILS_SOURCE_INVALID.
 */
export function createAssociateDetailsSource(config: { url: string; tokenFile: string | null; timeoutMs: number }): AssociateDetailsSource {
  const token = config.tokenFile ? readFileSync(config.tokenFile, 'utf8').trim() : null;
  return {
    async fetch(request) {
      let res: Response;
      try {
        res = await fetch(config.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(request),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch {
        throw new McxError(NodeErrorCode.DETAILS_SOURCE_UNAVAILABLE, "the force's records system did not answer");
      }
      if (res.status === 404)
        throw new McxError(NodeErrorCode.DETAILS_NOT_HELD, "the force's records system holds no name for this associate");
      if (!res.ok) throw new McxError(NodeErrorCode.DETAILS_SOURCE_UNAVAILABLE, `the force's records system answered HTTP ${res.status}`);
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        throw new McxError(NodeErrorCode.DETAILS_SOURCE_INVALID, "the force's records system did not answer JSON");
      }
      const parsed = NameSchema.safeParse(body);
      if (!parsed.success)
        throw new McxError(NodeErrorCode.DETAILS_SOURCE_INVALID, "the force's records system answered without givenName and familyName");
      return parsed.data;
    },
  };
}

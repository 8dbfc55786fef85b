import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { gql } from 'graphql-tag';

import type { McxClient } from '@mcx/client';
import { exportPublicKeyPem } from '@mcx/signing';

import { episodeInput, localEpisode, publishEpisode } from './episodes.js';
import { startTestNode, type TestNode } from './node.js';

const CLI_MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

// Auditor operations, written here (not in packages/client) because only auditors' tools use them.
export const AUDIT_ENTRIES = gql`
  query AuditEntries($filter: McxAuditFilter, $first: Int, $after: String) {
    auditEntries(filter: $filter, first: $first, after: $after) {
      entries {
        seq
        at
        action
        actor {
          subject
          issuer
          force
          orgKind
          roles
        }
        requestingNode
        purpose
        caseRef
        operation
        queryRecordIds
        recordIds
        outcome
        reason
        hash
        prevHash
      }
      nextCursor
    }
  }
`;
export const AUDIT_INTEGRITY = gql`
  query {
    auditIntegrity {
      status
      entries
      verifiedThrough
      unverifiedAfter
      checkpointsChecked
      firstBadSeq
      firstBadReason
    }
  }
`;
export const AUDIT_EXPORT = gql`
  query {
    auditExport
  }
`;
export const AUDIT_CHECKPOINT = gql`
  mutation {
    auditCheckpoint {
      size
      headHash
    }
  }
`;
export const WHO_HAS_SEEN = gql`
  query Who($owner: String!, $id: ID!) {
    whoHasSeenRecord(owner: $owner, id: $id) {
      entries {
        seq
        action
        actor {
          subject
        }
        operation
        recordIds
        caseRef
      }
    }
  }
`;
export const AUDIT_ALERTS = gql`
  query Alerts($from: DateTime!, $to: DateTime!, $t: Int) {
    auditAlerts(from: $from, to: $to, perActorThreshold: $t) {
      kind
      actorSubject
      actorRequestingNode
      count
    }
  }
`;

export type AuditEntryView = {
  seq: number;
  at: string;
  action: string;
  actor: { subject: string; issuer: string | null; force: string; orgKind: string; roles: string[] };
  requestingNode: string | null;
  purpose: string | null;
  caseRef: string | null;
  operation: string;
  queryRecordIds: string[];
  recordIds: string[];
  outcome: string;
  reason: string | null;
};

/** Every audit entry, through the auditor API. */
export async function allEntries(auditor: McxClient, filter: Record<string, unknown> = {}): Promise<AuditEntryView[]> {
  const out: AuditEntryView[] = [];
  let after: string | null = null;
  for (;;) {
    const res = (await auditor.request(AUDIT_ENTRIES as never, { filter, first: 1000, after } as never)) as {
      auditEntries: { entries: AuditEntryView[]; nextCursor: string | null };
    };
    out.push(...res.auditEntries.entries);
    if (!res.auditEntries.nextCursor) return out;
    after = res.auditEntries.nextCursor;
  }
}

/** An auditor of the node's force. */
export async function auditorOf(t: TestNode): Promise<McxClient> {
  return t.as({ roles: ['auditor'], subject: 'dpo-1' });
}

/** A node with a few entries: four publishes and four reads, and a checkpoint over them. */
export async function seededNode(
  force = 'WMP',
  env: Record<string, string> = {},
): Promise<{ t: TestNode; ids: string[]; auditor: McxClient }> {
  const t = await startTestNode({ force, env });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const input = episodeInput();
    ids.push(input.id!);
    await publishEpisode(t.client, input);
    await localEpisode(t.investigator, force, input.id!);
  }
  const auditor = await auditorOf(t);
  await auditor.request(AUDIT_CHECKPOINT as never);
  return { t, ids, auditor };
}

export type IntegrityView = {
  status: string;
  entries: number;
  firstBadSeq: number | null;
  firstBadReason: string | null;
  verifiedThrough: number;
  unverifiedAfter: number;
  checkpointsChecked: number;
};

/** The auditor API's integrity check. */
export async function integrity(auditor: McxClient): Promise<IntegrityView> {
  return ((await auditor.request(AUDIT_INTEGRITY as never)) as { auditIntegrity: IntegrityView }).auditIntegrity;
}

/** Exports the log through the auditor API and runs `mcx audit verify` on it with the node's public key. */
export async function cliVerify(t: TestNode, auditor: McxClient): Promise<{ code: number; stdout: string }> {
  const { auditExport } = (await auditor.request(AUDIT_EXPORT as never)) as { auditExport: string };
  return cliVerifyExport(auditExport, exportPublicKeyPem(t.keys.auditCheckpoint));
}

/** Runs `mcx audit verify` with these arguments (files): its exit code and report. */
export function runAuditVerify(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI_MAIN, 'audit', 'verify', ...args], (err, stdout) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

/**
 * Runs `mcx audit verify` on an export with the public key PEM text given (one key, or several),
 * with `--previous` when an older export is given, and `--receipts` when a member's receipts file is: its exit code and report.
 */
export async function cliVerifyExport(
  exportText: string,
  publicKeyPem: string,
  previousText?: string,
  receiptsText?: string,
  /** The receipts' holders' audit-checkpoint public keys (member code to PEM), for --holder-key. */
  holderKeys: Record<string, string> = {},
  /** Further arguments, as given (files named by path). */
  extraArgs: string[] = [],
): Promise<{ code: number; stdout: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcx-audit-export-'));
  const file = (name: string, text: string) => (writeFileSync(path.join(dir, name), text), path.join(dir, name));
  const previous = previousText === undefined ? [] : ['--previous', file('previous.jsonl', previousText)];
  const receipts = receiptsText === undefined ? [] : ['--receipts', file('receipts.jsonl', receiptsText)];
  const holders = Object.entries(holderKeys).flatMap(([member, pem]) => ['--holder-key', `${member}=${file(`${member}.pub.pem`, pem)}`]);
  return runAuditVerify([
    file('export.jsonl', exportText),
    '--public-key',
    file('audit.pub.pem', publicKeyPem),
    ...previous,
    ...receipts,
    ...holders,
    ...extraArgs,
  ]);
}

/** GET /readyz: the status and the body. */
export async function readyz(t: TestNode): Promise<{ status: number; body: { ready: boolean; audit?: string } & Record<string, unknown> }> {
  const res = await fetch(`${t.node.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; audit?: string } };
}

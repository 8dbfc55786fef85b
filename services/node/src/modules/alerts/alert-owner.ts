/**
 * Whose a watch or a WATCH alert is, and who acknowledged an alert. A person is unique only as
 * issuer and subject together (Viewer): a subject alone may be minted by any configured issuer.
 * Both are stored as one string, `issuer subject`; a configured `iss` holds no whitespace
 * (IssuerConfigSchema), so the first space parts them. Rows written before 0018 hold ` subject`
 * (an empty issuer, which no verified token has): they are nobody's.
 *
 * A reader is never shown another person's subject: only "you", a colleague of the reader's own
 * issuer by organisation, or someone of another issuer; an auditor of this node's force sees the issuer and subject.
 */
import type { Viewer } from '@mcx/auth';

import type { AlertModel, WatchModel } from './alert-model.js';

/** The one form an owner is stored and compared in. */
export function ownerOf(viewer: Pick<Viewer, 'issuer' | 'subject'>): string {
  return `${viewer.issuer} ${viewer.subject}`;
}

/** Who an alert or watch is shown to; an auditor of this node's own force (AuthorisedRead) sees every owner as stored. */
export interface Reader {
  viewer: Viewer;
  auditsThisNode?: boolean;
}

/** What `reader` is shown for `owner`. */
export function ownerLabel(owner: string, { viewer, auditsThisNode }: Reader): string {
  if (owner === ownerOf(viewer)) return 'you';
  if (auditsThisNode) return owner;
  if (owner.startsWith(`${viewer.issuer} `)) return `a colleague at ${viewer.force}`;
  return 'someone at another organisation';
}

/** An alert as `reader` sees it: its owner and acknowledgers by ownerLabel. */
export function alertSeenBy(a: AlertModel, reader: Reader): AlertModel {
  return {
    ...a,
    acknowledgedBy: a.acknowledgedBy === null ? null : ownerLabel(a.acknowledgedBy, reader),
    acknowledgements: a.acknowledgements.map((k) => ({ by: ownerLabel(k.by, reader), at: k.at })),
    forUser: a.forUser === null ? null : ownerLabel(a.forUser, reader),
  };
}

/** A watch as `reader` sees it: its creator by ownerLabel. */
export function watchSeenBy(w: WatchModel, reader: Reader): WatchModel {
  return { ...w, createdBy: ownerLabel(w.createdBy, reader) };
}

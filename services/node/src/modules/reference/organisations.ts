import { isOrgKind, type OrgKind } from '@mcx/auth';

import type { OrganisationRow } from './reference-store.js';

/** The organisations this node knows, loaded once at start: what the write checks and the history ask of them. */
export interface Organisations {
  isKnown(code: string): boolean;
  isAuthority(code: string): boolean;
  /** The police area of a force or authority code (a force is its own area); null when unknown. */
  policeAreaOf(code: string): string | null;
  kindOf(code: string): OrgKind | null;
}

export function organisationsFrom(rows: readonly OrganisationRow[]): Organisations {
  const byCode = new Map(rows.map((o) => [o.code, o]));
  return {
    isKnown: (code) => byCode.has(code),
    isAuthority: (code) => byCode.get(code)?.kind === 'local_authority',
    policeAreaOf: (code) => byCode.get(code)?.policeArea ?? null,
    kindOf: (code) => {
      const kind = byCode.get(code)?.kind;
      return isOrgKind(kind) ? kind : null;
    },
  };
}

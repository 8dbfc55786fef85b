import { and, eq, sql } from 'drizzle-orm';

import { anyOf, schema, type Database } from '@mcx/db';
import type { DerivedLinkageKey } from '@mcx/linkage';

import type { Tx } from '../audit/audit-store.js';
import type { InTx } from '../records/record-store-model.js';

const { subjects, linkageKeys } = schema;

export type HolderKind = 'subject' | 'associate';

/** A stored key, as the match rules need it (kind, strength, the opaque key). */
export interface HeldKey {
  owner: string;
  holderKind: HolderKind;
  holder: string;
  keyKind: string;
  strength: string;
  keyVersion: string;
  key: string;
}

/** SQL for subjects and linkage keys. Keys never leave this table except to be compared. */
export class SubjectStore {
  readonly #candidates: ReturnType<typeof candidatesQuery>;

  constructor(private readonly db: Database) {
    this.#candidates = candidatesQuery(db);
  }

  /** Stores a subject and replaces its keys of the keys' version, in one transaction with the write's audit entry. */
  async publishSubject(
    owner: string,
    subjectRef: string,
    reviewAt: string,
    keys: readonly DerivedLinkageKey[],
    now: Date,
    inTx: InTx,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.upsertSubject(tx, owner, subjectRef, reviewAt, now);
      await this.replaceKeys(tx, owner, 'subject', subjectRef, keys, now);
      await inTx(tx, [`${owner}/${subjectRef}`]);
    });
  }

  async upsertSubject(tx: Tx, owner: string, subjectRef: string, reviewAt: string, now: Date): Promise<void> {
    await tx
      .insert(subjects)
      .values({ owner, subjectRef, reviewAt, updatedAt: now })
      .onConflictDoUpdate({ target: [subjects.owner, subjects.subjectRef], set: { reviewAt, updatedAt: now } });
  }

  /** Replaces a holder's keys of one key version (a re-send replaces, a re-key adds a version). */
  async replaceKeys(
    tx: Tx,
    owner: string,
    holderKind: HolderKind,
    holder: string,
    keys: readonly DerivedLinkageKey[],
    now: Date,
  ): Promise<void> {
    const versions = [...new Set(keys.map((k) => k.keyVersion))];
    if (versions.length > 0) {
      await tx
        .delete(linkageKeys)
        .where(
          and(
            eq(linkageKeys.owner, owner),
            eq(linkageKeys.holderKind, holderKind),
            eq(linkageKeys.holder, holder),
            anyOf(linkageKeys.keyVersion, versions, 'text'),
          ),
        );
    }
    // One key may come from two inputs (a nickname reading equal to the name): store it once.
    const unique = new Map(keys.map((k) => [`${k.keyVersion}|${k.kind}|${k.key}`, k]));
    if (unique.size === 0) return;
    await tx.insert(linkageKeys).values(
      [...unique.values()].map((k) => ({
        owner,
        holderKind,
        holder,
        keyKind: k.kind,
        strength: k.strength,
        keyVersion: k.keyVersion,
        normalisationVersion: k.normalisationVersion,
        key: k.key,
        createdAt: now,
      })),
    );
  }

  /** Holders with any of these keys, then every key those holders have (for conflict checks). */
  async candidates(holderKind: HolderKind, keys: readonly { keyVersion: string; key: string }[]): Promise<HeldKey[]> {
    if (keys.length === 0) return [];
    const rows = await this.#candidates.execute({
      holderKind,
      versions: keys.map((k) => k.keyVersion),
      keys: keys.map((k) => k.key),
    });
    return rows.map((r) => ({ ...r, holderKind: r.holderKind as HolderKind }));
  }

  /** The linkage keys one holder has (for an owner asking the members who else is linked to its associate). */
  async heldKeys(
    owner: string,
    holderKind: HolderKind,
    holder: string,
  ): Promise<{ kind: string; strength: string; keyVersion: string; key: string }[]> {
    const rows = await this.db
      .select({ kind: linkageKeys.keyKind, strength: linkageKeys.strength, keyVersion: linkageKeys.keyVersion, key: linkageKeys.key })
      .from(linkageKeys)
      .where(and(eq(linkageKeys.owner, owner), eq(linkageKeys.holderKind, holderKind), eq(linkageKeys.holder, holder)));
    return rows;
  }

  /** Erases every linkage key of a holder (all key versions); returns how many. */
  async deleteKeys(tx: Tx, owner: string, holderKind: HolderKind, holder: string): Promise<number> {
    const rows = await tx
      .delete(linkageKeys)
      .where(and(eq(linkageKeys.owner, owner), eq(linkageKeys.holderKind, holderKind), eq(linkageKeys.holder, holder)))
      .returning({ key: linkageKeys.key });
    return rows.length;
  }
}

// Every key of every holder that shares one of the asked keys: one prepared statement with fixed
// text (the asked keys go as two arrays), parsed once per connection, one round trip.
function candidatesQuery(db: Database) {
  return db
    .select({
      owner: linkageKeys.owner,
      holderKind: linkageKeys.holderKind,
      holder: linkageKeys.holder,
      keyKind: linkageKeys.keyKind,
      strength: linkageKeys.strength,
      keyVersion: linkageKeys.keyVersion,
      key: linkageKeys.key,
    })
    .from(linkageKeys)
    .where(
      and(
        eq(linkageKeys.holderKind, sql.placeholder('holderKind')),
        sql`(${linkageKeys.owner}, ${linkageKeys.holder}) in (
          select distinct h.owner, h.holder from ${linkageKeys} h
          where h.holder_kind = ${sql.placeholder('holderKind')}
            and (h.key_version, h.key) in (select * from unnest(${sql.placeholder('versions')}::text[], ${sql.placeholder('keys')}::text[])))`,
      ),
    )
    .prepare('subject_candidates');
}

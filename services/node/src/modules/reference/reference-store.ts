import { schema, type Database } from '@mcx/db';

/** A force, local authority or other organisation of the reference data. */
export interface OrganisationRow {
  code: string;
  kind: string;
  policeArea: string;
}

/** SQL for the reference data (ref_organisations). */
export class ReferenceStore {
  constructor(private readonly db: Database) {}

  organisations(): Promise<OrganisationRow[]> {
    const o = schema.refOrganisations;
    return this.db.select({ code: o.code, kind: o.kind, policeArea: o.policeArea }).from(o);
  }
}

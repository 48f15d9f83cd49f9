import type { AcademicsTables } from './tables/academics.ts';
import type { IdentityTables } from './tables/identity.ts';

/** The whole SQL schema as Kysely sees it: one interface per domain, composed here. */
export interface Database extends IdentityTables, AcademicsTables {}

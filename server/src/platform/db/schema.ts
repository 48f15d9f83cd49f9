import type { AcademicsTables } from './tables/academics.ts';
import type { GradesTables } from './tables/grades.ts';
import type { IdentityTables } from './tables/identity.ts';
import type { LoadtestTables } from './tables/loadtests.ts';

/** The whole SQL schema as Kysely sees it: one interface per domain, composed here. */
export interface Database extends IdentityTables, AcademicsTables, LoadtestTables, GradesTables {}

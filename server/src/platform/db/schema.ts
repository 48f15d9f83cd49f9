import type { AcademicsTables } from './tables/academics.ts';
import type { AnalysisTables } from './tables/analysis.ts';
import type { AttendanceTables } from './tables/attendance.ts';
import type { GradesTables } from './tables/grades.ts';
import type { IdentityTables } from './tables/identity.ts';
import type { LoadtestTables } from './tables/loadtests.ts';
import type { MediaTables } from './tables/media.ts';

/** The whole SQL schema as Kysely sees it: one interface per domain, composed here. */
export interface Database
  extends
    IdentityTables,
    AcademicsTables,
    LoadtestTables,
    GradesTables,
    MediaTables,
    AnalysisTables,
    AttendanceTables {}

import type { Executor } from '../../platform/db/database.ts';

// Placeholder until the academics module lands.
export class AcademicsRepository {
  constructor(readonly db: Executor) {}
}

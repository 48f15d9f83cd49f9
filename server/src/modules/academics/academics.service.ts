import type { Db } from '../../platform/db/database.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import type { AcademicsRepository } from './academics.repository.ts';

// Placeholder until the academics module lands.
export class AcademicsService {
  constructor(
    readonly repo: AcademicsRepository,
    readonly db: Db,
    readonly identity: IdentityService,
  ) {}
}

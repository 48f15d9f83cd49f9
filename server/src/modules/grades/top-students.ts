import type { GradesRepository, RankRow } from './grades.repository.ts';
import type { GroupFilter } from './grades.schemas.ts';

export interface TopStudent {
  studentCode: string;
  studentName: string;
  average: number;
}

interface Candidate {
  code: string;
  sum: number;
  n: number;
}

// The first page is small (a narrow scope often ends at once); later pages double, so a long walk
// takes few queries.
const FIRST_PAGE = 100;
const MAX_PAGE = 6400;

/** a ranks before b: higher average first (compared exactly, as fractions), then student code. */
function before(a: Candidate, b: Candidate): boolean {
  const l = a.sum * b.n;
  const r = b.sum * a.n;
  return l !== r ? l > r : a.code < b.code;
}

/**
 * Top students by average effective grade, without aggregating every student.
 *
 * Effective grades are walked from the highest score down (an index order). A student's average
 * can never exceed their best grade, so once the next grade in the walk is below the current
 * last-place average, no student not yet seen can enter the list and the walk stops. Each newly
 * seen student's average is computed from all their grades in scope (one aggregate query per
 * page). Only the top of the index is read: with a 1,000,000-record benchmark dataset, a few
 * per cent of it for the whole school and far less for one semester.
 */
export async function topStudents(repo: GradesRepository, f: GroupFilter, limit: number): Promise<TopStudent[]> {
  const best: Candidate[] = [];
  const seen = new Set<string>();
  let after: RankRow | null = null;
  let size = FIRST_PAGE;
  walk: for (;;) {
    const page = await repo.rankPage(f, after, size);
    if (page.length === 0) break;
    const fresh = [...new Set(page.map((r) => r.student_code).filter((c) => !seen.has(c)))];
    const stats = new Map<string, Candidate>();
    for (const t of fresh.length ? await repo.totalsOfStudents(fresh, f) : []) {
      stats.set(t.student_code, { code: t.student_code, sum: t.sum, n: t.n });
    }
    for (const row of page) {
      const score = Number(row.score_x100);
      if (best.length === limit) {
        const last = best[limit - 1];
        const cmp = score * last.n - last.sum;
        if (cmp < 0 || (cmp === 0 && row.student_code > last.code)) break walk;
      }
      if (seen.has(row.student_code)) continue;
      seen.add(row.student_code);
      const c = stats.get(row.student_code);
      if (!c) continue;
      let i = best.length;
      while (i > 0 && before(c, best[i - 1])) i--;
      if (i < limit) {
        best.splice(i, 0, c);
        if (best.length > limit) best.pop();
      }
    }
    if (page.length < size) break;
    after = page[page.length - 1];
    size = Math.min(MAX_PAGE, size * 2);
  }
  // Names only for the winners: the name of each one's latest record, as the student is known now.
  const latest = new Map<string, { name: string; recordId: string }>();
  for (const row of best.length
    ? await repo.scoresOfStudents(
        best.map((c) => c.code),
        f,
      )
    : []) {
    const l = latest.get(row.student_code);
    if (!l || row.record_id > l.recordId)
      latest.set(row.student_code, { name: row.student_name, recordId: row.record_id });
  }
  return best.map((c) => ({
    studentCode: c.code,
    studentName: latest.get(c.code)?.name ?? '',
    average: Math.round(c.sum / c.n) / 100,
  }));
}

import { stringify } from 'csv-stringify/sync';
import type { Config } from '../../config.ts';
import type { AttendanceStatus } from '../../platform/db/tables/attendance.ts';
import { toIso } from '../../platform/time.ts';
import { buildXlsx, type Cell, XLSX_CONTENT_TYPE } from '../../platform/xlsx.ts';
import type { AcademicsService } from '../academics/academics.service.ts';
import { type Actor, isAdmin, requireActor, requireScope, SYSTEM_ACTOR } from '../identity/actor.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import type { AttendanceRepository } from './attendance.repository.ts';
import type { ReportOut } from './attendance.schemas.ts';

/** Status letters of the export, as Moodle's Attendance activity names its default statuses. */
export const STATUS_LETTER: Record<AttendanceStatus, string> = { present: 'P', late: 'L', excused: 'E', absent: 'A' };

const CSV = 'text/csv; charset=utf-8';

const pct = (num: number, den: number): number | null => (den > 0 ? Math.round((num / den) * 1000) / 10 : null);

/** Local date and time of a session for column headers: YYYY-MM-DD HH:MM. */
function sessionLabel(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * Attendance statistics: per offering (each student's percentage over the sessions held, who is
 * under the threshold, the trend over the term), CSV exports, a student's own history, and the
 * dashboard card. Excused sessions count neither for nor against a student.
 */
export class AttendanceReports {
  constructor(
    private readonly repo: AttendanceRepository,
    private readonly academics: AcademicsService,
    private readonly identity: IdentityService,
    private readonly config: Config,
  ) {}

  async offeringReport(actor: Actor | null, offeringId: string, threshold?: number): Promise<ReportOut> {
    const a = requireScope(requireActor(actor), 'attendance:read');
    await this.academics.assertCanManageOffering(a, offeringId);
    return this.build(offeringId, threshold ?? this.config.attendance.reportThreshold);
  }

  private async build(offeringId: string, threshold: number): Promise<ReportOut> {
    const view = await this.academics.getOffering(SYSTEM_ACTOR, offeringId);
    const students = await this.academics.listEnrolledStudents(offeringId);
    const sessions = (await this.repo.listOfferingSessions(offeringId, Date.now())).filter(
      (s) => s.status !== 'scheduled',
    );
    const rows = await this.repo.listOfferingAttendance(offeringId);
    const status = new Map<string, AttendanceStatus>();
    for (const r of rows) status.set(`${r.session_id}\u0000${r.student_id}`, r.status as AttendanceStatus);
    const enrolled = students.length;

    const sessionOut = sessions.map((s) => {
      const c = { present: 0, late: 0, absent: 0, excused: 0 };
      for (const st of students) {
        const v = status.get(`${s.id}\u0000${st.student_id}`);
        if (v) c[v]++;
      }
      return {
        id: s.id,
        startsAt: toIso(s.starts_at)!,
        status: s.status,
        ...c,
        percent: pct(c.present + c.late, enrolled - c.excused),
      };
    });

    const studentOut = students.map((st) => {
      const c = { present: 0, late: 0, absent: 0, excused: 0 };
      const trend: (number | null)[] = [];
      for (const s of sessions) {
        const v = status.get(`${s.id}\u0000${st.student_id}`);
        if (v) c[v]++;
        trend.push(pct(c.present + c.late, c.present + c.late + c.absent));
      }
      const counted = c.present + c.late + c.absent;
      const percent = pct(c.present + c.late, counted);
      return {
        studentId: st.student_id,
        fullName: st.full_name,
        studentCode: st.student_code,
        email: st.email,
        ...c,
        counted,
        percent,
        belowThreshold: percent !== null && percent < threshold,
        trend,
      };
    });
    studentOut.sort((x, y) => (x.percent ?? 101) - (y.percent ?? 101) || x.fullName.localeCompare(y.fullName));

    return {
      offeringId,
      courseCode: view.course_code,
      courseName: view.course_name,
      semesterCode: view.semester_code,
      section: view.section,
      threshold,
      sessions: sessionOut,
      students: studentOut,
      trend: sessionOut.map((s) => ({ sessionId: s.id, startsAt: s.startsAt, percent: s.percent })),
    };
  }

  /**
   * Exports for a gradebook or the LMS. `csv`: one row per student with a status letter per
   * session and the totals (import into a gradebook by email or student code); `xlsx`: the same
   * table as a spreadsheet, counts and percentage as numbers. `moodle`: one row per student and
   * session (email, username, id number, session start, status letter), the shape an attendance
   * import takes (see docs/attendance.md).
   */
  async export(
    actor: Actor | null,
    offeringId: string,
    format: 'csv' | 'moodle' | 'xlsx',
  ): Promise<{ filename: string; contentType: string; body: string | Buffer }> {
    const report = await this.offeringReport(actor, offeringId);
    const students = await this.academics.listEnrolledStudents(offeringId);
    const sessions = report.sessions;
    const rows = await this.repo.listOfferingAttendance(offeringId);
    const status = new Map(rows.map((r) => [`${r.session_id}\u0000${r.student_id}`, r.status as AttendanceStatus]));
    const base = `attendance-${report.courseCode}-${report.semesterCode}-${report.section}`.replace(
      /[^A-Za-z0-9_.-]/g,
      '_',
    );
    await this.identity.audit(requireActor(actor), 'attendance.export', 'offering', offeringId, { format });
    if (format === 'moodle') {
      const records: string[][] = [['email', 'username', 'idnumber', 'session', 'status']];
      for (const st of students) {
        for (const s of sessions) {
          const v = status.get(`${s.id}\u0000${st.student_id}`);
          if (!v) continue;
          records.push([st.email, st.username, st.student_code ?? '', s.startsAt, STATUS_LETTER[v]]);
        }
      }
      return { filename: `${base}-moodle.csv`, contentType: CSV, body: stringify(records) };
    }
    const header = [
      'Student code',
      'Full name',
      'Email address',
      ...sessions.map((s) => sessionLabel(Date.parse(s.startsAt))),
      'Present',
      'Late',
      'Absent',
      'Excused',
      'Attendance (%)',
    ];
    const byId = new Map(report.students.map((s) => [s.studentId, s]));
    const records: Cell[][] = [header];
    for (const st of students) {
      const r = byId.get(st.student_id)!;
      records.push([
        st.student_code ?? '',
        st.full_name,
        st.email,
        ...sessions.map((s) => {
          const v = status.get(`${s.id}\u0000${st.student_id}`);
          return v ? STATUS_LETTER[v] : '';
        }),
        r.present,
        r.late,
        r.absent,
        r.excused,
        r.percent,
      ]);
    }
    if (format === 'xlsx') {
      return {
        filename: `${base}.xlsx`,
        contentType: XLSX_CONTENT_TYPE,
        body: buildXlsx(`${report.courseCode} ${report.section}`, records),
      };
    }
    // The percentage keeps one decimal in the CSV (100.0, 91.7), as gradebook imports read it.
    const last = header.length - 1;
    const text = records.map((row) =>
      row.map((v, i) => (v === null ? '' : i === last && typeof v === 'number' ? v.toFixed(1) : String(v))),
    );
    return { filename: `${base}.csv`, contentType: CSV, body: stringify(text) };
  }

  /** A student's own attendance (students see only theirs), with the percentage per offering. */
  async mine(actor: Actor | null, f: { offeringId?: string | undefined; limit: number; offset: number }) {
    const a = requireScope(requireActor(actor), 'attendance:read');
    const items = await this.repo.listStudentHistory(a.id, f);
    const all = await this.repo.listStudentHistory(a.id, { offeringId: f.offeringId, limit: 100_000, offset: 0 });
    const per = new Map<
      string,
      { offeringId: string; courseCode: string; courseName: string; ok: number; counted: number }
    >();
    for (const r of all) {
      const p = per.get(r.offering_id) ?? {
        offeringId: r.offering_id,
        courseCode: r.course_code,
        courseName: r.course_name,
        ok: 0,
        counted: 0,
      };
      if (r.status !== 'excused') p.counted++;
      if (r.status === 'present' || r.status === 'late') p.ok++;
      per.set(r.offering_id, p);
    }
    const threshold = this.config.attendance.reportThreshold;
    return {
      items: items.map((r) => ({
        sessionId: r.session_id,
        offeringId: r.offering_id,
        courseCode: r.course_code,
        courseName: r.course_name,
        semesterCode: r.semester_code,
        section: r.section,
        startsAt: toIso(r.starts_at)!,
        status: r.status,
        firstSeenAt: toIso(r.first_seen_at),
        source: r.source,
      })),
      offerings: [...per.values()].map((p) => {
        const percent = pct(p.ok, p.counted);
        return {
          offeringId: p.offeringId,
          courseCode: p.courseCode,
          courseName: p.courseName,
          percent,
          counted: p.counted,
          belowThreshold: percent !== null && percent < threshold,
        };
      }),
      limit: f.limit,
      offset: f.offset,
    };
  }

  /**
   * One card per offering the actor teaches (admins: every offering with a session today): the
   * session of today with its counts, and the three lowest attenders.
   */
  async dashboard(actor: Actor | null) {
    const a = requireScope(requireActor(actor), 'attendance:read');
    const threshold = this.config.attendance.reportThreshold;
    if (a.role === 'student') return { threshold, items: [] };
    const offerings = await this.academics.listOfferings(a, { limit: 200, offset: 0, sort: 'course', order: 'asc' });
    const dayStart = new Date();
    dayStart.setHours(0, 0, 0, 0);
    const dayEnd = dayStart.getTime() + 86_400_000;
    const items = [];
    for (const o of offerings.items) {
      const sessions = await this.repo.listOfferingSessions(o.id, dayEnd);
      const today = sessions.filter((s) => Number(s.starts_at) >= dayStart.getTime() && Number(s.starts_at) < dayEnd);
      if (isAdmin(a) && today.length === 0 && offerings.items.length > 20) continue;
      const report = await this.build(o.id, threshold);
      const t = today[0];
      const ts = t ? report.sessions.find((s) => s.id === t.id) : undefined;
      items.push({
        offeringId: o.id,
        courseCode: o.course_code,
        courseName: o.course_name,
        section: o.section,
        today: t
          ? {
              sessionId: t.id,
              startsAt: toIso(t.starts_at)!,
              status: t.status,
              present: ts?.present ?? 0,
              late: ts?.late ?? 0,
              absent: ts?.absent ?? 0,
              enrolled: Number(o.enrolled_count),
            }
          : null,
        lowest: report.students
          .filter((s) => s.percent !== null)
          .slice(0, 3)
          .map((s) => ({ studentId: s.studentId, fullName: s.fullName, percent: s.percent })),
        percent: pct(
          report.students.reduce((n, s) => n + s.present + s.late, 0),
          report.students.reduce((n, s) => n + s.counted, 0),
        ),
      });
    }
    return { threshold, items };
  }
}

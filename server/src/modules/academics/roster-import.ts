import { parse, type CsvError } from 'csv-parse/sync';
import type { Db } from '../../platform/db/database.ts';
import { isUniqueViolation } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { Actor } from '../identity/actor.ts';
import type { UserRow } from '../identity/identity.repository.ts';
import { emailSchema, fullNameSchema } from '../identity/identity.schemas.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import type { AcademicsRepository } from './academics.repository.ts';

export const ROSTER_MAX_BYTES = 2 * 1024 * 1024;
export const ROSTER_MAX_ROWS = 5000;

export interface RosterRow {
  line: number;
  studentCode: string;
  fullName: string;
  email: string;
}

export interface RosterLineError {
  line: number;
  message: string;
}

export interface RosterResult {
  created: number;
  enrolled: number;
  alreadyEnrolled: number;
  rows: number;
}

// Student codes double as usernames of the accounts a roster creates, so they follow both rules.
const STUDENT_CODE = /^[A-Za-z0-9][A-Za-z0-9-]{1,31}$/;

const COLUMNS = ['student_code', 'full_name', 'email'] as const;
type Column = (typeof COLUMNS)[number];

// Spreadsheets exported by Spanish-speaking offices name the columns in Spanish.
const ALIASES: Record<string, Column> = {
  student_code: 'student_code',
  studentcode: 'student_code',
  code: 'student_code',
  carnet: 'student_code',
  carne: 'student_code',
  full_name: 'full_name',
  fullname: 'full_name',
  name: 'full_name',
  nombre: 'full_name',
  nombre_completo: 'full_name',
  email: 'email',
  e_mail: 'email',
  correo: 'email',
  correo_electronico: 'email',
};

function normalizeHeader(h: string): string {
  return h
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s.-]+/g, '_');
}

/**
 * UTF-8 first; a file that is not valid UTF-8 is read as Windows-1252, which is what spreadsheet
 * programs on Windows write for Spanish text when asked for "CSV".
 */
function decode(data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return new TextDecoder('windows-1252').decode(data);
  }
}

/** The header line decides the delimiter: a spreadsheet in a comma-decimal locale writes ';'. */
function detectDelimiter(text: string): ',' | ';' {
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const semicolons = first.split(';').length;
  const commas = first.split(',').length;
  return semicolons > commas ? ';' : ',';
}

/**
 * Parses and checks the shape of every row; the database checks come later. Every problem is
 * reported with the line it starts on (the header is line 1).
 */
export function parseRoster(data: Buffer): { rows: RosterRow[]; errors: RosterLineError[] } {
  const text = decode(data)
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n');
  const errors: RosterLineError[] = [];
  if (text.trim() === '') return { rows: [], errors: [{ line: 1, message: 'the file is empty' }] };

  let records: { info: { lines: number }; record: string[] }[];
  try {
    records = parse(text, {
      delimiter: detectDelimiter(text),
      record_delimiter: '\n',
      info: true,
      relax_column_count: true,
      relax_quotes: false,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined) => {
        if (err) errors.push({ line: Number(err.lines), message: `malformed CSV: ${err.message.split(':')[0]}` });
        return undefined;
      },
    }) as unknown as { info: { lines: number }; record: string[] }[];
  } catch (err) {
    const e = err as CsvError;
    return { rows: [], errors: [...errors, { line: Number(e.lines ?? 1), message: `malformed CSV: ${e.message}` }] };
  }
  // A record's `lines` is where it ends; quoted line breaks inside it move its start back.
  const startLine = (r: { info: { lines: number }; record: string[] }) =>
    r.info.lines - r.record.reduce((n, f) => n + (f.split('\n').length - 1), 0);

  const [header, ...body] = records;
  if (!header) return { rows: [], errors: [{ line: 1, message: 'the file has no header' }, ...errors] };
  const index: Partial<Record<Column, number>> = {};
  header.record.forEach((h, i) => {
    const col = ALIASES[normalizeHeader(h)];
    if (col && index[col] === undefined) index[col] = i;
  });
  const missing = COLUMNS.filter((c) => index[c] === undefined);
  if (missing.length > 0) {
    return {
      rows: [],
      errors: [
        {
          line: startLine(header),
          message: `the header must name the columns student_code, full_name, email (missing: ${missing.join(', ')})`,
        },
      ],
    };
  }
  if (body.length === 0 && errors.length === 0) {
    errors.push({ line: startLine(header), message: 'the file has no student rows' });
  }
  if (body.length > ROSTER_MAX_ROWS) {
    throw new AppError('roster_too_large', 413, `A roster may have at most ${ROSTER_MAX_ROWS} rows`, {
      rows: body.length,
    });
  }

  const rows: RosterRow[] = [];
  const byCode = new Map<string, number>();
  const byEmail = new Map<string, number>();
  for (const r of body) {
    const line = startLine(r);
    const field = (c: Column) => (r.record[index[c]!] ?? '').trim();
    const problems: string[] = [];
    const code = field('student_code');
    if (!STUDENT_CODE.test(code)) {
      problems.push(
        code === ''
          ? 'student_code is empty'
          : `student_code "${code.slice(0, 40)}" must be 2–32 letters, digits or dashes`,
      );
    }
    const name = fullNameSchema.safeParse(field('full_name'));
    if (!name.success) problems.push('full_name is empty or longer than 200 characters');
    const email = emailSchema.safeParse(field('email'));
    if (!email.success) problems.push(`email "${field('email').slice(0, 80)}" is not a valid address`);

    if (STUDENT_CODE.test(code)) {
      const key = code.toLowerCase();
      const first = byCode.get(key);
      if (first !== undefined) problems.push(`student_code ${code} is repeated (first on line ${first})`);
      else byCode.set(key, line);
    }
    if (email.success) {
      const first = byEmail.get(email.data);
      if (first !== undefined) problems.push(`email ${email.data} is repeated (first on line ${first})`);
      else byEmail.set(email.data, line);
    }
    if (problems.length > 0) errors.push({ line, message: problems.join('; ') });
    else rows.push({ line, studentCode: code, fullName: name.data!, email: email.data! });
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

export interface RosterDeps {
  db: Db;
  repo: AcademicsRepository;
  identity: IdentityService;
}

/**
 * Imports a roster into one offering: all rows or none. Every row is checked first (shape, then
 * against the accounts already there); any problem rejects the whole file with every bad line.
 * New students are created without a password (an admin can set one later) and enrolled in the
 * same transaction.
 */
export async function importRoster(
  deps: RosterDeps,
  actor: Actor,
  offeringId: string,
  data: Buffer,
): Promise<RosterResult> {
  if (data.length > ROSTER_MAX_BYTES) {
    throw new AppError('roster_too_large', 413, `A roster file may be at most ${ROSTER_MAX_BYTES} bytes`);
  }
  const { rows, errors } = parseRoster(data);

  const byCode = new Map<string, UserRow>();
  const byEmail = new Map<string, UserRow>();
  const byUsername = new Map<string, UserRow>();
  if (rows.length > 0) {
    for (const u of await deps.repo.listUsersByStudentCodes(rows.map((r) => r.studentCode))) {
      if (u.student_code) byCode.set(u.student_code, u);
    }
    for (const u of await deps.repo.listUsersByEmails(rows.map((r) => r.email))) byEmail.set(u.email, u);
    const newUsernames = rows.filter((r) => !byCode.has(r.studentCode)).map((r) => r.studentCode.toLowerCase());
    for (const u of await deps.repo.listUsersByUsernames(newUsernames)) byUsername.set(u.username, u);
  }

  const matched: string[] = [];
  const toCreate: RosterRow[] = [];
  for (const r of rows) {
    const existing = byCode.get(r.studentCode);
    const emailOwner = byEmail.get(r.email);
    if (existing) {
      if (existing.role !== 'student') {
        errors.push({ line: r.line, message: `student_code ${r.studentCode} belongs to a ${existing.role} account` });
      } else if (emailOwner && emailOwner.id !== existing.id) {
        errors.push({
          line: r.line,
          message: `email ${r.email} belongs to another user (${emailOwner.username}), not to student ${r.studentCode}`,
        });
      } else {
        matched.push(existing.id);
      }
      continue;
    }
    const username = r.studentCode.toLowerCase();
    if (emailOwner) {
      errors.push({ line: r.line, message: `email ${r.email} belongs to another user (${emailOwner.username})` });
    } else if (byUsername.has(username)) {
      errors.push({ line: r.line, message: `username ${username} is already taken by another account` });
    } else {
      toCreate.push(r);
    }
  }
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line);
    throw new AppError(
      'roster_invalid',
      400,
      `${errors.length} line(s) of the roster have problems; nothing was imported`,
      { errors },
    );
  }

  try {
    return await deps.db.kysely.transaction().execute(async (trx) => {
      const repo = deps.repo.withExecutor(trx);
      const identity = deps.identity.withExecutor(trx);
      const createdIds = await identity.createUsers(
        toCreate.map((r) => ({
          username: r.studentCode.toLowerCase(),
          email: r.email,
          fullName: r.fullName,
          role: 'student' as const,
          studentCode: r.studentCode,
        })),
      );
      const already = new Set(await repo.listEnrolledStudentIds(offeringId, matched));
      const t = Date.now();
      const newEnrollments = [...matched.filter((id) => !already.has(id)), ...createdIds].map((studentId) => ({
        id: newId(t),
        offering_id: offeringId,
        student_id: studentId,
        created_at: t,
      }));
      await repo.insertEnrollments(newEnrollments);
      const result: RosterResult = {
        created: createdIds.length,
        enrolled: newEnrollments.length,
        alreadyEnrolled: already.size,
        rows: rows.length,
      };
      await identity.audit(actor, 'roster.import', 'offering', offeringId, { ...result });
      return result;
    });
  } catch (err) {
    // Someone created one of these accounts or enrolments between the checks and the commit.
    if (isUniqueViolation(err) || (err instanceof AppError && err.code === 'duplicate_user')) {
      throw new AppError('roster_conflict', 409, 'The roster changed while importing; nothing was imported, try again');
    }
    throw err;
  }
}

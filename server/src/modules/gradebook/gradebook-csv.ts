import { parse, type CsvError } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { AppError } from '../../platform/errors.ts';

export const GRADES_CSV_MAX_BYTES = 2 * 1024 * 1024;
export const GRADES_CSV_MAX_ROWS = 5000;

export interface CsvGradeRow {
  line: number;
  studentCode: string;
  score: number;
}

export interface CsvLineError {
  line: number;
  message: string;
}

type Column = 'student_code' | 'score';

// Offices in Guatemala name the columns in Spanish ("carnet", "nota"); both spellings are accepted.
const ALIASES: Record<string, Column> = {
  student_code: 'student_code',
  studentcode: 'student_code',
  code: 'student_code',
  carnet: 'student_code',
  carne: 'student_code',
  score: 'score',
  grade: 'score',
  nota: 'score',
  calificacion: 'score',
  punteo: 'score',
};

// The grade API's rule for codes: 1–32 letters, digits, dots, dashes or underscores.
const STUDENT_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

function normalizeHeader(h: string): string {
  return h
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s.-]+/g, '_');
}

/** UTF-8, or Windows-1252 when the bytes are not valid UTF-8 (spreadsheets on Windows). */
function decode(data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return new TextDecoder('windows-1252').decode(data);
  }
}

/** A spreadsheet in a comma-decimal locale separates fields with ';' and writes 85,5. */
function detectDelimiter(text: string): ',' | ';' {
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return first.split(';').length > first.split(',').length ? ';' : ',';
}

function parseScore(raw: string, delimiter: ',' | ';'): number | undefined {
  const s = delimiter === ';' ? raw.replace(',', '.') : raw;
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 0 && n <= 100 ? n : undefined;
}

/**
 * Reads a grades file and checks the shape of every row. Problems carry the line they start on
 * (the header is line 1); whether each student is enrolled is checked by the caller.
 */
export function parseGradesCsv(data: Buffer): { rows: CsvGradeRow[]; errors: CsvLineError[]; skipped: number } {
  if (data.length > GRADES_CSV_MAX_BYTES) {
    throw new AppError('file_too_large', 413, `A grades file may be at most ${GRADES_CSV_MAX_BYTES} bytes`);
  }
  const text = decode(data)
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n');
  if (text.trim() === '') return { rows: [], errors: [{ line: 1, message: 'the file is empty' }], skipped: 0 };
  const delimiter = detectDelimiter(text);
  const errors: CsvLineError[] = [];

  type Rec = { info: { lines: number }; record: string[] };
  let records: Rec[];
  try {
    records = parse(text, {
      delimiter,
      record_delimiter: '\n',
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      skip_records_with_error: true,
      on_skip: (err: CsvError | undefined) => {
        if (err) errors.push({ line: Number(err.lines), message: `malformed CSV: ${err.message.split(':')[0]}` });
        return undefined;
      },
    }) as unknown as Rec[];
  } catch (err) {
    const e = err as CsvError;
    return {
      rows: [],
      errors: [...errors, { line: Number(e.lines ?? 1), message: `malformed CSV: ${e.message}` }],
      skipped: 0,
    };
  }
  // A record's `lines` is where it ends; line breaks inside quoted fields move its start back.
  const startLine = (r: Rec) => r.info.lines - r.record.reduce((n, f) => n + (f.split('\n').length - 1), 0);

  const [header, ...body] = records;
  if (!header) return { rows: [], errors: [{ line: 1, message: 'the file has no header' }, ...errors], skipped: 0 };
  const index: Partial<Record<Column, number>> = {};
  header.record.forEach((h, i) => {
    const col = ALIASES[normalizeHeader(h)];
    if (col && index[col] === undefined) index[col] = i;
  });
  if (index.student_code === undefined || index.score === undefined) {
    return {
      rows: [],
      errors: [
        {
          line: startLine(header),
          message: 'the header must name the columns student_code,score (or carnet,nota)',
        },
      ],
      skipped: 0,
    };
  }
  if (body.length > GRADES_CSV_MAX_ROWS) {
    throw new AppError('file_too_large', 413, `A grades file may have at most ${GRADES_CSV_MAX_ROWS} rows`, {
      rows: body.length,
    });
  }
  const rows: CsvGradeRow[] = [];
  const seen = new Map<string, number>();
  let skipped = 0;
  for (const r of body) {
    const line = startLine(r);
    const code = (r.record[index.student_code] ?? '').trim();
    const rawScore = (r.record[index.score] ?? '').trim();
    // A row without a score is a student not graded yet: an exported gradebook, filled in part,
    // imports as it is.
    if (rawScore === '') {
      skipped++;
      continue;
    }
    const problems: string[] = [];
    if (!STUDENT_CODE.test(code)) {
      problems.push(code === '' ? 'the student code is empty' : `"${code.slice(0, 40)}" is not a valid student code`);
    } else {
      const first = seen.get(code.toLowerCase());
      if (first !== undefined) problems.push(`student ${code} already appears on line ${first}`);
      else seen.set(code.toLowerCase(), line);
    }
    const score = parseScore(rawScore, delimiter);
    if (score === undefined) {
      problems.push(`score "${rawScore.slice(0, 20)}" must be a number from 0 to 100 with at most 2 decimals`);
    }
    if (problems.length > 0) errors.push({ line, message: problems.join('; ') });
    else rows.push({ line, studentCode: code, score: score! });
  }
  if (rows.length === 0 && errors.length === 0) {
    errors.push({ line: startLine(header), message: 'the file has no grades (every row lacks a score)' });
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors, skipped };
}

// A cell that starts with one of these is run as a formula by spreadsheet programs.
const FORMULA_START = /^[=+\-@\t\r]/;

function safeCell(v: string | number | null): string | number {
  if (v === null) return '';
  if (typeof v === 'number') return v;
  return FORMULA_START.test(v) ? `'${v}` : v;
}

export function gradesCsv(
  rows: { studentCode: string; studentName: string; score: number | null; status: string; updatedAt: string | null }[],
): string {
  return stringify(
    rows.map((r) => [r.studentCode, r.studentName, r.score, r.status, r.updatedAt].map((v) => safeCell(v))),
    { header: true, columns: ['student_code', 'student_name', 'score', 'status', 'updated_at'] },
  );
}

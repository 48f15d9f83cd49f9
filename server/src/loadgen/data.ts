import { Prng } from './prng.ts';

/** One grade exactly as the public API takes it: the same snake_case fields on REST and gRPC. */
export interface GradeRecord {
  student_code: string;
  student_name: string;
  course_code: string;
  semester: 1 | 2;
  year: number;
  score: number;
  idempotency_key?: string;
}

export interface Student {
  code: string;
  name: string;
}

export const DEFAULT_COURSES = [
  'SO1',
  'SO2',
  'BD1',
  'BD2',
  'LFP',
  'SA',
  'AYD1',
  'AYD2',
  'IPC1',
  'IPC2',
  'ARQ1',
  'COMPI1',
  'IA1',
  'REDES1',
] as const;

export const MAX_STUDENTS = 500_000;

export const DEFAULT_YEARS = [2022, 2023, 2024, 2025] as const;

const FIRST_NAMES = [
  'José',
  'Juan',
  'Luis',
  'Carlos',
  'Jorge',
  'Miguel',
  'Pedro',
  'Diego',
  'Andrés',
  'Fernando',
  'Javier',
  'Ricardo',
  'Daniel',
  'Alejandro',
  'Pablo',
  'Sergio',
  'Mario',
  'Óscar',
  'Héctor',
  'Rodrigo',
  'Kevin',
  'Erick',
  'Cristian',
  'Julio',
  'Marco',
  'María',
  'Ana',
  'Lucía',
  'Sofía',
  'Valeria',
  'Andrea',
  'Gabriela',
  'Daniela',
  'Fernanda',
  'Paola',
  'Alejandra',
  'Carmen',
  'Rosa',
  'Isabel',
  'Elena',
  'Mónica',
  'Karla',
  'Claudia',
  'Lorena',
  'Silvia',
  'Beatriz',
  'Jimena',
  'Natalia',
  'Camila',
  'Ximena',
];

const SURNAMES = [
  'García',
  'López',
  'Pérez',
  'González',
  'Rodríguez',
  'Hernández',
  'Martínez',
  'Morales',
  'Méndez',
  'Castillo',
  'Ramírez',
  'Flores',
  'Gómez',
  'Díaz',
  'Reyes',
  'Cruz',
  'Ortiz',
  'Juárez',
  'Chávez',
  'Vásquez',
  'Ramos',
  'Ruiz',
  'Aguilar',
  'Mejía',
  'Estrada',
  'Herrera',
  'Castro',
  'Rojas',
  'Monzón',
  'Barrios',
  'Escobar',
  'Orellana',
  'Sandoval',
  'Cifuentes',
  'Solís',
  'Alvarado',
  'Cabrera',
  'Fuentes',
  'Pineda',
  'Velásquez',
];

export interface DataOptions {
  seed: number;
  students: number;
  courses?: readonly string[];
  years?: readonly number[];
  /** When set, every record carries a unique key `${prefix}-${n}`. */
  idempotencyPrefix?: string | undefined;
}

/**
 * Score model: a mixture of two clipped normals — students who keep up, N(76, 11), and students
 * who struggle, N(45, 15), weighted 72/28 — which passes about 70% at the usual bar of 61 and
 * puts the familiar bumps at both ends of a real gradebook. Two decimals, within 0..100.
 */
export const SCORE_MODEL = {
  keepUpWeight: 0.72,
  keepUp: { mean: 76, sd: 11 },
  struggle: { mean: 45, sd: 15 },
  passingGrade: 61,
} as const;

/**
 * Realistic, reproducible grades: a fixed pool of students (9-digit carnets such as 201900001,
 * Spanish names), a list of courses, semesters 1 and 2 over a few years, and scores from
 * SCORE_MODEL. The same seed yields the same sequence.
 */
export class GradeGenerator {
  readonly students: readonly Student[];
  private readonly rng: Prng;
  private readonly courses: readonly string[];
  private readonly years: readonly number[];
  private readonly keyPrefix: string | undefined;
  private keySeq = 0;

  constructor(opts: DataOptions) {
    if (!Number.isInteger(opts.students) || opts.students < 1 || opts.students > MAX_STUDENTS) {
      throw new Error(`the student pool must hold 1 to ${MAX_STUDENTS} students`);
    }
    this.rng = new Prng(opts.seed);
    this.courses = opts.courses?.length ? opts.courses : DEFAULT_COURSES;
    this.years = opts.years?.length ? opts.years : DEFAULT_YEARS;
    this.keyPrefix = opts.idempotencyPrefix;
    this.students = buildStudentPool(new Prng(opts.seed ^ 0x5bd1e995), opts.students);
  }

  next(): GradeRecord {
    const r = this.rng;
    const s = this.students[r.int(this.students.length)];
    const g: GradeRecord = {
      student_code: s.code,
      student_name: s.name,
      course_code: r.pick(this.courses),
      semester: r.next() < 0.5 ? 1 : 2,
      year: r.pick(this.years),
      score: sampleScore(r),
    };
    if (this.keyPrefix !== undefined) g.idempotency_key = `${this.keyPrefix}-${(this.keySeq++).toString(36)}`;
    return g;
  }

  batch(n: number): GradeRecord[] {
    const out = new Array<GradeRecord>(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }
}

export function sampleScore(r: Prng): number {
  const m = r.next() < SCORE_MODEL.keepUpWeight ? SCORE_MODEL.keepUp : SCORE_MODEL.struggle;
  const raw = m.mean + m.sd * r.normal();
  const clipped = Math.min(100, Math.max(0, raw));
  return Math.round(clipped * 100) / 100;
}

function buildStudentPool(r: Prng, size: number): Student[] {
  // Carnets are the enrolment year followed by a five-digit sequence: 201900001.
  const firstYear = 2015;
  const yearsSpan = 10;
  // Sequences are drawn from a range at least twice the expected need, so draws rarely collide.
  const seqRange = Math.min(99_999, Math.max(1000, Math.ceil((size / yearsSpan) * 2)));
  const used = new Set<string>();
  const out: Student[] = [];
  while (out.length < size) {
    const year = firstYear + r.int(yearsSpan);
    const code = `${year}${String(1 + r.int(seqRange)).padStart(5, '0')}`;
    if (used.has(code)) continue;
    used.add(code);
    const given = r.pick(FIRST_NAMES);
    let first = given;
    if (r.next() < 0.45) {
      let middle = r.pick(FIRST_NAMES);
      while (middle === given) middle = r.pick(FIRST_NAMES);
      first = `${given} ${middle}`;
    }
    out.push({ code, name: `${first} ${r.pick(SURNAMES)} ${r.pick(SURNAMES)}` });
  }
  return out;
}

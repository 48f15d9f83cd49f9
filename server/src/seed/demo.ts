import type { AppContext } from '../context.ts';
import type { ScheduleSlot } from '../modules/academics/academics.schemas.ts';
import { localDate, schoolWeek } from '../modules/academics/schedule.ts';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';
import { hashPassword } from '../modules/identity/passwords.ts';

/**
 * A small school to explore the product with: two teachers, forty students, this year's two
 * semesters, six courses offered in the current semester, enrolments and this week's sessions.
 * Every step looks for what is already there first, so running it again changes nothing.
 */

export const DEMO_TEACHERS = [
  { username: 'teacher1', fullName: 'Marta Lucía Ovalle Figueroa' },
  { username: 'teacher2', fullName: 'Carlos Enrique Pérez Say' },
] as const;

const STUDENT_NAMES = [
  'José Daniel Pérez López',
  'María Fernanda García Méndez',
  'Luis Alberto Hernández Cifuentes',
  'Ana Lucía Morales Rodas',
  'Carlos Eduardo Ramírez Orellana',
  'Gabriela Alejandra Castillo Barrios',
  'Juan Pablo Gómez Monterroso',
  'Andrea Sofía Juárez Aguilar',
  'Diego Alejandro Chávez Estrada',
  'Valeria Isabel Rodríguez Solís',
  'Kevin Josué Xicará Tzul',
  'Sofía Margarita Cojtí Ajú',
  'Marco Antonio Mazariegos Velásquez',
  'Daniela Beatriz Reyes Paz',
  'Pedro Ismael Quiñónez Arriaga',
  'Lucía Fernanda Batz Coyoy',
  'Javier Estuardo Cabrera Fuentes',
  'Karla Rocío Marroquín Girón',
  'Fernando José Ovalle Samayoa',
  'Paola Andrea Sandoval Herrera',
  'Ricardo Arturo Lemus Castañeda',
  'Alejandra María Tzoc Poncio',
  'Byron Alexander Ajcalón Sicán',
  'Mónica Elizabeth Figueroa Letona',
  'Óscar René Villatoro Recinos',
  'Andrea Paola Cardona Bautista',
  'Erick Rolando Ixcoy Chumil',
  'Silvia Marisol Calderón Pineda',
  'Walter Geovanni Escobar Arévalo',
  'Claudia Verónica Santizo Lima',
  'Héctor Manuel De León Ordóñez',
  'Jennifer Alejandra Maldonado Ruiz',
  'Rodrigo Sebastián Alvarado Mejía',
  'Ximena Guadalupe Zelada Urízar',
  'Mario Roberto Chinchilla Del Cid',
  'Astrid Yesenia Cuc Tiul',
  'Selvin Omar Tojín Pérez',
  'Ingrid Johana Barrientos Lara',
  'Emilio Andrés Muñoz Aldana',
  'Camila Renata Portillo Asturias',
];

/** Nine-digit student codes ("carnés"): year of entry, then a five-digit sequence. Ten per cohort. */
export const DEMO_STUDENTS = STUDENT_NAMES.map((fullName, i) => {
  const code = `${2019 + Math.floor(i / 10)}${String((i % 10) + 1).padStart(5, '0')}`;
  return { code, fullName };
});

export const DEMO_COURSES: {
  code: string;
  name: string;
  description: string;
  teacher: 0 | 1;
  room: string;
  schedule: ScheduleSlot[];
}[] = [
  {
    code: 'SO1',
    name: 'Sistemas Operativos 1',
    description: 'Procesos, hilos, planificación, memoria y sistemas de archivos.',
    teacher: 0,
    room: 'T3-112',
    schedule: [
      { day: 1, start: '07:00', end: '08:40' },
      { day: 3, start: '07:00', end: '08:40' },
    ],
  },
  {
    code: 'BD1',
    name: 'Sistemas de Bases de Datos 1',
    description: 'Modelo relacional, SQL, normalización y transacciones.',
    teacher: 0,
    room: 'S12-210',
    schedule: [
      { day: 2, start: '07:00', end: '08:40' },
      { day: 4, start: '07:00', end: '08:40' },
    ],
  },
  {
    code: 'LFP',
    name: 'Lenguajes Formales y de Programación',
    description: 'Autómatas, expresiones regulares, gramáticas y análisis léxico.',
    teacher: 0,
    room: 'S11-103',
    schedule: [
      { day: 2, start: '09:00', end: '10:40' },
      { day: 4, start: '09:00', end: '10:40' },
    ],
  },
  {
    code: 'SA',
    name: 'Software Avanzado',
    description: 'Arquitecturas de microservicios, contenedores e integración continua.',
    teacher: 1,
    room: 'T1-304',
    schedule: [
      { day: 1, start: '09:00', end: '10:40' },
      { day: 3, start: '09:00', end: '10:40' },
    ],
  },
  {
    code: 'AYD1',
    name: 'Análisis y Diseño de Sistemas 1',
    description: 'Requerimientos, casos de uso, UML y metodologías ágiles.',
    teacher: 1,
    room: 'T7-204',
    schedule: [
      { day: 2, start: '11:00', end: '12:40' },
      { day: 4, start: '11:00', end: '12:40' },
    ],
  },
  {
    code: 'IA1',
    name: 'Inteligencia Artificial 1',
    description: 'Búsqueda, lógica, aprendizaje automático y redes neuronales.',
    teacher: 1,
    room: 'S12-305',
    schedule: [
      { day: 3, start: '14:00', end: '15:40' },
      { day: 5, start: '14:00', end: '15:40' },
    ],
  },
];

/** Student i takes three courses two apart, and every other student a fourth: 3–4 courses each. */
export function demoCoursesOf(i: number): number[] {
  const picks = [i % 6, (i + 2) % 6, (i + 4) % 6];
  if (i % 2 === 0) picks.push((i + 1) % 6);
  return picks;
}

export interface DemoSeedResult {
  createdUsers: number;
  createdSemesters: number;
  createdCourses: number;
  createdOfferings: number;
  enrolled: number;
  createdSessions: number;
}

export interface DemoSeedOptions {
  /** The password of every demo account (the bootstrap passes the admin's). */
  password?: string | undefined;
  /** "Today", for tests. */
  now?: number | undefined;
}

export async function seedDemo(ctx: AppContext, opts: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  const { identity, academics } = ctx;
  const now = opts.now ?? Date.now();
  const result: DemoSeedResult = {
    createdUsers: 0,
    createdSemesters: 0,
    createdCourses: 0,
    createdOfferings: 0,
    enrolled: 0,
    createdSessions: 0,
  };

  // ---- accounts: one shared password, hashed once ------------------------------------------
  const wanted = [
    ...DEMO_TEACHERS.map((t) => ({
      username: t.username,
      email: `${t.username}@aula.local`,
      fullName: t.fullName,
      role: 'teacher' as const,
      studentCode: undefined,
    })),
    ...DEMO_STUDENTS.map((s) => ({
      username: s.code,
      email: `${s.code}@estudiantes.aula.local`,
      fullName: s.fullName,
      role: 'student' as const,
      studentCode: s.code,
    })),
  ];
  const ids = new Map<string, string>();
  const missing: typeof wanted = [];
  for (const w of wanted) {
    const u = await identity.findUserByUsername(w.username);
    if (u) ids.set(w.username, u.id);
    else missing.push(w);
  }
  if (missing.length > 0) {
    const password = opts.password ?? ctx.config.adminPassword;
    // Without a password to hand, the demo accounts share the admin's, as they would at first start.
    const passwordHash = password
      ? await hashPassword(password)
      : ((await identity.findUserByUsername('admin'))?.password_hash ?? null);
    const created = await identity.createUsers(missing, passwordHash);
    missing.forEach((w, i) => ids.set(w.username, created[i]));
    result.createdUsers = created.length;
  }

  // ---- this year's semesters ----------------------------------------------------------------
  const today = localDate(now);
  const year = Number(today.slice(0, 4));
  const semesterIds: Record<1 | 2, string> = { 1: '', 2: '' };
  for (const term of [1, 2] as const) {
    const code = `${year}-${term}`;
    let s = await academics.findSemesterByCode(code);
    if (!s) {
      s = await academics.createSemester(SYSTEM_ACTOR, {
        code,
        year,
        term,
        startsOn: term === 1 ? `${year}-01-01` : `${year}-07-01`,
        endsOn: term === 1 ? `${year}-06-30` : `${year}-12-31`,
      });
      result.createdSemesters++;
    }
    semesterIds[term] = s.id;
  }
  const current = semesterIds[Number(today.slice(5, 7)) <= 6 ? 1 : 2];

  // ---- courses, offerings, enrolments, this week's sessions --------------------------------
  const { monday, friday } = schoolWeek(now);
  for (const [ci, c] of DEMO_COURSES.entries()) {
    let course = await academics.findCourseByCode(c.code);
    if (!course) {
      course = await academics.createCourse(SYSTEM_ACTOR, { code: c.code, name: c.name, description: c.description });
      result.createdCourses++;
    }
    let offering = await academics.findOfferingByKey(course.id, current, 'A');
    if (!offering) {
      offering = await academics.createOffering(SYSTEM_ACTOR, {
        courseId: course.id,
        semesterId: current,
        section: 'A',
        teacherId: ids.get(DEMO_TEACHERS[c.teacher].username),
        room: c.room,
        schedule: c.schedule,
        lateAfterMinutes: 10,
      });
      result.createdOfferings++;
    }
    const students = DEMO_STUDENTS.flatMap((s, i) => (demoCoursesOf(i).includes(ci) ? [ids.get(s.code)!] : []));
    result.enrolled += (await academics.enrollMany(SYSTEM_ACTOR, offering.id, students)).enrolled;
    result.createdSessions += (await academics.sessions.generate(SYSTEM_ACTOR, offering.id, monday, friday)).created;
  }
  return result;
}

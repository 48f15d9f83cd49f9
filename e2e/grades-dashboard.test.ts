import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docScreenshot, launchBrowser, type TestBrowser } from './support/browser.ts';
import { ROOT, startAula, type RunningAula } from './support/server.ts';

/**
 * The live dashboard in a real browser against the real product: grades sent by a machine client
 * through the REST API show up on an open page without a reload, both the live counters (over
 * Socket.IO) and the charts (re-read every few seconds while grades arrive).
 */

const DOCS = path.join(ROOT, 'docs/screenshots');
const COURSES = ['SO1', 'BD1', 'IPC2', 'ARQ1'];
const FIRST = ['María', 'José', 'Ana', 'Kevin', 'Daniela', 'Óscar', 'Gabriela', 'Byron', 'Lucía', 'Diego'];
const LAST = ['López', 'Pérez', 'Morales', 'Xicará', 'Reyes', 'Villatoro', 'Castillo', 'Ajcalón', 'Monzón', 'Tzul'];

const GRADEBOOK_STUDENTS = [
  { code: '202500901', name: 'Valeria Isabel Rodríguez Solís' },
  { code: '202500902', name: 'Marco Antonio Mazariegos' },
  { code: '202500903', name: 'Jimena Alejandra Cabrera' },
];

const STUDENT_PASSWORD = 'student-Passw0rd';

let aula: RunningAula;
let browser: TestBrowser;
let page: Page;
let token = '';
/** Console errors before this index belong to the sign-in page (its "who am I" check is a 401). */
let errorsFrom = 0;

async function apiCall<T>(method: string, url: string, body?: unknown): Promise<{ status: number; json: T }> {
  const cookies = await browser.context.cookies(aula.url);
  const csrf = cookies.find((c) => c.name === 'aula_csrf')?.value ?? '';
  const res = await browser.context.request.fetch(`${aula.url}/api/v1${url}`, {
    method,
    headers: { 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status(), json: (await res.json().catch(() => null)) as T };
}

/** Sends grades the way an ingest client does: bearer token, JSON array. */
async function sendGrades(from: number, count: number): Promise<void> {
  const records = Array.from({ length: count }, (_, k) => {
    const i = from + k;
    // 40 students, each always under the same (unique) name.
    const c = i % 40;
    return {
      student_code: `2025${String(c).padStart(5, '0')}`,
      student_name: `${FIRST[c % 10]} ${LAST[(c + Math.floor(c / 10)) % 10]}`,
      course_code: COURSES[i % COURSES.length],
      semester: 1,
      year: 2025,
      score: (i * 37) % 101,
    };
  });
  const res = await fetch(`${aula.url}/api/v1/grades`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(records),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  expect(await res.json()).toEqual({ accepted: count, duplicates: 0 });
}

const liveTotal = () => page.getByTestId('live-total').innerText();
const digits = (s: string) => Number(s.replace(/[^\d]/g, ''));

describe('grades dashboard: live counters in the browser', () => {
  beforeAll(async () => {
    aula = await startAula();
    browser = await launchBrowser({ viewport: { width: 1366, height: 1240 } });
    page = browser.page;
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await browser?.close();
    await aula?.stop();
  });

  it('signs in and opens the dashboard, connected and live', async () => {
    await page.goto(aula.url);
    await page.waitForURL('**/sign-in');
    await page.getByRole('textbox', { name: 'Username or email' }).fill('admin');
    await page.getByRole('textbox', { name: 'Password' }).fill(aula.adminPassword);
    await page.getByRole('textbox', { name: 'Password' }).press('Enter');
    await page.getByTestId('user-menu').waitFor();
    errorsFrom = browser.errors.length;

    const me = await apiCall<{ id: string }>('GET', '/auth/me');
    const created = await apiCall<{ token: string }>('POST', '/tokens', {
      userId: me.json.id,
      name: 'dashboard e2e ingest',
      scopes: ['grades:write'],
    });
    expect(created.status).toBe(201);
    token = created.json.token;

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Grades dashboard' }).click();
    await page.waitForURL('**/grades/dashboard');
    await page.getByRole('heading', { name: 'Grades dashboard' }).waitFor();
    await expect.poll(() => page.getByTestId('live-indicator').getAttribute('data-status')).toBe('live');
    await expect.poll(liveTotal).toBe('0');
  });

  it('shows grades posted through the REST API without a reload', async () => {
    // Any reload or navigation would drop this marker.
    await page.evaluate(() => ((window as unknown as { aulaMarker: number }).aulaMarker = 42));

    await sendGrades(0, 30);
    await expect.poll(async () => digits(await liveTotal()), { timeout: 5000 }).toBe(30);

    // A burst of small requests: the page keeps up and ends on the exact total.
    for (let i = 0; i < 20; i++) await sendGrades(30 + i * 5, 5);
    await expect.poll(async () => digits(await liveTotal()), { timeout: 5000 }).toBe(130);

    const table = page.getByTestId('students-per-course');
    await expect.poll(() => table.innerText()).toContain('SO1');
    for (const c of COURSES) expect(await table.innerText()).toContain(c);
    // 40 distinct student codes spread evenly over 4 courses: 10 per course.
    await expect.poll(() => page.getByTestId('live-group-students').innerText()).toBe('10');

    // The charts are refreshed from SQL while grades arrive, still without a reload.
    await page.getByTestId('chart-pass-fail').waitFor({ timeout: 15_000 });
    await page.getByTestId('chart-top-courses').waitFor();
    await page.getByTestId('chart-top-students').waitFor();

    expect(await page.evaluate(() => (window as unknown as { aulaMarker?: number }).aulaMarker)).toBe(42);
  });

  it('follows one course and semester in its own room', async () => {
    await page.getByRole('combobox', { name: 'Course', exact: true }).click();
    await page.getByRole('option', { name: 'IPC2', exact: true }).click();
    await expect.poll(() => page.getByTestId('live-group-students').innerText()).toBe('10');
    // Three students new to IPC2 take it from 10 to 13.
    const res = await fetch(`${aula.url}/api/v1/grades`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(
        Array.from({ length: 3 }, (_, k) => ({
          student_code: `2025NEW${k}`,
          student_name: `Nuevo Estudiante ${k}`,
          course_code: 'IPC2',
          semester: 1,
          year: 2025,
          score: 90,
        })),
      ),
    });
    expect(res.status).toBe(201);
    await expect.poll(() => page.getByTestId('live-group-students').innerText(), { timeout: 5000 }).toBe('13');
    await expect.poll(async () => digits(await liveTotal())).toBe(133);

    const shot = await docScreenshot(page, path.join(DOCS, 'grades-dashboard.png'));
    expect(shot.bytes).toBeGreaterThan(10 * 1024);
    expect(shot.bytes).toBeLessThan(400 * 1024);
    expect(browser.errors.slice(errorsFrom)).toEqual([]);
  });

  it('edits a grade in place in an offering gradebook and shows its history', async () => {
    const semester = await apiCall<{ id: string }>('POST', '/semesters', {
      year: 2025,
      term: 1,
      startsOn: '2025-01-15',
      endsOn: '2025-06-30',
    });
    expect(semester.status).toBe(201);
    const course = await apiCall<{ id: string }>('POST', '/courses', { code: 'SO2', name: 'Sistemas Operativos 2' });
    expect(course.status).toBe(201);
    const offering = await apiCall<{ id: string }>('POST', '/offerings', {
      courseId: course.json.id,
      semesterId: semester.json.id,
    });
    expect(offering.status).toBe(201);
    for (const st of GRADEBOOK_STUDENTS) {
      const u = await apiCall<{ id: string }>('POST', '/users', {
        username: st.code,
        email: `${st.code}@example.edu`,
        fullName: st.name,
        role: 'student',
        studentCode: st.code,
        password: STUDENT_PASSWORD,
      });
      expect(u.status).toBe(201);
      const e = await apiCall('POST', `/offerings/${offering.json.id}/enrollments`, { studentId: u.json.id });
      expect(e.status).toBe(201);
    }
    // One grade arrives from an ingest client first.
    const res = await fetch(`${aula.url}/api/v1/grades`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        student_code: GRADEBOOK_STUDENTS[0].code,
        student_name: GRADEBOOK_STUDENTS[0].name,
        course_code: 'SO2',
        semester: 1,
        year: 2025,
        score: 55,
      }),
    });
    expect(res.status).toBe(201);

    await page.goto(`${aula.url}/offerings/${offering.json.id}/gradebook`);
    await page.getByRole('heading', { name: 'SO2 · Sistemas Operativos 2' }).waitFor();
    const table = page.getByTestId('table-gradebook');
    await expect.poll(() => table.innerText()).toContain(GRADEBOOK_STUDENTS[2].name);
    const first = GRADEBOOK_STUDENTS[0];
    expect(await page.getByTestId(`grade-${first.code}`).innerText()).toContain('55');

    await page.getByTestId(`grade-${first.code}`).click();
    const input = page.getByRole('textbox', { name: `Grade of ${first.name}` });
    await input.fill('87.5');
    await input.press('Enter');
    await expect.poll(() => page.getByTestId(`grade-${first.code}`).innerText()).toContain('87.5');
    await expect.poll(() => page.getByTestId('gradebook-summary').innerText()).toMatch(/passed\s*1/i);

    await page.getByRole('button', { name: `History of ${first.name}` }).click();
    const drawer = page.getByRole('dialog');
    const history = drawer.getByTestId('grade-history');
    await expect.poll(() => history.innerText()).toContain('Gradebook');
    const text = await history.innerText();
    expect(text.indexOf('87.5')).toBeLessThan(text.indexOf('55'));
    expect(text).toContain('by Aula Administrator');
    expect(text).toContain('REST API');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });

  it('imports a CSV through the dropzone, listing bad lines and importing nothing until it is fixed', async () => {
    await page.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = page.getByRole('dialog');
    const [a, b, c] = GRADEBOOK_STUDENTS;
    await page.getByTestId('grades-csv-input').setInputFiles({
      name: 'notas.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(['carnet,nota', `${a.code},70`, `${b.code},abc`, `999999999,80`].join('\n')),
    });
    const items = dialog.getByTestId('problem-items');
    await expect.poll(() => items.innerText()).toContain('Line 3:');
    expect(await items.innerText()).toContain('Line 4:');
    expect(await dialog.innerText()).toContain('nothing was imported');
    expect(await page.getByTestId(`grade-${a.code}`).innerText()).toContain('87.5');

    await page.getByTestId('grades-csv-input').setInputFiles({
      name: 'notas.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(['carnet,nota', `${a.code},70`, `${b.code},91`, `${c.code},45`].join('\n')),
    });
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.getByTestId(`grade-${b.code}`).innerText()).toContain('91');
    expect(await page.getByTestId(`grade-${a.code}`).innerText()).toContain('70');
    await expect.poll(() => page.getByTestId('gradebook-summary').innerText()).toMatch(/graded\s*3/i);
    // The browser logs the refused first file; nothing else went wrong.
    expect(browser.errors.slice(errorsFrom)).toEqual([expect.stringContaining('400 (Bad Request)')]);
  });

  it('shows a student their own grades with the history behind each', async () => {
    await browser.context.clearCookies();
    const [a] = GRADEBOOK_STUDENTS;
    await page.goto(aula.url);
    await page.waitForURL('**/sign-in');
    await page.getByRole('textbox', { name: 'Username or email' }).fill(a.code);
    await page.getByRole('textbox', { name: 'Password' }).fill(STUDENT_PASSWORD);
    await page.getByRole('textbox', { name: 'Password' }).press('Enter');
    await page.getByTestId('user-menu').waitFor();
    const signedInErrors = browser.errors.length;

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My grades' }).click();
    await page.getByRole('heading', { name: 'My grades' }).waitFor();
    const table = page.getByTestId('table-my-grades');
    await expect.poll(() => table.innerText()).toContain('SO2');
    const text = await table.innerText();
    expect(text).toContain('Sistemas Operativos 2');
    expect(text).toContain('70');
    expect(text).toMatch(/passed/i);

    await page.getByRole('button', { name: 'History of SO2' }).click();
    const history = page.getByRole('dialog').getByTestId('grade-history');
    await expect.poll(() => history.innerText()).toContain('CSV import');
    const h = await history.innerText();
    expect(h.indexOf('70')).toBeLessThan(h.indexOf('87.5'));
    expect(h.indexOf('87.5')).toBeLessThan(h.indexOf('55'));
    expect(browser.errors.slice(signedInErrors)).toEqual([]);
  });
});

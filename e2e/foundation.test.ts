import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docScreenshot, launchBrowser, measurePng, screenshot, type TestBrowser } from './support/browser.ts';
import { ROOT, startAula, type RunningAula } from './support/server.ts';

/**
 * The first end-to-end path through the real product in a real browser: sign in, create a
 * course and an offering, import a roster through the file picker, see the students, and see
 * a bad roster rejected line by line with nothing imported.
 */

const STUDENTS = [
  { code: '202400101', name: 'María Fernanda López Ajú', email: 'mflopez@example.edu' },
  { code: '202400102', name: 'José Luis Pérez Tzul', email: 'jlperez@example.edu' },
  { code: '202400103', name: 'Ana Lucía Morales Cifuentes', email: 'amorales@example.edu' },
  { code: '202400104', name: 'Kevin Josué Xicará Batz', email: 'kxicara@example.edu' },
  { code: '202400105', name: 'Daniela Beatriz Reyes Paz', email: 'dreyes@example.edu' },
  { code: '202400106', name: 'Óscar René Villatoro Recinos', email: 'ovillatoro@example.edu' },
  { code: '202400107', name: 'Gabriela Alejandra Castillo Barrios', email: 'gcastillo@example.edu' },
  { code: '202400108', name: 'Byron Alexander Ajcalón Sicán', email: 'bajcalon@example.edu' },
];

const GOOD_CSV = ['student_code,full_name,email', ...STUDENTS.map((s) => `${s.code},${s.name},${s.email}`)].join('\n');

// Line 2 is valid on its own, line 3 has a broken email, line 4 repeats line 2's code.
const BAD_CSV = [
  'student_code,full_name,email',
  '202400199,Valeria Isabel Rodríguez Solís,vrodriguez@example.edu',
  '202400198,Marco Antonio Mazariegos,not-an-email',
  '202400199,Someone Else,someone@example.edu',
].join('\n');

const COURSE = { code: 'RED1', name: 'Redes de Computadoras 1' };
const TEACHER = { username: 'mrodas', fullName: 'Marta Lucía Rodas Ovalle', email: 'mrodas@example.edu' };
const DOCS = path.join(ROOT, 'docs/screenshots');

let aula: RunningAula;
let browser: TestBrowser;
let page: Page;
let offeringUrl = '';

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

/** Follows a link of the main navigation (home-page cards carry the same names). */
async function navTo(label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
}

function currentTerm() {
  const now = new Date();
  const year = now.getFullYear();
  const term = now.getMonth() < 6 ? 1 : 2;
  return {
    year,
    term,
    code: `${year}-${term}`,
    name: `${term === 1 ? 'First' : 'Second'} semester ${year}`,
    startsOn: term === 1 ? `${year}-01-01` : `${year}-07-01`,
    endsOn: term === 1 ? `${year}-06-30` : `${year}-12-31`,
  };
}

describe('foundation: sign in, academics and roster import in the browser', () => {
  beforeAll(async () => {
    // A low per-account sign-in limit, so the rate-limit message can be seen quickly.
    aula = await startAula({ env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3' } });
    browser = await launchBrowser();
    page = browser.page;
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await browser?.close();
    await aula?.stop();
  });

  it('shows the sign-in page, refuses a wrong password and signs the admin in', async () => {
    await page.goto(aula.url);
    await page.waitForURL('**/sign-in');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect((await docScreenshot(page, path.join(DOCS, 'sign-in.png'))).bytes).toBeLessThan(300 * 1024);

    // Another account is not held up by that wait.
    await page.getByRole('textbox', { name: 'Username or email' }).fill('admin');
    expect(await page.getByTestId('sign-in-error').count()).toBe(0);
    await page.getByRole('textbox', { name: 'Password' }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByTestId('sign-in-error').textContent())
      .toContain('Wrong username, email or password');

    // The fourth attempt on one account within the window is refused with a wait time.
    await page.getByRole('textbox', { name: 'Username or email' }).fill('ghost');
    for (let i = 0; i < 4; i++) {
      await page.getByRole('textbox', { name: 'Password' }).fill(`guess-${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('textbox', { name: 'Password' }).inputValue()).toBe('');
    }
    await expect.poll(() => page.getByTestId('sign-in-error').textContent()).toMatch(/Too many sign-in attempts/);
    expect(await page.getByTestId('sign-in-error').textContent()).toMatch(/try again in \d+ (s|minutes?)/);

    await page.getByRole('textbox', { name: 'Username or email' }).fill('admin');

    await page.getByRole('textbox', { name: 'Password' }).fill(aula.adminPassword);
    await page.getByRole('textbox', { name: 'Password' }).press('Enter');
    await page.getByRole('heading', { name: /^Good (morning|afternoon|evening), Aula$/ }).waitFor();
    expect(await page.getByTestId('user-menu').textContent()).toContain('Aula Administrator');
  });

  it('creates a course through the UI', async () => {
    await navTo('Courses');
    await page.getByRole('heading', { name: 'Courses' }).waitFor();
    await page.getByRole('button', { name: 'New course' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('textbox', { name: 'Code', exact: true }).fill(COURSE.code);
    await dialog.getByRole('textbox', { name: 'Name', exact: true }).fill(COURSE.name);
    await dialog.getByRole('textbox', { name: 'Description' }).fill('Modelo OSI, TCP/IP, enrutamiento y subredes.');
    await dialog.getByRole('button', { name: 'Create course' }).click();
    await dialog.waitFor({ state: 'detached' });
    const table = page.getByTestId('table-courses');
    await expect.poll(() => table.innerText()).toContain(COURSE.name);
    expect(await table.innerText()).toContain(COURSE.code);
  });

  it('creates a semester and a teacher (API) and an offering of the course (UI)', async () => {
    const semester = await apiCall<{ id: string; code: string }>('POST', '/semesters', currentTerm());
    expect(semester.status).toBe(201);
    const teacher = await apiCall('POST', '/users', { ...TEACHER, role: 'teacher', password: 'teacher-Passw0rd' });
    expect(teacher.status).toBe(201);

    await navTo('Offerings');
    await page.getByRole('heading', { name: 'Offerings' }).waitFor();
    await page.getByRole('button', { name: 'New offering' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox', { name: 'Course' }).click();
    await page.getByRole('option', { name: new RegExp(`^${COURSE.code} · `) }).click();
    // The semester that contains today is preselected.
    await expect
      .poll(() => dialog.getByRole('combobox', { name: 'Semester' }).inputValue())
      .toContain(semester.json.code);
    await dialog.getByRole('combobox', { name: 'Teacher' }).click();
    await page.getByRole('option', { name: new RegExp(TEACHER.fullName) }).click();
    await dialog.getByRole('textbox', { name: 'Room' }).fill('T3-214');
    await dialog.getByRole('button', { name: 'Add meeting' }).click();
    await dialog.getByRole('button', { name: 'Add meeting' }).click();
    await dialog.getByRole('button', { name: 'Create offering' }).click();

    await page.waitForURL(/\/offerings\/[^/]+$/);
    offeringUrl = page.url();
    await page.getByRole('heading', { name: new RegExp(COURSE.name) }).waitFor();
    expect(await page.getByTestId('fact-teacher').innerText()).toContain(TEACHER.fullName);
    const schedule = await page.getByText('Weekly schedule').locator('xpath=../..').innerText();
    expect(schedule).toContain('Monday 07:00–08:40');
    expect(schedule).toContain('Wednesday 07:00–08:40');
  });

  it('imports a roster CSV through the file input and shows the students', async () => {
    await page.getByRole('button', { name: 'Import roster' }).click();
    await page.getByTestId('roster-input').setInputFiles({
      name: 'roster.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(GOOD_CSV, 'utf8'),
    });
    const result = page.getByTestId('roster-result');
    await result.waitFor();
    const resultText = await result.innerText();
    expect(resultText).toMatch(/8\s*rows read/);
    expect(resultText).toMatch(/8\s*new students/);
    expect(resultText).toMatch(/8\s*newly enrolled/);

    const table = page.getByTestId('table-enrolled-students');
    await expect.poll(async () => (await table.innerText()).includes(STUDENTS[7].name), { timeout: 10_000 }).toBe(true);
    const text = await table.innerText();
    for (const s of STUDENTS) {
      expect(text).toContain(s.name);
      expect(text).toContain(s.code);
    }
    await expect.poll(() => page.getByTestId('fact-students').innerText()).toMatch(/\b8\b/);

    // The whole page, so the picture holds the result and every row of the table.
    const shot = await screenshot(page, 'foundation-roster-imported', { fullPage: true });
    expect(shot.width).toBe(1280);
    expect(shot.height).toBeGreaterThanOrEqual(800);
    // A blank or single-colour page has a standard deviation near 0; a rendered table is far above.
    expect(shot.stdev).toBeGreaterThan(20);
  });

  it('rejects a roster with bad rows, listing each line, and imports nothing', async () => {
    const offeringId = offeringUrl.split('/').pop()!;
    const before = await apiCall<{ total: number }>('GET', `/offerings/${offeringId}/enrollments?limit=1`);
    expect(before.json.total).toBe(STUDENTS.length);

    await page.getByTestId('roster-input').setInputFiles({
      name: 'roster-with-errors.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(BAD_CSV, 'utf8'),
    });
    const errors = page.getByTestId('roster-errors');
    await errors.waitFor();
    const text = await errors.innerText();
    expect(text).toContain('Nothing was imported');
    expect(text).toMatch(/Line 3:.*email/i);
    expect(text).toMatch(/Line 4:.*202400199/);
    expect(text).not.toMatch(/Line 2:/);
    await screenshot(page, 'foundation-roster-rejected');

    const after = await apiCall<{ total: number }>('GET', `/offerings/${offeringId}/enrollments?limit=1`);
    expect(after.json.total).toBe(STUDENTS.length);
    const created = await apiCall<{ total: number }>('GET', '/users?q=202400199');
    expect(created.json.total).toBe(0);
    expect(await page.getByTestId('table-enrolled-students').innerText()).not.toContain('Valeria Isabel');

    await page.getByRole('button', { name: 'Close roster import' }).click();
    await page.getByTestId('roster-import').waitFor({ state: 'detached' });
    const doc = await docScreenshot(page, path.join(DOCS, 'offering-detail.png'));
    expect(doc.bytes).toBeLessThan(300 * 1024);
    expect((await measurePng(fs.readFileSync(doc.file))).stdev).toBeGreaterThan(20);
  });

  it('lists the imported students on the Users page', async () => {
    await navTo('Users');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const table = page.getByTestId('table-users');
    await expect.poll(async () => (await table.innerText()).includes(STUDENTS[0].name), { timeout: 10_000 }).toBe(true);
    await page.getByRole('textbox', { name: 'Search' }).fill('Morales');
    await expect
      .poll(async () => {
        const t = await table.innerText();
        return t.includes('Ana Lucía Morales Cifuentes') && !t.includes('José Luis Pérez Tzul');
      })
      .toBe(true);
    await page.getByRole('textbox', { name: 'Search' }).fill('');
    await expect.poll(async () => (await table.innerText()).includes('José Luis Pérez Tzul')).toBe(true);
    expect((await docScreenshot(page, path.join(DOCS, 'users.png'))).bytes).toBeLessThan(300 * 1024);
  });

  it('uploads a profile photo and shows it in the header', async () => {
    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Profile' }).click();
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    await page.getByTestId('photo-input').setInputFiles(path.join(ROOT, '../shared/data/faces/gallery/obama/1.jpg'));
    await page.getByRole('button', { name: 'Save photo' }).click();
    await page.getByRole('button', { name: 'Save photo' }).waitFor({ state: 'detached' });
    // The header avatar now loads the stored thumbnail (a fresh copy, not the cached initials).
    const avatar = page.getByTestId('user-menu').locator('img');
    await expect
      .poll(() =>
        avatar.evaluate((el) => {
          const img = el as unknown as { complete: boolean; naturalWidth: number };
          return img.complete ? img.naturalWidth : 0;
        }),
      )
      .toBeGreaterThan(0);
    const me = await apiCall<{ hasPhoto: boolean }>('GET', '/auth/me');
    expect(me.json.hasPhoto).toBe(true);
    const shot = await screenshot(page, 'foundation-profile-photo');
    expect(shot.stdev).toBeGreaterThan(20);

    // No script error anywhere along the way.
    const pageErrors = browser.errors.filter((e) => e.startsWith('pageerror'));
    expect(pageErrors).toEqual([]);
  });
});

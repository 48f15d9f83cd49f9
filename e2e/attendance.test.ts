import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docScreenshot, fakeCameraClip, launchBrowser, screenshot, type TestBrowser } from './support/browser.ts';
import { ROOT, startAula, type RunningAula } from './support/server.ts';

/**
 * A teacher takes attendance from the webcam: Chromium's fake camera plays a video made from a
 * photo of two enrolled students, the page sends frames, the roster fills in over Socket.IO, and
 * the teacher corrects one student by hand.
 */

const DATA = path.resolve(ROOT, '../shared/data');
const PASSWORD = 'attendance-e2e-Passw0rd';
const TEACHER = { username: 'tcamera', fullName: 'Teresa Camera', email: 'tcamera@example.edu' };
const STUDENTS = [
  { username: 'bobama', fullName: 'Barack Obama', photo: 'faces/gallery/obama/1.jpg', code: '201900101' },
  { username: 'jbiden', fullName: 'Joe Biden', photo: 'faces/gallery/biden/1.jpg', code: '201900102' },
  { username: 'kharington', fullName: 'Kit Harington', photo: 'faces/gallery/kit_harington/1.jpg', code: '201900103' },
];

let aula: RunningAula;
let browser: TestBrowser;
let page: Page;
let tmp: string;
let sessionId: string;
let offeringId: string;
let admin: { cookie: string; csrf: string };

async function call(method: string, url: string, body?: unknown, form?: FormData): Promise<any> {
  const res = await fetch(`${aula.url}/api/v1${url}`, {
    method,
    headers: {
      cookie: admin.cookie,
      'x-csrf-token': admin.csrf,
      ...(form ? {} : { 'content-type': 'application/json' }),
    },
    body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

describe('attendance: take it from the webcam and correct a student', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-attendance-e2e-'));
    const video = fakeCameraClip(path.join(DATA, 'faces/probes/obama_and_biden.jpg'), tmp, 1280);

    aula = await startAula({ env: { WORKERS: '1' } });
    const login = await fetch(`${aula.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'admin', password: aula.adminPassword }),
    });
    const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]);
    admin = { cookie: cookies.join('; '), csrf: cookies.find((c) => c.startsWith('aula_csrf='))?.split('=')[1] ?? '' };

    const year = new Date().getFullYear();
    const sem = await call('POST', '/semesters', {
      year,
      term: 1,
      startsOn: `${year - 1}-01-01`,
      endsOn: `${year + 1}-12-31`,
      code: `E${year}`,
    });
    const course = await call('POST', '/courses', { code: 'CAM1', name: 'Camera Studies' });
    const teacher = await call('POST', '/users', { ...TEACHER, role: 'teacher', password: PASSWORD });
    const offering = await call('POST', '/offerings', {
      courseId: course.id,
      semesterId: sem.id,
      teacherId: teacher.id,
    });
    for (const s of STUDENTS) {
      const u = await call('POST', '/users', {
        username: s.username,
        fullName: s.fullName,
        email: `${s.username}@example.edu`,
        role: 'student',
        password: PASSWORD,
        studentCode: s.code,
      });
      await call('POST', `/offerings/${offering.id}/enrollments`, { studentId: u.id });
      const form = new FormData();
      form.set('photo', new Blob([fs.readFileSync(path.join(DATA, s.photo))], { type: 'image/jpeg' }), 'face.jpg');
      await call('POST', `/users/${u.id}/faces`, undefined, form);
    }
    offeringId = offering.id;
    const start = Date.now() - 3 * 60_000;
    const session = await call('POST', `/offerings/${offering.id}/sessions`, {
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 90 * 60_000).toISOString(),
    });
    sessionId = session.id;

    browser = await launchBrowser({ fakeCamera: video });
    page = browser.page;
    page.setDefaultTimeout(30_000);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await aula?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('fills the roster live from the camera, then the teacher excuses one student', async () => {
    await page.goto(`${aula.url}/sign-in`);
    await page.getByRole('textbox', { name: 'Username or email' }).fill(TEACHER.username);
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('user-menu').waitFor();

    // The teacher's home page has the offering's attendance card, with today's session.
    await page.goto(`${aula.url}/`);
    const card = page.getByTestId('home-attendance').getByTestId('attendance-card');
    await card.getByText('CAM1 Camera Studies').waitFor();
    expect(await card.textContent()).toContain('0 present · 0 late · 0 absent of 3');
    await card.getByRole('link', { name: 'Take attendance' }).click();
    await page.getByTestId('roster').waitFor();
    expect(page.url()).toContain(`/sessions/${sessionId}/attendance`);

    await page.getByRole('tab', { name: 'Take attendance' }).click();
    await page.getByRole('button', { name: 'Start camera' }).click();
    // Boxes with names over the video, and the roster beside it filling in over Socket.IO.
    await page.locator('[data-testid="face-box"][data-name="Barack Obama"]').waitFor({ timeout: 90_000 });
    await page.locator('[data-testid="face-box"][data-name="Joe Biden"]').waitFor();
    const live = page.getByTestId('live-roster');
    await expect
      .poll(async () => (await live.textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/Barack Obama\s*present/);
    expect(await live.textContent()).toMatch(/Joe Biden\s*present/);
    expect(await live.textContent()).toMatch(/Kit Harington\s*—/);
    expect(Number(await page.getByTestId('count-present').textContent())).toBe(2);
    const shot = await screenshot(page, 'attendance-webcam');
    expect(shot.stdev).toBeGreaterThan(5);
    await docScreenshot(page, path.join(ROOT, 'docs/screenshots/attendance-webcam.png'));
    await page.getByRole('button', { name: 'Stop' }).click();

    // Both men have a hand up in the camera's picture: the actions timeline draws it.
    await page.getByRole('tab', { name: 'Timeline' }).click();
    const timeline = page.getByTestId('timeline');
    await timeline.waitFor();
    expect(await timeline.textContent()).toMatch(/Barack Obama \(\d+ hands?\)/);
    expect(await timeline.locator('[title^="Hand raised"]').count()).toBeGreaterThanOrEqual(2);

    // Correcting one student: Joe Biden was only visiting for a minute, he is excused.
    await page.getByRole('tab', { name: 'Roster' }).click();
    const biden = page.locator('[data-testid^="roster-row-"][data-name="Joe Biden"]');
    await biden.getByLabel('Status of Joe Biden').click();
    await page.getByRole('option', { name: 'Excused' }).click();
    await expect.poll(() => biden.getAttribute('data-status')).toBe('excused');
    await biden.getByText('set by hand').waitFor();
    expect(await biden.textContent()).toContain(TEACHER.fullName);
    expect(Number(await page.getByTestId('count-excused').textContent())).toBe(1);
    expect(Number(await page.getByTestId('count-present').textContent())).toBe(1);

    // The change is stored: the server says the same after a reload.
    const roster = await call('GET', `/sessions/${sessionId}/attendance`);
    const row = roster.items.find((i: { fullName: string }) => i.fullName === 'Joe Biden');
    expect(row).toMatchObject({ status: 'excused', source: 'manual', changedBy: { name: TEACHER.fullName } });
    await docScreenshot(page, path.join(ROOT, 'docs/screenshots/attendance-roster.png'));

    // The offering's session list links to the same page, and the home card shows the counts.
    await page.goto(`${aula.url}/offerings/${offeringId}?tab=sessions`);
    const toSession = page.getByRole('link', { name: /^Attendance of / });
    await toSession.waitFor();
    expect((await screenshot(page, 'attendance-session-list')).stdev).toBeGreaterThan(5);
    await toSession.click();
    await page.getByTestId('roster').waitFor();
    expect(page.url()).toContain(`/sessions/${sessionId}/attendance`);
    await page.goto(`${aula.url}/`);
    await expect
      .poll(async () => (await page.getByTestId('home-attendance').textContent()) ?? '')
      .toContain('1 present · 0 late · 0 absent of 3');
    expect((await screenshot(page, 'attendance-home-card', { fullPage: true })).stdev).toBeGreaterThan(5);
  });

  it('closes the session, reports the offering, and shows a student only their own history', async () => {
    await page.goto(`${aula.url}/sessions/${sessionId}/attendance`);
    await page.getByTestId('roster').waitFor();
    await page.getByRole('button', { name: 'Close session' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Close session' }).click();
    // Kit Harington was never seen: absent once the session is closed.
    await expect.poll(async () => page.getByTestId('count-absent').textContent()).toBe('1');

    await page.getByRole('link', { name: 'Report' }).click();
    const students = page.getByTestId('report-students');
    await students.waitFor();
    const kit = students.locator('tr', { hasText: 'Kit Harington' });
    expect(await kit.getAttribute('data-below')).toBe('true');
    expect(await kit.textContent()).toContain('under 80%');
    const obama = students.locator('tr', { hasText: 'Barack Obama' });
    expect(await obama.getAttribute('data-below')).toBeNull();
    expect(await obama.textContent()).toContain('100%');
    expect((await screenshot(page, 'attendance-report', { fullPage: true })).stdev).toBeGreaterThan(5);

    await browser.context.clearCookies();
    await page.goto(`${aula.url}/sign-in`);
    await page.getByRole('textbox', { name: 'Username or email' }).fill('bobama');
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('user-menu').waitFor();
    await page.goto(`${aula.url}/my-attendance`);
    const mine = page.getByTestId('my-attendance');
    await mine.waitFor();
    expect(await mine.locator('tbody tr').count()).toBe(1);
    expect(await mine.textContent()).toMatch(/CAM1 Camera Studies\s*Present/);
    // The class's roster is not a student's to see.
    await page.goto(`${aula.url}/sessions/${sessionId}/attendance`);
    await page.getByText('Not available for your role').waitFor();
    expect(await page.getByTestId('roster').count()).toBe(0);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeCameraClip, launchBrowser, screenshot, type TestBrowser } from './support/browser.ts';
import { ROOT, startAula, type RunningAula } from './support/server.ts';

/**
 * Face enrollment and face sign-in in a real browser. Chromium's fake camera plays a video made
 * at test time from one of the shared photos, so "the person at the webcam" is that photo.
 */

const FACES = path.resolve(ROOT, '../shared/data/faces');
const STUDENT = {
  username: 'bobama',
  fullName: 'Barack Obama',
  email: 'bobama@example.edu',
  password: 'face-e2e-Passw0rd',
};

let aula: RunningAula;
let browser: TestBrowser;
let page: Page;
let tmp: string;

async function adminApi(method: string, url: string, body?: unknown): Promise<Response> {
  const login = await fetch(`${aula.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password: aula.adminPassword }),
  });
  const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => c.startsWith('aula_csrf='))?.split('=')[1] ?? '';
  return fetch(`${aula.url}/api/v1${url}`, {
    method,
    headers: { cookie: cookies.join('; '), 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function signInWithPassword(): Promise<void> {
  await page.goto(`${aula.url}/sign-in`);
  await page.getByRole('textbox', { name: 'Username or email' }).fill(STUDENT.username);
  await page.getByRole('textbox', { name: 'Password' }).fill(STUDENT.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('user-menu').waitFor();
}

async function signOut(): Promise<void> {
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
  await page.getByRole('textbox', { name: 'Username or email' }).waitFor();
}

async function setConsent(on: boolean): Promise<void> {
  const consent = page.getByRole('switch', { name: 'Face sign-in consent' });
  if ((await consent.isChecked()) !== on) {
    await consent.click({ force: true });
    await expect.poll(() => consent.isChecked(), { timeout: 10_000 }).toBe(on);
  }
}

const faceCount = async () => (await page.getByTestId('face-count').textContent())?.trim();

describe('faces: enroll from the webcam and sign in with the face', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-faces-e2e-'));
    const video = fakeCameraClip(path.join(FACES, 'probes/obama-test.jpg'), tmp, 640);

    aula = await startAula({ env: { WORKERS: '1' } });
    const created = await adminApi('POST', '/users', { ...STUDENT, role: 'student', studentCode: '200912345' });
    expect(created.status).toBe(201);

    browser = await launchBrowser({ fakeCamera: video });
    page = browser.page;
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await aula?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('enrolls a face from the webcam on the profile page', async () => {
    await signInWithPassword();
    await page.goto(`${aula.url}/profile`);
    await page.getByTestId('face-enrollment').waitFor();
    expect(await faceCount()).toBe('0 faces');
    await page.getByRole('button', { name: 'Add from camera' }).click();
    const use = page.getByRole('button', { name: 'Use this picture' });
    await expect.poll(() => use.isEnabled(), { timeout: 15_000 }).toBe(true);
    await use.click();
    await expect.poll(faceCount, { timeout: 30_000 }).toBe('1 face');
    await page.getByTestId('face-template').first().locator('img').waitFor();
    await setConsent(true);
    await screenshot(page, 'faces-profile-enrolled');
  }, 90_000);

  it('signs out, then signs in with the face from the webcam', async () => {
    await signOut();
    await page.getByRole('link', { name: 'Sign in with your face' }).click();
    await page.waitForURL(/\/sign-in\/face/);
    const button = page.getByRole('button', { name: 'Sign in with my face' });
    await expect.poll(() => button.isEnabled(), { timeout: 15_000 }).toBe(true);
    await button.click();
    await page.getByTestId('user-menu').waitFor({ timeout: 30_000 });
    // Back to where the user was when they signed out (the sign-in page carries ?next=).
    expect(new URL(page.url()).pathname).not.toMatch(/^\/sign-in/);
    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
    expect(me).toMatchObject({ username: STUDENT.username });
  }, 90_000);

  it('deletes all face data, enrolls an uploaded photo, and signs in with an uploaded photo', async () => {
    await page.goto(`${aula.url}/profile`);
    await page.getByTestId('face-enrollment').waitFor();
    await page.getByRole('button', { name: 'Delete all face data' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete all' }).click();
    await expect.poll(faceCount, { timeout: 15_000 }).toBe('0 faces');
    expect(await page.getByRole('switch', { name: 'Face sign-in consent' }).isChecked()).toBe(false);

    // A photo with two people is refused with the reason.
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload a photo' }).click();
    await (await chooser).setFiles(path.join(FACES, 'probes/two_people.jpg'));
    await expect
      .poll(() => page.getByTestId('enroll-error').innerText(), { timeout: 30_000 })
      .toContain('More than one face');

    const chooser2 = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Upload a photo' }).click();
    await (await chooser2).setFiles(path.join(FACES, 'gallery/obama/1.jpg'));
    await expect.poll(faceCount, { timeout: 30_000 }).toBe('1 face');
    await setConsent(true);
    await signOut();

    await page.goto(`${aula.url}/sign-in/face`);
    // Someone else's photo is not let in.
    const stranger = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Use a photo instead' }).click();
    await (await stranger).setFiles(path.join(FACES, 'probes/unknown-lin-manuel-miranda.png'));
    await expect
      .poll(() => page.getByTestId('face-sign-in-error').innerText(), { timeout: 30_000 })
      .toContain('not recognized');

    const mine = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Use a photo instead' }).click();
    await (await mine).setFiles(path.join(FACES, 'probes/obama-720p.jpg'));
    await page.getByTestId('user-menu').waitFor({ timeout: 30_000 });
    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
    expect(me).toMatchObject({ username: STUDENT.username });
    expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  }, 150_000);
});

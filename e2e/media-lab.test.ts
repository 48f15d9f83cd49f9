import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTextImage } from '../server/src/vision/ocr-fixtures.ts';
import { docScreenshot, launchBrowser, type TestBrowser } from './support/browser.ts';
import { ROOT, startAula, type RunningAula } from './support/server.ts';

/**
 * Albums and the analysis lab in a real browser: photos go into an album, get their labels,
 * a page of Spanish text is read and translated, then a lab analysis is run and found again in
 * the prediction ledger.
 */

const SCENES = path.resolve(ROOT, '../shared/data/scenes');
const STUDENT = {
  username: 'mlopez',
  fullName: 'María López',
  email: 'mlopez@example.edu',
  password: 'media-e2e-Passw0rd',
};
const SPANISH = ['El niño come una manzana roja.', 'La biblioteca abre a las nueve.'];

let aula: RunningAula;
let browser: TestBrowser;
let page: Page;
let tmp: string;
let textPage: string;

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

describe('albums and the analysis lab', () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-media-e2e-'));
    textPage = path.join(tmp, 'hoja.png');
    fs.writeFileSync(textPage, await renderTextImage(SPANISH));
    aula = await startAula({ env: { WORKERS: '1', TRANSLATE_PROVIDER: 'apertium' } });
    const created = await adminApi('POST', '/users', { ...STUDENT, role: 'student', studentCode: '201700042' });
    expect(created.status).toBe(201);

    browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
    page = browser.page;
    page.setDefaultTimeout(20_000);
    await page.goto(`${aula.url}/sign-in`);
    await page.getByRole('textbox', { name: 'Username or email' }).fill(STUDENT.username);
    await page.getByRole('textbox', { name: 'Password' }).fill(STUDENT.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('user-menu').waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await aula?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('uploads photos into an album and shows their labels', async () => {
    await page.goto(`${aula.url}/albums`);
    await page.getByTestId('new-album').click();
    await page.getByTestId('album-name').fill('Clase de ciencias');
    await page.getByTestId('album-save').click();
    await page.getByTestId('album-link').filter({ hasText: 'Clase de ciencias' }).click();
    await expect.poll(() => page.getByTestId('photos-title').innerText()).toBe('Clase de ciencias');

    await page.getByTestId('photo-upload').setInputFiles([path.join(SCENES, 'with_computer.jpg'), textPage]);
    await page.getByTestId('upload-description').fill('Una computadora portátil en la mesa.');
    await page.getByTestId('upload-submit').click();
    await expect.poll(() => page.getByTestId('photo-card').count(), { timeout: 20_000 }).toBe(2);

    // Labels arrive from the background analysis; the grid refreshes itself until then.
    const computer = page.getByTestId('photo-card').filter({ has: page.getByText('with_computer', { exact: true }) });
    await expect
      .poll(() => computer.getByTestId('photo-label').allInnerTexts(), { timeout: 90_000 })
      .toContain('laptop');
    await docScreenshot(page, path.join(ROOT, 'docs/screenshots/photos-album.png'));

    await computer.click();
    await page.getByTestId('photo-viewer').waitFor();
    await expect.poll(() => page.getByTestId('photo-labels').innerText()).toContain('laptop');
    await page.keyboard.press('Escape');
  }, 150_000);

  it('extracts the text of a photographed page and translates it', async () => {
    await page
      .getByTestId('photo-card')
      .filter({ has: page.getByText('hoja', { exact: true }) })
      .click();
    await page.getByTestId('photo-viewer').waitFor();
    await page.getByTestId('extract-text').click();
    await expect.poll(() => page.getByTestId('photo-text').innerText(), { timeout: 60_000 }).toBe(SPANISH.join('\n'));

    await expect.poll(() => page.getByTestId('translation-provider').innerText()).toBe('apertium');
    await page.getByTestId('translate-text').click();
    await expect
      .poll(() => page.getByTestId('translation-result').innerText(), { timeout: 30_000 })
      .toBe('The boy eats a red apple.\nThe library opens to the nine.');
    await docScreenshot(page, path.join(ROOT, 'docs/screenshots/photos-text.png'));
    await page.keyboard.press('Escape');
  }, 120_000);

  it('runs a lab analysis and finds it in the ledger', async () => {
    await page.goto(`${aula.url}/lab`);
    await page.getByTestId('model-objects').click();
    await expect.poll(() => page.getByTestId('param-minConfidence').inputValue()).toBe('0.25');
    await page.getByTestId('param-minConfidence').fill('0.3');
    await page.getByTestId('lab-files').setInputFiles([path.join(SCENES, 'with_computer.jpg')]);
    await docScreenshot(page, path.join(ROOT, 'docs/screenshots/analysis-lab.png'));
    await page.getByTestId('run-analysis').click();
    await page.waitForURL(/\/lab\/jobs\/[0-9a-z]{26}$/);
    const jobId = new URL(page.url()).pathname.split('/').pop()!;
    await expect.poll(() => page.getByTestId('job-status').first().innerText(), { timeout: 90_000 }).toBe('done');
    await expect.poll(() => page.getByTestId('job-progress').innerText()).toContain('1 of 1 processed');
    await page.getByTestId('job-result').locator('img').waitFor();
    await docScreenshot(page, path.join(ROOT, 'docs/screenshots/analysis-job.png'));
    await page.getByTestId('job-result').getByText('JSON').click();
    const json = await page.getByTestId('json-output').innerText();
    expect(json).toContain('"laptop"');

    // "Run again": a new job over the same image, with the same answer.
    await page.getByTestId('rerun').click();
    await page.waitForURL((u) => /\/lab\/jobs\/[0-9a-z]{26}$/.test(u.pathname) && !u.pathname.endsWith(jobId));
    const rerunId = new URL(page.url()).pathname.split('/').pop()!;
    // The new job's page names the one it repeats.
    await expect.poll(() => page.getByRole('link', { name: jobId }).count()).toBe(1);
    await expect.poll(() => page.getByTestId('job-status').first().innerText(), { timeout: 90_000 }).toBe('done');
    await page.getByTestId('job-result').locator('img').waitFor();
    await page.getByTestId('job-result').getByText('JSON').click();
    expect(await page.getByTestId('json-output').innerText()).toBe(json);

    await page.goto(`${aula.url}/lab/ledger`);
    // One navbar entry is highlighted: the ledger, not also the lab it sits under.
    const activeNav = page.locator('nav[aria-label="Main"] a[data-active]');
    await expect.poll(() => activeNav.allInnerTexts()).toEqual(['Prediction ledger']);
    const row = page.getByRole('row').filter({ hasText: 'objects@' }).filter({ hasText: 'lab' });
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(2);
    // The album's own runs are in the ledger too, marked as such.
    await expect.poll(() => page.getByRole('row').filter({ hasText: 'album' }).count()).toBeGreaterThan(0);
    await docScreenshot(page, path.join(ROOT, 'docs/screenshots/prediction-ledger.png'));
    // Newest first: the rerun's row, then the original's.
    await row.last().click();
    const detail = page.getByTestId('prediction-detail');
    await detail.waitFor();
    expect(await detail.getByRole('link', { name: jobId }).count()).toBe(1);
    expect(await detail.getByRole('link', { name: rerunId }).count()).toBe(0);
    expect(await detail.innerText()).toContain('"minConfidence": 0.3');
    expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  }, 150_000);

  it('organises photos: drag and drop, moving, renaming, label browsing and smart albums', async () => {
    await page.goto(`${aula.url}/albums`);
    await page.getByTestId('new-album').click();
    await page.getByTestId('album-name').fill('Excursión');
    await page.getByTestId('album-save').click();
    await page.getByTestId('album-link').filter({ hasText: 'Excursión' }).click();
    await expect.poll(() => page.getByTestId('photos-title').innerText()).toBe('Excursión');

    // A file dragged from the desktop and dropped on the page.
    const bytes = fs.readFileSync(path.join(SCENES, 'coco-image2.jpg')).toString('base64');
    const dataTransfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([data], 'patio.jpg', { type: 'image/jpeg' }));
      return dt;
    }, bytes);
    const zone = page.getByTestId('photo-upload').locator('xpath=..');
    for (const type of ['dragenter', 'dragover', 'drop']) await zone.dispatchEvent(type, { dataTransfer });
    await expect.poll(() => page.getByTestId('upload-title').inputValue()).toBe('patio');
    await page.getByTestId('upload-submit').click();
    await expect.poll(() => page.getByTestId('photo-card').count()).toBe(1);

    // Moved from the lightbox into the other album.
    await page.getByTestId('photo-card').first().click();
    await page.getByTestId('photo-viewer').waitFor();
    await page.getByTestId('move-album').click();
    await page.getByRole('option', { name: 'Clase de ciencias' }).click();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('photo-card').count()).toBe(0);
    await page.getByTestId('album-link').filter({ hasText: 'Clase de ciencias' }).click();
    await expect
      .poll(() => page.getByTestId('photo-card').filter({ hasText: 'patio' }).count(), { timeout: 20_000 })
      .toBe(1);

    // Renamed, then deleted (it is empty now).
    await page.getByRole('button', { name: 'Excursión actions' }).click();
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    await page.getByTestId('album-name').fill('Salida al museo');
    await page.getByTestId('album-save').click();
    await expect.poll(() => page.getByTestId('album-link').filter({ hasText: 'Salida al museo' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Salida al museo actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete album' }).click();
    await expect.poll(() => page.getByTestId('album-link').filter({ hasText: 'Salida al museo' }).count()).toBe(0);

    // Every photo with a laptop, from the label list.
    await page.goto(`${aula.url}/albums/labels`);
    await expect.poll(() => page.locator('nav[aria-label="Main"] a[data-active]').allInnerTexts()).toEqual(['Labels']);
    await page.getByTestId('label-chip').filter({ hasText: 'laptop' }).click();
    await expect.poll(() => page.getByTestId('photos-title').innerText()).toBe('Photos with “laptop”');
    await expect
      .poll(() => page.getByTestId('photo-card').allInnerTexts())
      .toEqual([expect.stringContaining('with_computer')]);

    // A smart album is that search, kept: no uploads into it.
    await page.getByTestId('new-album').click();
    await page.getByTestId('album-name').fill('Portátiles');
    await page.getByLabel('Smart album label (optional)').fill('laptop');
    await page.getByTestId('album-save').click();
    await page.getByTestId('album-link').filter({ hasText: 'Portátiles' }).click();
    await expect.poll(() => page.getByTestId('photos-title').innerText()).toBe('Portátiles');
    await expect.poll(() => page.getByTestId('photo-card').count()).toBe(1);
    expect(await page.getByTestId('photo-upload').count()).toBe(0);
    expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { ROOT } from './server.ts';

/**
 * The Debian chromium driven by playwright-core: nothing is downloaded, every run starts from an
 * empty profile, and the browser never talks to anything but the server under test.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT_DIR = path.join(ROOT, '.reports/screenshots');

/**
 * A 2 s y4m clip of one still photo, for Chromium's fake webcam (`fakeCamera`). A missing ffmpeg
 * fails the test (npm test installs it); it is never a reason to skip.
 */
export function fakeCameraClip(photo: string, dir: string, width: number): string {
  const video = path.join(dir, 'camera.y4m');
  const ff = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      photo,
      '-t',
      '2',
      '-pix_fmt',
      'yuv420p',
      '-vf',
      `scale=${width}:-2`,
      video,
    ],
    { stdio: 'pipe' },
  );
  if (ff.status !== 0) throw new Error(`ffmpeg failed: ${ff.error?.message ?? ff.stderr.toString()}`);
  return video;
}

export interface BrowserOptions {
  /** Added to the standard flags. */
  extraArgs?: string[];
  /** A y4m file that Chromium's fake webcam plays in a loop; camera permission is granted. */
  fakeCamera?: string;
  viewport?: { width: number; height: number };
  /** Granted to every origin, e.g. ['camera']. */
  permissions?: string[];
  colorScheme?: 'light' | 'dark';
  timezoneId?: string;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(opts: BrowserOptions = {}): Promise<TestBrowser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      ...(opts.fakeCamera
        ? [
            '--use-fake-device-for-media-stream',
            '--use-fake-ui-for-media-stream',
            `--use-file-for-fake-video-capture=${opts.fakeCamera}`,
          ]
        : []),
      ...(opts.extraArgs ?? []),
    ],
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    colorScheme: opts.colorScheme ?? 'light',
    locale: 'en-US',
    // The server generates class sessions in its own zone; the browser shows them in the same one.
    timezoneId: opts.timezoneId ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    permissions: opts.fakeCamera ? [...new Set([...(opts.permissions ?? []), 'camera'])] : opts.permissions,
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface ScreenshotCheck {
  file: string;
  png: Buffer;
  width: number;
  height: number;
  /** Mean of the per-channel standard deviations: near 0 for a blank or single-color image. */
  stdev: number;
}

/** Saves a PNG of the viewport (or the whole page) under .reports/screenshots/ and measures it. */
export async function screenshot(
  page: Page,
  name: string,
  opts: { fullPage?: boolean } = {},
): Promise<ScreenshotCheck> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  const png = await page.screenshot({ path: file, type: 'png', fullPage: opts.fullPage ?? false });
  return { file, png, ...(await measurePng(png)) };
}

export async function measurePng(png: Buffer): Promise<{ width: number; height: number; stdev: number }> {
  const img = sharp(png);
  const [meta, stats] = await Promise.all([img.metadata(), img.stats()]);
  const channels = stats.channels.slice(0, 3);
  const stdev = channels.reduce((s, c) => s + c.stdev, 0) / channels.length;
  return { width: meta.width ?? 0, height: meta.height ?? 0, stdev };
}

// Test harness knob: refresh the committed documentation screenshots.
const UPDATE_DOCS = process.env.UPDATE_DOC_SCREENSHOTS === '1';

/**
 * A screenshot for the documentation: palette PNG, small enough to keep in the repository.
 * It replaces `file` only when that is missing or UPDATE_DOC_SCREENSHOTS=1, so ordinary test
 * runs leave the committed pictures alone; otherwise it goes to .reports/screenshots/docs/.
 * Returns the path written and its size in bytes.
 */
export async function docScreenshot(page: Page, file: string): Promise<{ file: string; bytes: number }> {
  await dismissNotifications(page);
  // No hover highlight from wherever the last click happened.
  await page.mouse.move(1, 1);
  const raw = await page.screenshot({ type: 'png' });
  const out = await sharp(raw).png({ palette: true, colours: 128, compressionLevel: 9, effort: 10 }).toBuffer();
  const target = UPDATE_DOCS || !fs.existsSync(file) ? file : path.join(SCREENSHOT_DIR, 'docs', path.basename(file));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, out);
  return { file: target, bytes: out.length };
}

/** Closes toast notifications so they do not cover what a screenshot is meant to show. */
export async function dismissNotifications(page: Page): Promise<void> {
  const close = page.locator('.mantine-Notification-root .mantine-Notification-closeButton');
  for (let i = await close.count(); i > 0; i--) await close.first().click();
  await page
    .locator('.mantine-Notification-root')
    .first()
    .waitFor({ state: 'detached', timeout: 3000 })
    .catch(() => {});
}

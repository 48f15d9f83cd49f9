import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../server/src/loadgen/testing.ts';
import { docScreenshot, launchBrowser, screenshot, type TestBrowser } from './support/browser.ts';
import { freePort, ROOT, startAula, type RunningAula } from './support/server.ts';

/**
 * The Load test page while a real generator publishes to it: the run shows up in the list, its
 * charts grow second by second while the load runs, and the summary is there when it ends.
 */

const RUN_ID = `e2e-${Date.now().toString(36)}`;
const RUN_NAME = 'Ingest smoke test';

let aula: RunningAula;
let browser: TestBrowser;
let page: Page;
let generator: ChildProcess | undefined;
let generatorExit: Promise<number | null> | undefined;
let generatorOutput = '';

/** How many seconds the run page currently charts (points of the throughput line). */
async function chartedSeconds(): Promise<number> {
  return page.getByTestId('chart-rps').evaluate((el) => {
    const line = el.querySelector('.recharts-line-curve');
    const d = line?.getAttribute('d') ?? '';
    return (d.match(/[ML]/g) ?? []).length;
  });
}

async function statValue(label: string): Promise<number> {
  const text = await page.getByTestId(`stat-${label}-value`).innerText();
  return Number(text.replace(/[^\d]/g, '') || 'NaN');
}

describe('load test page: live charts of a published run', () => {
  beforeAll(async () => {
    const grpcPort = await freePort();
    aula = await startAula({ env: { GRPC_PORT: String(grpcPort) } });
    const token = createToken(aula, ['grades:write', 'loadtest:publish']);
    browser = await launchBrowser({ viewport: { width: 1360, height: 900 } });
    page = browser.page;
    page.setDefaultTimeout(20_000);

    generator = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/src/main.ts',
        'load',
        '--target',
        aula.url,
        '--grpc',
        `127.0.0.1:${grpcPort}`,
        '--token',
        token,
        '--mode',
        'split',
        '--split',
        '60',
        '--users',
        '6',
        '--ramp',
        '4s',
        '--duration',
        '25s',
        '--batch',
        '5',
        '--publish',
        '--run-id',
        RUN_ID,
        '--name',
        RUN_NAME,
        '--worker-id',
        'e2e-worker',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    generator.stdout!.on('data', (c: Buffer) => (generatorOutput += c.toString()));
    generator.stderr!.on('data', (c: Buffer) => (generatorOutput += c.toString()));
    generatorExit = new Promise((resolve) => generator!.once('exit', (code) => resolve(code)));
  });

  afterAll(async () => {
    if (generator && generator.exitCode === null) generator.kill('SIGKILL');
    await browser?.close();
    await aula?.stop();
  });

  it('signs in and lists the running run', async () => {
    await page.goto(aula.url);
    await page.waitForURL('**/sign-in');
    await page.getByRole('textbox', { name: 'Username or email' }).fill('admin');
    await page.getByRole('textbox', { name: 'Password' }).fill(aula.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Load tests', exact: true }).click();
    await page.getByRole('heading', { name: 'Load tests' }).waitFor();
    const table = page.getByTestId('table-load-test-runs');
    await expect.poll(() => table.innerText(), { timeout: 30_000 }).toContain(RUN_NAME);
    expect(await table.innerText()).toContain(RUN_ID);
    expect(await table.getByTestId('run-status').first().innerText()).toBe('running');
    const list = await screenshot(page, 'load-tests-list');
    expect(list.stdev).toBeGreaterThan(10);
  });

  it('shows charts that grow while the generator runs', async () => {
    await page.getByText(RUN_NAME).click();
    await page.waitForURL(`**/loadtests/${RUN_ID}`);
    await page.getByRole('heading', { name: RUN_NAME }).waitFor();
    await expect.poll(chartedSeconds, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    const firstPoints = await chartedSeconds();
    const firstRequests = await statValue('requests');
    // New seconds arrive without a reload.
    await expect.poll(chartedSeconds, { timeout: 15_000 }).toBeGreaterThan(firstPoints + 2);
    expect(await statValue('requests')).toBeGreaterThan(firstRequests);
    for (const chart of ['chart-latency', 'chart-errors']) {
      expect(await page.getByTestId(chart).locator('.recharts-line-curve').count()).toBeGreaterThan(0);
    }
    expect(await page.getByTestId('run-status').innerText()).toBe('running');
    const shot = await screenshot(page, 'load-test-running');
    expect(shot.stdev).toBeGreaterThan(10);
    const doc = await docScreenshot(page, path.join(ROOT, 'docs/screenshots/load-test.png'));
    expect(doc.bytes).toBeLessThan(300 * 1024);
  });

  it('shows the finished run with its merged summary', async () => {
    const code = await generatorExit;
    expect(code, generatorOutput).toBe(0);
    await expect.poll(() => page.getByTestId('run-status').innerText(), { timeout: 15_000 }).toBe('finished');
    const summary = await page.getByTestId('run-summary').innerText();
    expect(summary).toContain('Grades acknowledged');
    expect(summary).toContain('Sent over REST / gRPC');
    const requests = await statValue('requests');
    expect(requests).toBeGreaterThan(0);
    // The page's totals are the generator's own.
    const printed = /requests\s+([\d,]+)/.exec(generatorOutput)?.[1]?.replace(/,/g, '');
    expect(Number(printed)).toBe(requests);
    expect(await page.getByTestId('run-workers').innerText()).toContain('e2e-worker');
    // (The 401 of the signed-out first visit is logged by the browser as a console error; only
    // uncaught page errors count.)
    expect(browser.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
});

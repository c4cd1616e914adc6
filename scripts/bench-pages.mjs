// make bench's browser figure: for each page, with an empty cache, the bytes on the wire
// (headers and bodies, as Chromium counted them) and the time from navigation start until
// the page was hydrated (<html data-hydrated>, set by the frontend), beside the 300 KB budget.
// Usage: node scripts/bench-pages.mjs BIN DATABASE_URL
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const BUDGET = 300 * 1000;
const PAGES = ['/login', '/', '/migrations', '/backups', '/settings', '/troubleshooting', '/activity'];
const [bin, dbUrl] = process.argv.slice(2);
if (!bin || !dbUrl) {
  console.error('usage: node scripts/bench-pages.mjs BIN DATABASE_URL');
  process.exit(2);
}

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const work = mkdtempSync(join(tmpdir(), 'bench-pages-'));
const password = randomBytes(12).toString('hex');
const log = openSync(join(work, 'server.log'), 'w');
const server = spawn(bin, ['serve'], {
  cwd: work,
  stdio: ['ignore', log, log],
  env: {
    ...process.env,
    DATABASE_URL: dbUrl,
    HOLOMUSH_ADMIN_ADDR: `127.0.0.1:${port}`,
    HOLOMUSH_ADMIN_DATA: join(work, 'data'),
    HOLOMUSH_BACKUP_DIR: join(work, 'backups'),
    HOLOMUSH_ADMIN_PASSWORD: password,
    HOLOMUSH_DB_AUTO_MIGRATE: 'false',
  },
});
const base = `http://127.0.0.1:${port}`;
let browser;
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      if (i > 150 || server.exitCode !== null) throw new Error(`the server did not start (see ${work}/server.log)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  // Sign in once for the cookie; every page is then measured in a fresh context (empty cache).
  const signIn = await browser.newContext({ baseURL: base });
  const p0 = await signIn.newPage();
  await p0.goto('/login');
  await p0.getByLabel('Password').fill(password);
  await p0.getByRole('button', { name: 'Sign in' }).click();
  await p0.waitForURL(`${base}/`);
  const state = await signIn.storageState();
  await signIn.close();

  console.log(`pages (cold cache; budget ${BUDGET / 1000} KB on the wire):`);
  let over = 0;
  for (const path of PAGES) {
    const context = await browser.newContext({ baseURL: base, storageState: path === '/login' ? undefined : state });
    const page = await context.newPage();
    let wire = 0;
    page.on('requestfinished', async (req) => {
      const sizes = await req.sizes();
      wire += sizes.responseBodySize + sizes.responseHeadersSize;
    });
    await page.goto(path);
    await page.waitForSelector('html[data-hydrated]', { timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    const hydrated = Number(await page.getAttribute('html', 'data-hydrated'));
    const kb = wire / 1000;
    if (wire > BUDGET) over++;
    console.log(
      `  ${path.padEnd(17)} ${kb.toFixed(1).padStart(7)} KB  (${((wire / BUDGET) * 100).toFixed(0).padStart(3)}% of budget${wire > BUDGET ? ', OVER' : ''})  hydrated after ${hydrated} ms`,
    );
    await context.close();
  }
  console.log(over ? `${over} of ${PAGES.length} pages are over the ${BUDGET / 1000} KB budget.` : `Every page is within the ${BUDGET / 1000} KB budget.`);
} finally {
  await browser?.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}

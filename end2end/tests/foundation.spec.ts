import { test, expect } from './helpers';

const password = process.env.E2E_PASSWORD ?? '';
const serverVersion = process.env.E2E_SERVER_VERSION ?? '';
const database = process.env.E2E_DATABASE ?? '';

test('pages without a session go to the sign-in page', async ({ page }) => {
  await page.goto('/activity');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'HoloMUSH database console' })).toBeVisible();
});

test('a wrong password shows an error and no dashboard', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong password. Check HOLOMUSH_ADMIN_PASSWORD and try again.');
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('the right password reaches the dashboard with the real server state', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('version')).toHaveText(serverVersion);
  await expect(page.getByTestId('connection')).toContainText('Connected');
  await expect(page.getByTestId('database')).toContainText(database);
  await expect(page.getByTestId('migration')).toContainText('no migrations table');
  await expect(page.getByTestId('pg_trgm')).toContainText('available');

  // The dashboard refreshes itself without a reload.
  const first = await page.getByTestId('updated').textContent();
  await expect(page.getByTestId('updated')).not.toHaveText(first ?? '', { timeout: 10_000 });

  // Every section is reachable from the navigation.
  for (const name of ['Migrations', 'Backups', 'Settings', 'Troubleshooting']) {
    await page.getByRole('navigation').getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  }

  // The sign-in and the failed attempt before it are in the activity log.
  await page.getByRole('navigation').getByRole('link', { name: 'Activity' }).click();
  const table = page.getByTestId('activity');
  await expect(table).toContainText('login.failed');
  await expect(table.locator('tr', { hasText: 'password from' }).first()).toContainText('login');
  await page.getByLabel('Outcome').selectOption('failed');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/outcome=failed/);
  await expect(table.locator('tbody tr')).not.toHaveCount(0);
  await expect(table.locator('tbody tr', { hasText: /^((?!failed).)*$/ })).toHaveCount(0);

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
});

test('pages hydrate under the Content-Security-Policy and the browser reports no violation', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) violations.push(msg.text());
  });
  // Chromium prints a refused script or style to the console; the event catches any other.
  // (Playwright's init scripts are not subject to the page's CSP.)
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const login = await page.goto('/login');
  const csp = login?.headers()['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'self' 'nonce-[0-9a-f]{32}' 'wasm-unsafe-eval'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  await page.waitForSelector('html[data-hydrated]');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  for (const path of ['/', '/migrations', '/backups', '/settings', '/troubleshooting', '/activity']) {
    const res = await page.goto(path);
    expect(res?.headers()['content-security-policy'] ?? '', path).toContain("'wasm-unsafe-eval'");
    expect(res?.headers()['x-frame-options'], path).toBe('DENY');
    expect(res?.headers()['cache-control'], path).toBe('no-store');
    // The islands hydrate: the nonced loader ran and the wasm was compiled.
    await page.waitForSelector('html[data-hydrated]');
    await page.waitForLoadState('networkidle');
  }
  expect(violations).toEqual([]);
});

test('a server function without a session answers 401 with a sentence', async ({ request }) => {
  const res = await request.post('/api/status', { data: {} });
  expect(res.status()).toBe(401);
  expect((await res.json()).message).toContain('sign in at /login');
});

test('a sign-in form posted from another site is refused', async ({ request }) => {
  const res = await request.post('/login', {
    form: { password },
    headers: { Origin: 'http://evil.example' },
    maxRedirects: 0,
  });
  expect(res.status()).toBe(403);
});

test('the session cookie is HttpOnly and SameSite=Strict', async ({ page, context }) => {
  await page.goto('/login');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  const cookie = (await context.cookies()).find((c) => c.name === 'holomush_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Strict');
  // The page itself never carries the database password.
  const html = await (await page.request.get('/')).text();
  expect(html).not.toContain(process.env.E2E_DB_PASSWORD ?? 'unset-password-marker');
});

test('the wasm and its JavaScript arrive compressed under hashed names cached for good; the first load is measured', async ({ page }) => {
  // Assets by their type (.wasm, .js, .css): the name that was asked for, its encoding, its caching.
  const assets = new Map<string, { path: string; encoding: string; cache: string }>();
  let wire = 0;
  page.on('response', async (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith('/pkg/')) {
      const ext = url.pathname.split('.').pop() ?? '';
      assets.set(ext, {
        path: url.pathname,
        encoding: (await res.headerValue('content-encoding')) ?? 'identity',
        cache: (await res.headerValue('cache-control')) ?? '',
      });
    }
  });
  page.on('requestfinished', async (req) => {
    const sizes = await req.sizes();
    wire += sizes.responseBodySize + sizes.responseHeadersSize;
  });
  await page.goto('/login');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('version')).toHaveText(serverVersion);
  for (const ext of ['wasm', 'js', 'css']) {
    const asset = assets.get(ext);
    expect(asset?.path, `the ${ext} asset`).toMatch(new RegExp(`^/pkg/holomush-admin\\.[A-Za-z0-9_-]{8,}\\.${ext}$`));
    expect(asset?.encoding, `the ${ext} asset`).toBe('br');
    expect(asset?.cache, `the ${ext} asset`).toBe('public, max-age=31536000, immutable');
  }
  // The budget (300 KB per page) is enforced by the next test; this one prints the journey.
  console.log(`first load (sign-in and dashboard, cold cache): ${(wire / 1024).toFixed(0)} KiB on the wire`);
});

test('every page\'s first load, cache empty, moves at most 300 KB over the wire', async ({ browser }) => {
  const budget = 300_000;
  // One sign-in for the cookie; each page is then loaded in a fresh context (empty cache).
  const first = await browser.newContext();
  const p0 = await first.newPage();
  await p0.goto('/login');
  await p0.getByLabel('Password').fill(password);
  await p0.getByRole('button', { name: 'Sign in' }).click();
  await expect(p0.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  const state = await first.storageState();
  await first.close();
  const sizes: string[] = [];
  for (const path of ['/login', '/', '/migrations', '/backups', '/settings', '/troubleshooting', '/activity']) {
    const context = await browser.newContext({ storageState: path === '/login' ? undefined : state });
    const page = await context.newPage();
    let wire = 0;
    page.on('requestfinished', async (req) => {
      const s = await req.sizes();
      wire += s.responseBodySize + s.responseHeadersSize;
    });
    await page.goto(path);
    await page.waitForSelector('html[data-hydrated]');
    await page.waitForLoadState('networkidle');
    sizes.push(`${path} ${(wire / 1000).toFixed(1)} KB`);
    expect(wire, `${path}: ${wire} bytes`).toBeLessThanOrEqual(budget);
    await context.close();
  }
  console.log(`first loads (budget 300 KB): ${sizes.join(', ')}`);
});

import { test, expect, signIn } from './helpers';

// scripts/e2e.sh makes the database dirty first: `migrate up` runs a file that fails.
const bad = process.env.E2E_BAD_VERSION ?? '';
const good = process.env.E2E_GOOD_LATEST ?? '';

test('a dirty database is repaired through the wizard and the badges clear', async ({ page }) => {
  await signIn(page);
  await expect(page.getByTestId('troubleshoot-link')).toContainText('dirty');
  await page.getByTestId('dirty-banner').getByRole('link', { name: 'Repair it' }).click();
  await expect(page.getByRole('heading', { name: 'Troubleshooting' })).toBeVisible();
  await expect(page.getByTestId('badge-dirty')).toHaveText(`dirty at version ${bad}`);
  await expect(page.getByTestId('badge-connection')).toHaveText('connected');
  await expect(page.getByTestId('badge-tools')).toHaveText('ready');
  await page.getByRole('link', { name: 'Repair the dirty state' }).click();
  const wizard = page.getByTestId('repair-wizard');
  await expect(wizard.getByTestId('step-happened')).toContainText(`is dirty at version ${bad}`);
  await expect(wizard.getByTestId('history-error')).toContainText('no_such_table');
  await expect(wizard.getByTestId('lock-holders')).toHaveCount(0);
  await expect(wizard.getByTestId('conclusion')).toContainText(`Nothing from version ${bad} took effect`);
  await expect(wizard.getByTestId('objects')).toContainText('e2e_ok');
  const recommended = wizard.locator('label.option').first();
  await expect(recommended).toContainText(`Force version ${good}`);
  await expect(recommended).toContainText('recommended');
  // A wrong confirmation changes nothing.
  await wizard.getByLabel('Confirm version').fill('1');
  await wizard.getByRole('button', { name: 'Repair' }).click();
  await expect(wizard.getByRole('alert').filter({ hasText: 'Not confirmed' })).toBeVisible();
  await wizard.getByLabel('Confirm version').fill(bad);
  await wizard.getByRole('button', { name: 'Repair' }).click();
  await expect(wizard.getByTestId('job-result')).toContainText(`Forced version ${good}`, { timeout: 30000 });
  await expect(wizard.getByTestId('job')).toContainText('Safety backup');
  await expect(page.getByTestId('badge-dirty')).toHaveText(`clean at version ${good}`);
  await expect(page.getByTestId('dirty-banner')).toHaveCount(0);
  await expect(wizard.getByTestId('repair-clean')).toBeVisible();
  await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('migration')).toContainText(`version ${good}`);
  await expect(page.getByTestId('troubleshoot-link')).toHaveCount(0);
});

test('the doctor shows a failing auth step for a wrong password typed on Settings, and the password appears nowhere', async ({ page }) => {
  const wrong = process.env.E2E_WRONG_PASSWORD ?? '';
  const url = `postgres://${process.env.E2E_DB_USER}:${wrong}@${process.env.E2E_DB_HOST}:${process.env.E2E_DB_PORT}/${process.env.E2E_DATABASE}?sslmode=disable`;
  await signIn(page);
  await page.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByTestId('settings')).toContainText('DB_MAX_CONNS');
  await expect(page.getByTestId('database-url')).toContainText('••••••••');
  await expect(page.getByTestId('env-lines')).toContainText('CHANGE_ME');
  // The client tools in use, and why: pg_dump of the server's own major (so that major's own
  // pg_restore reads the archives), found by the console itself.
  const major = (process.env.E2E_SERVER_VERSION ?? '').split('.')[0];
  const tools = page.getByTestId('client-tools');
  await expect(tools).toContainText(`against PostgreSQL ${major}`);
  await expect(tools.locator('tr[data-tool="pg_dump"]')).toContainText('/postgresql/18/bin/pg_dump');
  await expect(tools.locator('tr[data-tool="pg_dump"]')).toContainText(
    `the server's own major, so PostgreSQL ${major}'s pg_restore can read the archives.`,
  );
  await expect(tools.locator('tr[data-tool="pg_restore"]')).toContainText('18.6');
  // The doctor is an island: it answers once the page is hydrated.
  await page.waitForSelector('html[data-hydrated]');
  await page.getByLabel('Connection URL to test').fill(url);
  await page.getByTestId('test-connection').getByRole('button', { name: 'Run the doctor' }).click();
  const auth = page.locator('tr[data-step="auth"]');
  await expect(auth).toHaveAttribute('data-status', 'fail');
  await expect(auth).toContainText('pg_hba.conf');
  await expect(page.locator('tr[data-step="select1"]')).toHaveAttribute('data-status', 'skip');
  await expect(page.getByLabel('Connection URL to test')).toHaveValue('');
  expect(await page.content()).not.toContain(wrong);
  // The console's own connection passes.
  await page.getByTestId('test-connection').getByRole('button', { name: 'Run the doctor' }).click();
  await expect(page.getByTestId('doctor-verdict')).toContainText('Every step passed');
  expect(await page.content()).not.toContain(wrong);
});

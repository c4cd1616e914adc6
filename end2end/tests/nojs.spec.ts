import { test, expect } from '@playwright/test';

// Before the wasm arrives, or with JavaScript off, every page reads and every form works
// as a full-page post: the server runs the action and sends the browser on.
test.use({ javaScriptEnabled: false });

const database = process.env.E2E_DATABASE ?? '';

test('with JavaScript off: sign in, read the dashboard, take a full backup and follow its job', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Password').fill(process.env.E2E_PASSWORD ?? '');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  // The data is in the page itself, not streamed in by a script.
  await expect(page.getByTestId('connection')).toContainText('Connected');
  await expect(page.getByText('Reading the database…')).toHaveCount(0);

  await page.goto('/backups');
  await page.getByRole('button', { name: 'Full backup' }).click();
  // The post comes back to the page with the job (?job=N), which reloads itself until the job ends.
  await expect(page).toHaveURL(/[?&]job=\d+$/);
  await expect(page.getByTestId('job-result')).toContainText(`${database}_`, { timeout: 30_000 });
  const result = (await page.getByTestId('job-result').textContent()) ?? '';
  const file = result.match(/[A-Za-z0-9_]+\.dump/)?.[0] ?? '';
  expect(file).not.toBe('');

  await page.goto('/backups');
  const row = page.locator(`tr[data-file="${file}"]`);
  await expect(row).toContainText('full');
  // Panels open from links; a refused form comes back with the server's sentence.
  await row.getByRole('link', { name: 'Restore…' }).click();
  await expect(page).toHaveURL(/\?restore=/);
  await page.getByTestId('restore').getByRole('button', { name: 'Restore in place' }).click();
  await expect(page.getByRole('alert').filter({ hasText: `Not confirmed: type the database name "${database}"` })).toBeVisible();
  await expect(page.getByTestId('restore')).toBeVisible();

  await row.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/[?&]job=\d+$/);
  await expect(page.getByTestId('job-result')).toContainText('every data block intact', { timeout: 30_000 });

  // Migrations: the actions form posts too; a refusal comes back with its sentence.
  await page.goto('/migrations');
  await page.getByLabel('Version', { exact: true }).fill('1');
  await page.getByRole('button', { name: 'Force version' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not confirmed' })).toContainText(`type the database name "${database}"`);
  await page.getByRole('button', { name: 'Apply all pending' }).click();
  await expect(page).toHaveURL(/[?&]job=\d+$/);
  await expect(page.getByTestId('job-result')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('job')).toContainText('migrate.up');
});

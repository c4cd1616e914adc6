import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test, expect, signIn } from './helpers';

const database = process.env.E2E_DATABASE ?? '';

test('back up now, download the archive, verify it and restore it into a new database', async ({ page }) => {
  await signIn(page);
  // Before any backup the dashboard says none was taken.
  await expect(page.getByTestId('backup-warning')).toHaveText('No full backup yet: take one on the Backups page (or `holomush-admin backup create`).');
  await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
  await expect(page.getByTestId('no-archives')).toBeVisible();

  await page.getByRole('button', { name: 'Full backup' }).click();
  await expect(page.getByTestId('job-result')).toContainText(`${database}_`);
  const row = page.getByTestId('archives').locator('tbody tr').first();
  await expect(row).toContainText('full');
  await expect(row.getByTestId('size')).toHaveText(/\d.*(B|KiB|MiB)$/);

  // The downloaded bytes have the manifest's sha256.
  const sha = await row.getByTestId('sha256').getAttribute('title');
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: /\.dump$/ }).click()]);
  const bytes = readFileSync((await download.path()) ?? '');
  expect(bytes.subarray(0, 5).toString()).toBe('PGDMP');
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha);

  await row.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('job-result')).toContainText('every data block intact');
  await expect(row.locator('.badge.applied')).toHaveText('verified');

  // The dashboard names the last backup, verified, and warns no more.
  const taken = (await row.getAttribute('data-file')) ?? '';
  await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('last-backup')).toContainText(taken);
  await expect(page.getByTestId('last-backup')).toContainText('full backup,');
  await expect(page.getByTestId('last-backup-verified')).toHaveText('verified');
  await expect(page.getByTestId('backup-warning')).toHaveCount(0);
  await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();

  // An existing database is refused, a new one is made.
  await row.getByRole('link', { name: 'Restore…' }).click();
  const restore = page.getByTestId('restore');
  await restore.getByLabel('New database name').fill(database);
  await restore.getByRole('button', { name: 'Restore into new database' }).click();
  await expect(page.getByTestId('job-result')).toContainText(`Database "${database}" already exists: choose a new name (nothing was changed).`);
  await restore.getByLabel('New database name').fill(`${database}_restored`);
  await restore.getByRole('button', { name: 'Restore into new database' }).click();
  await expect(page.getByTestId('job-result')).toHaveText(`Restored into database "${database}_restored".`);

  // Into a new database on another server (here the same one, reached by a typed URL): the
  // rows are compared with the archive, and the URL's password shows nowhere.
  const dbPassword = process.env.E2E_DB_PASSWORD ?? '';
  await restore.getByLabel('New database name').fill(`${database}_moved`);
  await restore.getByLabel('Target server URL').fill(process.env.E2E_BASE_DB_URL ?? '');
  await restore.getByRole('button', { name: 'Restore on that server' }).click();
  await expect(restore.getByLabel('Target server URL')).toHaveValue('');
  await expect(page.getByTestId('job-result')).toContainText(`Restored into "${database}_moved" on `, { timeout: 30_000 });
  await expect(page.getByTestId('job-result')).toContainText('rows match the archive');
  expect(dbPassword).not.toBe('');
  expect(await page.content()).not.toContain(dbPassword);

  // In place: refused without the name typed; then a safety backup, a fresh copy swapped in,
  // and the console's own connections come back.
  const file0 = (await row.getAttribute('data-file')) ?? '';
  await restore.getByRole('button', { name: 'Restore in place' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not confirmed' })).toBeVisible();
  await restore.getByLabel('Confirm database name').fill(database);
  await restore.getByRole('button', { name: 'Restore in place' }).click();
  await expect(page.getByTestId('job-result')).toContainText(`Restored ${file0} into "${database}".`, { timeout: 60_000 });
  await expect(page.getByTestId('archives')).toContainText(`${database}_safety_`);
  await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('connection')).toContainText('Connected');
  await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();

  // The table of contents, grouped by object type.
  await row.getByRole('link', { name: 'Contents' }).click();
  await expect(page.getByTestId('contents')).toContainText('TABLE (');
  await expect(page.getByTestId('contents')).toContainText('EXTENSION (1)');

  // Deleting takes the exact name; a path is refused.
  const file = (await row.getAttribute('data-file')) ?? '';
  await page.getByLabel('Archive to delete').fill('../escape.dump');
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'is not an archive name' })).toBeVisible();
  await page.getByLabel('Archive to delete').fill(file);
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Deleted ${file}.` })).toBeVisible();
  await expect(page.locator(`tr[data-file="${file}"]`)).toHaveCount(0);

  // Upload: only a pg_dump archive is kept.
  await page.getByLabel('Archive file').setInputFiles({ name: 'notes.dump', mimeType: 'application/octet-stream', buffer: Buffer.from('SELECT 1;') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'not a pg_dump custom-format archive' })).toBeVisible();
  await page.getByLabel('Archive file').setInputFiles({ name: 'copy.dump', mimeType: 'application/octet-stream', buffer: bytes });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded copy.dump' })).toBeVisible();
  await expect(page.locator('tr[data-file="copy.dump"]')).toContainText('full');

  // A test restore runs the archive's SQL: one the console did not make asks for the
  // database's name first, typed in its restore panel.
  const copyRow = page.locator('tr[data-file="copy.dump"]');
  await copyRow.getByRole('button', { name: 'Test restore' }).click();
  await expect(page.getByRole('alert').filter({ hasText: `copy.dump was not made by this console's backups and a test restore runs the SQL it holds: type the database name "${database}" to confirm` })).toBeVisible();
  await copyRow.getByRole('link', { name: 'Restore…' }).click();
  await restore.getByLabel('Confirm database name').fill(database);
  await restore.getByRole('button', { name: 'Test restore' }).click();
  await expect(page.getByTestId('job-result')).toContainText('restore test passed', { timeout: 30_000 });

  // A path instead of a name is refused by the file route.
  const res = await page.request.get('/files/backups/..%2F..%2Fetc%2Fpasswd.dump');
  expect(res.status()).toBe(400);
});

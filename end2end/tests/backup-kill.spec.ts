import { test, expect, signIn } from './helpers';

// scripts/e2e.sh holds a lock that pg_dump waits for, kills the server between these
// two tests, and checks the backup folder before starting it again.

test('starts a backup that will be cut short', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
  await page.getByRole('button', { name: 'Full backup' }).click();
  await expect(page.getByTestId('job')).toContainText('running');
  await expect(page.getByTestId('job')).toContainText('Dumping');
  // pg_dump waits on the lock: the bar shows the stage it is in.
  await expect(page.getByTestId('job-progress')).toContainText('Reading the catalog: 0 of');
});

test('after the restart the killed backup shows as failed and left no archive', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
  const jobs = page.getByTestId('recent-jobs');
  await expect(jobs).toContainText('backup.full');
  await expect(jobs.locator('tr', { hasText: 'backup.full' }).first()).toContainText('failed');
  await expect(jobs).toContainText('The console stopped (restart or crash) while this job was running');
  await expect(page.getByTestId('job')).toHaveCount(0);
  await expect(page.getByTestId('no-archives')).toBeVisible();
  await page.getByRole('navigation').getByRole('link', { name: 'Activity' }).click();
  await expect(page.locator('body')).toContainText('The console stopped');
});

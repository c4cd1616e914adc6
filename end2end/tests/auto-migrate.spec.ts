import { test, expect, signIn } from './helpers';


test('the console migrated on start-up and says so on the dashboard and the Migrations page', async ({ page }) => {
  const latest = process.env.E2E_EMBEDDED_LATEST ?? '';
  await signIn(page);
  await expect(page.getByTestId('migration')).toContainText(`version ${latest}`);
  await expect(page.getByTestId('migration')).toContainText('golang-migrate only: schema_migrations is the ledger.');
  await expect(page.getByTestId('pg_trgm')).toContainText('installed');
  await page.getByRole('navigation').getByRole('link', { name: 'Migrations' }).click();
  await expect(page.getByTestId('schema-version')).toHaveText(latest);
  await expect(page.getByTestId('pending')).toHaveText('0');
  const rows = page.getByTestId('migrations').locator('tbody tr');
  await expect(rows.first()).toContainText('auto');
  await expect(page.getByTestId('dirty-banner')).toHaveCount(0);
});

import { test, expect, signIn } from './helpers';


const good = process.env.E2E_GOOD_LATEST ?? '';
const bad = process.env.E2E_BAD_VERSION ?? '';
const database = process.env.E2E_DATABASE ?? '';

test('apply pending migrations from the page, see the failure, the dirty banner, and repair it', async ({ page }) => {
  await signIn(page);
  await page.goto('/migrations');
  await expect(page.getByTestId('schema-version')).toHaveText('no version');
  const table = page.getByTestId('migrations');
  await expect(table.locator('tbody tr')).toHaveCount(Number(bad));
  await expect(table.locator('tbody tr .badge.pending')).toHaveCount(Number(bad));

  // The SQL of a migration on demand.
  await table.locator('tr[data-version="1"]').getByRole('link', { name: 'SQL' }).click();
  await expect(page.getByTestId('sql')).toContainText('pg_trgm');

  // Apply up to the first one only.
  await table.locator('tr[data-version="1"]').getByRole('button', { name: 'Apply up to this one' }).click();
  await expect(page.getByTestId('job-result')).toContainText('no version → 1');
  await expect(page.getByTestId('schema-version')).toHaveText('1');

  // Apply all pending: every good file runs, the last one fails.
  await page.getByRole('button', { name: 'Apply all pending' }).click();
  const job = page.getByTestId('job');
  await expect(job).toContainText('failed');
  await expect(job.locator('.log li').filter({ hasText: `Applied ${good}/up` })).toHaveCount(1);
  await expect(page.getByTestId('job-result')).toContainText(
    `migration failed: relation "no_such_table" does not exist (column 15) in line 2:`,
  );
  const badLine = job.getByTestId('failed-sql').locator('.bad-line');
  await expect(badLine).toHaveAttribute('data-line', '2');
  await expect(badLine).toContainText('SELECT * FROM no_such_table;');
  await expect(page.getByTestId('dirty-banner')).toContainText(`dirty at version ${bad}`);
  await expect(page.getByTestId('schema-version')).toHaveText(`${bad} (dirty)`);

  // A fresh load (server-rendered, then hydrated) says why it is dirty, with the failing line.
  await page.reload();
  await expect(page.getByTestId('dirty-cause')).toContainText('relation "no_such_table" does not exist');
  await expect(page.getByTestId('dirty-cause').locator('.bad-line')).toHaveAttribute('data-line', '2');

  // The history: applied by the signed-in admin, with a time and a duration.
  const applied = table.locator(`tr[data-version="${good}"]`);
  await expect(applied.locator('.badge')).toHaveText('applied');
  await expect(applied).toContainText('admin');
  await expect(applied).toContainText(' ms');
  await expect(page.getByTestId('timeline').locator('circle')).toHaveCount(Number(good));

  // Everything but up is refused until the database name is typed.
  await page.getByLabel('Version', { exact: true }).fill(good);
  await page.getByRole('button', { name: 'Force version' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Not confirmed' })).toContainText(`type the database name "${database}"`);
  await expect(page.getByTestId('schema-version')).toHaveText(`${bad} (dirty)`);

  // The refused post came back as a fresh page: the form is empty again.
  await page.getByLabel('Version', { exact: true }).fill(good);
  await page.getByLabel('Confirm database name').fill(database);
  await page.getByRole('button', { name: 'Force version' }).click();
  await expect(page.getByTestId('job-result')).toContainText(`${bad} → ${good}`);
  await expect(page.getByTestId('schema-version')).toHaveText(good);
  await expect(page.getByTestId('dirty-banner')).toHaveCount(0);

  // Roll back the last one (each post is a fresh page: the name is typed again).
  await page.getByLabel('Confirm database name').fill(database);
  await page.getByRole('button', { name: 'Roll back last' }).click();
  await expect(page.getByTestId('job-result')).toContainText(`${good} → `);
  await expect(table.locator(`tr[data-version="${good}"] .badge`)).toHaveText('pending');

  // A migration folder can take new files; a bad name is refused.
  await page.getByLabel('Migration name').fill('../escape');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'not a valid migration name' })).toBeVisible();
  await page.getByLabel('Migration name').fill('add_flags');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Created' })).toContainText(`_add_flags.up.sql`);
  await expect(table.locator('tbody tr')).toHaveCount(Number(bad) + 1);

  // Every action is in the audit log.
  await page.getByRole('navigation').getByRole('link', { name: 'Activity' }).click();
  const log = page.getByTestId('activity');
  await expect(log).toContainText('migrate.up');
  await expect(log.locator('tr', { hasText: 'migrate.force' }).first()).toContainText(`→ ${good}`);
  await expect(log).toContainText('migrate.create');
});

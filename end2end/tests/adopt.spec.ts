import { test, expect, signIn } from './helpers';

// scripts/e2e.sh migrates the database with golang-migrate (the embedded set), then starts
// the server on a goose folder holding the same versions plus one newer.
const recorded = process.env.E2E_ADOPT_RECORDED ?? '';
const seed = process.env.E2E_ADOPT_SEED ?? '';
const seeded = seed.split(', ').length - 1;
const database = process.env.E2E_DATABASE ?? '';

test('a golang-migrate database crosses to goose through the adopt wizard', async ({ page }) => {
  await signIn(page);
  await page.getByRole('navigation').getByRole('link', { name: 'Migrations' }).click();
  await expect(page.getByTestId('ledger')).toHaveText('goose');
  await expect(page.getByTestId('world')).toContainText('golang-migrate only: schema_migrations is the ledger.');

  await page.getByTestId('adopt-card').getByRole('link', { name: 'Cross to goose (adopt)' }).click();
  const wizard = page.getByTestId('adopt-wizard');
  // The preview: the recorded version and every row the adopt would write.
  await expect(wizard.getByTestId('adopt-state')).toHaveText('ready');
  await expect(wizard.getByTestId('adopt-recorded')).toHaveText(recorded);
  await expect(wizard.getByTestId('adopt-seed')).toHaveText(seed);
  await expect(wizard.getByTestId('adopt-sentence')).toContainText(
    `Ready: schema_migrations records version ${recorded} (clean, one row)`,
  );
  await expect(wizard.getByTestId('adopt-refusal')).toHaveCount(0);
  await expect(wizard.getByLabel('Take a safety backup first (a full pg_dump, kept and labelled safety)')).toBeChecked();

  // A wrong name changes nothing.
  await wizard.getByLabel('Database name for adopt').fill('not-the-database');
  await wizard.getByRole('button', { name: 'Adopt', exact: true }).click();
  await expect(wizard.getByRole('alert').filter({ hasText: 'Not confirmed' })).toContainText(
    `type the database name "${database}" to adopt`,
  );
  await expect(wizard.getByTestId('adopt-state')).toHaveText('ready');

  // The name typed: the job takes a safety backup, then adopts; its log shows each step.
  await wizard.getByLabel('Database name for adopt').fill(database);
  await wizard.getByRole('button', { name: 'Adopt', exact: true }).click();
  await expect(wizard.getByTestId('job-result')).toContainText(
    `Adopted: goose_db_version holds the version-0 row and ${seeded} seeded versions (up to ${recorded}); schema_migrations is kept as schema_migrations_pre_goose.`,
    { timeout: 30000 },
  );
  const job = wizard.getByTestId('job');
  await expect(job).toContainText('Taking a safety backup first');
  await expect(job).toContainText('Safety backup ');
  await expect(job).toContainText(`Seeded ${seeded} versions at or below ${recorded}`);
  await expect(job).toContainText('Renamed schema_migrations to schema_migrations_pre_goose');

  // The page now reads goose's ledger: adopted, at the recorded version, the newer file pending.
  await expect(page.getByTestId('world')).toContainText(
    "Adopted: goose_db_version is the ledger; golang-migrate's history is kept in schema_migrations_pre_goose.",
  );
  await expect(page.getByTestId('schema-version')).toHaveText(recorded);
  await expect(page.getByTestId('pending')).toHaveText('1');
  await expect(wizard.getByTestId('adopt-state')).toHaveText('already-adopted');
  await expect(wizard.getByTestId('adopt-undo')).toBeVisible();

  // A fresh load says the same.
  await page.goto('/migrations');
  await expect(page.getByTestId('world')).toContainText('Adopted: goose_db_version is the ledger');
  await expect(page.getByTestId('warnings')).toHaveCount(0);
});

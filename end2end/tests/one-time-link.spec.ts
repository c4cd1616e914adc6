import { test, expect } from './helpers';

const link = process.env.E2E_LOGIN_LINK ?? '';

test('the one-time link printed at start-up signs in once', async ({ page, browser }) => {
  expect(link).toMatch(/\/login\/link\?token=[0-9a-f]{64}$/);
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('connection')).toContainText('Connected');

  const other = await browser.newPage();
  await other.goto(link);
  await expect(other.getByRole('alert')).toContainText('That sign-in link is not valid or was already used.');
  await other.close();
});

test('without a console password the form says to use the link', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Password').fill('guess');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'No console password is set (HOLOMUSH_ADMIN_PASSWORD): open the one-time link the console printed when it started.',
  );
});

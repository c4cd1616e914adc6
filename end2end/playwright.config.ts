import { defineConfig } from '@playwright/test';

// scripts/e2e.sh starts the release server and sets E2E_BASE_URL; Playwright cannot
// download its own browsers here, so it drives Debian's Chromium.
export default defineConfig({
  testDir: './tests',
  // A journey test runs several real jobs (dumps, restores with safety backups) one after
  // another; 30 s covered them on an idle machine but not on a loaded CI run.
  timeout: 120_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3000',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
});

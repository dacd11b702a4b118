import { defineConfig } from '@playwright/test';

// The server under test: the release build that `make run` serves (made by `make test`), with
// the Zoho Desk sandbox mounted, on a port of its own so that a `make run` elsewhere does not
// clash.
export const PORT = Number(process.env.E2E_PORT ?? 3300);
export const BASE = `http://127.0.0.1:${PORT}`;
export const ADMIN_PASSWORD = 'e2e-admin-password';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list'], ['./summary-reporter.ts']],
  use: {
    baseURL: BASE,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    // A fresh database for every run.
    command: 'rm -rf target/e2e && exec ./target/release/server',
    cwd: '..',
    url: `${BASE}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      HELPDESK_ADDR: `127.0.0.1:${PORT}`,
      HELPDESK_SANDBOX: '1',
      // The journeys connect the PBX sandbox themselves (and use the simulator without it).
      HELPDESK_SANDBOX_PBX_CONNECT: '0',
      // The journeys sync the PBX's extensions by hand and count what each sync did; the
      // housekeeping's automatic sync (within a minute of the PBX connecting) would do it between
      // two clicks at a moment of its own. Its schedule is proven by the Rust tests instead.
      HELPDESK_PBX_SYNC_MINUTES: '0',
      HELPDESK_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DATABASE_URL: 'sqlite://target/e2e/helpdesk.db',
      LEPTOS_SITE_ROOT: 'target/site',
      RUST_LOG: 'warn',
    },
  },
});

import { defineConfig } from '@playwright/test';

// `make bench-pop`: the screen pop's latency on the release build (not part of `make test`).
export const PORT = Number(process.env.BENCH_PORT ?? 3902);
export const BASE = `http://127.0.0.1:${PORT}`;
export const SECRET = 'bench-webhook-secret-0123456789';

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.bench\.ts/,
  timeout: 300_000,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: BASE,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    },
  },
  webServer: {
    command: 'rm -rf target/bench-pop && exec ./target/release/server',
    cwd: '../..',
    url: `${BASE}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      HELPDESK_ADDR: `127.0.0.1:${PORT}`,
      HELPDESK_SANDBOX: '1',
      HELPDESK_ADMIN_PASSWORD: 'e2e-admin-password',
      HELPDESK_WEBHOOK_SECRET: SECRET,
      DATABASE_URL: 'sqlite://target/bench-pop/helpdesk.db',
      LEPTOS_SITE_ROOT: 'target/site',
      RUST_LOG: 'warn',
    },
  },
});

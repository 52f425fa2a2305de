import { defineConfig } from '@playwright/test';

// One real Cloister server, built by `cargo leptos build --release`, on a fresh data directory.
const port = Number(process.env.CLOISTER_E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
export const dataDir = '.cache/e2e-data';
/** While this file exists, the server's resource gate reads it instead of the machine (support/gate.ts). */
export const gateReadingsFile = '.cache/gate-readings.json';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  // Tests share one server and one library, as a group's members would.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium: Playwright cannot download a browser on this network.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  // The server starts with no account: first-run makes the first admin through the setup link
  // (and the library, with their own passphrase), then the accounts story signs in as them, and
  // everything else follows.
  projects: [
    { name: 'first-run', testMatch: /first-run\.spec\.ts/ },
    { name: 'first-admin', testMatch: /accounts\.spec\.ts/, dependencies: ['first-run'] },
    {
      name: 'everything else',
      testIgnore: /(accounts|first-run)\.spec\.ts/,
      dependencies: ['first-admin'],
    },
  ],
  webServer: {
    command:
      `rm -rf ${dataDir} ${gateReadingsFile} && mkdir -p ${dataDir} && ` +
      `../target/release/cloister serve --data-dir ${dataDir} --site-root ../target/site --addr 127.0.0.1:${port}`,
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    // Every test signs in from 127.0.0.1; the default burst (5) is for people, not a test suite.
    // The gate's readings can be forced through a file; a held-back job is retried every second
    // and counts as overdue (an admin may start it anyway) after a few seconds, not an hour.
    env: {
      CLOISTER_LOGIN_BURST: '100',
      CLOISTER_GATE_READINGS_FILE: gateReadingsFile,
      CLOISTER_GATE_RECHECK_SECS: '1',
      CLOISTER_OVERDUE_AFTER_SECS: '4',
      // A ready download link lapses after 8 s unused, so the "expired" notice can be tested;
      // the tests that use a link click it within a second or two.
      CLOISTER_DOWNLOAD_LINK_SECS: '8',
    },
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});

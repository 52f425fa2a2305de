import { defineConfig } from '@playwright/test';

// One real Cloister server, built by `cargo leptos build --release`, on a fresh data directory.
const port = Number(process.env.CLOISTER_E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
export const dataDir = '.cache/e2e-data';

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
  webServer: {
    command:
      `rm -rf ${dataDir} && mkdir -p ${dataDir} && ` +
      `../target/release/cloister serve --data-dir ${dataDir} --site-root ../target/site --addr 127.0.0.1:${port}`,
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    // Every test signs in from 127.0.0.1; the default burst (5) is for people, not a test suite.
    env: { CLOISTER_LOGIN_BURST: '100' },
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});

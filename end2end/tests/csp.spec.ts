import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { makeSegmentedClip, uploadUntilReady, videoState } from '../support/playback';
import { signInAndUnlock } from '../support/session';

// The Content-Security-Policy must let the app do everything it does (hydrate, run the WASM,
// decrypt to blob: thumbnails and video, open the WebSocket) without a single violation.
const admin = { name: 'e2e-csp', password: 'csp admin password' };
const title = `CSP clip ${Date.now()}`;

/** Every CSP violation the page reports, as an event or a console message. */
function recordViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Content-Security-Policy/i.test(text)) violations.push(`console: ${text}`);
  });
  page.on('pageerror', (error) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(error.message)) violations.push(`error: ${error.message}`);
  });
  page.exposeFunction('__cspViolation', (what: string) => violations.push(`event: ${what}`));
  page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __cspViolation: (what: string) => void }).__cspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return violations;
}

test.beforeAll(() => {
  ensureUser(admin.name, admin.password, true);
  setGate('idle');
});
test.afterAll(() => clearGate());

test('pages carry a Content-Security-Policy with a nonce on every inline script', async ({ page }) => {
  const response = await page.goto('/');
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("default-src 'none'");
  expect(policy).toContain("'wasm-unsafe-eval'");
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  expect(nonce).toBeTruthy();
  const html = (await response?.text()) ?? '';
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
});

test('the app works under its Content-Security-Policy with no violation', async ({ page }) => {
  test.setTimeout(150_000);
  const violations = recordViolations(page);

  // Hydration (inline module script + WASM), sign-in, the Argon2 unlock.
  await page.goto('/');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await signInAndUnlock(page, admin.name, admin.password);

  // Upload (progress bars are style attributes), the live WebSocket, then a decrypted thumbnail.
  const id = await uploadUntilReady(page, makeSegmentedClip('csp-8s.mp4', 8), title);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile.locator('img[src^="blob:"]')).toBeVisible({ timeout: 30_000 });

  // Playback through MediaSource: a blob: video source.
  await tile.getByTestId('open-video').click();
  await expect(page).toHaveURL(`/videos/${id}`);
  await page.getByTestId('play').click();
  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(0.5);

  // The admin pages (gauges are style attributes).
  await page.getByTestId('close-video').click();
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page).toHaveURL('/admin');
  await page.waitForLoadState('networkidle');

  // A page loaded fresh, and the 404 page, hydrate too.
  await page.goto('/upload');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();

  expect(violations).toEqual([]);
});

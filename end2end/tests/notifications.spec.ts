import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { makeVideo } from '../support/media';
import { tinyClips, uploadWithCli } from '../support/library';
import { signInAndUnlock } from '../support/session';
import { keepBothIfAsked } from '../support/uploads';

// One place for each piece of news (docs/architecture.md, "Messages members see"), with a real
// server, real videos and the gate forced busy through its readings file (support/gate.ts).

// On a fresh server an admin sets up the library; the member is who the test looks through.
const admin = { name: 'e2e-calm-admin', password: 'calm admin password' };
const member = { name: 'e2e-calm-member', password: 'calm member password' };

/** The gate's figures, as the admin page shows them: never in front of a member. */
const FIGURES = /RAM|swap|load \d|limit|cores|\d+(\.\d+)? ?%/;
const BUSY_SENTENCE =
  /^The server is busy right now; your videos are safe and will be processed automatically(, probably within (a minute|\d+ minutes|\d+ hours)| when the server is less busy)\.$/;

test.beforeAll(() => {
  ensureUser(admin.name, admin.password, true);
  ensureUser(member.name, member.password);
});
test.afterAll(() => clearGate());

/** In a context of its own, the admin sets the library passphrase on a fresh server (otherwise
 * just unlocks), so the member's page under test starts from a set-up library. */
async function libraryReadyElsewhere(browser: Browser) {
  const setup = await (await browser.newContext()).newPage();
  await signInAndUnlock(setup, admin.name, admin.password);
  await setup.context().close();
}

/** Every toast lies wholly below the header: none covers it. */
async function expectClearOfHeader(page: Page, toasts: Locator) {
  const header = await page.locator('header').first().boundingBox();
  expect(header).not.toBeNull();
  for (const toast of await toasts.all()) {
    const box = await toast.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y, 'toast top against header bottom').toBeGreaterThanOrEqual(header!.y + header!.height);
    expect(box!.x + box!.width).toBeLessThanOrEqual(page.viewportSize()!.width);
  }
}

test.describe('on a phone (390×844)', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('a busy server is said once in plain words, tiles say "Waiting", and videos that become ready are told in one toast that closes itself', async ({ page, browser }) => {
    test.setTimeout(150_000);
    await libraryReadyElsewhere(browser);

    setGate('busy');
    await signInAndUnlock(page, member.name, member.password);
    await expect(page.getByTestId('live-status')).toHaveText(/^Live/);
    const prefix = `calm-${Date.now()}`;
    uploadWithCli(page, member, tinyClips(prefix, 3));

    // The three uploads appear by themselves, each with a one-word status.
    const tiles = page.getByTestId('video-tile').filter({ hasText: prefix });
    await expect(tiles).toHaveCount(3, { timeout: 30_000 });
    for (const tile of await tiles.all()) {
      await expect(tile.getByTestId('tile-status')).toHaveText('Waiting', { timeout: 30_000 });
    }

    // Exactly one banner, in plain words; nothing else repeats it (no toast for a deferral).
    const banner = page.getByTestId('server-busy');
    await expect(banner).toHaveCount(1);
    await expect(banner.locator('.server-busy-text')).toHaveText(BUSY_SENTENCE);
    await expect(page.getByTestId('toast')).toHaveCount(0);
    expect(await page.locator('body').innerText()).not.toMatch(FIGURES);
    // The reason on demand, still without figures.
    await expect(banner.getByTestId('server-busy-reasons')).toBeHidden();
    await banner.getByText('Details', { exact: true }).click();
    await expect(banner.getByTestId('server-busy-reasons')).toHaveText('It is short of memory.');
    expect(await page.locator('body').innerText()).not.toMatch(FIGURES);
    // A member is not sent to the admin page.
    await expect(banner.getByRole('link', { name: 'admin page' })).toHaveCount(0);
    await page.screenshot({ path: 'test-results/calm-busy-390.png', fullPage: true });

    // Room again: all three are processed, and one toast tells of them together.
    setGate('idle');
    for (const tile of await tiles.all()) {
      await expect(tile.getByTestId('tile-status')).toHaveText('Ready', { timeout: 60_000 });
    }
    const ready = page.locator('[data-testid="toast"][data-kind="processing-done"]');
    await expect(ready).toHaveText(/^3 videos are ready\./, { timeout: 20_000 });
    await expect(ready).toHaveCount(1);
    await expect(ready).toHaveAttribute('data-closes', 'self');
    await expect(ready.getByRole('link', { name: 'Open the library' })).toHaveAttribute('href', '/');
    await expectClearOfHeader(page, page.getByTestId('toast'));
    await page.screenshot({ path: 'test-results/calm-ready-toast-390.png' });
    // The banner goes with the next reading (every 15 s), and the toast by itself.
    await expect(banner).toHaveCount(0, { timeout: 20_000 });
    await expect(ready).toHaveCount(0, { timeout: 15_000 });
  });
});

test.describe('on a desktop (1280×800)', () => {
  test.use({ viewport: { width: 1280, height: 800 } });

  test('a toast that holds an action stays until dismissed, clear of the header; the upload card says it is stored and waiting', async ({ page, browser }) => {
    test.setTimeout(150_000);
    await libraryReadyElsewhere(browser);

    setGate('busy');
    await signInAndUnlock(page, member.name, member.password);
    await page.getByRole('link', { name: 'Upload' }).click();
    await page.getByTestId('file-input').setInputFiles(makeVideo('calm-retry.mp4', 1, '1M'));
    await page.getByTestId('upload-item').getByLabel('Title').fill(`Calm retry ${Date.now()}`);
    // Every chunk fails as if the network were down, through all the page's retries.
    await page.route('**/api/uploads/*/chunks/*', (route) => route.abort('internetdisconnected'));
    await keepBothIfAsked(page);
    await page.getByTestId('start-upload').click();
    const failed = page.locator('[data-testid="toast"][data-kind="upload-failed"]');
    await expect(failed).toBeVisible({ timeout: 60_000 });
    await expect(failed).toHaveAttribute('data-closes', 'on-dismiss');
    await expectClearOfHeader(page, page.getByTestId('toast'));
    await page.screenshot({ path: 'test-results/calm-action-toast-1280.png' });
    // Longer than any toast that closes itself stays up (10 s for an error): this one is still there.
    await page.waitForTimeout(12_000);
    await expect(failed).toBeVisible();

    await page.unroute('**/api/uploads/*/chunks/*');
    await failed.getByRole('button', { name: 'Retry' }).click();
    await expect(failed).toHaveCount(0);
    const card = page.getByTestId('processing-queued');
    await expect(card).toHaveAttribute('data-status', 'waiting', { timeout: 60_000 });
    await expect(card.getByTestId('processing-status')).toHaveText('Stored — waiting to be processed.');
    await expect(page.getByTestId('server-busy')).toHaveCount(1);
    await expect(page.getByTestId('server-busy').locator('.server-busy-text')).toHaveText(BUSY_SENTENCE);
    await expect(page.getByTestId('toast')).toHaveCount(0);
    expect(await page.locator('body').innerText()).not.toMatch(FIGURES);
    await page.screenshot({ path: 'test-results/calm-upload-card-1280.png', fullPage: true });
    setGate('idle');
    await expect(card).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  });
});

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test, expect, Browser, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { openVideo, pickerWritesToOpfs, savedFile, videoIdOf } from '../support/downloads';
import { clearGate, setGate } from '../support/gate';
import { uploadWithCli, waitForIdleQueue } from '../support/library';
import { sha256 } from '../support/media';
import { makeSegmentedClip, videoState } from '../support/playback';
import { signInAndUnlock } from '../support/session';
import { DESKTOP, PHONE, hydrated } from '../support/tour';

// Share one video with someone outside the group: the owner makes a link in the video view; a
// stranger — a fresh browser context with no cookies — opens it, watches it and saves the very
// original; a cut or altered link says so; once withdrawn, the link says it was withdrawn.

const owner = { name: 'e2e-sharer', password: 'sharer password' };
const GONE = 'This link has expired or was withdrawn.';
const UNDECRYPTABLE = 'Unable to decrypt this video. Check that the whole link was copied.';
const shots = path.resolve(__dirname, '../test-results/share');

let clip = '';
let clipHash = '';
let videoId = '';

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  ensureUser(owner.name, owner.password, true);
  setGate('idle');
  clip = makeSegmentedClip('share-12s.mp4', 12);
  clipHash = sha256(clip);
  const page = await browser.newPage();
  await signInAndUnlock(page, owner.name, owner.password);
  uploadWithCli(page, owner, [clip]);
  await waitForIdleQueue(page, 120_000);
  videoId = await videoIdOf(page, owner.name, clip);
  await page.close();
});
test.afterAll(() => clearGate());

/** Opens the video view and makes a link; answers the whole link as the panel shows it. */
async function makeLink(page: Page, options: { expiry?: string; allowDownload: boolean }): Promise<string> {
  await signInAndUnlock(page, owner.name, owner.password);
  await openVideo(page, videoId);
  const panel = page.getByTestId('share-panel');
  await panel.getByText('Share outside the group').click();
  if (options.expiry) await panel.getByLabel('The link works for').selectOption(options.expiry);
  const allow = panel.getByTestId('share-allow-download');
  if (options.allowDownload) await allow.check();
  await panel.getByTestId('share-create').click();
  const link = await panel.getByTestId('share-link').inputValue();
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/[0-9a-f]{32}#[A-Za-z0-9_-]{43}$/);
  return link;
}

/** A stranger's browser: a new context, no cookies, no storage. */
async function stranger(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  expect(await context.cookies()).toEqual([]);
  return context.newPage();
}

/** Visible buttons, links, summaries, checkboxes and selects smaller than 44×44 CSS pixels. */
async function smallTapTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const small: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>(
      'button, a[href], summary, input[type="checkbox"], select, video[controls]',
    )) {
      if (!el.checkVisibility({ checkVisibilityCSS: true } as any)) continue;
      if (el.tagName === 'A' && getComputedStyle(el).display === 'inline' && el.closest('p, li, dd')) continue;
      let box = (el.tagName === 'INPUT' && el.closest('label') ? el.closest('label')! : el).getBoundingClientRect();
      // A link stretched over its card by an absolutely placed ::after counts as the card (a tile).
      const after = getComputedStyle(el, '::after');
      if (after.content !== 'none' && after.position === 'absolute' && el.offsetParent) {
        box = el.offsetParent.getBoundingClientRect();
      }
      if (box.width < 43.5 || box.height < 43.5) {
        small.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`);
      }
    }
    return small;
  });
}

/** At a phone's and a laptop's width: screenshot, no sideways scroll, thumb-sized targets, axe clean. */
async function lookAt(page: Page, name: string) {
  mkdirSync(shots, { recursive: true });
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const fullPage = (await page.locator('dialog[open]').count()) === 0;
    await page.screenshot({ path: path.join(shots, `${name}-${size.width}.png`), fullPage });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect.soft(overflow, `${name} ${size.width}: scrolls sideways`).toBeLessThanOrEqual(0);
    if (size.width === PHONE.width) expect.soft(await smallTapTargets(page), `${name}: small targets`).toEqual([]);
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const result = await new AxeBuilder({ page }).analyze();
      const serious = result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      expect.soft(serious, `${name} ${size.width} ${colorScheme}: axe`).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }
}

test('a share link plays for a stranger with no cookies, saves the very original, and stops once withdrawn', async ({ page, browser }) => {
  test.setTimeout(180_000);
  const link = await makeLink(page, { allowDownload: true });
  const shareId = new URL(link).pathname.split('/')[2];
  const panel = page.getByTestId('share-panel');
  await expect(panel.locator(`[data-testid="share-item"][data-share-id="${shareId}"]`)).toContainText('Works until');
  await lookAt(page, 'video-view-share-panel');

  // The secret never went to the server: no request of the owner's page carried it.
  const secret = new URL(link).hash.slice(1);
  const sent: string[] = [];
  const guest = await stranger(browser);
  guest.on('request', (request) => {
    sent.push(request.url(), JSON.stringify(request.headers()), request.postData() ?? '');
  });
  await pickerWritesToOpfs(guest);
  await guest.goto(link);
  await hydrated(guest);
  // No sign-in: the page stays where it is and shows the title.
  await expect(guest.getByTestId('share-title')).toHaveText(path.basename(clip, '.mp4'), { timeout: 30_000 });
  expect(new URL(guest.url()).pathname).toBe(`/s/${shareId}`);
  await expect(guest.getByRole('link', { name: 'Sign in' })).toHaveCount(0);

  await guest.getByTestId('play').click();
  await expect.poll(async () => (await videoState(guest)).currentTime, { timeout: 30_000 }).toBeGreaterThan(1);
  const state = await videoState(guest);
  expect(state.width).toBeGreaterThan(0);
  expect(state.frames).toBeGreaterThan(0);
  await lookAt(guest, 'share-page-playing');

  await guest.getByTestId('share-save').click();
  await expect(guest.getByTestId('share-save-status')).toHaveText('Saved.', { timeout: 60_000 });
  const saved = await savedFile(guest);
  expect(saved.sha256).toBe(clipHash);
  expect(saved.suggestedName).toBe(path.basename(clip));
  expect(sent.some((s) => s.includes(secret))).toBe(false);

  // The opening was counted once, however many segments were fetched.
  const views = await page.request.get(`/api/videos/${videoId}/shares`);
  const share = (await views.json()).shares.find((s: any) => s.share_id === shareId);
  expect(share.view_count).toBe(1);

  // The admin page lists every link, with the video's title (the owner here is an admin).
  const admin = await page.context().newPage();
  await admin.goto('/admin');
  await hydrated(admin);
  const adminItem = admin.getByTestId('admin-share-item').filter({ hasText: 'Made by e2e-sharer' }).first();
  await expect(adminItem).toContainText('view', { timeout: 30_000 });
  await admin.getByTestId('admin-shares').screenshot({ path: path.join(shots, 'admin-shares-1280.png') });
  await admin.close();

  // Withdraw it from the video view; the stranger's link now says so.
  const item = page.locator(`[data-testid="share-item"][data-share-id="${shareId}"]`);
  await item.getByTestId('share-revoke').click();
  await expect(item).toHaveAttribute('data-live', 'false');
  await expect(item).toContainText('Withdrawn on');

  await guest.reload();
  await expect(guest.getByTestId('share-gone')).toHaveText(GONE, { timeout: 30_000 });
  await lookAt(guest, 'share-page-withdrawn');
  const response = await guest.request.get(`/api/s/${shareId}`);
  expect(response.status()).toBe(410);
  await guest.context().close();
});

test('an altered link says the video cannot be decrypted; a watch-only link offers no Save', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const link = await makeLink(page, { expiry: '1d', allowDownload: false });
  const guest = await stranger(browser);

  // One character of the secret changed.
  const url = new URL(link);
  const secret = url.hash.slice(1);
  const altered = secret.slice(0, 10) + (secret[10] === 'A' ? 'B' : 'A') + secret.slice(11);
  await guest.goto(`${url.origin}${url.pathname}#${altered}`);
  await expect(guest.getByTestId('share-error')).toHaveText(UNDECRYPTABLE, { timeout: 30_000 });
  await lookAt(guest, 'share-page-undecryptable');
  // Cut off halfway.
  await guest.goto(`${url.origin}${url.pathname}#${secret.slice(0, 20)}`);
  await expect(guest.getByTestId('share-error')).toHaveText(UNDECRYPTABLE, { timeout: 30_000 });

  // The whole link plays, with no Save.
  await guest.goto(link);
  await expect(guest.getByTestId('share-title')).toBeVisible({ timeout: 30_000 });
  await expect(guest.getByTestId('play')).toBeVisible();
  await expect(guest.getByTestId('share-save')).toHaveCount(0);
  const original = await guest.request.get(`/api/s/${url.pathname.split('/')[2]}/original`);
  expect(original.status()).toBe(403);

  // A link that never existed reads like a withdrawn one.
  await guest.goto(`/s/${'0'.repeat(32)}#${secret}`);
  await expect(guest.getByTestId('share-gone')).toHaveText(GONE, { timeout: 30_000 });
  await guest.context().close();
});

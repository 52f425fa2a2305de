import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { tinyClips, uploadWithCli, waitForIdleQueue } from '../support/library';
import { signInAndUnlock } from '../support/session';

// An admin, so the spec can set up the library on a fresh server by itself.
const member = { name: 'e2e-gallery', password: 'gallery password' };
const VIDEOS = 60;
/** Tiles the gallery draws at first and adds per slice (`SLICE`, app/src/gallery/mod.rs). */
const PAGE = 50;
/** The thumbnails' rootMargin (app/src/gallery/thumb.rs), plus a little for rounding. */
const NEAR_PX = 220;

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  ensureUser(member.name, member.password, true);
  setGate('idle');
  const page = await browser.newPage();
  await signInAndUnlock(page, member.name, member.password);
  uploadWithCli(page, member, tinyClips('Gallery clip', VIDEOS));
  await waitForIdleQueue(page, 240_000);
  await page.close();
});
test.afterAll(() => clearGate());

/** The gallery's own requests: the find index, listing pages, and thumbnails (their video ids). */
function recordGalleryRequests(page: Page) {
  const indexes: string[] = [];
  const listings: URLSearchParams[] = [];
  const thumbs: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/videos/index') indexes.push(url.search);
    if (url.pathname === '/api/videos') listings.push(url.searchParams);
    const thumb = /^\/api\/videos\/([0-9a-f]{32})\/thumb$/.exec(url.pathname);
    if (thumb) {
      expect(url.searchParams.get('rendition')).toMatch(/^[0-9a-f]{16}$/);
      thumbs.push(thumb[1]);
    }
  });
  return { indexes, listings, thumbs };
}

/** Waits until every thumbnail asked for is on screen (or given up on), so the counts are final. */
async function thumbnailsSettled(page: Page, requested: string[]) {
  await expect
    .poll(async () => {
      const done = await page
        .locator('[data-testid="thumb"][data-state="shown"], [data-testid="thumb"][data-state="unavailable"]')
        .count();
      const loading = await page.locator('[data-testid="thumb"][data-state="loading"]').count();
      return requested.length > 0 && loading === 0 && done === requested.length;
    }, { timeout: 20_000 })
    .toBe(true);
}

/** Where each requested thumbnail's box is, relative to the viewport. */
async function thumbBoxes(page: Page, ids: string[]) {
  return page.evaluate((ids) => ids.map((id) => {
    const box = document
      .querySelector(`[data-testid="video-tile"][data-video-id="${id}"] [data-testid="thumb"]`)!
      .getBoundingClientRect();
    return { id, top: box.top, bottom: box.bottom, viewport: window.innerHeight };
  }), ids);
}

test('the gallery draws the first slice of the index only and fetches thumbnails only for tiles near the screen; scrolling draws the next slice and its thumbnails', async ({ page }) => {
  const seen = recordGalleryRequests(page);
  await signInAndUnlock(page, member.name, member.password);
  const tiles = page.getByTestId('video-tile');
  await expect(tiles).toHaveCount(PAGE);
  await thumbnailsSettled(page, seen.thumbs);

  // The whole index, once (the live resync may ask for it again), and no listing pages.
  expect(seen.indexes.length).toBeGreaterThanOrEqual(1);
  expect(seen.indexes.every((query) => query === '')).toBe(true);
  expect(seen.listings).toHaveLength(0);
  // Thumbnails for the tiles in view, not the page: each asked for once, each near the screen.
  expect(seen.thumbs.length).toBeGreaterThan(0);
  expect(seen.thumbs.length).toBeLessThan(PAGE / 2);
  expect(new Set(seen.thumbs).size).toBe(seen.thumbs.length);
  for (const box of await thumbBoxes(page, seen.thumbs)) {
    expect(box.top, `thumbnail of ${box.id}`).toBeLessThan(box.viewport + NEAR_PX);
    expect(box.bottom, `thumbnail of ${box.id}`).toBeGreaterThan(-NEAR_PX);
  }
  await expect(page.locator('[data-testid="thumb"][data-state="shown"] img').first()).toHaveAttribute('src', /^blob:/);
  // Tiles further down wait, without a request.
  await expect(tiles.last().getByTestId('thumb')).toHaveAttribute('data-state', 'waiting');
  const firstScreen = seen.thumbs.length;

  // Scrolling to the end draws the next slice from the index in memory (no request for it), and
  // asks for the thumbnails that come into view.
  const indexed = seen.indexes.length;
  await page.getByTestId('gallery-end').scrollIntoViewIfNeeded();
  await expect.poll(() => tiles.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(VIDEOS);
  expect(seen.indexes.length).toBe(indexed);
  expect(seen.listings).toHaveLength(0);
  await page.getByTestId('gallery-end').scrollIntoViewIfNeeded();
  await expect.poll(() => seen.thumbs.length, { timeout: 15_000 }).toBeGreaterThan(firstScreen);
  await thumbnailsSettled(page, seen.thumbs);
  await expect(tiles.last().getByTestId('thumb')).toHaveAttribute('data-state', 'shown');
  expect(new Set(seen.thumbs).size).toBe(seen.thumbs.length);
  // At the last slice the button goes and nothing more is asked for.
  await expect(page.getByTestId('load-more')).toHaveCount(0);
  await page.mouse.wheel(0, -400);
  await page.getByTestId('gallery-end').scrollIntoViewIfNeeded();
  await expect(tiles.last().getByTestId('thumb')).toHaveAttribute('data-state', 'shown');
  expect(seen.indexes.length).toBe(indexed);
  await expect(page.locator('[data-testid="thumb"][data-state="unavailable"]')).toHaveCount(0);
});

test('a revisit of the gallery shows the thumbnails from the browser cache, without fetching them again', async ({ page }) => {
  await signInAndUnlock(page, member.name, member.password);
  const shown = page.locator('[data-testid="thumb"][data-state="shown"]');
  await expect(shown.first()).toBeVisible({ timeout: 20_000 });
  const firstVisit = await shown.count();

  // What went to the server, as Chromium's network layer tells it.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const thumbAnswers: { fromCache: boolean }[] = [];
  cdp.on('Network.responseReceived', (event) => {
    if (!/\/thumb\?/.test(event.response.url)) return;
    thumbAnswers.push({ fromCache: !!(event.response.fromDiskCache || event.response.fromMemoryCache) });
  });
  // Away and back in the same tab (a reload would forget the library key).
  await page.getByRole('link', { name: 'Upload' }).click();
  await expect(page.getByTestId('video-tile')).toHaveCount(0);
  await page.getByRole('link', { name: 'Cloister' }).click();
  await expect.poll(() => shown.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(firstVisit);
  await expect.poll(() => thumbAnswers.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(firstVisit);
  expect(thumbAnswers.every((answer) => answer.fromCache)).toBe(true);
});

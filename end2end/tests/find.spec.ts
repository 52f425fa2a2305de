import { test, expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { baseURL, dataDir } from '../playwright.config';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { uploadWithCli, waitForIdleQueue } from '../support/library';
import { ensureKeys, PASSPHRASE, signInAndUnlock } from '../support/session';

// Find (docs/decisions.md, "Finding"): search as you type over decrypted titles and descriptions,
// sort, filter, and what tiles show. The viewer is in Tokyo with a German browser, so dates
// must follow the viewer's own time zone and locale, not the server's.
test.use({ timezoneId: 'Asia/Tokyo', locale: 'de-DE' });

// An admin, so the spec can set up the library on a fresh server by itself.
const filmer = { name: 'e2e-find', password: 'find password one' };
const filler = { name: 'e2e-find-many', password: 'find password two' };
const fixtures = path.resolve(__dirname, '../.cache/fixtures/find');
const root = path.resolve(__dirname, '../..');

/** Real clips whose containers say when they were recorded; uploaded in this order. */
const CLIPS = [
  { title: 'Find harbour', size: '320x180', seconds: 2, recorded: '2019-03-02T09:00:00Z' },
  { title: 'Find portrait', size: '180x320', seconds: 3, recorded: '2021-06-15T20:30:00Z' },
  { title: 'Find meadow', size: '320x180', seconds: 2, recorded: '2015-11-20T12:00:00Z' },
];

function recordedClip(clip: (typeof CLIPS)[number]): string {
  mkdirSync(fixtures, { recursive: true });
  const file = path.join(fixtures, `${clip.title}.mp4`);
  if (!existsSync(file)) {
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=${clip.size}:rate=15:duration=${clip.seconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-an',
      '-metadata', `creation_time=${clip.recorded}`, file,
    ]);
  }
  return file;
}

/**
 * Adds `count` sealed videos for `owner` straight into the test server's database with the
 * `find_seed` example (real uploads of 200 videos would take minutes and queue 200 jobs): real
 * library key, DEKs, sealed titles, descriptions and metadata, no media.
 */
function seed(owner: { name: string; password: string }, args: string[]): void {
  ensureKeys(baseURL, owner);
  // The debug build, which `cargo test` (run before Playwright by scripts/test) already made; built
  // here only when missing (`cargo build -p cloister --example find_seed`).
  const seeder = path.join(root, 'target/debug/examples/find_seed');
  if (!existsSync(seeder)) {
    execFileSync('cargo', ['build', '-p', 'cloister', '--example', 'find_seed'], { cwd: root, stdio: 'pipe' });
  }
  execFileSync(
    seeder,
    ['--data-dir', dataDir, '--owner', owner.name, ...args],
    { cwd: path.resolve(__dirname, '..'), env: { ...process.env, CLOISTER_PASSPHRASE: PASSPHRASE }, stdio: 'pipe' },
  );
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(600_000);
  ensureUser(filmer.name, filmer.password, true);
  ensureUser(filler.name, filler.password);
  setGate('idle');
  const page = await browser.newPage();
  await signInAndUnlock(page, filmer.name, filmer.password);
  // The clips once per server (Playwright runs this again in a new worker after a failed test).
  const marker = path.resolve(__dirname, '..', dataDir, 'find-spec-clips');
  if (!existsSync(marker)) {
    uploadWithCli(page, filmer, CLIPS.map(recordedClip));
    writeFileSync(marker, 'uploaded by find.spec.ts\n');
  }
  // 199 fillers and one video whose description says where the trip went: 200 in all.
  seed(filler, ['--remove']);
  seed(filler, ['--count', '199', '--prefix', 'Filler', '--unique', 'Our trip to Zanzíbar with the whole family']);
  await waitForIdleQueue(page, 240_000);
  await page.close();
});
// The fillers have no media (no thumbnail, nothing to play): they go, so other specs' galleries
// are as they were.
test.afterAll(() => {
  seed(filler, ['--remove']);
  clearGate();
});

const tiles = (page: Page) => page.getByTestId('video-tile');
const titles = (page: Page) => page.locator('[data-testid="video-tile"] .tile-title').allInnerTexts();

test('search finds a video by a word of its description among 200, as you type, ignoring case and accents', async ({ page }) => {
  await signInAndUnlock(page, filler.name, filler.password);
  await page.getByTestId('find-member').selectOption(filler.name);
  await expect(page.getByTestId('find-count')).toHaveText(/^200 of \d+ videos$/);
  // Tiles are drawn a slice at a time, not all 200 at once.
  await expect(tiles(page)).toHaveCount(50);

  const search = page.getByLabel('Search titles and descriptions');
  await search.pressSequentially('zanz');
  await expect(page.getByTestId('find-count')).toHaveText(/^1 of \d+ videos$/);
  await expect(tiles(page)).toHaveCount(1);
  await expect(tiles(page).first()).toContainText('Filler special');
  // The word's beginning, any case, with or without its accent.
  for (const words of ['ZANZIBAR', 'zanzíb', 'trip fam']) {
    await search.fill(words);
    await expect(tiles(page)).toHaveCount(1);
    await expect(tiles(page).first()).toContainText('Filler special');
  }
  // Not inside a word; and the words never went to the server.
  await search.fill('anzibar');
  await expect(page.getByTestId('find-nothing')).toBeVisible();
  await expect(tiles(page)).toHaveCount(0);
  await search.fill('');
  await expect(tiles(page)).toHaveCount(50);
});

test('the search words never leave the browser', async ({ page }) => {
  const asked: string[] = [];
  page.on('request', (request) => asked.push(request.url() + (request.postData() ?? '')));
  await signInAndUnlock(page, filler.name, filler.password);
  await page.getByLabel('Search titles and descriptions').fill('zanzibar');
  await expect(tiles(page)).toHaveCount(1);
  expect(asked.some((line) => /zanz/i.test(line))).toBe(false);
});

test('sorting by recording date follows the videos, not their upload order, and shows local dates', async ({ page }) => {
  await signInAndUnlock(page, filmer.name, filmer.password);
  await page.getByTestId('find-member').selectOption(filmer.name);
  await page.getByLabel('Search titles and descriptions').fill('find');
  await expect(tiles(page)).toHaveCount(3);
  // The three were uploaded within a second or two, so their upload order says little; the
  // recording dates (2019, 2021, 2015) give an order that is neither the upload nor the title one.
  await page.getByLabel('Order').selectOption({ label: 'Recorded, newest' });
  await expect.poll(() => titles(page)).toEqual(['Find portrait', 'Find harbour', 'Find meadow']);
  await page.getByLabel('Order').selectOption({ label: 'Recorded, oldest' });
  await expect.poll(() => titles(page)).toEqual(['Find meadow', 'Find harbour', 'Find portrait']);

  // 20:30 UTC on 15 June is 05:30 on 16 June in Tokyo, written the German way.
  const portrait = tiles(page).filter({ hasText: 'Find portrait' });
  await expect(portrait.getByTestId('tile-recorded')).toHaveText('Recorded 16.06.2021, 05:30');
  await page.getByLabel('Order').selectOption({ label: 'Title, A to Z' });
  await expect.poll(() => titles(page)).toEqual(['Find harbour', 'Find meadow', 'Find portrait']);
  await page.getByLabel('Order').selectOption({ label: 'Longest' });
  await expect.poll(async () => (await titles(page))[0]).toBe('Find portrait');
});

test('filters by member and by status', async ({ page }) => {
  await signInAndUnlock(page, filmer.name, filmer.password);
  const count = page.getByTestId('find-count');
  await page.getByTestId('find-member').selectOption(filmer.name);
  await expect(count).toHaveText(/^3 of \d+ videos$/);
  for (const owner of await page.locator('[data-testid="video-tile"] .tile-meta').first().allInnerTexts()) {
    expect(owner).toContain(filmer.name);
  }
  await page.getByTestId('find-status').selectOption('failed');
  await expect(page.getByTestId('find-nothing')).toBeVisible();

  // The seeded member has some failed videos: only those show, each marked failed.
  await page.getByTestId('find-member').selectOption(filler.name);
  await expect(count).toHaveText(/^\d+ of \d+ videos$/);
  const failed = Number((await count.innerText()).split(' ')[0]);
  expect(failed).toBeGreaterThan(0);
  expect(failed).toBeLessThan(200);
  await expect(tiles(page)).toHaveCount(Math.min(failed, 50));
  await expect(page.locator('[data-testid="video-tile"]:not([data-status="failed"])')).toHaveCount(0);

  await page.getByTestId('find-status').selectOption('ready');
  await expect(page.locator('[data-testid="video-tile"][data-status="failed"]')).toHaveCount(0);
  await page.getByTestId('find-member').selectOption('');
  await page.getByTestId('find-status').selectOption('any');
  await expect(count).toHaveText(/^\d+ videos$/);
});

test('tiles show durations, and a portrait video gets a portrait thumbnail, letterboxed', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signInAndUnlock(page, filmer.name, filmer.password);
  await page.getByLabel('Search titles and descriptions').fill('find portrait');
  const portrait = tiles(page).first();
  await expect(tiles(page)).toHaveCount(1);
  await expect(portrait.getByTestId('tile-duration')).toHaveText('0:03');
  const thumb = portrait.getByTestId('thumb');
  await expect(thumb).toHaveAttribute('data-shape', 'portrait');
  await expect(thumb).toHaveAttribute('data-state', 'shown', { timeout: 20_000 });
  const box = await thumb.boundingBox();
  expect(box!.height).toBeGreaterThan(box!.width);
  const img = thumb.locator('img');
  expect(await img.evaluate((el) => getComputedStyle(el).objectFit)).toBe('contain');
  // The decoded picture is portrait too: drawn whole inside the box, not cropped to fill it.
  const natural = await img.evaluate((el: HTMLImageElement) => ({ w: el.naturalWidth, h: el.naturalHeight }));
  expect(natural.h).toBeGreaterThan(natural.w);
  await page.screenshot({ path: 'test-results/find-phone.png', fullPage: false });

  await page.getByLabel('Search titles and descriptions').fill('find harbour');
  await expect(tiles(page)).toHaveCount(1);
  const landscape = tiles(page).first().getByTestId('thumb');
  await expect(landscape).toHaveAttribute('data-shape', 'landscape');
  await expect(tiles(page).first().getByTestId('tile-duration')).toHaveText('0:02');
  const wide = await landscape.boundingBox();
  expect(wide!.width).toBeGreaterThan(wide!.height);
  // No sideways scrolling on a phone with the find controls shown.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  for (const control of ['find-text', 'find-member', 'find-status', 'find-sort']) {
    const b = await page.getByTestId(control).boundingBox();
    expect(b!.height, control).toBeGreaterThanOrEqual(44);
  }
});

test('the gallery at desktop size', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signInAndUnlock(page, filmer.name, filmer.password);
  await page.getByTestId('find-member').selectOption(filmer.name);
  await expect(tiles(page)).toHaveCount(3);
  await expect(page.locator('[data-testid="thumb"][data-state="shown"]')).toHaveCount(3, { timeout: 20_000 });
  await page.screenshot({ path: 'test-results/find-desktop.png' });
});

import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { makeSegmentedClip, recordVideoRequests, segmentsIn, uploadUntilReady, videoState } from '../support/playback';
import { PASSPHRASE, signInAndUnlock } from '../support/session';

// An admin, so the spec can set up the library on a fresh server by itself.
const member = { name: 'e2e-viewer', password: 'viewer password' };
/** 80 s in 20 segments of 4 s: long enough that the 30 s look-ahead leaves the middle unfetched. */
const CLIP_SECONDS = 80;
const SEGMENT_SECONDS = 4;
const title = `Playback clip ${Date.now()}`;
let videoId = '';

test.beforeAll(async ({ browser }) => {
  test.setTimeout(90_000);
  ensureUser(member.name, member.password, true);
  setGate('idle');
  const page = await browser.newPage();
  await signInAndUnlock(page, member.name, member.password);
  videoId = await uploadUntilReady(page, makeSegmentedClip('playback-80s.mp4', CLIP_SECONDS), title);
  await page.close();
});
test.afterAll(() => clearGate());

async function openFromGallery(page: Page) {
  await page.getByTestId('video-tile').filter({ hasText: title }).getByTestId('open-video').click();
  await expect(page.getByTestId('video-view')).toBeVisible();
  await expect(page).toHaveURL(`/videos/${videoId}`);
}

test('opening a video decrypts its manifest only; Play streams decoded video with a bounded look-ahead; a seek to the middle plays from there', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const seen = recordVideoRequests(page, videoId);
  await signInAndUnlock(page, member.name, member.password);
  await openFromGallery(page);

  const view = page.getByTestId('video-view');
  await expect(view.getByRole('heading', { name: title })).toBeVisible();
  await expect(view.getByTestId('video-owner')).toHaveText(member.name);
  await expect(view.getByTestId('video-length')).toHaveText('1:20');
  await expect(view.getByTestId('video-picture')).toHaveText('640 × 360');
  // The Play button shows once the manifest is open: by then it was fetched, and nothing else.
  await expect(view.getByTestId('play')).toBeVisible();
  expect(seen).toEqual(['manifest']);

  await view.getByTestId('play').click();
  await expect(view.getByTestId('buffered')).toHaveText(/^(\d+ s ready ahead|Ready to the end)$/);
  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(1.5);
  const playing = await videoState(page);
  expect(playing.width).toBe(640);
  expect(playing.frames).toBeGreaterThan(0);
  expect(seen.slice(0, 3)).toEqual(['manifest', 'init', 0]);

  // Paused near the start, the look-ahead reaches 30 s past the playhead and no further.
  await page.getByTestId('video').evaluate((v: HTMLVideoElement) => v.pause());
  const pausedAt = (await videoState(page)).currentTime;
  const reach = pausedAt + 30;
  const lastInReach = Math.floor(reach / SEGMENT_SECONDS);
  // The player compares whole milliseconds against the segments' start times, which come from
  // the media and may be a frame off 4 s: a segment starting right at the edge may or may not
  // be in reach.
  const firstInReach = reach - lastInReach * SEGMENT_SECONDS < 0.1 ? lastInReach - 1 : lastInReach;
  await expect
    .poll(() => Math.max(...segmentsIn(seen)), {
      timeout: 15_000,
      message: `look-ahead from ${pausedAt.toFixed(3)} s; fetched: ${JSON.stringify(seen)}`,
    })
    .toBeGreaterThanOrEqual(firstInReach);
  await page.waitForTimeout(1_000);
  const fetchedTo = Math.max(...segmentsIn(seen));
  expect(fetchedTo).toBeLessThanOrEqual(lastInReach);
  const middle = CLIP_SECONDS / 2;
  const middleSegment = middle / SEGMENT_SECONDS;
  expect(lastInReach).toBeLessThan(middleSegment);
  expect(segmentsIn(seen)).toEqual([...Array(fetchedTo + 1).keys()]);

  // A seek to the middle fetches the segment there and plays on from it.
  await page.getByTestId('video').evaluate((v: HTMLVideoElement, t) => {
    v.currentTime = t;
    void v.play();
  }, middle + 1);
  await expect.poll(() => segmentsIn(seen).includes(middleSegment), { timeout: 15_000 }).toBe(true);
  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(middle + 2);
  const after = await videoState(page);
  expect(after.currentTime).toBeLessThan(CLIP_SECONDS);
  expect(after.paused).toBe(false);
  await expect(view.getByTestId('buffered')).toBeVisible();
  // Each segment was fetched once: nothing buffered was fetched again.
  expect(new Set(segmentsIn(seen)).size).toBe(segmentsIn(seen).length);
  await expect(view.getByTestId('player-error')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});

test('a segment that does not decrypt stops playback with the message, and nothing more is fetched', async ({ page }) => {
  const seen = recordVideoRequests(page, videoId);
  // Segment 1 arrives with one byte flipped, as from a server with the wrong key or a damaged disk.
  await page.route(/\/renditions\/[0-9a-f]{16}\/segments\/1$/, async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    body[body.length - 100] ^= 0x01;
    await route.fulfill({ response, body });
  });
  await signInAndUnlock(page, member.name, member.password);
  await openFromGallery(page);
  await page.getByTestId('play').click();

  const error = page.getByTestId('player-error');
  await expect(error).toHaveText('Unable to decrypt segment. Check passphrase.', { timeout: 30_000 });
  await expect(page.getByTestId('player')).toHaveAttribute('data-phase', 'stopped');
  expect(segmentsIn(seen)).toEqual([0, 1]);
  // A seek would make a running player fetch again: this one has stopped.
  await page.getByTestId('video').evaluate((v: HTMLVideoElement) => { v.currentTime = 20; });
  await page.waitForTimeout(1_000);
  expect(segmentsIn(seen)).toEqual([0, 1]);
});

test('a manifest that does not decrypt says so, and no segment is fetched', async ({ page }) => {
  const seen = recordVideoRequests(page, videoId);
  await page.route(new RegExp(`/api/videos/${videoId}/manifest`), async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    body[body.length - 1] ^= 0x80;
    await route.fulfill({ response, body });
  });
  await signInAndUnlock(page, member.name, member.password);
  await openFromGallery(page);
  await expect(page.getByTestId('video-error')).toHaveText('Unable to decrypt manifest. Check passphrase.');
  await expect(page.getByTestId('play')).toHaveCount(0);
  expect(seen).toEqual(['manifest']);
});

test('the view is a modal at its own address: Escape, Close and Back close it and give focus back; a deep link after a reload unlocks in place', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await signInAndUnlock(page, member.name, member.password);
  const link = page.getByTestId('video-tile').filter({ hasText: title }).getByTestId('open-video');

  await openFromGallery(page);
  const view = page.getByTestId('video-view');
  expect(await view.evaluate((d) => d.matches(':modal'))).toBe(true);
  await expect(view.getByTestId('play')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(view).toHaveCount(0);
  await expect(page).toHaveURL('/');
  await expect(link).toBeFocused();

  await openFromGallery(page);
  await page.goBack();
  await expect(view).toHaveCount(0);
  await expect(page).toHaveURL('/');

  await openFromGallery(page);
  await view.getByTestId('close-video').click();
  await expect(view).toHaveCount(0);
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('library-unlocked')).toBeVisible();

  // A shared link, opened in a fresh page load: the tab has no key yet, so it asks for the
  // passphrase right there, then opens the video.
  await page.goto(`/videos/${videoId}`);
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.getByLabel('Your passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(view.getByRole('heading', { name: title })).toBeVisible({ timeout: 60_000 });
  await expect(view.getByTestId('play')).toBeVisible();
  // Space plays; the keyboard is enough.
  await page.keyboard.press('Space');
  await expect(view.getByTestId('buffered')).toBeVisible({ timeout: 30_000 });
  await page.keyboard.press('Escape');
  await expect(view).toHaveCount(0);
  await expect(page).toHaveURL('/');
  await expect(page.getByTestId('library-unlocked')).toBeVisible();
  expect(pageErrors).toEqual([]);
});

test('a lost connection is retried with backoff, then playback pauses with plain words, and Try again carries on', async ({ page }) => {
  const seen = recordVideoRequests(page, videoId);
  let failing = true;
  await page.route(/\/renditions\/[0-9a-f]{16}\/segments\/1$/, (route) =>
    failing ? route.abort('connectionreset') : route.continue());
  await signInAndUnlock(page, member.name, member.password);
  await openFromGallery(page);
  await page.getByTestId('play').click();

  await expect(page.getByText('Connection trouble: trying again…')).toBeVisible({ timeout: 15_000 });
  const error = page.getByTestId('player-error');
  await expect(error).toContainText('the server could not be reached, even after several tries', { timeout: 30_000 });
  // The first attempt and four retries, then it waits for the member.
  expect(segmentsIn(seen).filter((n) => n === 1)).toHaveLength(5);
  expect(segmentsIn(seen)).not.toContain(2);

  failing = false;
  await page.getByRole('button', { name: 'Try again' }).click();
  await expect(error).toHaveCount(0);
  await expect(page.getByTestId('buffered')).toBeVisible();
  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(SEGMENT_SECONDS + 1);
  expect(segmentsIn(seen)).toContain(2);
});

import { statSync } from 'node:fs';
import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { pickerWritesToOpfs, savedFile } from '../support/downloads';
import { clearGate, setGate } from '../support/gate';
import { makeSegmentedClip, recordVideoRequests, segmentsIn, uploadUntilReady, videoState } from '../support/playback';
import { signInAndUnlock } from '../support/session';

// Playback in the shapes of browsers other than desktop Chromium, emulated in Chromium: the iPhone
// from iOS 17.1 (`ManagedMediaSource`, no `MediaSource`) and older iPhones (neither). The real
// WebKit runs are in the cross-engine tests.

const member = { name: 'e2e-engines', password: 'engines password' };
const stamp = Date.now();
/** 80 s in 20 segments of 4 s, about 4.6 MB. */
const longClip = { file: '', title: `Engines long clip ${stamp}`, id: '' };
/** 12 s in 3 segments, about 0.7 MB: small enough to play whole. */
const shortClip = { file: '', title: `Engines short clip ${stamp}`, id: '' };

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  ensureUser(member.name, member.password, true);
  setGate('idle');
  longClip.file = makeSegmentedClip('playback-80s.mp4', 80);
  shortClip.file = makeSegmentedClip('playback-12s.mp4', 12);
  const page = await browser.newPage();
  await signInAndUnlock(page, member.name, member.password);
  longClip.id = await uploadUntilReady(page, longClip.file, longClip.title);
  shortClip.id = await uploadUntilReady(page, shortClip.file, shortClip.title);
  await page.close();
});
test.afterAll(() => clearGate());

async function open(page: Page, title: string) {
  await page.getByTestId('video-tile').filter({ hasText: title }).getByTestId('open-video').click();
  await expect(page.getByTestId('video-view')).toBeVisible();
  await expect(page.getByTestId('play')).toBeVisible();
}

/**
 * The iOS 17.1+ shape: no `window.MediaSource`, and a `ManagedMediaSource` (here a subclass of the
 * real one) that wants data from `sourceopen` on. `window.__mms` lets the test do what Safari does
 * on its own: stop and start streaming, and evict buffered media (firing `bufferedchange` on the
 * source buffer, as a `ManagedSourceBuffer` does).
 */
async function managedMediaSourceOnly(page: Page) {
  await page.addInitScript(() => {
    const Original = window.MediaSource;
    const hook: any = { sources: [] as any[], buffers: [] as SourceBuffer[] };
    class ManagedMediaSource extends Original {
      _streaming = false;
      constructor() {
        super();
        hook.sources.push(this);
        this.addEventListener('sourceopen', () => hook.setStreaming(true));
      }
      get streaming() {
        return this._streaming;
      }
      addSourceBuffer(type: string) {
        const buffer = super.addSourceBuffer(type);
        hook.buffers.push(buffer);
        return buffer;
      }
    }
    hook.setStreaming = (on: boolean) => {
      const source = hook.sources[hook.sources.length - 1];
      source._streaming = on;
      source.dispatchEvent(new Event(on ? 'startstreaming' : 'endstreaming'));
    };
    // As the browser would: between the player's appends, never during one.
    hook.evict = async (start: number, end: number) => {
      const buffer = hook.buffers[hook.buffers.length - 1];
      const updated = () => new Promise((resolve) => buffer.addEventListener('updateend', resolve, { once: true }));
      while (buffer.updating) await updated();
      const removed = updated();
      buffer.remove(start, end);
      await removed;
      buffer.dispatchEvent(new Event('bufferedchange'));
    };
    hook.buffered = () => {
      const ranges = hook.buffers[hook.buffers.length - 1].buffered;
      return Array.from({ length: ranges.length }, (_, i) => [ranges.start(i), ranges.end(i)]);
    };
    delete (window as any).MediaSource;
    (window as any).ManagedMediaSource = ManagedMediaSource;
    (window as any).__mms = hook;
  });
}

/** Older iPhones: neither `MediaSource` nor `ManagedMediaSource`. */
async function noMediaSource(page: Page, deviceMemoryGb?: number) {
  await page.addInitScript((memory) => {
    delete (window as any).MediaSource;
    delete (window as any).ManagedMediaSource;
    if (memory !== null) {
      Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => memory, configurable: true });
    }
  }, deviceMemoryGb ?? null);
}

/** Phone and desktop screenshots of the view as it is, for a person to look at (test-results/screens). */
async function screenshots(page: Page, name: string) {
  for (const [width, height] of [[390, 844], [1280, 800]]) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `test-results/screens/${name}-${width}.png` });
  }
}

const times = (seen: (string | number)[], segment: number) => segmentsIn(seen).filter((n) => n === segment).length;

test('with only ManagedMediaSource (iOS 17.1+), Play streams through it, fetches only while it wants data, and fetches again what it evicted', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await managedMediaSourceOnly(page);
  const seen = recordVideoRequests(page, longClip.id);
  await signInAndUnlock(page, member.name, member.password);
  expect(await page.evaluate(() => 'MediaSource' in window)).toBe(false);
  await open(page, longClip.title);
  await page.getByTestId('play').click();

  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(1.5);
  const video = page.getByTestId('video');
  expect(await page.evaluate(() => (window as any).__mms.sources.length)).toBe(1);
  expect(await video.evaluate((v: HTMLVideoElement) => v.disableRemotePlayback)).toBe(true);
  await expect(page.getByTestId('buffered')).toHaveText(/^\d+ s ready ahead$/);
  // The look-ahead fills: segment 4 (16–20 s) is fetched once.
  await expect.poll(() => times(seen, 4), { timeout: 15_000 }).toBe(1);
  await video.evaluate((v: HTMLVideoElement) => v.pause());

  // The browser has enough and says so; then, short of memory, it drops what lies furthest
  // ahead, from 16 s on (WebKit evicts from the far end of the buffer, not holes in the middle).
  await page.evaluate(() => (window as any).__mms.setStreaming(false));
  await page.waitForTimeout(1_000);
  await page.evaluate(() => (window as any).__mms.evict(16, 80));
  const buffered: number[][] = await page.evaluate(() => (window as any).__mms.buffered());
  expect(buffered.some(([start, end]) => start <= 18 && 18 <= end), JSON.stringify(buffered)).toBe(false);
  // Not streaming: nothing is fetched, not even the dropped segment.
  await page.waitForTimeout(1_500);
  expect(times(seen, 4)).toBe(1);

  // Streaming again: the dropped segment is fetched again, and playback runs on across it.
  await page.evaluate(() => (window as any).__mms.setStreaming(true));
  await expect.poll(() => times(seen, 4), { timeout: 15_000 }).toBe(2);
  await expect
    .poll(async () => page.evaluate(() => (window as any).__mms.buffered().some(([s, e]: number[]) => s <= 18 && 18 <= e)), { timeout: 10_000 })
    .toBe(true);
  await video.evaluate((v: HTMLVideoElement) => { v.currentTime = 14; void v.play(); });
  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(21);
  expect((await videoState(page)).paused).toBe(false);
  await expect(page.getByTestId('player-error')).toHaveCount(0);
  await screenshots(page, 'player-managed');
  expect(pageErrors).toEqual([]);
});

test('with no MediaSource at all (older iPhones), a short video is opened whole and plays from a blob: URL, revoked when the view closes', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await noMediaSource(page);
  const seen = recordVideoRequests(page, shortClip.id);
  await signInAndUnlock(page, member.name, member.password);
  await open(page, shortClip.title);
  const video = page.getByTestId('video');
  // Nothing can play yet: no controls.
  expect(await video.evaluate((v: HTMLVideoElement) => v.controls)).toBe(false);
  await page.getByTestId('play').click();

  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(1);
  const src = await video.evaluate((v: HTMLVideoElement) => v.src);
  expect(src.startsWith('blob:')).toBe(true);
  expect(await video.evaluate((v: HTMLVideoElement) => v.controls)).toBe(true);
  expect((await videoState(page)).width).toBe(640);
  // The init segment and all three segments, each once.
  expect(seen).toEqual(['manifest', 'init', 0, 1, 2]);
  // Played whole, there is no look-ahead to speak of.
  await expect(page.getByTestId('buffered')).toHaveCount(0);
  await screenshots(page, 'player-whole');

  await page.keyboard.press('Escape');
  await expect(page.getByTestId('video-view')).toHaveCount(0);
  const after = await page.evaluate((url) => fetch(url).then(() => 'still there', () => 'revoked'), src);
  expect(after).toBe('revoked');
  expect(pageErrors).toEqual([]);
});

test('with no MediaSource, a video over the limit says so plainly, shows no empty controls, and saves from the player', async ({ page }) => {
  // A device that says it has 0.02 GiB: the limit is an eighth of that, 2.6 MiB, under the 4.6 MB clip.
  await noMediaSource(page, 0.02);
  await pickerWritesToOpfs(page);
  const seen = recordVideoRequests(page, longClip.id);
  await signInAndUnlock(page, member.name, member.password);
  await open(page, longClip.title);
  await page.getByTestId('play').click();

  const error = page.getByTestId('player-error');
  await expect(error).toHaveText(
    /^This browser cannot stream videos, so it plays only videos up to 2\.6 MiB here, and this one is \d+\.\d MiB\. Save it to this device to watch it\.$/);
  await expect(error).not.toContainText('Safari');
  await expect(page.getByTestId('player')).toHaveAttribute('data-phase', 'stopped');
  const video = page.getByTestId('video');
  await expect(video).toBeHidden();
  expect(await video.evaluate((v: HTMLVideoElement) => v.controls)).toBe(false);
  expect(segmentsIn(seen)).toEqual([]);
  await screenshots(page, 'player-too-large');

  await page.getByTestId('player-save').click();
  await expect(page.getByTestId('save-status')).toHaveText('Saved.', { timeout: 60_000 });
  expect((await savedFile(page)).size).toBe(statSync(longClip.file).size);
});

test('a failure before playback starts leaves no empty video controls', async ({ page }) => {
  // The init segment arrives with one byte flipped.
  await page.route(/\/renditions\/[0-9a-f]{16}\/init$/, async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    body[body.length - 10] ^= 0x01;
    await route.fulfill({ response, body });
  });
  await signInAndUnlock(page, member.name, member.password);
  await open(page, shortClip.title);
  await page.getByTestId('play').click();
  await expect(page.getByTestId('player-error')).toHaveText('Unable to decrypt segment. Check passphrase.', { timeout: 30_000 });
  const video = page.getByTestId('video');
  await expect(video).toBeHidden();
  expect(await video.evaluate((v: HTMLVideoElement) => v.controls)).toBe(false);
  await screenshots(page, 'player-early-failure');
});

import { test, expect, Locator, Page, Route } from '@playwright/test';
import { statSync } from 'node:fs';
import { ensureUser } from '../support/cli';
import {
  baseName, DOWNLOAD_UNAVAILABLE, openVideo, pickerWritesToOpfs, savedFile, videoIdOf, withoutFilePicker,
} from '../support/downloads';
import { clearGate, setGate } from '../support/gate';
import { uploadWithCli, waitForIdleQueue } from '../support/library';
import { makeVideo, sha256 } from '../support/media';
import { signInAndUnlock } from '../support/session';
import { keepBothIfAsked } from '../support/uploads';

// An admin, so the spec can set up the library on a fresh server by itself.
const member = { name: 'e2e-downloader', password: 'downloader password' };
const CHUNK = 4 * 1024 * 1024;
/** A real H.264/AAC clip of several 4 MiB chunks (so "chunk by chunk" has chunks), uploaded and processed. */
let clip = '';
let clipHash = '';
let videoId = '';

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  ensureUser(member.name, member.password, true);
  setGate('idle');
  clip = makeVideo('download-720p.mp4', 5);
  clipHash = sha256(clip);
  expect(statSync(clip).size).toBeGreaterThan(2 * CHUNK);
  const page = await browser.newPage();
  await signInAndUnlock(page, member.name, member.password);
  uploadWithCli(page, member, [clip]);
  await waitForIdleQueue(page, 120_000);
  videoId = await videoIdOf(page, member.name, clip);
  await page.close();
});
test.beforeEach(() => setGate('idle'));
test.afterAll(() => clearGate());

/** Records every value the save's progress bar shows, however briefly. */
async function recordSaveProgress(page: Page) {
  await page.evaluate(() => {
    const seen: number[] = [];
    (window as any).__saveProgress = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('[data-testid="save-progress"] [role="progressbar"]');
      const value = bar?.getAttribute('aria-valuenow');
      if (value != null && seen[seen.length - 1] !== Number(value)) seen.push(Number(value));
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

/** Clicks, waits for the browser download that click starts, and checks it is the original. */
async function expectOriginalDownload(page: Page, click: () => Promise<void>) {
  const downloading = page.waitForEvent('download');
  await click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(baseName(clip));
  expect(sha256(await download.path())).toBe(clipHash);
}

/** Download from server on a busy server, then Queue download: the download is queued. */
async function queueDownload(view: Locator) {
  await view.getByTestId('download-from-server').click();
  await view.getByTestId('download-busy').getByRole('button', { name: 'Queue download' }).click();
  await expect(view.getByTestId('my-download')).toHaveAttribute('data-state', 'queued');
}

/** Routes the page's request for the second sealed chunk of the original through `handle`. */
async function onSecondChunk(page: Page, handle: (route: Route) => Promise<void>) {
  const secondChunk = `bytes=${41 + CHUNK + 16}-`;
  await page.route(`**/api/videos/${videoId}/original`, async (route) => {
    const range = route.request().headers()['range'] ?? '';
    await (range.startsWith(secondChunk) ? handle(route) : route.continue());
  });
}

async function openClip(page: Page) {
  await signInAndUnlock(page, member.name, member.password);
  await openVideo(page, videoId);
}

test('Save (decrypt here) streams through the File System Access API to the original bytes, one Range request per sealed chunk', async ({ page }) => {
  // The picker is replaced by one returning a real writable in the Origin Private File System
  // (support/downloads.ts): the page's code path is the real one, only the dialog is skipped.
  await pickerWritesToOpfs(page);
  const ranges: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === `/api/videos/${videoId}/original`) {
      ranges.push(request.headers()['range'] ?? 'none');
    }
  });
  await openClip(page);
  const view = page.getByTestId('video-view');
  await expect(view.getByTestId('video-file-name')).toHaveText(baseName(clip));
  await recordSaveProgress(page);
  await view.getByTestId('save-here').click();
  await expect(view.getByTestId('save-status')).toHaveText('Saved.', { timeout: 60_000 });
  // The bar moved chunk by chunk: some value strictly between 0 and 100 was shown.
  const progress: number[] = await page.evaluate(() => (window as any).__saveProgress);
  expect(progress.some((p) => p > 0 && p < 100), `progress seen: ${progress.join(',')}`).toBe(true);

  const saved = await savedFile(page);
  expect(saved.suggestedName).toBe(baseName(clip));
  expect(saved.size).toBe(statSync(clip).size);
  expect(saved.sha256).toBe(clipHash);
  // The 41-byte header, then each sealed chunk (4 MiB + 16-byte tag) on its own.
  const chunks = Math.ceil(statSync(clip).size / CHUNK);
  expect(ranges[0]).toBe('bytes=0-40');
  expect(ranges.length).toBe(1 + chunks);
  expect(ranges[1]).toBe(`bytes=41-${41 + CHUNK + 16 - 1}`);
});

test('Cancel stops a save between chunks and leaves no partial file', async ({ page }) => {
  await pickerWritesToOpfs(page);
  // The second chunk takes a while, so Cancel is pressed while the save runs.
  await onSecondChunk(page, async (route) => {
    await new Promise((r) => setTimeout(r, 2_000));
    await route.continue();
  });
  await openClip(page);
  const view = page.getByTestId('video-view');
  await view.getByTestId('save-here').click();
  await view.getByTestId('save-cancel').click();
  await expect(view.getByTestId('save-status')).toHaveText('Not saved: cancelled. Nothing was kept.', { timeout: 30_000 });
  expect((await savedFile(page)).size).toBe(0);
});

test('Save (decrypt here) without the File System Access API falls back to a Blob download with the original bytes', async ({ page }) => {
  await withoutFilePicker(page);
  await openClip(page);
  const view = page.getByTestId('video-view');
  await expectOriginalDownload(page, () => view.getByTestId('save-here').click());
  await expect(view.getByTestId('save-status')).toHaveText('Saved.');
});

test('a chunk of the original that does not open stops the save with the seed\'s message and leaves no partial file', async ({ page }) => {
  await pickerWritesToOpfs(page);
  // Flip one byte of the second sealed chunk on its way to the page.
  await onSecondChunk(page, async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    body[100] ^= 0xff;
    await route.fulfill({ response, body });
  });
  await openClip(page);
  const view = page.getByTestId('video-view');
  await view.getByTestId('save-here').click();
  await expect(view.getByTestId('save-status')).toHaveText(
    'Unable to decrypt segment 2 of the original. Check passphrase.', { timeout: 60_000 });
  // The writable was aborted: the first chunk, written before, was discarded with it.
  expect((await savedFile(page)).size).toBe(0);
});

test('Download from server starts the file download at once when the server has room, with the original bytes', async ({ page }) => {
  await openClip(page);
  const view = page.getByTestId('video-view');
  await expectOriginalDownload(page, () => view.getByTestId('download-from-server').click());
});

test('a busy server shows the banner; Download from server offers Queue download or Try now; a queued download is announced over the socket when the gate opens, and its link gives the original bytes', async ({ page }) => {
  test.setTimeout(90_000);
  setGate('busy');
  await openClip(page);
  const banner = page.getByTestId('server-busy');
  await expect(banner).toContainText('The server is busy right now; ');
  await expect(banner.getByTestId('server-busy-reasons')).toHaveText('It is short of memory.');

  const view = page.getByTestId('video-view');
  await view.getByTestId('download-from-server').click();
  const busy = view.getByTestId('download-busy');
  await expect(busy.getByText(DOWNLOAD_UNAVAILABLE, { exact: true })).toBeVisible();
  await expect(busy.getByRole('button', { name: 'Queue download' })).toBeVisible();
  // Try now, still busy: the same choice again, and nothing queued.
  await busy.getByRole('button', { name: 'Try now' }).click();
  await expect(busy.getByText(DOWNLOAD_UNAVAILABLE, { exact: true })).toBeVisible();
  await expect(view.getByTestId('no-downloads')).toBeVisible();

  await busy.getByRole('button', { name: 'Queue download' }).click();
  await expect(view.getByTestId('server-download-status')).toHaveText(
    /^Queued — position \d+\. We'll tell you when it's ready\./);
  await expect(view.getByTestId('my-download')).toHaveAttribute('data-state', 'queued');

  setGate('idle');
  const toast = page.locator('[data-testid="toast"][data-kind="download-ready"]');
  await expect(toast).toContainText(`Your download of ${baseName(clip)} is ready.`, { timeout: 30_000 });
  await expectOriginalDownload(page, () => toast.getByRole('link', { name: 'Download' }).click());
  // The banner goes once the gate reads open again (polled every 15 s).
  await expect(banner).toBeHidden({ timeout: 20_000 });
});

test('a ready download link not used in time expires, and the member is told', async ({ page }) => {
  test.setTimeout(60_000);
  setGate('busy');
  await openClip(page);
  const view = page.getByTestId('video-view');
  await queueDownload(view);
  setGate('idle');
  const ready = page.locator('[data-testid="toast"][data-kind="download-ready"]');
  await expect(ready).toBeVisible({ timeout: 30_000 });
  // Not clicked: after CLOISTER_DOWNLOAD_LINK_SECS (playwright.config.ts) the link lapses.
  const expired = page.locator('[data-testid="toast"][data-kind="download-expired"]');
  await expect(expired).toContainText(`Your download link for ${baseName(clip)} expired before it was used.`, { timeout: 30_000 });
  await expect(ready).toHaveCount(0);
  await expect(expired.getByRole('link', { name: 'Open the video' })).toHaveAttribute('href', `/videos/${videoId}`);
  await expect(view.getByTestId('no-downloads')).toBeVisible();
});

test('a queued download can be cancelled', async ({ page }) => {
  setGate('busy');
  await openClip(page);
  const view = page.getByTestId('video-view');
  await queueDownload(view);
  await view.getByTestId('cancel-queued-download').click();
  await expect(view.getByTestId('server-download-status')).toHaveText('Download cancelled.');
  await expect(view.getByTestId('no-downloads')).toBeVisible();
  const mine = await (await page.request.get('/api/downloads')).json();
  expect(mine.downloads.filter((d: any) => d.state === 'queued')).toEqual([]);
});

test('the uploader is told when their video is ready, with a link that opens it; a deferral is the banner\'s news, not a toast', async ({ page }) => {
  test.setTimeout(90_000);
  const title = `Toast clip ${Date.now()}`;
  setGate('busy');
  await signInAndUnlock(page, member.name, member.password);
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByTestId('file-input').setInputFiles(makeVideo('toast-clip.mp4', 1, '1M'));
  const item = page.getByTestId('upload-item');
  await item.getByLabel('Title').fill(title);
  await item.getByLabel('Description').fill('Told by a toast.');
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();

  await expect(page.getByTestId('processing-queued')).toHaveAttribute('data-status', 'waiting', { timeout: 30_000 });
  await expect(page.getByTestId('server-busy')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('toast')).toHaveCount(0);
  setGate('idle');
  const done = page.locator('[data-testid="toast"][data-kind="processing-done"]');
  await expect(done).toContainText(`Your video “${title}” is ready to watch.`, { timeout: 60_000 });
  await done.getByRole('link', { name: 'Watch' }).click();
  const view = page.getByTestId('video-view');
  await expect(view.getByRole('heading', { name: title })).toBeVisible();
  await expect(view.getByTestId('video-description')).toHaveText('Told by a toast.');
  await expect(view.getByTestId('video-file-name')).toHaveText('toast-clip.mp4');
});

test('an upload that loses the network is told in a toast, and its Retry resumes the upload', async ({ page }) => {
  test.setTimeout(120_000);
  await signInAndUnlock(page, member.name, member.password);
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByTestId('file-input').setInputFiles(makeVideo('toast-retry.mp4', 1, '1M'));
  await page.getByTestId('upload-item').getByLabel('Title').fill(`Retry clip ${Date.now()}`);
  // Every chunk fails as if the network were down, through all the page's retries (about 30 s).
  await page.route('**/api/uploads/*/chunks/*', (route) => route.abort('internetdisconnected'));
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  const failed = page.locator('[data-testid="toast"][data-kind="upload-failed"]');
  await expect(failed).toHaveText(/Upload failed — network error\. Please retry\./, { timeout: 60_000 });
  await expect(failed).toHaveAttribute('role', 'alert');

  await page.unroute('**/api/uploads/*/chunks/*');
  await failed.getByRole('button', { name: 'Retry' }).click();
  await expect(failed).toHaveCount(0);
  await expect(page.getByTestId('processing-queued')).toBeVisible({ timeout: 60_000 });
});

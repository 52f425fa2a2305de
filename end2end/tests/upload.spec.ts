import { test, expect, Page } from '@playwright/test';
import { statSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cloister, ensureUser } from '../support/cli';
import { makeVideo, sha256 } from '../support/media';
import { PASSPHRASE, signInAndUnlock } from '../support/session';
import { chunksSent, keepBothIfAsked } from '../support/uploads';

const user = { name: 'e2e-uploader', password: 'uploader password' };
test.beforeAll(() => ensureUser(user.name, user.password, true));

/** Downloads the video with the CLI (which decrypts locally) and hashes what it wrote. */
function downloadedHash(page: Page, videoId: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloister-e2e-'));
  const out = path.join(dir, 'download.mp4');
  cloister(['download', videoId, '-o', out], undefined, {
    CLOISTER_SERVER: new URL(page.url()).origin,
    CLOISTER_USER: user.name,
    CLOISTER_PASSWORD: user.password,
    CLOISTER_PASSPHRASE: PASSPHRASE,
  });
  try {
    return sha256(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a real video uploads through the page, encrypted, with moving progress, and decrypts to the same bytes', async ({ page }) => {
  test.setTimeout(180_000);
  const video = makeVideo('upload-720p.mp4', 10);
  const size = statSync(video).size;
  expect(size).toBeGreaterThan(3 * 4 * 1024 * 1024);

  await signInAndUnlock(page, user.name, user.password);
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByTestId('file-input').setInputFiles(video);
  const item = page.getByTestId('upload-item');
  await expect(item.getByLabel('Title')).toHaveValue('upload-720p');
  await item.getByLabel('Title').fill('Test pattern, 720p');
  await item.getByLabel('Description').fill('Made by ffmpeg for the end-to-end test.');

  // Record every value the progress bar takes while the upload runs.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as any).__progressSeen = seen;
    const bar = document.querySelector('[data-testid="upload-progress"]')!;
    new MutationObserver(() => seen.push(bar.getAttribute('aria-valuenow') ?? '')).observe(bar, { attributes: true });
  });
  const plaintextBodies: number[] = [];
  page.on('request', (request) => {
    if (request.method() === 'PUT' && request.url().includes('/chunks/')) {
      plaintextBodies.push(request.postDataBuffer()?.length ?? 0);
    }
  });

  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect(item.getByTestId('processing-queued')).toBeVisible({ timeout: 120_000 });
  await expect(item.getByTestId('processing-status')).toHaveText(
    /^(Stored — (waiting to be processed|processing \d+%)\.|Ready to watch\. Open the library)$/);

  const seen: string[] = await page.evaluate(() => (window as any).__progressSeen);
  const distinct = new Set(seen.filter((v) => v !== '0' && v !== '100'));
  expect(distinct.size, `progress values seen: ${seen.join(',')}`).toBeGreaterThanOrEqual(2);
  // Every chunk went out sealed: 4 MiB plaintext + 16-byte tag.
  expect(plaintextBodies.length).toBe(Math.ceil(size / (4 * 1024 * 1024)));
  expect(plaintextBodies[0]).toBe(4 * 1024 * 1024 + 16);

  // The server lists it as uploaded, and the stored file decrypts with the video's key to the
  // exact original bytes (the CLI fetches the sealed original and decrypts it locally).
  const listing = await (await page.request.get('/api/videos')).json();
  const stored = listing.videos[0];
  expect(stored.size_bytes).toBe(size);
  expect(downloadedHash(page, stored.video_id)).toBe(sha256(video));
});

/**
 * Starts uploading `video` while chunk 2's connection keeps dropping (the page retries with
 * backoff), waits until the server holds every other chunk, then reloads the page — the member
 * gave up, or the browser crashed — and unlocks again once the network is back. Answers the id of
 * the unfinished upload left on the server and the file's chunk count.
 */
async function leaveUnfinished(page: Page, video: string): Promise<{ oldId: string; chunks: number }> {
  const chunks = Math.ceil(statSync(video).size / (4 * 1024 * 1024));
  expect(chunks).toBeGreaterThanOrEqual(4);
  await signInAndUnlock(page, user.name, user.password);
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.route('**/api/uploads/*/chunks/2', (route) => route.abort('connectionreset'));
  const firstRun = chunksSent(page);
  await page.getByTestId('file-input').setInputFiles(video);
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect.poll(() => firstRun.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(chunks);
  let oldId = '';
  await expect
    .poll(async () => {
      const held = await page.request.get('/api/videos');
      const list = await held.json();
      const mine = list.videos.find((v: any) => v.status === 'uploading');
      if (!mine) return -1;
      oldId = mine.video_id;
      const state = await (await page.request.get(`/api/uploads/${mine.video_id}`)).json();
      return state.received.length;
    }, { timeout: 60_000 })
    .toBe(chunks - 1);
  // Leaving mid-upload asks first (the leave-page guard); the member leaves anyway.
  page.once('dialog', (dialog) => dialog.accept());
  await page.reload();
  await page.unroute('**/api/uploads/*/chunks/2');
  // The reload forgot the library key: the upload page asks for the passphrase in place.
  await page.getByLabel('Your passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  return { oldId, chunks };
}

test('a reload in the middle of an upload resumes from the chunks the server holds', async ({ page }) => {
  test.setTimeout(180_000);
  const video = makeVideo('resume-720p.mp4', 10, '18M');
  const { oldId } = await leaveUnfinished(page, video);
  const secondRun = chunksSent(page);
  await page.getByTestId('file-input').setInputFiles(video);
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect(page.getByTestId('processing-queued')).toBeVisible({ timeout: 120_000 });
  // Only the missing chunk went out again, into the same upload.
  expect(secondRun).toEqual([2]);
  await expect(page.getByTestId('upload-notice')).toHaveCount(0);

  const listing = await (await page.request.get('/api/videos')).json();
  const stored = listing.videos[0];
  expect(stored.video_id).toBe(oldId);
  expect(downloadedHash(page, stored.video_id)).toBe(sha256(video));
});

test('a resume record whose MAC fails is not resumed: the page says so and sends the file afresh', async ({ page }) => {
  test.setTimeout(180_000);
  const video = makeVideo('resume-720p.mp4', 10, '18M');
  const { oldId, chunks } = await leaveUnfinished(page, video);
  // The server (hostile, or with a damaged database) answers the lookup with a record whose MAC
  // does not verify.
  let answered = '';
  await page.route(
    (url) => url.pathname === '/api/uploads' && url.searchParams.has('fingerprint'),
    async (route) => {
      const response = await route.fetch();
      const record = await response.json();
      answered = record.video_id;
      const mac: string = record.resume_mac;
      record.resume_mac = (mac[0] === '0' ? '1' : '0') + mac.slice(1);
      await route.fulfill({ response, json: record });
    },
  );
  const secondRun = chunksSent(page);
  await page.getByTestId('file-input').setInputFiles(video);
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  const item = page.getByTestId('upload-item');
  await expect(item.getByTestId('upload-notice')).toHaveText(
    "The server's unfinished upload of this file was not resumed: its check value does not match " +
      'this file and this library. Uploading it again from the start, with a new key.',
    { timeout: 60_000 },
  );
  await expect(item.getByTestId('processing-queued')).toBeVisible({ timeout: 120_000 });
  expect(answered).toBe(oldId);

  // Every chunk went out again, under a new video id; the untrusted upload is gone.
  expect([...secondRun].sort((a, b) => a - b)).toEqual([...Array(chunks).keys()]);
  const listing = await (await page.request.get('/api/videos')).json();
  const stored = listing.videos[0];
  expect(stored.video_id).not.toBe(oldId);
  expect((await page.request.get(`/api/uploads/${oldId}`)).status()).toBe(404);
  expect(downloadedHash(page, stored.video_id)).toBe(sha256(video));
});

test('when the network stays down the page says so in plain words, and Cancel removes the upload', async ({ page }) => {
  test.setTimeout(120_000);
  const video = makeVideo('upload-720p.mp4', 10);
  await signInAndUnlock(page, user.name, user.password);
  await page.getByRole('link', { name: 'Upload' }).click();

  // Every chunk's connection drops: after its retries the page gives the seed's message.
  await page.route('**/api/uploads/*/chunks/*', (route) => route.abort('failed'));
  await page.getByTestId('file-input').setInputFiles(video);
  const item = page.getByTestId('upload-item');
  await item.getByLabel('Title').fill('Never arrives');
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect(item.getByTestId('upload-status')).toHaveText(
    'Upload failed — network error. Please retry. Press Upload to resume.',
    { timeout: 90_000 },
  );

  // Upload again retries it (resuming the same upload); Cancel while chunks are failing leaves
  // nothing on the server.
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect(item.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await item.getByRole('button', { name: 'Cancel' }).click();
  await expect(item.getByTestId('upload-status')).toHaveText(/^Cancelled/, { timeout: 60_000 });
  await page.unroute('**/api/uploads/*/chunks/*');
  const listing = await (await page.request.get('/api/videos')).json();
  expect(listing.videos.filter((v: any) => v.status === 'uploading')).toEqual([]);
});

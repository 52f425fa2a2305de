import { test, expect, Page } from '@playwright/test';
import { statSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cloister, ensureUser } from '../support/cli';
import { makeVideo, sha256 } from '../support/media';
import { PASSPHRASE, signInAndUnlock } from '../support/session';

const user = { name: 'e2e-resume-check', password: 'resume check password' };
test.beforeAll(() => ensureUser(user.name, user.password, true));

function downloadedHash(page: Page, videoId: string): string {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'cloister-e2e-')), 'download.mp4');
  cloister(['download', videoId, '-o', out], undefined, {
    CLOISTER_SERVER: new URL(page.url()).origin,
    CLOISTER_USER: user.name,
    CLOISTER_PASSWORD: user.password,
    CLOISTER_PASSPHRASE: PASSPHRASE,
  });
  return sha256(out);
}

test('a resume record whose MAC fails is not resumed: the page says so and sends the file afresh', async ({ page }) => {
  test.setTimeout(180_000);
  const video = makeVideo('resume-720p.mp4', 10, '18M');
  const chunks = Math.ceil(statSync(video).size / (4 * 1024 * 1024));
  expect(chunks).toBeGreaterThanOrEqual(4);
  await signInAndUnlock(page, user.name, user.password);
  await page.getByRole('link', { name: 'Upload' }).click();

  // A first attempt leaves an unfinished upload holding every chunk but chunk 2.
  await page.route('**/api/uploads/*/chunks/2', (route) => route.abort('connectionreset'));
  await page.getByTestId('file-input').setInputFiles(video);
  await page.getByTestId('start-upload').click();
  let oldId = '';
  await expect
    .poll(async () => {
      const list = await (await page.request.get('/api/videos')).json();
      const mine = list.videos.find((v: any) => v.status === 'uploading');
      if (!mine) return -1;
      oldId = mine.video_id;
      const state = await (await page.request.get(`/api/uploads/${mine.video_id}`)).json();
      return state.received.length;
    }, { timeout: 60_000 })
    .toBe(chunks - 1);
  await page.reload();
  await page.unroute('**/api/uploads/*/chunks/2');
  await page.getByLabel('Library passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();

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
  const secondRun: number[] = [];
  page.on('request', (r) => {
    const m = r.url().match(/\/chunks\/(\d+)$/);
    if (m && r.method() === 'PUT') secondRun.push(Number(m[1]));
  });
  await page.getByTestId('file-input').setInputFiles(video);
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

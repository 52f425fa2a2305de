import { test, expect, Page } from '@playwright/test';
import { statSync } from 'node:fs';
import path from 'node:path';
import { ensureUser } from '../support/cli';
import { makeVideo } from '../support/media';
import { tinyClips } from '../support/library';
import { PASSPHRASE, signInAndUnlock } from '../support/session';
import { chunksSent, keepBothIfAsked } from '../support/uploads';

// Uploading from a phone: the share target, the wake lock and the leave-page guard while uploads
// run, and resuming an unfinished upload when coming back (docs/uploads.md, "From a phone").

const user = { name: 'e2e-phone', password: 'phone member password' };
test.beforeAll(() => ensureUser(user.name, user.password, true));

const screenshots = path.resolve(__dirname, '../test-results/screenshots');

async function openUpload(page: Page) {
  await signInAndUnlock(page, user.name, user.password);
  await page.getByRole('link', { name: 'Upload' }).first().click();
  await expect(page.getByTestId('file-input')).toBeAttached();
}

async function unlockHere(page: Page) {
  await page.getByLabel('Your passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

async function controlled(page: Page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 30_000 }).toBe(true);
}

/** Submits `file` to the share target as Android's share sheet does: a multipart POST navigation. */
async function share(page: Page, file: string) {
  await page.evaluate(() => {
    const form = document.createElement('form');
    form.method = 'post';
    form.enctype = 'multipart/form-data';
    form.action = '/share-target';
    form.id = 'share-sheet';
    const input = document.createElement('input');
    input.type = 'file';
    input.name = 'videos';
    form.append(input);
    document.body.append(form);
  });
  await page.locator('#share-sheet input').setInputFiles(file);
  await Promise.all([page.waitForURL(/\/upload\?shared=/), page.evaluate(() => (document.getElementById('share-sheet') as HTMLFormElement).submit())]);
}

/** Paths of the files the worker keeps for the share target. */
async function sharedKept(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const cache = await caches.open('cloister-shared');
    return (await cache.keys()).map((r) => new URL(r.url).pathname);
  });
}

/** Starts the upload with chunk 2 failing, waits until the server holds all others, leaves the page. */
async function interruptAt2(page: Page, chunks: number, start: () => Promise<void>) {
  await page.route('**/api/uploads/*/chunks/2', (route) => route.abort('connectionreset'));
  let id = '';
  page.on('request', (r) => {
    const m = r.url().match(/\/api\/uploads\/([0-9a-f]{32})\/chunks\//);
    if (m) id = m[1];
  });
  await start();
  await expect
    .poll(async () => (id ? (await (await page.request.get(`/api/uploads/${id}`)).json()).received.length : -1), {
      timeout: 60_000,
    })
    .toBe(chunks - 1);
  page.once('dialog', (dialog) => dialog.accept());
  await page.reload();
  await page.unroute('**/api/uploads/*/chunks/2');
}

test('a video shared from the share sheet lands in the upload list and uploads to completion', async ({ page }) => {
  test.setTimeout(120_000);
  const [clip] = tinyClips('shared from phone', 1);
  await openUpload(page);
  await controlled(page);
  await share(page, clip);
  // The worker kept the file and sent the browser to the Upload page; the reload forgot the key.
  expect(new URL(page.url()).pathname).toBe('/upload');
  expect(await sharedKept(page)).toHaveLength(1);
  await unlockHere(page);
  const item = page.getByTestId('upload-item');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText('shared from phone 01.mp4');
  await expect(item.getByLabel('Title')).toHaveValue('shared from phone 01');
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect(item.getByTestId('processing-queued')).toBeVisible({ timeout: 60_000 });
  // Uploaded, so the browser no longer keeps its copy.
  await expect.poll(() => sharedKept(page)).toEqual([]);
  const listing = await (await page.request.get('/api/videos')).json();
  expect(listing.videos[0].size_bytes).toBe(statSync(clip).size);
});

test('with no worker active, the share target sends the member to the Upload page with a plain message', async ({ page }) => {
  const answer = await page.request.post('/share-target', {
    multipart: { videos: { name: 'x.mp4', mimeType: 'video/mp4', buffer: Buffer.from('not really a video') } },
    maxRedirects: 0,
  });
  expect(answer.status()).toBe(303);
  expect(answer.headers()['location']).toBe('/upload?shared=unavailable');
  await openUpload(page);
  await page.goto('/upload?shared=unavailable');
  await unlockHere(page);
  await expect(page.getByTestId('shared-message')).toHaveText(
    'The shared video did not reach Cloister: this browser had not finished setting Cloister up. Share it again, or choose it below.',
  );
});

/** Records every wake lock request and release; the real API underneath where Chromium grants it. */
const wakeLockSpy = () => {
  const seen = { requests: 0, released: 0, real: 'unknown', sentinels: [] as any[] };
  (window as any).__wake = seen;
  const wakeLock = (navigator as any).wakeLock;
  if (!wakeLock) return;
  const real = wakeLock.request.bind(wakeLock);
  wakeLock.request = async (type: string) => {
    seen.requests += 1;
    let sentinel: any;
    try {
      sentinel = await real(type);
      seen.real = 'granted';
    } catch (err) {
      // Headless Chromium may refuse (no visible screen): a stand-in that behaves like a sentinel.
      seen.real = String(err);
      const target = new EventTarget() as any;
      target.released = false;
      target.type = type;
      target.release = async () => {
        if (target.released) return;
        target.released = true;
        target.dispatchEvent(new Event('release'));
      };
      sentinel = target;
    }
    sentinel.addEventListener('release', () => (seen.released += 1));
    seen.sentinels.push(sentinel);
    return sentinel;
  };
};

test('while an upload runs the screen stays awake and leaving asks first; idle, neither', async ({ page, context }) => {
  test.setTimeout(180_000);
  await context.addInitScript(wakeLockSpy);
  const video = makeVideo('phone-awake.mp4', 6);
  await openUpload(page);
  const wake = () => page.evaluate(() => ({ ...(window as any).__wake, sentinels: undefined }));

  // Idle (a file chosen, nothing sent): no wake lock, and leaving does not ask.
  await page.getByTestId('file-input').setInputFiles(video);
  await page.getByTestId('upload-item').getByLabel('Title').click();
  expect((await wake()).requests).toBe(0);
  const idle = await context.newPage();
  await idle.goto(page.url());
  let idleDialog = false;
  idle.on('dialog', async (d) => {
    idleDialog = true;
    await d.dismiss();
  });
  await idle.close({ runBeforeUnload: true });
  await expect.poll(() => idle.isClosed()).toBe(true);
  expect(idleDialog).toBe(false);

  // Slow the chunks down so the upload is surely still running while we look.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/uploads/*/chunks/*', async (route) => {
    await held;
    // A held chunk the page already gave up on (it retries) cannot be continued; that is fine.
    await route.continue().catch(() => {});
  });
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect.poll(async () => (await wake()).requests).toBe(1);
  expect((await wake()).released).toBe(0);
  console.log(`wake lock from Chromium: ${(await wake()).real}`);

  // The browser drops the lock when the page is hidden; back in view, the page takes it again.
  await page.evaluate(() => {
    const w = (window as any).__wake;
    return w.sentinels[w.sentinels.length - 1].release();
  });
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange', { bubbles: true })));
  await expect.poll(async () => (await wake()).requests).toBe(2);

  // Mid-upload, leaving asks first; the member stays, and the upload carries on.
  const dialog = page.waitForEvent('dialog');
  await page.close({ runBeforeUnload: true });
  const asked = await dialog;
  expect(asked.type()).toBe('beforeunload');
  await asked.dismiss();
  expect(page.isClosed()).toBe(false);

  await page.unroute('**/api/uploads/*/chunks/*');
  release();
  await expect(page.getByTestId('processing-queued')).toBeVisible({ timeout: 120_000 });
  // Done: every lock taken was released, and leaving no longer asks.
  await expect.poll(async () => (await wake()).released).toBe(2);
  let askedAfter = false;
  page.on('dialog', async (d) => {
    askedAfter = true;
    await d.dismiss();
  });
  await page.close({ runBeforeUnload: true });
  await expect.poll(() => page.isClosed()).toBe(true);
  expect(askedAfter).toBe(false);
});

test('coming back shows the unfinished upload; the re-chosen file is checked, then only what is missing is sent', async ({ page }) => {
  test.setTimeout(180_000);
  const video = makeVideo('phone-resume.mp4', 10, '18M');
  const other = makeVideo('phone-awake.mp4', 6);
  const chunks = Math.ceil(statSync(video).size / (4 * 1024 * 1024));
  expect(chunks).toBeGreaterThanOrEqual(4);
  await openUpload(page);
  await interruptAt2(page, chunks, async () => {
    await page.getByTestId('file-input').setInputFiles(video);
    await keepBothIfAsked(page);
    await page.getByTestId('start-upload').click();
  });
  await unlockHere(page);

  const card = page.getByTestId('unfinished-upload');
  await expect(card).toHaveCount(1);
  await expect(card).toContainText('phone-resume.mp4');
  await expect(card).toContainText(`Not finished. ${chunks - 1} of ${chunks} parts are on the server.`);
  await expect(card.getByTestId('resume-upload')).toHaveText('Choose “phone-resume.mp4” to resume');
  for (const [name, viewport] of [
    ['upload-unfinished-phone', { width: 390, height: 844 }],
    ['upload-unfinished-desktop', { width: 1280, height: 800 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
    // The card fits the screen (the header is the phone-layout work's, not this card's).
    const box = (await card.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
  }

  // Another file is refused with a plain reason; nothing is sent.
  const sent = chunksSent(page);
  let chooser = page.waitForEvent('filechooser');
  await card.getByTestId('resume-upload').click();
  await (await chooser).setFiles(other);
  await expect(card.getByTestId('resume-problem')).toHaveText(
    'That is not the same file: this upload is “phone-resume.mp4” (' + (await card.locator('.upload-head .muted').innerText()) +
      '), unchanged since the upload began. Choose that file.',
  );
  // The same file: the upload carries on with the one missing chunk, in the same upload.
  chooser = page.waitForEvent('filechooser');
  await card.getByTestId('resume-upload').click();
  await (await chooser).setFiles(video);
  await expect(page.getByTestId('unfinished-upload')).toHaveCount(0);
  await expect(page.getByTestId('processing-queued')).toBeVisible({ timeout: 120_000 });
  expect(sent).toEqual([2]);
  const listing = await (await page.request.get('/api/videos')).json();
  expect(listing.videos[0].size_bytes).toBe(statSync(video).size);
  // Once finished it is not offered again.
  await page.reload();
  await unlockHere(page);
  await expect(page.getByTestId('file-input')).toBeAttached();
  await expect(page.getByTestId('unfinished-upload')).toHaveCount(0);
});

test('a shared video left unfinished resumes with one button, without choosing it again', async ({ page }) => {
  test.setTimeout(180_000);
  const video = makeVideo('phone-shared-resume.mp4', 10, '18M');
  const chunks = Math.ceil(statSync(video).size / (4 * 1024 * 1024));
  await openUpload(page);
  await controlled(page);
  await share(page, video);
  await unlockHere(page);
  await interruptAt2(page, chunks, async () => {
    await expect(page.getByTestId('upload-item')).toContainText('phone-shared-resume.mp4');
    await keepBothIfAsked(page);
    await page.getByTestId('start-upload').click();
  });
  await unlockHere(page);
  const card = page.getByTestId('unfinished-upload');
  await expect(card).toContainText(`${chunks - 1} of ${chunks} parts are on the server.`);
  // The shared copy is still in the browser, so it is not listed a second time as a new file.
  await expect(page.getByTestId('upload-item')).toHaveCount(0);
  const sent = chunksSent(page);
  await card.getByRole('button', { name: 'Resume upload' }).click();
  await expect(page.getByTestId('processing-queued')).toBeVisible({ timeout: 120_000 });
  expect(sent).toEqual([2]);
  await expect.poll(() => sharedKept(page)).toEqual([]);
});

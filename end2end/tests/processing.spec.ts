import { test, expect, Page, Browser, WebSocketRoute } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { makeVideo, makeWebm } from '../support/media';
import { signInAndUnlock } from '../support/session';
import { recordTiles, sameDocument, statusSequence, tileLog } from '../support/tiles';
import { keepBothIfAsked } from '../support/uploads';

// The uploader is an admin so that the spec can set up the library on a fresh server by itself.
const uploader = { name: 'e2e-processor', password: 'processor password' };
const watcherUser = { name: 'e2e-watcher', password: 'watcher password' };

test.beforeAll(() => {
  ensureUser(uploader.name, uploader.password, true);
  ensureUser(watcherUser.name, watcherUser.password);
});
// Whatever happens, later specs get the machine's own readings back.
test.afterAll(() => clearGate());

/** Uploads `file` from the Upload page under `title`; returns when the server holds it. */
async function upload(page: Page, file: string, title: string) {
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByTestId('file-input').setInputFiles(file);
  await page.getByTestId('upload-item').getByLabel('Title').fill(title);
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect(page.getByTestId('processing-queued')).toBeVisible({ timeout: 60_000 });
}

/** Back to the library by the header link: client-side, so the tab keeps the library key. */
async function openLibrary(page: Page) {
  await page.getByRole('link', { name: 'Cloister' }).click();
  await expect(page.getByTestId('library-unlocked')).toBeVisible();
}

async function memberWithGalleryOpen(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInAndUnlock(page, watcherUser.name, watcherUser.password);
  await expect(page.getByTestId('live-status')).toHaveText(/^Live/);
  await recordTiles(page);
  return page;
}

test('a new upload shows live in the uploader\'s and another member\'s gallery: waiting, processing with a moving percentage, ready', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const clip = makeWebm('processing-vp9.webm', 20);
  const title = `VP9 clip ${Date.now()}`;
  // Held back at first, so both galleries are watching before processing starts, however fast
  // this machine is.
  setGate('busy');
  // The uploader first: on a fresh server, an admin sets up the library.
  await signInAndUnlock(page, uploader.name, uploader.password);
  const watcher = await memberWithGalleryOpen(browser);
  await upload(page, clip, title);
  await openLibrary(page);
  await recordTiles(page);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', /^(queued|waiting)$/);
  const videoId = (await tile.getAttribute('data-video-id')) ?? '';
  expect(videoId).toMatch(/^[0-9a-f]{32}$/);
  await expect(tile).toContainText(uploader.name);

  // The other member never reloaded: the new upload appeared by itself, and is not theirs to cancel.
  const watched = watcher.getByTestId('video-tile').filter({ hasText: title });
  await expect(watched).toHaveAttribute('data-status', /^(queued|waiting)$/);
  await expect(watched.getByRole('button', { name: 'Cancel processing' })).toHaveCount(0);

  setGate('idle');
  for (const p of [page, watcher]) {
    const shown = p.getByTestId('video-tile').filter({ hasText: title });
    await expect(shown).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
    await expect(shown.getByTestId('tile-status')).toHaveText('Ready');
    await expect(shown.getByTestId('tile-progress')).toHaveCount(0);

    const log = await tileLog(p, videoId);
    const sequence = statusSequence(log);
    expect(sequence[0], JSON.stringify(log)).toMatch(/^(queued|waiting)$/);
    expect(sequence.slice(-2), JSON.stringify(log)).toEqual(['processing', 'ready']);
    const percents = new Set(log.filter((s) => s.status === 'processing' && s.percent !== null).map((s) => Number(s.percent)));
    expect(percents.size, JSON.stringify(log)).toBeGreaterThanOrEqual(2);
    expect([...percents].some((n) => n > 0 && n < 100), JSON.stringify(log)).toBe(true);
    // The status line said "Processing" and a percentage while it ran, nothing longer.
    expect(log.some((s) => /^Processing \d+%$/.test(s.text)), JSON.stringify(log)).toBe(true);
    expect(await sameDocument(p)).toBe(true);
  }
  await watcher.context().close();
});

test('a busy server holds processing back, says so once in plain words, and carries on when resources free up', async ({ page }) => {
  test.setTimeout(90_000);
  const clip = makeVideo('gate-small.mp4', 3, '2M');
  const title = `Held back ${Date.now()}`;
  setGate('busy');
  await signInAndUnlock(page, uploader.name, uploader.password);
  await upload(page, clip, title);

  // The Upload page's card says it briefly; the busy banner says why, once (notifications.spec.ts).
  const banner = page.getByTestId('processing-queued');
  await expect(banner).toHaveAttribute('data-status', 'waiting', { timeout: 30_000 });
  const message = banner.getByTestId('processing-status');
  await expect(message).toHaveText('Stored — waiting to be processed.');
  await expect(page.getByTestId('server-busy')).toHaveCount(1);
  await expect(page.getByTestId('server-busy')).toContainText('The server is busy right now; your videos are safe');

  await openLibrary(page);
  await recordTiles(page);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', 'waiting');
  await expect(tile.getByTestId('tile-status')).toHaveText('Waiting');

  setGate('idle');
  await expect(tile).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(tile.getByTestId('tile-status')).toHaveText('Ready');
  expect(await sameDocument(page)).toBe(true);
});

test('the uploader can cancel a job that waits, after confirming, and the tile says so', async ({ page }) => {
  test.setTimeout(90_000);
  const clip = makeVideo('gate-small.mp4', 3, '2M');
  const title = `Cancelled ${Date.now()}`;
  setGate('busy');
  await signInAndUnlock(page, uploader.name, uploader.password);
  await upload(page, clip, title);
  await openLibrary(page);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', 'waiting', { timeout: 30_000 });

  // Changing one's mind keeps the job.
  await tile.getByRole('button', { name: 'Cancel processing' }).click();
  await tile.getByRole('button', { name: 'Keep it queued' }).click();
  await expect(tile).toHaveAttribute('data-status', 'waiting');

  await tile.getByRole('button', { name: 'Cancel processing' }).click();
  await tile.getByRole('button', { name: 'Yes, cancel' }).click();
  await expect(tile).toHaveAttribute('data-status', 'cancelled');
  await expect(tile.getByTestId('tile-status')).toHaveText('Processing cancelled');
  await expect(tile.getByRole('button', { name: 'Cancel processing' })).toHaveCount(0);

  const videoId = await tile.getAttribute('data-video-id');
  const jobs = await (await page.request.get(`/api/jobs?video_id=${videoId}`)).json();
  expect(jobs.jobs[0].status).toBe('cancelled');
  setGate('idle');
});

test('a job held back too long says so, and an admin can start it anyway', async ({ page }) => {
  test.setTimeout(90_000);
  const clip = makeVideo('gate-small.mp4', 3, '2M');
  const title = `Overdue ${Date.now()}`;
  setGate('busy');
  await signInAndUnlock(page, uploader.name, uploader.password);
  await upload(page, clip, title);
  await openLibrary(page);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', 'waiting', { timeout: 30_000 });
  // The test server counts a job as overdue after 4 s (playwright.config.ts); the tile still just
  // says "Waiting", and an admin gets the button.
  await expect(tile.getByRole('button', { name: 'Start anyway' })).toBeVisible({ timeout: 30_000 });
  await expect(tile.getByTestId('tile-status')).toHaveText('Waiting');
  await tile.getByRole('button', { name: 'Start anyway' }).click();
  await expect(tile).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  // Only this job went past the gate, which is still closed.
  const load = await (await page.request.get('/api/status/load')).json();
  expect(load.gate_open).toBe(false);
  setGate('idle');
});

test('after the live connection drops, the page reconnects and catches up on what it missed; unreadable frames are skipped', async ({ page }) => {
  test.setTimeout(90_000);
  const clip = makeVideo('gate-small.mp4', 3, '2M');
  const title = `Missed ${Date.now()}`;
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // Every events socket goes through here; while `deaf`, the server's frames are dropped, as on a
  // connection that died without either side noticing yet.
  let deaf = false;
  const sockets: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/api\/events$/, (ws) => {
    const server = ws.connectToServer();
    sockets.push(ws);
    server.onMessage((message) => { if (!deaf) ws.send(message); });
    ws.onMessage((message) => server.send(message));
    server.onClose(() => ws.close());
    ws.onClose(() => server.close());
  });

  setGate('busy');
  await signInAndUnlock(page, uploader.name, uploader.password);
  await upload(page, clip, title);
  await openLibrary(page);
  await recordTiles(page);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', 'waiting', { timeout: 30_000 });
  const videoId = await tile.getAttribute('data-video-id');
  await expect(page.getByTestId('live-status')).toHaveText(/^Live/);

  const current = sockets[sockets.length - 1];
  current.send('not json at all');
  current.send(JSON.stringify({ event: { type: 'job_done' } }));
  current.send(JSON.stringify({ seq: 0, at: 0, event: { type: 'some_future_event' } }));

  deaf = true;
  setGate('idle');
  await expect
    .poll(async () => (await (await page.request.get(`/api/jobs?video_id=${videoId}`)).json()).jobs[0].status, { timeout: 60_000 })
    .toBe('done');
  // The page heard nothing of it.
  await expect(tile).toHaveAttribute('data-status', 'waiting');

  deaf = false;
  const connections = sockets.length;
  await current.close();
  // It reconnects by itself (after about a second) and asks the server what it missed.
  await expect(tile).toHaveAttribute('data-status', 'ready', { timeout: 15_000 });
  expect(sockets.length).toBeGreaterThan(connections);
  await expect(page.getByTestId('live-status')).toHaveText(/^Live/);
  expect(pageErrors).toEqual([]);
  expect(await sameDocument(page)).toBe(true);
});

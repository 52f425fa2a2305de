import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { makeVideo } from '../support/media';
import { uploadWithCli, waitForIdleQueue } from '../support/library';
import { signInAndUnlock } from '../support/session';
import { DESKTOP, PHONE } from '../support/tour';

// Editing a video's title and description: the owner (or an admin) edits in the open video view;
// the text is sealed in the browser; every other open tab — the open view and the gallery tile —
// shows the new words without a reload (docs/api.md, "Editing a video").
const admin = { name: 'e2e-edit-admin', password: 'edit admin password' };
const owner = { name: 'e2e-edit-owner', password: 'edit owner password' };
const viewer = { name: 'e2e-edit-viewer', password: 'edit viewer password' };
// Its own bytes (2 s at 700k), so its title is the one the library knows it by.
const clip = () => makeVideo('edit-clip.mp4', 2, '700k');
const original = 'edit-clip';

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  ensureUser(admin.name, admin.password, true);
  ensureUser(owner.name, owner.password);
  ensureUser(viewer.name, viewer.password);
  setGate('idle');
  const page = await browser.newPage();
  // The admin sets the library up on a fresh server; the owner uploads with the CLI.
  await signInAndUnlock(page, admin.name, admin.password);
  uploadWithCli(page, owner, [clip()]);
  await waitForIdleQueue(page, 60_000);
  await page.close();
});
test.afterAll(() => clearGate());

const tile = (page: Page, title: string) => page.getByTestId('video-tile').filter({ hasText: title });

/** Opens the clip from the gallery (client-side: the tab keeps the library key). */
async function openClip(page: Page, title: string) {
  await expect(tile(page, title)).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });
  await tile(page, title).getByTestId('open-video').click();
  const view = page.getByTestId('video-view');
  await expect(view.getByRole('heading', { name: title })).toBeVisible({ timeout: 20_000 });
  return view;
}

test('the owner edits title and description; another member\'s open view and gallery tile change without a reload', async ({ page, browser }) => {
  test.setTimeout(120_000);
  // Another member: one tab on the gallery, one with the video open.
  const gallery = await browser.newPage();
  await signInAndUnlock(gallery, viewer.name, viewer.password);
  await expect(tile(gallery, original)).toBeVisible({ timeout: 30_000 });
  await gallery.evaluate(() => ((window as any).__sameDocument = true));
  const watching = await browser.newPage();
  await signInAndUnlock(watching, viewer.name, viewer.password);
  const theirView = await openClip(watching, original);
  await watching.evaluate(() => ((window as any).__sameDocument = true));
  // Not theirs, and not an admin: no Edit.
  await expect(theirView.getByTestId('download-panel')).toBeVisible();
  await expect(theirView.getByTestId('edit-video')).toHaveCount(0);

  await signInAndUnlock(page, owner.name, owner.password);
  const view = await openClip(page, original);
  let sent: any;
  page.on('request', (request) => {
    if (request.method() === 'PATCH' && /\/api\/videos\/[0-9a-f]{32}$/.test(new URL(request.url()).pathname)) {
      sent = request.postDataJSON();
    }
  });
  await view.getByTestId('edit-video').click();
  const form = view.getByTestId('edit-form');
  await expect(form.getByTestId('edit-title')).toHaveValue(original);
  const title = `Harbour at dusk ${Date.now()}`;
  const description = 'Boats coming home; the light going.';
  await form.getByTestId('edit-title').fill(title);
  await form.getByTestId('edit-description').fill(description);
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: test.info().outputPath('edit-form-phone.png') });
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: test.info().outputPath('edit-form-desktop.png') });
  await form.getByTestId('edit-save').click();

  await expect(view.getByTestId('edit-saved')).toBeVisible();
  await expect(view.getByRole('heading', { name: title })).toBeVisible();
  await expect(view.getByTestId('video-description')).toHaveText(description);
  // The server got sealed streams, not the words.
  expect(String(sent?.title_sealed)).toMatch(/^434c5354[0-9a-f]+$/);
  expect(String(sent?.description_sealed)).toMatch(/^434c5354[0-9a-f]+$/);
  expect(JSON.stringify(sent)).not.toContain('Harbour');
  expect(JSON.stringify(sent)).not.toContain('Boats');

  // The other member's open view follows, and so does their gallery, with no reload.
  await expect(theirView.getByRole('heading', { name: title })).toBeVisible({ timeout: 15_000 });
  await expect(theirView.getByTestId('video-description')).toHaveText(description);
  await expect(tile(gallery, title)).toBeVisible({ timeout: 15_000 });
  await expect(tile(gallery, original)).toHaveCount(0);
  expect(await watching.evaluate(() => (window as any).__sameDocument)).toBe(true);
  expect(await gallery.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // A fresh visit reads the new title from the server.
  const fresh = await browser.newPage();
  await signInAndUnlock(fresh, viewer.name, viewer.password);
  await expect(tile(fresh, title)).toBeVisible({ timeout: 30_000 });
  await Promise.all([gallery.close(), watching.close(), fresh.close()]);
});

test('an empty title is refused in the form and nothing is sent; an admin may edit a member\'s video', async ({ page }) => {
  test.setTimeout(90_000);
  await signInAndUnlock(page, admin.name, admin.password);
  const listing = await (await page.request.get('/api/videos?limit=200')).json();
  const mine = listing.videos.find((v: any) => v.owner === owner.name);
  expect(mine, 'the owner\'s clip').toBeTruthy();
  const theTile = page.locator(`[data-testid="video-tile"][data-video-id="${mine.video_id}"]`);
  await expect(theTile).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });
  await theTile.getByTestId('open-video').click();
  const view = page.getByTestId('video-view');
  await expect(view.getByTestId('edit-video')).toBeVisible({ timeout: 20_000 });
  let patches = 0;
  page.on('request', (request) => {
    if (request.method() === 'PATCH') patches += 1;
  });
  await view.getByTestId('edit-video').click();
  await view.getByTestId('edit-title').fill('   ');
  await view.getByTestId('edit-save').click();
  await expect(view.getByTestId('edit-problem')).toHaveText('Give the video a title.');
  expect(patches).toBe(0);

  const title = `Renamed by the admin ${Date.now()}`;
  await view.getByTestId('edit-title').fill(title);
  await view.getByTestId('edit-description').fill('');
  await view.getByTestId('edit-save').click();
  await expect(view.getByRole('heading', { name: title })).toBeVisible();
  await expect(view.getByTestId('video-description')).toHaveCount(0);
  expect(patches).toBe(1);
  // Still the owner's video.
  const after = await (await page.request.get(`/api/videos/${mine.video_id}`)).json();
  expect(after.owner).toBe(owner.name);
});

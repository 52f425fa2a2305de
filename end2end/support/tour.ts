import { expect, Page } from '@playwright/test';
import { cloister, ensureUser } from './cli';
import { clearGate, setGate } from './gate';
import { tinyClips, uploadWithCli, waitForIdleQueue } from './library';
import { PASSPHRASE, signInAndUnlock } from './session';

/** Something in the trash, so its page shows a real list: one of the tour's clips, deleted with
 *  the CLI unless the trash already holds something. */
async function somethingInTheTrash(page: Page) {
  const trash = await (await page.request.get('/api/trash')).json();
  if (trash.videos.length > 0) return;
  const videos = (await (await page.request.get('/api/videos?limit=200')).json()).videos;
  const mine = videos.find((v: { owner: string; status: string }) => v.owner === tourAdmin.name && v.status === 'ready');
  if (!mine) throw new Error('the tour has no video of its own to delete');
  cloister(['rm', mine.video_id], undefined, {
    CLOISTER_SERVER: new URL(page.url()).origin,
    CLOISTER_USER: tourAdmin.name,
    CLOISTER_PASSWORD: tourAdmin.password,
  });
}

/** An admin, so the tour reaches every page (and can set up the library on a fresh server). */
export const tourAdmin = { name: 'e2e-tour-admin', password: 'tour admin password' };

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** Waits for the WASM to take over the server-rendered page (support/session.ts does the same). */
export async function hydrated(page: Page) {
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
}

/**
 * Follows a header link the way a person would: on a phone the links sit behind the Menu button,
 * which is opened first. Client-side, so the tab keeps the library key.
 */
export async function followHeaderLink(page: Page, name: string) {
  const toggle = page.getByTestId('menu-toggle');
  if (await toggle.isVisible()) {
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  }
  await page.getByRole('banner').getByRole('link', { name, exact: true }).click();
}

/** One stop of the tour: a page in a state a person sees. `name` is used in file names. */
export type Stop = (name: string) => Promise<void>;

/**
 * Walks every page, signed out and signed in — start page, sign-in, invite, not-found, library,
 * the video view, upload, trash, admin — calling `stop` at each once it has settled. The tour drives the
 * app at whatever viewport the page has; `stop` may resize and look.
 */
export async function tourEveryPage(page: Page, stop: Stop) {
  ensureUser(tourAdmin.name, tourAdmin.password, true);

  await page.goto('/');
  await hydrated(page);
  await expect(page.getByTestId('welcome')).toBeVisible();
  await stop('home-signed-out');

  await page.goto('/login');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await stop('login');

  // A made-up token: the form shows; nothing is submitted.
  await page.goto('/invite#not-a-real-token');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Join the library' })).toBeVisible();
  await stop('invite');

  await page.goto('/no/such/page');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await stop('not-found-signed-out');

  await signInAndUnlock(page, tourAdmin.name, tourAdmin.password);
  // A few ready videos with pictures, so the library shows a real grid (processed whatever else
  // the machine is doing).
  setGate('idle');
  try {
    uploadWithCli(page, tourAdmin, tinyClips('tour clip', 5));
    await waitForIdleQueue(page, 90_000);
  } finally {
    clearGate();
  }
  await page.reload();
  await hydrated(page);
  // Reloading keeps the sign-in; the key is asked for again unless it was kept for the tab.
  const unlock = page.getByLabel('Your passphrase');
  const library = page.getByTestId('library-unlocked');
  await expect(unlock.or(library)).toBeVisible();
  if (await unlock.isVisible()) {
    await stop('unlock');
    await unlock.fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await expect(library).toBeVisible({ timeout: 60_000 });
  const ready = page.locator('[data-testid="video-tile"][data-status="ready"]');
  await expect.poll(() => ready.count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(5);
  await expect
    .poll(() => page.locator('[data-testid="thumb"] img').count(), { timeout: 30_000 })
    .toBeGreaterThanOrEqual(5);
  await stop('library');

  await ready.first().getByTestId('open-video').click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('video-loading')).toHaveCount(0, { timeout: 30_000 });
  await stop('video-view');
  await page.getByTestId('close-video').click();
  await expect(dialog).toHaveCount(0);

  await followHeaderLink(page, 'Upload');
  await expect(page.getByTestId('file-input')).toBeAttached();
  await stop('upload');

  await somethingInTheTrash(page);
  await followHeaderLink(page, 'Trash');
  await expect(page.getByTestId('trash-item').first()).toBeVisible({ timeout: 30_000 });
  await stop('trash');

  await followHeaderLink(page, 'Admin');
  await expect(page.getByRole('heading', { name: 'Jobs' })).toBeVisible();
  await expect(page.locator('[data-testid="admin-job"]').first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('storage-user').first()).toBeVisible({ timeout: 30_000 });
  await stop('admin');

  await page.goto('/no/such/page');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await stop('not-found-signed-in');
}

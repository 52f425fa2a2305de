import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { tinyClips, uploadWithCli, waitForIdleQueue } from '../support/library';
import { PASSPHRASE, signInAndUnlock } from '../support/session';

// An admin, so the spec can set up the library on a fresh server by itself.
const member = { name: 'e2e-returner', password: 'returner password' };
const title = 'Shared link clip 01';
let videoId = '';

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  ensureUser(member.name, member.password, true);
  setGate('idle');
  const page = await browser.newPage();
  await signInAndUnlock(page, member.name, member.password);
  uploadWithCli(page, member, tinyClips('Shared link clip', 1));
  await waitForIdleQueue(page, 60_000);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });
  videoId = (await tile.getAttribute('data-video-id')) ?? '';
  expect(videoId).toMatch(/^[0-9a-f]{32}$/);
  await page.close();
});
test.afterAll(() => clearGate());

/** Fills the sign-in form (the page must be on /login) and submits it. */
async function signIn(page: Page) {
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.getByLabel('Username').fill(member.name);
  await page.getByLabel('Password').fill(member.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toHaveText(member.name);
}

test('a shared video link opened signed out: sign in, unlock, and the video view is shown', async ({ page }) => {
  test.setTimeout(90_000);
  // A fresh browser context: no session cookie, no library key.
  await page.goto(`/videos/${videoId}`);
  await expect(page.getByTestId('sign-in-to-watch')).toBeVisible({ timeout: 30_000 });
  await page.getByRole('main').getByRole('link', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`/login?next=/videos/${videoId}`);

  await signIn(page);
  await expect(page).toHaveURL(`/videos/${videoId}`);
  // The library beneath asks for the passphrase; the view opens once it is given.
  await page.getByLabel('Your passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  const view = page.getByTestId('video-view');
  await expect(view.getByRole('heading', { name: title })).toBeVisible({ timeout: 60_000 });
  await expect(view.getByTestId('play')).toBeVisible();
  await expect(page).toHaveURL(`/videos/${videoId}`);
});

test('the header\'s Sign in link carries the page too', async ({ page }) => {
  await page.goto(`/videos/${videoId}`);
  await expect(page.getByRole('banner').getByRole('link', { name: 'Sign in' })).toHaveAttribute(
    'href',
    `/login?next=/videos/${videoId}`,
  );
});

test('a return address on another site is ignored: signing in lands on the library', async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const origin = new URL(baseURL ?? '').origin;
  for (const next of [
    'https://evil.example/videos/x',
    '//evil.example/videos/x',
    '/\\evil.example',
    '/\t/evil.example',
    'javascript:alert(1)',
  ]) {
    await page.context().clearCookies();
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await signIn(page);
    await expect(page.getByRole('heading', { name: 'Unlock the library' }), `next=${next}`).toBeVisible();
    expect(new URL(page.url()).origin, `next=${next}`).toBe(origin);
    expect(new URL(page.url()).pathname, `next=${next}`).toBe('/');
  }
});

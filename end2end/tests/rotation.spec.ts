import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test, expect, Page, Browser, BrowserContext } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { tinyClips, uploadWithCli, waitForIdleQueue } from '../support/library';
import { videoState } from '../support/playback';
import { openLibrary, signInAndUnlock } from '../support/session';
import { followHeaderLink } from '../support/tour';

// Removing a member locks them out of everything new (docs/accounts.md, "Removing a member: the
// key change"): the admin removes bob; the admin's tab changes the library key with visible
// progress; bob's old session is refused; and a video uploaded afterwards does not open with the
// library key bob had — kept by this test from his own browser before the removal — while carol,
// who stays, plays it.

const run = Date.now().toString(36).slice(-5);
const admin = { name: 'e2e-rotation-admin', password: 'rotation admin password' };
const bob = { name: `rot-bob-${run}`, password: 'rotation bob password' };
const carol = { name: 'e2e-rotation-carol', password: 'rotation carol password' };
const root = path.resolve(__dirname, '../..');

/** The key probe (server/examples/key_probe.rs): what a removed member can do with kept keys. */
function probe(request: object): string {
  const binary = path.join(root, 'target/debug/examples/key_probe');
  if (!existsSync(binary)) {
    execFileSync('cargo', ['build', '-p', 'cloister', '--example', 'key_probe'], { cwd: root, stdio: 'pipe' });
  }
  return execFileSync(binary, [], { input: JSON.stringify(request), encoding: 'utf8' }).trim();
}

async function videos(page: Page): Promise<{ video_id: string; wrapped_dek: string; owner: string }[]> {
  return (await (await page.request.get('/api/videos?limit=200')).json()).videos;
}

/** A member's own browser, unlocked with the key remembered for the session (as a member may). */
async function member(browser: Browser, who: { name: string; password: string }): Promise<[BrowserContext, Page]> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAndUnlock(page, who.name, who.password);
  await page.reload();
  await openLibrary(page, who.name, true);
  return [context, page];
}

/** Every text the key-change line shows from now on, in order (it may pass too fast to poll). */
async function recordKeyChangeLine(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { keyChangeLines: string[] }).keyChangeLines = seen;
    const note = () => {
      const text = document.querySelector('[data-testid=key-change] span')?.textContent;
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function screenshots(page: Page, name: string) {
  const size = page.viewportSize();
  for (const [width, height] of [[390, 844], [1280, 800]]) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `test-results/rotation-${name}-${width}.png` });
  }
  if (size) await page.setViewportSize(size);
}

test.beforeAll(() => {
  ensureUser(admin.name, admin.password, true);
  for (const m of [bob, carol]) ensureUser(m.name, m.password);
  setGate('idle');
});
test.afterAll(() => clearGate());

test('removing a member changes the library key with progress; their old key opens nothing new', async ({ page, browser }) => {
  test.setTimeout(300_000);
  await signInAndUnlock(page, admin.name, admin.password);
  const [carolContext, carolPage] = await member(browser, carol);
  const [bobContext, bobPage] = await member(browser, bob);
  uploadWithCli(page, admin, tinyClips(`Rotation before ${run}`, 3));

  // bob keeps what his browser holds: his private key (remembered for the session) and, through
  // it, the library key from his grant. It opens the videos of today.
  const bobSecret = await bobPage.evaluate(() => sessionStorage.getItem('cloister.member-key'));
  expect(bobSecret).toMatch(/^[0-9a-f]{64}$/);
  const bobStatus = await (await bobPage.request.get('/api/library')).json();
  const bobKey = probe({ open_grant: { secret: bobSecret, sealed: bobStatus.my_grant, generation: bobStatus.generation } });
  expect(bobKey).toMatch(/^[0-9a-f]{64}$/);
  const before = await videos(page);
  expect(before.length).toBeGreaterThanOrEqual(3);
  const old = before[0];
  expect(probe({ open_dek: { library_key: bobKey, video_id: old.video_id, wrapped_dek: old.wrapped_dek } })).toBe('opens');

  // The admin removes bob; their tab changes the key at once, with its progress on one line.
  await followHeaderLink(page, 'Admin');
  await recordKeyChangeLine(page);
  const row = page.locator('tr', { has: page.getByTestId('remove-member') }).filter({ hasText: bob.name });
  await row.getByTestId('remove-member').click();
  const ask = page.getByRole('group', { name: 'Confirm removing the member' });
  await expect(ask).toContainText(`Remove ${bob.name}? They can no longer sign in.`);
  await ask.getByTestId('confirm-remove-member').click();
  await expect(row).toHaveCount(0);
  const line = page.getByTestId('key-change');
  await expect(line).toContainText(`The library key is changed: `, { timeout: 60_000 });
  await expect(line).toContainText(`${bob.name}`);
  await expect(line).toContainText('can no longer open new videos.');
  const lines = await page.evaluate(() => (window as unknown as { keyChangeLines: string[] }).keyChangeLines);
  const progress = lines.filter((l) => l.startsWith('Changing the library key so '));
  expect(progress.length, lines.join('\n')).toBeGreaterThan(0);
  expect(progress[0]).toMatch(new RegExp(`${bob.name}.* can no longer open new videos — [\\d,]+ of [\\d,]+ videos?$`));
  await screenshots(page, 'done');
  const status = await (await page.request.get('/api/library')).json();
  expect(status.generation).toBe(bobStatus.generation + 1);
  expect(status.rotation ?? null).toBeNull();
  expect(status.rotation_needed ?? []).not.toContain(bob.name);
  await page.getByTestId('key-change').getByRole('button', { name: 'OK' }).click();
  await expect(line).toHaveCount(0);

  // bob's old session is refused, in his page and for the API.
  expect((await bobPage.request.get('/api/library')).status()).toBe(401);
  await bobPage.reload();
  await expect(bobPage.getByRole('link', { name: 'Sign in' }).first()).toBeVisible({ timeout: 30_000 });
  await expect(bobPage.getByTestId('signed-in-as')).toHaveCount(0);
  await bobContext.close();

  // A video uploaded after the removal: bob's key does not open its key; every re-wrapped key of
  // the old videos is out of his reach too.
  const title = `Rotation after ${run} 01`;
  uploadWithCli(page, admin, tinyClips(`Rotation after ${run}`, 1));
  await waitForIdleQueue(page, 120_000);
  const known = new Set(before.map((v) => v.video_id));
  const after = await videos(page);
  const fresh = after.filter((v) => !known.has(v.video_id));
  expect(fresh.length).toBe(1);
  for (const v of [fresh[0], after.find((v) => v.video_id === old.video_id)!]) {
    expect(probe({ open_dek: { library_key: bobKey, video_id: v.video_id, wrapped_dek: v.wrapped_dek } })).toBe('does not open');
  }

  // carol stays: her browser opens her new grant with the key it holds (no passphrase asked) and
  // plays the new video.
  await expect(carolPage.getByTestId('library-unlocked')).toBeVisible();
  await carolPage.reload();
  await expect(carolPage.getByTestId('library-unlocked')).toBeVisible({ timeout: 30_000 });
  await expect(carolPage.getByRole('heading', { name: 'Unlock the library' })).toHaveCount(0);
  const tile = carolPage.getByTestId('video-tile').filter({ hasText: title }).first();
  await expect(tile).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await tile.getByTestId('open-video').click();
  const view = carolPage.getByTestId('video-view');
  await expect(view.getByRole('heading', { name: title })).toBeVisible({ timeout: 30_000 });
  await view.getByTestId('play').click();
  await expect.poll(async () => (await videoState(carolPage)).currentTime, { timeout: 30_000 }).toBeGreaterThan(0.3);
  await carolContext.close();
});

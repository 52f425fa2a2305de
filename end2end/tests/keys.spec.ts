import { readFileSync } from 'node:fs';
import { test, expect, Page, Browser } from '@playwright/test';
import { makeSegmentedClip, uploadUntilReady, videoState } from '../support/playback';
import {
  FIRST_ADMIN,
  PASSPHRASE,
  RECOVERY_WORDS_FILE,
  grantFromAdminPage,
  signIn,
  signInAndUnlock,
} from '../support/session';

// Keys for people in the browser (docs/accounts.md, "Passphrases and keys"): an invite carries a
// key pair, an admin's open tab lets the member in live, a member who forgot makes new keys and is
// let in again, and an admin gets back in with the 24 recovery words.

const title = 'keys spec clip';
const run = Date.now().toString(36).slice(-5);
const bob = { name: `bob-${run}`, password: 'bob sign-in password', passphrase: 'bob keeps his own passphrase here' };
const shots = (name: string) => `test-results/keys-${name}`;

async function screenshots(page: Page, name: string) {
  const size = page.viewportSize();
  for (const [width, height] of [[390, 844], [1280, 800]]) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `${shots(name)}-${width}.png`, fullPage: true });
  }
  if (size) await page.setViewportSize(size);
}

async function inviteLink(admin: Page): Promise<string> {
  await admin.getByRole('link', { name: 'Admin', exact: true }).click();
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  return admin.getByLabel('Invite link').inputValue();
}

async function playFirstTile(page: Page, name: string) {
  const tile = page.getByTestId('video-tile').filter({ hasText: name }).first();
  await tile.getByTestId('open-video').click();
  const view = page.getByTestId('video-view');
  await expect(view.getByRole('heading', { name })).toBeVisible({ timeout: 30_000 });
  await view.getByTestId('play').click();
  await expect.poll(async () => (await videoState(page)).currentTime, { timeout: 30_000 }).toBeGreaterThan(0.5);
  expect((await videoState(page)).frames).toBeGreaterThan(0);
  await page.getByTestId('close-video').click();
}

async function join(browser: Browser, link: string, who: typeof bob) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.getByLabel('Username').fill(who.name);
  await page.getByLabel('Password (8 characters or more)').fill(who.password);
  await page.getByLabel('Your passphrase').fill(who.passphrase);
  await page.getByLabel('Type it again').fill(who.passphrase);
  return { context, page };
}

test('invite → own passphrase → the admin grants live → the member plays a video; forgot → let in again', async ({ page, browser }) => {
  test.setTimeout(300_000);
  await signInAndUnlock(page, FIRST_ADMIN.name, FIRST_ADMIN.password);
  const clip = makeSegmentedClip('keys-clip.mp4', 6);
  await uploadUntilReady(page, clip, title);
  const link = await inviteLink(page);

  // The invitee's passphrase may not be their password.
  const { context, page: member } = await join(browser, link, { ...bob, passphrase: bob.password });
  await member.getByRole('button', { name: 'Create account' }).click();
  await expect(member.getByRole('alert')).toContainText('not your sign-in password');
  await screenshots(member, 'invite');
  await member.getByLabel('Your passphrase').fill(bob.passphrase);
  await member.getByLabel('Type it again').fill(bob.passphrase);
  await member.getByRole('button', { name: 'Create account' }).click();
  await expect(member.getByTestId('signed-in-as')).toHaveText(bob.name);
  const waiting = member.getByTestId('waiting-for-access');
  await expect(waiting).toBeVisible({ timeout: 60_000 });
  await expect(waiting).toContainText('An admin needs to let you in. You will be let in automatically when they do.');
  await screenshots(member, 'waiting');

  // The admin's open page hears it live: the notice under the header and the row with Grant.
  await expect(page.getByTestId('access-waiting')).toContainText(bob.name, { timeout: 30_000 });
  await screenshots(page, 'admin-waiting');

  // A member sees no Grant button, and the server refuses one anyway.
  await expect(member.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
  await expect(member.getByTestId('grant-access')).toHaveCount(0);
  const forbidden = await member.request.post('/api/library/grants', {
    headers: { 'x-cloister-request': '1' },
    data: {},
  });
  expect(forbidden.status()).toBe(403);
  expect((await forbidden.json()).error.message).toBe('Only an admin can let someone in.');

  await grantFromAdminPage(page, bob.name);
  await expect(page.getByTestId('access-waiting').filter({ hasText: bob.name })).toHaveCount(0);
  // The member's page follows AccessGranted and opens with the key already in memory.
  await expect(member.getByTestId('library-unlocked')).toBeVisible({ timeout: 30_000 });
  await playFirstTile(member, title);

  // A wrong passphrase is refused, and nothing changes.
  await member.getByRole('button', { name: 'Lock' }).click();
  await member.getByLabel('Your passphrase').fill('not bob passphrase at all');
  await member.getByRole('button', { name: 'Unlock' }).click();
  await expect(member.getByRole('alert')).toHaveText('Unable to decrypt. Check passphrase.', { timeout: 60_000 });
  await screenshots(member, 'unlock');

  // Forgot: new keys, then waiting until an admin lets them in again.
  await member.getByRole('button', { name: 'Forgot your passphrase?' }).click();
  await expect(member.getByTestId('recover-with-words')).toHaveCount(0);
  await expect(member.getByText('an admin must then let you in again')).toBeVisible();
  await screenshots(member, 'forgot-member');
  const newPassphrase = 'bob chose another long passphrase';
  await member.getByLabel('New passphrase').fill(newPassphrase);
  await member.getByLabel('Type it again').fill(newPassphrase);
  await member.getByRole('button', { name: 'Make new keys' }).click();
  await expect(waiting).toBeVisible({ timeout: 60_000 });
  await page.getByRole('link', { name: 'Cloister' }).click();
  await grantFromAdminPage(page, bob.name);
  await expect(member.getByTestId('library-unlocked')).toBeVisible({ timeout: 30_000 });
  await member.getByRole('button', { name: 'Lock' }).click();
  await member.getByLabel('Your passphrase').fill(newPassphrase);
  await member.getByRole('button', { name: 'Unlock' }).click();
  await expect(member.getByTestId('library-unlocked')).toBeVisible({ timeout: 60_000 });

  // The invite worked once only.
  const again = await join(browser, link, { name: `again-${run}`, password: 'another password', passphrase: 'another long passphrase' });
  await again.page.getByRole('button', { name: 'Create account' }).click();
  await expect(again.page.getByRole('alert')).toBeVisible({ timeout: 60_000 });
  await again.context.close();

  // An invite opened while signed in as someone else says so and offers to sign out.
  const fresh = await inviteLink(page);
  await member.goto(fresh);
  await expect(member.getByTestId('invite-signed-in')).toContainText(
    `You are signed in as ${bob.name}. Sign out first, or open the invite in a private window.`,
  );
  await screenshots(member, 'invite-signed-in');
  await member.getByTestId('invite-signed-in').getByRole('button', { name: 'Sign out' }).click();
  await expect(member.getByLabel('Username')).toBeVisible();
  await context.close();
});

test('the admin recovers with the 24 words kept from set-up and plays a video', async ({ page }) => {
  test.setTimeout(240_000);
  const words = readFileSync(RECOVERY_WORDS_FILE, 'utf8').trim().split(/\s+/);
  expect(words).toHaveLength(24);
  await signIn(page, FIRST_ADMIN.name, FIRST_ADMIN.password);
  await expect(page.getByRole('heading', { name: 'Unlock the library' })).toBeVisible();
  await page.getByRole('button', { name: 'Forgot your passphrase?' }).click();
  const form = page.getByTestId('recover-with-words');
  await expect(form).toBeVisible();
  await screenshots(page, 'forgot-admin');
  const tryWords = async (list: string[]) => {
    await form.getByLabel('The 24 recovery words').fill(list.join(' '));
    await form.getByLabel('New passphrase').fill(PASSPHRASE);
    await form.getByLabel('Type it again').fill(PASSPHRASE);
    await form.getByRole('button', { name: 'Recover' }).click();
  };
  // One word off (not on the list), the words in the wrong order, and 23 words: each says so.
  await tryWords([...words.slice(0, 5), 'notaword', ...words.slice(6)]);
  await expect(form.getByRole('alert')).toContainText('6');
  await tryWords([words[1], words[0], ...words.slice(2)]);
  await expect(form.getByRole('alert')).toBeVisible();
  const wrongOrder = await form.getByRole('alert').innerText();
  await tryWords(words.slice(1));
  await expect(form.getByRole('alert')).toContainText('24');
  expect(wrongOrder.length).toBeGreaterThan(10);

  await tryWords(words);
  await expect(page.getByTestId('library-unlocked')).toBeVisible({ timeout: 60_000 });
  await playFirstTile(page, title);
});

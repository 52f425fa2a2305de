import { test, expect } from '@playwright/test';
import { FIRST_ADMIN, PASSPHRASE, signIn } from '../support/session';

const admin = FIRST_ADMIN;
const passphrase = PASSPHRASE;

test('first admin: sign in wrong then right, sign out, sign in, unlock wrong then right', async ({ page }) => {
  test.setTimeout(120_000);
  // The first admin and the library were made through the setup link (first-run.spec).

  // A wrong password is refused with a message, and nothing else happens.
  await page.goto('/login');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.getByLabel('Username').fill(admin.name);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');

  await signIn(page, admin.name, admin.password);

  // The server holds the admin's public key, wrapped private key and parameters, never the
  // passphrase.
  const library = await (await page.request.get('/api/library')).json();
  expect(library.mode).toBe('members');
  expect(library.me.kdf.params).toEqual({ m_cost_kib: 65536, t_cost: 3, p_cost: 1 });
  expect(JSON.stringify(library)).not.toContain(passphrase);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await page.request.get('/api/auth/me')).status()).toBe(401);

  await signIn(page, admin.name, admin.password);
  // Signing out forgot the key: the library is locked again.
  await expect(page.getByRole('heading', { name: 'Unlock the library' })).toBeVisible();

  // No media request may be made before the passphrase is checked.
  const requests: string[] = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));

  await page.getByLabel('Your passphrase').fill('a wrong passphrase entirely');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('alert')).toHaveText('Unable to decrypt. Check passphrase.', { timeout: 60_000 });
  expect(requests.filter((p) => p.startsWith('/api/'))).toEqual([]);

  await page.getByLabel('Your passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('library-unlocked')).toBeVisible({ timeout: 60_000 });

  // The lock button forgets the key.
  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByRole('heading', { name: 'Unlock the library' })).toBeVisible();
});

test('"remember for this browser session" survives a reload; without it a reload locks', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, admin.name, admin.password);
  await page.getByLabel('Your passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('library-unlocked')).toBeVisible({ timeout: 60_000 });
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Unlock the library' })).toBeVisible();

  await page.getByLabel('Remember for this browser session').check();
  await page.getByLabel('Your passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('library-unlocked')).toBeVisible({ timeout: 60_000 });
  await page.reload();
  await expect(page.getByTestId('library-unlocked')).toBeVisible();
});

test('a member cannot use the admin API, and the admin page adds and invites members', async ({ page, browser }) => {
  await signIn(page, admin.name, admin.password);
  await page.goto('/admin');
  await page.getByLabel("New member's username").fill('e2e-member');
  await page.getByLabel("New member's password").fill('member password');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByRole('cell', { name: 'e2e-member' })).toBeVisible();

  await page.getByRole('button', { name: 'Create invite link' }).click();
  const link = await page.getByLabel('Invite link').inputValue();
  expect(link).toMatch(/\/invite#[A-Za-z0-9_-]{20,}$/);

  // The invitee, in a fresh browser context, chooses a name and password and is signed in.
  const invitee = await browser.newContext();
  const invitePage = await invitee.newPage();
  await invitePage.goto(link);
  // Typing before hydration would be wiped when the page hydrates.
  await expect(invitePage.locator('html[data-hydrated]')).toBeAttached();
  await invitePage.getByLabel('Username').fill('e2e-invited');
  await invitePage.getByLabel('Password (8 characters or more)').fill('invited password');
  await invitePage.getByLabel('Your passphrase').fill(passphrase);
  await invitePage.getByLabel('Type it again').fill(passphrase);
  await invitePage.getByRole('button', { name: 'Create account' }).click();
  await expect(invitePage.getByTestId('signed-in-as')).toHaveText('e2e-invited');
  await expect(invitePage.getByTestId('waiting-for-access')).toBeVisible({ timeout: 60_000 });
  // A member gets 403 from the admin API.
  const forbidden = await invitePage.request.get('/api/admin/users');
  expect(forbidden.status()).toBe(403);
  await invitee.close();

  // The link worked once only.
  const again = await browser.newContext();
  const againPage = await again.newPage();
  await againPage.goto(link);
  // Typing before hydration would be undone by it.
  await expect(againPage.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await againPage.getByLabel('Username').fill('e2e-second');
  await againPage.getByLabel('Password (8 characters or more)').fill('second password');
  await againPage.getByLabel('Your passphrase').fill(passphrase);
  await againPage.getByLabel('Type it again').fill(passphrase);
  await againPage.getByRole('button', { name: 'Create account' }).click();
  // The keys are made (Argon2id, a few seconds) before the server says the link is used up.
  await expect(againPage.getByRole('alert')).toContainText('not valid', { timeout: 30_000 });
  await again.close();
});

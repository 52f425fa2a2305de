import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, Page } from '@playwright/test';
import { cloister } from './cli';

/**
 * Every test member's own passphrase (docs/accounts.md, "Passphrases and keys"): each member has
 * their own, but the specs give them all the same one so the CLI can unlock as any of them.
 */
export const PASSPHRASE = 'sixty-four mebibytes of argon two';

/** The first admin, made through the setup link by first-run.spec.ts; lets every other test member in. */
export const FIRST_ADMIN = { name: 'e2e-admin', password: 'correct horse admin' };

/** Where the set-up's 24 recovery words are kept for keys.spec.ts. */
export const RECOVERY_WORDS_FILE = path.resolve(__dirname, '../.cache/recovery-words.txt');

export async function signIn(page: Page, name: string, password: string) {
  await page.goto('/login');
  // Typing before hydration would be undone by it (a fresh browser context loads the wasm slowly).
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toHaveText(name);
}

/**
 * Signs in and opens the library, whatever step the member is at: sets the library up (first
 * admin), chooses the member's passphrase and has the first admin let them in, or unlocks.
 */
export async function signInAndUnlock(page: Page, name: string, password: string, remember = false) {
  await signIn(page, name, password);
  await openLibrary(page, name, remember);
}

/** From any key step to the open library (the page is signed in as `name`). */
export async function openLibrary(page: Page, name: string, remember = false) {
  const setUp = page.getByRole('heading', { name: 'Set up the library: choose your passphrase' });
  const choose = page.getByRole('heading', { name: 'Choose your passphrase' });
  const unlock = page.getByRole('heading', { name: 'Unlock the library' });
  const waiting = page.getByTestId('waiting-for-access');
  const open = page.getByTestId('library-unlocked');
  await expect(setUp.or(choose).or(unlock).or(waiting).or(open)).toBeVisible({ timeout: 30_000 });
  if (await setUp.isVisible()) {
    await setUpLibrary(page);
  } else if (await choose.isVisible()) {
    await choosePassphrase(page, PASSPHRASE);
    await expect(waiting).toBeVisible({ timeout: 60_000 });
    await letIn(page, name);
  } else if (await waiting.isVisible()) {
    await letIn(page, name);
  } else if (await unlock.isVisible()) {
    if (remember) await page.getByLabel('Remember for this browser session').check();
    await page.getByLabel('Your passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await expect(open).toBeVisible({ timeout: 60_000 });
}

/** The first admin's set-up: their passphrase, then the recovery sheet (its words kept on disk). */
export async function setUpLibrary(page: Page) {
  await page.getByLabel('Your passphrase').fill(PASSPHRASE);
  await page.getByLabel('Type it again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Set up the library' }).click();
  const words = await readRecoveryWords(page);
  mkdirSync(path.dirname(RECOVERY_WORDS_FILE), { recursive: true });
  writeFileSync(RECOVERY_WORDS_FILE, words.join(' '));
  await page.getByLabel('I have written these words down or printed them').check();
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** The 24 words on a recovery sheet that is on screen. */
export async function readRecoveryWords(page: Page): Promise<string[]> {
  const list = page.getByTestId('recovery-words');
  await expect(list.locator('li')).toHaveCount(24, { timeout: 60_000 });
  return (await list.locator('li').allInnerTexts()).map((text) => text.replace(/^\s*\d+\.\s*/, '').trim());
}

export async function choosePassphrase(page: Page, passphrase: string) {
  await page.getByLabel('Your passphrase').fill(passphrase);
  await page.getByLabel('Type it again').fill(passphrase);
  await page.getByRole('button', { name: 'Save my passphrase' }).click();
}

/**
 * The first admin lets `name` in with `cloister library grant` (the same keyring code as the
 * admin page's Grant button, which keys.spec.ts presses); the member's waiting page follows the
 * grant live.
 */
export async function letIn(page: Page, name: string) {
  cloister(['library', 'grant', name], undefined, {
    CLOISTER_SERVER: new URL(page.url()).origin,
    CLOISTER_USER: FIRST_ADMIN.name,
    CLOISTER_PASSWORD: FIRST_ADMIN.password,
    CLOISTER_PASSPHRASE: PASSPHRASE,
  });
}

/** On an unlocked admin's page: follows the header link to Admin and presses Grant for `name`. */
export async function grantFromAdminPage(admin: Page, name: string) {
  await admin.getByRole('link', { name: 'Admin', exact: true }).click();
  const row = admin.getByTestId('waiting-member').filter({ hasText: `${name} is waiting for access` });
  await row.getByRole('button', { name: 'Grant' }).click();
  await expect(row).toHaveCount(0, { timeout: 30_000 });
}

/**
 * Gives `user` keys and access without a browser, for specs that upload or seed with the CLI before
 * the member ever signs in: `cloister library keys` under the suite's PASSPHRASE (unless they
 * have keys already), then the first admin's `cloister library grant` (a no-op once let in).
 */
export function ensureKeys(server: string, user: { name: string; password: string }): void {
  const as = (who: { name: string; password: string }) => ({
    CLOISTER_SERVER: server,
    CLOISTER_USER: who.name,
    CLOISTER_PASSWORD: who.password,
    CLOISTER_PASSPHRASE: PASSPHRASE,
  });
  try {
    cloister(['library', 'keys'], undefined, as(user));
  } catch (err) {
    const output = String((err as { stderr?: unknown }).stderr ?? err);
    if (!output.includes('You already have keys')) throw err;
  }
  cloister(['library', 'grant', user.name], undefined, as(FIRST_ADMIN));
}

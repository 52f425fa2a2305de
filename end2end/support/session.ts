import { expect, Page } from '@playwright/test';

/** The one library passphrase of the test server: every spec shares the library, as a group does. */
export const PASSPHRASE = 'sixty-four mebibytes of argon two';

/** Signs in and unlocks (or, on a fresh library, sets) the library passphrase. */
export async function signInAndUnlock(page: Page, name: string, password: string) {
  await page.goto('/login');
  // Typing before hydration would be undone by it (a fresh browser context loads the wasm slowly).
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toHaveText(name);
  const choose = page.getByRole('heading', { name: 'Choose the library passphrase' });
  const unlock = page.getByRole('heading', { name: 'Unlock the library' });
  await expect(choose.or(unlock)).toBeVisible();
  if (await choose.isVisible()) {
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByLabel('Type it again').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Set passphrase' }).click();
  } else {
    await page.getByLabel('Library passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await expect(page.getByTestId('library-unlocked')).toBeVisible({ timeout: 60_000 });
}

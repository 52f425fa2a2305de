import fs from 'node:fs';
import path from 'node:path';
import { test, expect, Page } from '@playwright/test';
import { cloister } from '../support/cli';
import { FIRST_ADMIN, RECOVERY_WORDS_FILE } from '../support/session';
import { PASSPHRASE } from '../support/session';
import { baseURL } from '../playwright.config';

// The very first project (playwright.config.ts): the server starts with no account at all, and
// the owner makes the first admin through the setup link. Later specs sign in as FIRST_ADMIN.

/** A fresh setup link from `cloister setup-link` on the test server's data directory. */
function newSetupLink(): string {
  const port = new URL(baseURL).port;
  const out = cloister(['setup-link', '--addr', `127.0.0.1:${port}`]);
  const link = out.split('\n').find((line) => line.includes('/setup#'));
  if (!link) throw new Error(`no link in: ${out}`);
  return link.trim();
}

async function openHydrated(page: Page, url: string) {
  await page.goto(url);
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  // The setup page's code is its own file (a lazy route): its button works once it has run.
  await expect(page.getByRole('button', { name: 'Create my account' })).toBeEnabled({ timeout: 30_000 });
}

async function fillSetup(
  page: Page,
  answers: { name: string; password: string; passwordAgain?: string; passphrase: string; passphraseAgain?: string },
) {
  await page.getByLabel('Username').fill(answers.name);
  await page.getByLabel('Sign-in password (8 characters or more)').fill(answers.password);
  await page.getByLabel('Sign-in password again').fill(answers.passwordAgain ?? answers.password);
  await page.getByLabel('Your passphrase', { exact: true }).fill(answers.passphrase);
  await page.getByLabel('Your passphrase again').fill(answers.passphraseAgain ?? answers.passphrase);
}

test.describe.configure({ mode: 'serial' });

test('a visitor to a server nobody owns is told how to start', async ({ page }) => {
  expect((await (await page.request.get('/api/setup')).json()).needed).toBe(true);
  const hint =
    'This Cloister has no owner yet. Open the setup link printed when the server started ' +
    '(or run cloister setup-link on the server).';
  await page.goto('/');
  await expect(page.getByTestId('no-owner')).toHaveText(hint);
  await page.goto('/login');
  await expect(page.getByTestId('no-owner')).toHaveText(hint);
});

test('a wrong secret and mistyped answers are refused in plain words', async ({ page }) => {
  test.setTimeout(120_000);
  newSetupLink();
  await openHydrated(page, '/setup#' + 'A'.repeat(43));

  // Checked here before any key is made.
  await fillSetup(page, { ...FIRST_ADMIN, passwordAgain: 'something else', passphrase: PASSPHRASE });
  await page.getByRole('button', { name: 'Create my account' }).click();
  await expect(page.getByRole('alert')).toHaveText('The two passwords are not the same.');
  await fillSetup(page, { ...FIRST_ADMIN, passphrase: FIRST_ADMIN.password + ' x', passphraseAgain: 'typo' });
  await page.getByRole('button', { name: 'Create my account' }).click();
  await expect(page.getByRole('alert')).toHaveText('The two passphrases are not the same.');
  await fillSetup(page, { ...FIRST_ADMIN, passphrase: FIRST_ADMIN.password });
  await page.getByRole('button', { name: 'Create my account' }).click();
  await expect(page.getByRole('alert')).toContainText('Choose a passphrase different from your sign-in password');

  // The server refuses a secret it did not make, and nothing is created.
  await fillSetup(page, { ...FIRST_ADMIN, passphrase: PASSPHRASE });
  await page.getByRole('button', { name: 'Create my account' }).click();
  await expect(page.getByRole('alert')).toContainText('This setup link is not valid', { timeout: 60_000 });
  expect((await (await page.request.get('/api/setup')).json()).needed).toBe(true);

  // A link without its secret says so at once.
  await page.goto('/setup');
  await expect(page.getByRole('alert')).toContainText('This setup link is incomplete', { timeout: 30_000 });
});

test('the setup link makes the first admin and shows the recovery key once', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const link = newSetupLink();
  expect(link).toMatch(new RegExp(`^${baseURL}/setup#[A-Za-z0-9_-]{43}$`));

  for (const [name, size] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 800 }]] as const) {
    await page.setViewportSize(size);
    await openHydrated(page, link);
    await page.screenshot({ path: testInfo.outputPath(`setup-form-${name}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 390, height: 844 });

  // The passphrase never goes to the server: every request body is checked for it.
  const bodies: string[] = [];
  let setupBody = '';
  page.on('request', (request) => {
    bodies.push(request.postData() ?? '');
    if (new URL(request.url()).pathname === '/api/setup' && request.method() === 'POST') setupBody = request.postData() ?? '';
  });

  await page.getByLabel('Your passphrase', { exact: true }).fill('short');
  await expect(page.getByTestId('strength-hint')).toContainText('Too short');
  await fillSetup(page, { ...FIRST_ADMIN, passphrase: PASSPHRASE });
  await expect(page.getByTestId('strength-hint')).toContainText('Strong');
  await page.getByRole('button', { name: 'Create my account' }).click();

  const words = page.getByTestId('recovery-words').locator('li');
  await expect(page.getByRole('heading', { name: 'Your recovery key' })).toBeVisible({ timeout: 60_000 });
  await expect(words).toHaveCount(24);
  const list = (await page.getByTestId('recovery-words').locator('.recovery-word').allInnerTexts()).map((w) => w.trim());
  expect(list.every((w) => /^[a-z]{3,8}$/.test(w))).toBe(true);
  fs.mkdirSync(path.dirname(RECOVERY_WORDS_FILE), { recursive: true });
  fs.writeFileSync(RECOVERY_WORDS_FILE, list.join(' ') + '\n');
  expect(bodies.some((b) => b.includes(PASSPHRASE))).toBe(false);
  expect(bodies.some((b) => b.includes(list.join(' ')))).toBe(false);
  await expect(page.getByTestId('signed-in-as')).toHaveText(FIRST_ADMIN.name);

  // Large and legible on a phone: every word fits its column, in at least 18 px type.
  const fontSize = await page.locator('.recovery-word').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  expect(fontSize).toBeGreaterThanOrEqual(18);
  for (const word of await page.locator('.recovery-word').all()) {
    expect(await word.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
  }
  await page.screenshot({ path: testInfo.outputPath('recovery-sheet-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: testInfo.outputPath('recovery-sheet-desktop.png'), fullPage: true });

  // On paper: only the words, the date and the instructions.
  await page.emulateMedia({ media: 'print' });
  const sheet = page.locator('.recovery-print');
  // (Its box sits outside the hidden page's layout, so check its style rather than toBeVisible.)
  await expect.poll(() => sheet.evaluate((el) => `${getComputedStyle(el).display} ${getComputedStyle(el).visibility}`)).toBe('block visible');
  await expect(sheet).toContainText(`Written down on ${new Date().toISOString().slice(0, 10)}`);
  await expect(sheet).toContainText('cloister library recover');
  expect((await sheet.locator('.recovery-word').allInnerTexts()).map((w) => w.trim())).toEqual(list);
  await expect(page.locator('.site-header')).toBeHidden();
  await expect(page.getByRole('button', { name: 'Print' })).toBeHidden();
  await page.screenshot({ path: testInfo.outputPath('recovery-sheet-print.png'), fullPage: true });
  await page.emulateMedia({ media: 'screen' });

  await page.getByRole('button', { name: 'I have written it down' }).click();
  await expect(page).toHaveURL(`${baseURL}/`);
  await expect(page.getByTestId('signed-in-as')).toHaveText(FIRST_ADMIN.name);
  expect((await (await page.request.get('/api/setup')).json()).needed).toBe(false);

  // The link worked once: opened again, it says the server has an owner, and the API refuses it.
  const again = await page.context().browser()!.newContext();
  const other = await again.newPage();
  await other.goto(link);
  await expect(other.getByRole('heading', { name: 'This Cloister already has an owner' })).toBeVisible({ timeout: 30_000 });
  const replay = await other.request.post('/api/setup', {
    headers: { 'x-cloister-request': '1' },
    data: { ...JSON.parse(setupBody), username: 'intruder' },
  });
  expect(replay.status()).toBe(409);
  expect((await replay.json()).error.message).toBe('Cloister already has an admin; sign in instead.');
  await other.goto('/login');
  await expect(other.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(other.getByTestId('no-owner')).toHaveCount(0);
  await again.close();

  // And `cloister setup-link` now says to sign in instead.
  expect(() => cloister(['setup-link'])).toThrow(/Cloister already has an admin; sign in instead\./);
});

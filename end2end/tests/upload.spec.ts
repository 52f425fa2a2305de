import { test, expect, Page } from '@playwright/test';
import { statSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addUser, cloister } from '../support/cli';
import { makeVideo, sha256 } from '../support/media';

const user = { name: 'e2e-uploader', password: 'uploader password' };
const passphrase = 'four words make passphrases strong';

async function signInAndUnlock(page: Page) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toHaveText(user.name);
  const choose = page.getByRole('heading', { name: 'Choose the library passphrase' });
  const unlock = page.getByRole('heading', { name: 'Unlock the library' });
  await expect(choose.or(unlock)).toBeVisible();
  if (await choose.isVisible()) {
    await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
    await page.getByLabel('Type it again').fill(passphrase);
    await page.getByRole('button', { name: 'Set passphrase' }).click();
  } else {
    await page.getByLabel('Library passphrase').fill(passphrase);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await expect(page.getByTestId('library-unlocked')).toBeVisible({ timeout: 60_000 });
}

test('a real video uploads through the page, encrypted, with moving progress, and decrypts to the same bytes', async ({ page }) => {
  test.setTimeout(180_000);
  // Accounts may already exist from the accounts tests; this user is new.
  addUser(user.name, user.password, true);
  const video = makeVideo('upload-720p.mp4', 10);
  const size = statSync(video).size;
  expect(size).toBeGreaterThan(3 * 4 * 1024 * 1024);

  await signInAndUnlock(page);
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByTestId('file-input').setInputFiles(video);
  const item = page.getByTestId('upload-item');
  await expect(item.getByLabel('Title')).toHaveValue('upload-720p');
  await item.getByLabel('Title').fill('Test pattern, 720p');
  await item.getByLabel('Description').fill('Made by ffmpeg for the end-to-end test.');

  // Record every value the progress bar takes while the upload runs.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as any).__progressSeen = seen;
    const bar = document.querySelector('[data-testid="upload-progress"]')!;
    new MutationObserver(() => seen.push(bar.getAttribute('aria-valuenow') ?? '')).observe(bar, { attributes: true });
  });
  const plaintextBodies: number[] = [];
  page.on('request', (request) => {
    if (request.method() === 'PUT' && request.url().includes('/chunks/')) {
      plaintextBodies.push(request.postDataBuffer()?.length ?? 0);
    }
  });

  await page.getByTestId('start-upload').click();
  await expect(item.getByTestId('processing-queued')).toBeVisible({ timeout: 120_000 });
  await expect(item.getByTestId('processing-queued')).toContainText(/Processing queued \(job \d+, position \d+/);

  const seen: string[] = await page.evaluate(() => (window as any).__progressSeen);
  const distinct = new Set(seen.filter((v) => v !== '0' && v !== '100'));
  expect(distinct.size, `progress values seen: ${seen.join(',')}`).toBeGreaterThanOrEqual(2);
  // Every chunk went out sealed: 4 MiB plaintext + 16-byte tag.
  expect(plaintextBodies.length).toBe(Math.ceil(size / (4 * 1024 * 1024)));
  expect(plaintextBodies[0]).toBe(4 * 1024 * 1024 + 16);

  // The server lists it as uploaded, and the stored file decrypts with the video's key to the
  // exact original bytes (the CLI fetches the sealed original and decrypts it locally).
  const listing = await (await page.request.get('/api/videos')).json();
  const stored = listing.videos[0];
  expect(stored.size_bytes).toBe(size);
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'cloister-e2e-')), 'roundtrip.mp4');
  cloister(['download', stored.video_id, '-o', out], undefined, {
    CLOISTER_SERVER: new URL(page.url()).origin,
    CLOISTER_USER: user.name,
    CLOISTER_PASSWORD: user.password,
    CLOISTER_PASSPHRASE: passphrase,
  });
  expect(sha256(out)).toBe(sha256(video));
});

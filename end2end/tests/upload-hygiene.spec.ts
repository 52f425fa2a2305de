import { test, expect, Page } from '@playwright/test';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureUser } from '../support/cli';
import { makeVideo } from '../support/media';
import { signInAndUnlock } from '../support/session';
import { DESKTOP, PHONE } from '../support/tour';

// What the Upload page checks before it sends anything (docs/uploads.md, "Before sending"): an
// empty file is refused, a file that is clearly not a video gets a warning, a file can be taken
// off the list, and a video the library holds already is caught with its date and title.
const user = { name: 'e2e-hygiene', password: 'hygiene password' };
test.beforeAll(() => ensureUser(user.name, user.password, true));

const fixtures = path.resolve(__dirname, '../.cache/fixtures');
function fixture(name: string, bytes: string | Buffer): string {
  mkdirSync(fixtures, { recursive: true });
  const file = path.join(fixtures, name);
  writeFileSync(file, bytes);
  return file;
}

/** Every request the page makes to the upload API from now on (`METHOD path`). */
function uploadRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/uploads')) seen.push(`${request.method()} ${url.pathname}`);
  });
  return seen;
}

async function openUpload(page: Page) {
  await signInAndUnlock(page, user.name, user.password);
  await page.getByRole('link', { name: 'Upload' }).click();
  await expect(page.getByTestId('file-input')).toBeAttached();
}

test('an empty file is refused before anything is sent, and can be taken off the list', async ({ page }) => {
  await openUpload(page);
  const sent = uploadRequests(page);
  await page.getByTestId('file-input').setInputFiles(fixture('empty.mp4', ''));
  const item = page.getByTestId('upload-item');
  await expect(item.getByTestId('upload-refused')).toHaveText(
    'This file is empty (0 bytes): there is nothing to upload.');
  await page.getByTestId('start-upload').click();
  // Give a request every chance to go out: none does, not even a duplicate check.
  await page.waitForTimeout(1_000);
  expect(sent).toEqual([]);
  await item.getByTestId('remove-file').click();
  await expect(item).toHaveCount(0);
  expect(sent).toEqual([]);
});

test('a file that is clearly not a video is warned about; Upload sends nothing for it until the member answers', async ({ page }) => {
  await openUpload(page);
  const sent = uploadRequests(page);
  const notes = fixture('notes.mp4', 'Shopping: bread, milk, film for the camera.\n');
  const png = fixture('photo.mov', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
  await page.getByTestId('file-input').setInputFiles([notes, png]);
  const items = page.getByTestId('upload-item');
  await expect(items).toHaveCount(2);
  await expect(items.nth(0).getByTestId('not-video-warning')).toHaveText(
    'This does not look like a video: it starts like a text file.');
  await expect(items.nth(1).getByTestId('not-video-warning')).toHaveText(
    'This does not look like a video: it starts like a PNG picture.');
  await expect(items.nth(0).getByTestId('upload-status')).toContainText('Waiting for your answer');
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: test.info().outputPath(`not-a-video-${size.width}.png`), fullPage: true });
  }

  // Upload with both unanswered: nothing goes out (only the duplicate checks were asked).
  await page.getByTestId('start-upload').click();
  await page.waitForTimeout(1_000);
  expect(sent.filter((r) => !r.startsWith('GET /api/uploads/duplicates'))).toEqual([]);

  // Remove takes one off the list; Upload anyway clears the other's warning.
  await items.nth(1).getByTestId('skip-file').click();
  await expect(items).toHaveCount(1);
  await expect(items).toContainText('notes.mp4');
  await items.getByTestId('upload-anyway').click();
  await expect(items.getByTestId('not-video-warning')).toHaveCount(0);
  await expect(items.getByTestId('upload-status')).toHaveText('Ready to upload.');
  // Not sent after all: a plain Remove before Upload.
  await items.getByTestId('remove-file').click();
  await expect(items).toHaveCount(0);
  expect(sent.filter((r) => !r.startsWith('GET /api/uploads/duplicates'))).toEqual([]);
});

test('a duplicate is caught with the original\'s date and title; Skip leaves it out and Upload anyway keeps both', async ({ page }) => {
  test.setTimeout(120_000);
  // Bytes no other spec makes (2 s at 900k).
  const clip = makeVideo('hygiene-duplicate.mp4', 2, '900k');
  const title = `Lighthouse ${Date.now()}`;
  await openUpload(page);
  const sent = uploadRequests(page);
  const items = page.getByTestId('upload-item');

  await page.getByTestId('file-input').setInputFiles(clip);
  await expect(items.getByTestId('upload-status')).toHaveText('Ready to upload.');
  await items.getByLabel('Title').fill(title);
  await page.getByTestId('start-upload').click();
  await expect(items.getByTestId('processing-queued')).toBeVisible({ timeout: 60_000 });
  const created = sent.filter((r) => r === 'POST /api/uploads').length;
  expect(created).toBe(1);

  // The same file again: caught before anything is sent.
  const today = new Date().toISOString().slice(0, 10);
  const duplicate = `You already uploaded this on ${today} as “${title}”.`;
  await page.getByTestId('file-input').setInputFiles(clip);
  await expect(items).toHaveCount(2);
  await expect(items.nth(1).getByTestId('duplicate-warning')).toHaveText(duplicate);
  await page.screenshot({ path: test.info().outputPath('duplicate-desktop.png'), fullPage: true });
  await page.getByTestId('start-upload').click();
  await page.waitForTimeout(1_000);
  expect(sent.filter((r) => r === 'POST /api/uploads').length).toBe(1);
  await items.nth(1).getByTestId('skip-file').click();
  await expect(items).toHaveCount(1);

  // And once more, kept: Upload anyway, then Upload sends it as a second video.
  await page.getByTestId('file-input').setInputFiles(clip);
  await expect(items.nth(1).getByTestId('duplicate-warning')).toHaveText(duplicate);
  await items.nth(1).getByLabel('Title').fill(`${title} (again)`);
  await items.nth(1).getByTestId('upload-anyway').click();
  await expect(items.nth(1).getByTestId('duplicate-warning')).toHaveCount(0);
  await page.getByTestId('start-upload').click();
  await expect(items.nth(1).getByTestId('processing-queued')).toBeVisible({ timeout: 60_000 });
  expect(sent.filter((r) => r === 'POST /api/uploads').length).toBe(2);
  const listing = await (await page.request.get('/api/videos?limit=200')).json();
  const same = listing.videos.filter((v: any) => v.owner === user.name && v.size_bytes === statSync(clip).size);
  expect(same).toHaveLength(2);
});

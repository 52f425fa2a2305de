import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { tinyClips, uploadWithCli, waitForIdleQueue } from '../support/library';
import { signInAndUnlock } from '../support/session';

// An admin, so the spec can set up the library on a fresh server by itself.
const member = { name: 'e2e-commenter', password: 'commenter password' };
const title = 'Comments clip 01';
let videoId = '';

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  ensureUser(member.name, member.password, true);
  setGate('idle');
  const page = await browser.newPage();
  await signInAndUnlock(page, member.name, member.password);
  uploadWithCli(page, member, tinyClips('Comments clip', 1));
  await waitForIdleQueue(page, 60_000);
  await page.close();
});
test.afterAll(() => clearGate());

/** Signs in, opens the clip from the gallery and scrolls to its comments. */
async function openComments(page: Page) {
  await signInAndUnlock(page, member.name, member.password);
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });
  videoId = (await tile.getAttribute('data-video-id')) ?? '';
  await tile.getByTestId('open-video').click();
  const view = page.getByTestId('video-view');
  await expect(view.getByTestId('play')).toBeVisible({ timeout: 20_000 });
  const comments = view.getByTestId('comments');
  await expect(comments, 'the video view mounts <Comments/> (app/src/pages/video/dialog.rs)').toBeAttached();
  await comments.scrollIntoViewIfNeeded();
  return comments;
}

/** How often the page asked for this video's comments. */
function countCommentListings(page: Page): () => number {
  let listings = 0;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (request.method() === 'GET' && /^\/api\/videos\/[0-9a-f]{32}\/comments$/.test(url.pathname)) listings += 1;
  });
  return () => listings;
}

test('a comment is sealed in the browser, shown at once, still there (decrypted) for a fresh visit, and its author deletes it', async ({ page, browser }) => {
  const listings = countCommentListings(page);
  const comments = await openComments(page);
  await expect(comments.getByTestId('comments-empty')).toHaveText('No comments yet.');
  expect(listings()).toBe(1);

  const text = `Lovely test pattern — ${Date.now()} 🎥`;
  await comments.getByTestId('comment-text').fill(text);
  await expect(comments.getByTestId('comment-counter')).toHaveText(`${[...text].length} / 2000`);
  let posted: Record<string, unknown> | undefined;
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith(`/api/videos/${videoId}/comments`)) posted = request.postDataJSON();
  });
  await comments.getByTestId('post-comment').click();
  const mine = comments.getByTestId('comment').filter({ hasText: text });
  await expect(mine).toBeVisible();
  await expect(comments.getByTestId('comments-empty')).toHaveCount(0);
  await expect(mine).toHaveAttribute('data-pending', 'false');
  await expect(mine.getByTestId('comment-author')).toHaveText(member.name);
  await expect(mine.getByTestId('comment-date')).toHaveText(/^\d{4}-\d{2}-\d{2}$/);
  await expect(comments.getByTestId('comment-text')).toHaveValue('');
  // The server got a sealed body, not the words.
  expect(posted?.comment_id).toMatch(/^[0-9a-f]{32}$/);
  expect(String(posted?.body_sealed)).toMatch(/^[0-9a-f]+$/);
  expect(JSON.stringify(posted)).not.toContain('Lovely');

  // A fresh tab (new session, library unlocked again) lists it from the server and opens it.
  const other = await browser.newPage();
  const again = await openComments(other);
  const listed = again.getByTestId('comment').filter({ hasText: text });
  await expect(listed).toBeVisible();
  await expect(listed.getByTestId('comment-body')).toHaveText(text);
  await expect(listed.getByTestId('comment-author')).toHaveText(member.name);

  // Deleting asks first; then it is gone, here and on the server.
  await listed.getByTestId('delete-comment').click();
  await listed.getByTestId('confirm-delete-comment').click();
  await expect(again.getByTestId('comment').filter({ hasText: text })).toHaveCount(0);
  await expect(again.getByTestId('comments-empty')).toHaveText('No comments yet.');
  const page2 = await other.request.get(`/api/videos/${videoId}/comments`);
  expect((await page2.json()).comments).toEqual([]);
  await other.close();
});

test('a comment over 2000 characters cannot be posted, and the counter says so', async ({ page }) => {
  const comments = await openComments(page);
  await expect(comments.getByTestId('comments-empty').or(comments.getByTestId('comment').first())).toBeVisible();
  await comments.getByTestId('comment-text').fill('x'.repeat(2001));
  await expect(comments.getByTestId('comment-counter')).toHaveText('2001 / 2000');
  await expect(comments.getByTestId('comment-too-long')).toBeVisible();
  await expect(comments.getByTestId('post-comment')).toBeDisabled();
  await comments.getByTestId('comment-text').fill('x'.repeat(2000));
  await expect(comments.getByTestId('post-comment')).toBeEnabled();
});

test('a comment the server refuses is taken back with its message, and the text is kept', async ({ page }) => {
  const comments = await openComments(page);
  await expect(comments.getByTestId('comments-empty').or(comments.getByTestId('comment').first())).toBeVisible();
  await page.route(`**/api/videos/${videoId}/comments`, (route) =>
    route.request().method() === 'POST'
      ? route.fulfill({
          status: 429,
          contentType: 'application/json',
          headers: { 'Retry-After': '3' },
          body: JSON.stringify({ error: { code: 'too_many_requests', message: 'You are posting comments too quickly. Try again in 3 seconds.' } }),
        })
      : route.continue(),
  );
  await comments.getByTestId('comment-text').fill('Too fast');
  await comments.getByTestId('post-comment').click();
  await expect(comments.getByTestId('comment-error')).toHaveText(
    'Your comment was not posted: You are posting comments too quickly. Try again in 3 seconds.',
  );
  await expect(comments.getByTestId('comment').filter({ hasText: 'Too fast' })).toHaveCount(0);
  await expect(comments.getByTestId('comment-text')).toHaveValue('Too fast');
});

import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { tinyClips, uploadWithCli, waitForIdleQueue } from '../support/library';
import { signInAndUnlock } from '../support/session';
import { followHeaderLink } from '../support/tour';

// An admin (who can set up the library on a fresh server and sees the storage page), the member
// who deletes their own video, a second member watching the gallery, and one who leaves.
const admin = { name: 'e2e-trash-admin', password: 'trash admin password' };
const owner = { name: 'e2e-trash-owner', password: 'trash owner password' };
const viewer = { name: 'e2e-trash-viewer', password: 'trash viewer password' };
const leaver = { name: 'e2e-trash-leaver', password: 'trash leaver password' };

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  ensureUser(admin.name, admin.password, true);
  for (const member of [owner, viewer, leaver]) ensureUser(member.name, member.password);
  setGate('idle');
  const page = await browser.newPage();
  await signInAndUnlock(page, admin.name, admin.password);
  uploadWithCli(page, owner, tinyClips('Trash clip', 1));
  uploadWithCli(page, admin, tinyClips('Trash admin clip', 1));
  uploadWithCli(page, leaver, tinyClips('Trash leaver clip', 1));
  await waitForIdleQueue(page, 120_000);
  await page.close();
});
test.afterAll(() => clearGate());

function tile(page: Page, title: string) {
  return page.getByTestId('video-tile').filter({ hasText: title });
}

test('a member deletes their video: it leaves another member’s open gallery at once, and restoring brings it back', async ({ page, browser }) => {
  const title = 'Trash clip 01';
  // The second member has the gallery open the whole time, never reloading.
  const other = await (await browser.newContext()).newPage();
  await signInAndUnlock(other, viewer.name, viewer.password);
  await expect(tile(other, title)).toHaveAttribute('data-status', 'ready', { timeout: 30_000 });

  await signInAndUnlock(page, owner.name, owner.password);
  await tile(page, title).getByTestId('open-video').click();
  const view = page.getByTestId('video-view');
  await expect(view).toBeVisible();
  await view.getByTestId('delete-video').click();
  await expect(view.getByTestId('delete-question')).toHaveText(
    'Move this video to the trash? It stays there for 30 days, and you or an admin can restore it until then.',
  );
  await view.getByTestId('confirm-delete-video').click();
  // The view closes; one toast says where it went, with Undo and the way to the trash.
  await expect(view).toHaveCount(0);
  const toast = page.getByTestId('toast').filter({ hasText: 'in the trash' });
  await expect(toast).toHaveText(/“Trash clip 01” is in the trash for 30 days\./);
  await expect(toast.getByRole('button', { name: 'Undo' })).toBeVisible();
  await expect(tile(page, title)).toHaveCount(0);
  await expect(tile(other, title)).toHaveCount(0, { timeout: 15_000 });

  // The trash: the title decrypted here, who deleted it, how long it has left.
  await followHeaderLink(page, 'Trash');
  const item = page.getByTestId('trash-item').filter({ hasText: title });
  await expect(item).toBeVisible({ timeout: 15_000 });
  await expect(item).toContainText(`Deleted by ${owner.name}`);
  await expect(item.getByTestId('trash-days-left')).toHaveText('30 days left');
  await item.getByTestId('restore-video').click();
  await expect(page.getByTestId('trash-notice')).toHaveText('“Trash clip 01” is back in the library.');
  await expect(page.getByTestId('trash-empty')).toHaveText('The trash is empty.');
  await expect(tile(other, title)).toHaveAttribute('data-status', 'ready', { timeout: 15_000 });
  await other.context().close();
});

test('deleting for good frees the storage the admin page shows', async ({ page }) => {
  const title = 'Trash admin clip 01';
  await signInAndUnlock(page, admin.name, admin.password);
  await followHeaderLink(page, 'Admin');
  const trash = page.getByTestId('storage-trash');
  await expect(trash).toBeVisible({ timeout: 30_000 });
  // Other specs (the page tour) may have left videos in the trash.
  const already = Number(await trash.getAttribute('data-videos'));
  const mine = page.getByTestId('storage-user').filter({ hasText: admin.name });
  const before = await mine.locator('[data-label="On disk"]').textContent();

  await followHeaderLink(page, 'Library');
  await tile(page, title).getByTestId('open-video').click();
  await page.getByTestId('delete-video').click();
  await page.getByTestId('confirm-delete-video').click();
  await expect(page.getByTestId('video-view')).toHaveCount(0);

  // In the trash it still counts, shown apart.
  await followHeaderLink(page, 'Admin');
  await expect(trash).toHaveAttribute('data-videos', String(already + 1), { timeout: 30_000 });
  expect(Number(await trash.getAttribute('data-bytes'))).toBeGreaterThan(0);
  await expect(mine.locator('[data-label="On disk"]')).toHaveText(before ?? '');
  await trash.getByTestId('empty-trash').click();
  await page.getByTestId('confirm-empty-trash').click();
  await expect(trash).toHaveAttribute('data-videos', '0', { timeout: 30_000 });
  await expect(trash).toContainText(/Emptied the trash: \d+ videos? deleted for good\./);
  await expect(trash).toContainText('The trash is empty.');
  await expect(mine.locator('[data-label="On disk"]')).not.toHaveText(before ?? '');
  const after = await (await page.request.get('/api/admin/storage')).json();
  expect(after.trash).toEqual({ videos: 0, quota_bytes: 0, stored_bytes: 0 });
});

test('an admin removes a member who has videos, giving the videos to another member', async ({ page }) => {
  const title = 'Trash leaver clip 01';
  await signInAndUnlock(page, admin.name, admin.password);
  await followHeaderLink(page, 'Admin');
  const row = page.locator('tr', { has: page.getByTestId('remove-member') }).filter({ hasText: leaver.name });
  await row.getByTestId('remove-member').click();
  const ask = page.getByRole('group', { name: 'Confirm removing the member' });
  // (A retried run uploads the clip again: the count is whatever the member has.)
  await expect(ask).toContainText(new RegExp(`Remove ${leaver.name}\\? They can no longer sign in, and their comments are removed\\. Their \\d+ videos?:`));
  await ask.getByTestId('remove-videos-to').selectOption({ label: `Give them to ${viewer.name}` });
  await ask.getByTestId('confirm-remove-member').click();
  await expect(ask).toHaveCount(0);
  await expect(row).toHaveCount(0);

  await followHeaderLink(page, 'Library');
  await expect(tile(page, title).first()).toHaveAttribute('data-status', 'ready', { timeout: 15_000 });
  await expect(tile(page, title).first()).toContainText(viewer.name);
  const videos = (await (await page.request.get('/api/videos?limit=200')).json()).videos;
  expect(videos.filter((v: { owner: string }) => v.owner === leaver.name)).toEqual([]);
});

import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { clearGate, setGate } from '../support/gate';
import { tinyClips, uploadWithCli, waitForIdleQueue } from '../support/library';
import { signInAndUnlock } from '../support/session';

// An admin, so the spec can set up the library on a fresh server by itself.
const admin = { name: 'e2e-console-admin', password: 'console admin password' };
const member = { name: 'e2e-console-member', password: 'console member password' };

test.beforeAll(() => {
  ensureUser(admin.name, admin.password, true);
  ensureUser(member.name, member.password);
});
// Whatever happens, later specs get the machine's own readings back.
test.afterAll(() => clearGate());

/** The header's link: client-side, so the tab keeps the library key (Retry needs it). */
async function openAdmin(page: Page) {
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Jobs' })).toBeVisible();
}

/** The newest active job of `owner`, as the admin API lists it. */
async function newestActiveJob(page: Page, owner: string): Promise<number> {
  const listed = await (await page.request.get('/api/admin/jobs?active=true')).json();
  const ids: number[] = listed.jobs.filter((j: { owner: string }) => j.owner === owner).map((j: { job_id: number }) => j.job_id);
  expect(ids.length).toBeGreaterThan(0);
  return Math.max(...ids);
}

test('the admin page lists a job the busy server holds back, cancels it after asking, and retries it', async ({ page }) => {
  test.setTimeout(120_000);
  setGate('busy');
  await signInAndUnlock(page, admin.name, admin.password);
  uploadWithCli(page, admin, tinyClips(`admin console ${Date.now()}`, 1));
  const id = await newestActiveJob(page, admin.name);
  await openAdmin(page);

  const row = page.locator(`[data-testid="admin-job"][data-job-id="${id}"]`);
  await expect(row).toHaveAttribute('data-status', 'waiting', { timeout: 30_000 });
  await expect(row).toContainText(admin.name);
  await expect(row.getByTestId('admin-job-status')).toContainText('RAM in use 90 % (limit 72 %)');

  // Cancel asks first; "Keep it" changes nothing.
  await row.getByRole('button', { name: 'Cancel', exact: true }).click();
  const confirm = page.getByRole('group', { name: 'Confirm' });
  await expect(confirm).toContainText(`Cancel job ${id} for good?`);
  await confirm.getByRole('button', { name: 'Keep it' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(row).toHaveAttribute('data-status', 'waiting');

  await row.getByRole('button', { name: 'Cancel', exact: true }).click();
  await confirm.getByRole('button', { name: 'Cancel job' }).click();
  await expect(row).toHaveAttribute('data-status', 'cancelled');
  await expect(row.getByTestId('admin-job-status')).toHaveText('Processing cancelled');
  expect((await (await page.request.get(`/api/jobs/${id}`)).json()).status).toBe('cancelled');

  // Retry hands the video's key (opened in this tab) to the server again; the job runs once the
  // machine is free, and the speed chart gains its point.
  await row.getByRole('button', { name: 'Retry' }).click();
  await expect(row).toHaveAttribute('data-status', /^(queued|waiting)$/);
  setGate('idle');
  await expect(row).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(row.getByTestId('admin-job-status')).toHaveText('Ready');
  await waitForIdleQueue(page, 30_000);
  await page.reload();
  await expect(page.getByTestId('speed-chart').locator('circle').first()).toBeAttached({ timeout: 30_000 });
  await expect(page.getByTestId('speed-summary')).toContainText(/Median \d+ s per GB/);
});

test('the machine gauges show the forced readings and the gate\'s verdict in words, and follow the machine', async ({ page }) => {
  setGate('busy');
  await signInAndUnlock(page, admin.name, admin.password);
  await openAdmin(page);
  await expect(page.getByTestId('gauge-ram')).toContainText('90 % used, 100.0 MiB available of 2.0 GiB');
  await expect(page.getByTestId('gauge-ram')).toHaveClass(/over/);
  await expect(page.getByTestId('gauge-swap')).toContainText('0 B used (limit 200.0 MiB)');
  await expect(page.getByTestId('gauge-load')).toContainText('0.10 over the last minute on 2 cores (limit 2.0)');
  await expect(page.getByTestId('gauge-disk')).toContainText('100.0 GiB free');
  const verdict = page.getByTestId('gate-verdict');
  await expect(verdict).toHaveText('Gate closed: new jobs wait until resources free up.');
  const reasons = page.getByTestId('gate-reasons');
  await expect(reasons).toContainText('only 100 MB of RAM available (needs more than 600 MB)');
  await expect(reasons).toContainText('RAM in use 90 % (limit 72 %)');

  // Refreshed every few seconds without a reload.
  setGate('idle');
  await expect(verdict).toHaveText('Gate open: a job of ordinary size may start now.', { timeout: 15_000 });
  await expect(page.getByTestId('gauge-ram')).toContainText('27 % used');
  await expect(reasons.locator('li')).toHaveCount(0);

  // Storage lists the admin's usage; housekeeping lists its three categories.
  const storage = page.getByTestId('admin-storage');
  await expect(storage.getByTestId('storage-user').filter({ hasText: admin.name })).toBeVisible();
  await expect(storage.getByTestId('cleanup')).toHaveCount(3);
});

test('a member does not see the admin console, and its API refuses them', async ({ page }) => {
  await signInAndUnlock(page, member.name, member.password);
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
  await page.goto('/admin');
  await expect(page.getByRole('alert')).toHaveText('Only an admin can see this page.');
  await expect(page.getByTestId('admin-jobs')).toHaveCount(0);
  await expect(page.getByTestId('admin-machine')).toHaveCount(0);
  for (const path of ['/api/admin/jobs', '/api/admin/machine', '/api/admin/storage', '/api/admin/housekeeping']) {
    expect((await page.request.get(path)).status(), path).toBe(403);
  }
  const kill = await page.request.post('/api/admin/jobs/1/kill', { headers: { 'x-cloister-request': '1' } });
  expect(kill.status()).toBe(403);
});

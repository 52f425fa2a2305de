import { test, expect } from '@playwright/test';

test('the home page loads, hydrates and logs no console errors', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Private videos for your group' })).toBeVisible();
  const status = page.getByTestId('server-status');
  await expect(status).toHaveText('Not checked yet.');

  // The server-rendered button does nothing until the WASM bundle has hydrated the page; the click
  // changing the text proves hydration and a working API round trip.
  await page.getByRole('button', { name: 'Check server' }).click();
  await expect(status).toHaveText(/^Server is up \(version [0-9.]+\), database ok\.$/);

  expect(problems).toEqual([]);
});

test('an unknown page says so with a 404', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('the health endpoint answers JSON', async ({ request }) => {
  const response = await request.get('/api/health');
  expect(response.status()).toBe(200);
  expect(await response.json()).toMatchObject({ status: 'ok', database: 'ok' });
});

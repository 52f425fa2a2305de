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
  // The signed-out page says what Cloister is and how to get an account.
  await expect(page.getByTestId('welcome')).toContainText(/encrypted in your browser/i);
  await expect(page.getByTestId('welcome')).toContainText("Ask your group's admin for an invite link");
  // The page hydrates: the WASM bundle marks the document once it has taken over.
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });

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

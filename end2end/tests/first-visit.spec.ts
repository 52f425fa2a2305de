import { test, expect, type CDPSession } from '@playwright/test';

// The first visit's budget (docs/decisions.md, "The first visit"): what a new member downloads to
// see the sign-in form and use it. Counts bytes as Chromium received them (compressed, with
// headers), never time.
const WIRE_BUDGET = 600_000;
const WASM_BUDGET = 500_000;

type Fetched = { url: string; bytes: number; headers: Record<string, string> };

/** Every response of the page load with the bytes it took on the wire, from Chromium's own log. */
async function recordTransfers(cdp: CDPSession): Promise<Map<string, Fetched>> {
  const fetched = new Map<string, Fetched>();
  await cdp.send('Network.enable');
  // An empty cache: nothing may come from an earlier test.
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  cdp.on('Network.responseReceived', (event) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.response.headers)) headers[name.toLowerCase()] = String(value);
    fetched.set(event.requestId, { url: event.response.url, bytes: 0, headers });
  });
  cdp.on('Network.loadingFinished', (event) => {
    const entry = fetched.get(event.requestId);
    if (entry) entry.bytes = event.encodedDataLength;
  });
  return fetched;
}

test('the first visit to the sign-in page stays within the bytes budget', async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  const fetched = await recordTransfers(cdp);

  const response = await page.goto('/login');
  expect(response?.headers()['cache-control']).toBe('no-cache');
  // The form is in the server's HTML, before any WebAssembly runs.
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.waitForLoadState('networkidle');

  const all = [...fetched.values()];
  const wasm = all.filter((entry) => new URL(entry.url).pathname.endsWith('.wasm'));
  const total = all.reduce((sum, entry) => sum + entry.bytes, 0);
  const wasmBytes = wasm.reduce((sum, entry) => sum + entry.bytes, 0);
  const listing = all.map((entry) => `${entry.bytes}\t${entry.url}`).join('\n');
  console.log(`first visit: ${total} bytes on the wire, ${wasmBytes} of WebAssembly\n${listing}`);

  expect(wasm.length, listing).toBeGreaterThan(0);
  for (const entry of wasm) {
    expect(entry.headers['content-encoding'], entry.url).toBe('br');
    expect(entry.headers['cache-control'], entry.url).toBe('public, max-age=31536000, immutable');
    expect(entry.headers['vary'] ?? '', entry.url).toContain('accept-encoding');
  }
  expect(wasmBytes, listing).toBeLessThanOrEqual(WASM_BUDGET);
  expect(total, listing).toBeLessThanOrEqual(WIRE_BUDGET);
});

test('the code of pages a first visit does not need arrives when the page is opened', async ({ page }) => {
  // A page opened directly on a lazy route must hydrate without a panic (hydrate_lazy).
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  const cdp = await page.context().newCDPSession(page);
  const fetched = await recordTransfers(cdp);
  await page.goto('/login');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  const wasmFiles = () =>
    [...fetched.values()].map((entry) => new URL(entry.url).pathname).filter((path) => path.endsWith('.wasm'));
  const atFirst = wasmFiles();

  // The upload page's code (the upload engine) is a file of its own, fetched on the way there.
  await page.goto('/upload');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  const later = wasmFiles().filter((path) => !atFirst.includes(path));
  expect(later.length, `first: ${atFirst.join(', ')}; then: ${wasmFiles().join(', ')}`).toBeGreaterThan(0);
  await expect(page.getByRole('heading', { name: 'Upload' })).toBeVisible();

  // The other lazy routes, opened directly, hydrate as well.
  for (const path of ['/admin', '/videos/00000000000000000000000000000000']) {
    await page.goto(path);
    await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
  }
  expect(problems).toEqual([]);
});

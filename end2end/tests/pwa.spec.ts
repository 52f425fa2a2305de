import { test, expect, Page } from '@playwright/test';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureUser } from '../support/cli';
import { tinyClips, uploadWithCli } from '../support/library';
import { signInAndUnlock } from '../support/session';

// The installable app: the web app manifest and its icons, and the service worker that keeps the
// app shell (docs/decisions.md, "Installable app, share target and uploads on a phone").

/** The worker the test server serves (playwright.config.ts: --site-root ../target/site). */
const siteWorker = path.resolve(__dirname, '../../target/site/sw.js');

const user = { name: 'e2e-pwa', password: 'pwa member password' };
test.beforeAll(() => ensureUser(user.name, user.password, true));

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): [number, number] {
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

/** Waits until the service worker controls the page. */
async function controlled(page: Page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 30_000 }).toBe(true);
}

/** Every URL path in every cache the page's origin holds, by cache name. */
async function cached(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname);
    }
    return out;
  });
}

test('the app is installable: a manifest with real icons, standalone display and a share target', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute('href', '/manifest.webmanifest');
  await expect(page.locator('meta[name="theme-color"]')).toHaveAttribute('content', '#2f5d8a');
  const response = await page.request.get('/manifest.webmanifest');
  expect(response.status()).toBe(200);
  const manifest = await response.json();
  expect(manifest).toMatchObject({
    name: 'Cloister',
    short_name: 'Cloister',
    display: 'standalone',
    start_url: '/',
    scope: '/',
    theme_color: '#2f5d8a',
  });
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
  expect(manifest.share_target).toMatchObject({ action: '/share-target', method: 'POST', enctype: 'multipart/form-data' });
  expect(manifest.share_target.params.files[0].accept).toContain('video/*');

  const wanted = [
    ['any', 192],
    ['any', 512],
    ['maskable', 192],
    ['maskable', 512],
  ] as const;
  for (const [purpose, size] of wanted) {
    const icon = manifest.icons.find((i: any) => i.purpose === purpose && i.sizes === `${size}x${size}`);
    expect(icon, `${purpose} ${size}`).toBeTruthy();
    const png = await page.request.get(icon.src);
    expect(png.headers()['content-type']).toBe('image/png');
    expect(pngSize(await png.body())).toEqual([size, size]);
  }
  const apple = await page.request.get((await page.locator('link[rel="apple-touch-icon"]').getAttribute('href'))!);
  expect(pngSize(await apple.body())).toEqual([180, 180]);

  // The page's policy lets it use the manifest; the worker's own policy lets it fetch from this
  // server and nothing else.
  const pagePolicy = (await page.request.get('/')).headers()['content-security-policy'];
  expect(pagePolicy).toContain("manifest-src 'self'");
  const worker = await page.request.get('/sw.js');
  expect(worker.status()).toBe(200);
  expect(worker.headers()['content-type']).toMatch(/javascript/);
  expect(worker.headers()['content-security-policy']).toBe(
    "default-src 'none'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
});

test('a second visit opens the app with no network, and the worker never keeps an API answer or media', async ({ page, context }) => {
  test.setTimeout(180_000);
  await signInAndUnlock(page, user.name, user.password);
  // Videos in the library, so browsing it asks the API for listings (and thumbnails once ready).
  uploadWithCli(page, user, tinyClips('pwa clip', 2));
  await controlled(page);
  // The library under the worker: the listing, thumbnails (sealed, from /api/) all pass through it.
  await page.goto('/');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await expect(page.getByTestId('library-unlocked').or(page.getByLabel('Your passphrase'))).toBeVisible();
  const apiSeen: string[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) apiSeen.push(new URL(r.url()).pathname);
  });
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.goto('/');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await expect.poll(() => apiSeen.length).toBeGreaterThan(0);

  // What the worker keeps: '/', the built files it names, icons. Wait until the wasm is there.
  await expect
    .poll(async () => Object.values(await cached(page)).flat().some((p) => p.startsWith('/pkg/') && p.endsWith('.wasm')), {
      timeout: 30_000,
    })
    .toBe(true);
  const kept = await cached(page);
  const paths = Object.values(kept).flat();
  expect(paths).toContain('/');
  for (const p of paths) {
    expect(p, `kept ${p}`).not.toMatch(/^\/api\//);
    expect(p, `kept ${p}`).toMatch(/^(\/|\/upload|\/login|\/pkg\/.+|\/icons\/.+|\/favicon\.png)$/);
  }
  expect(Object.keys(kept).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^cloister-shell-/)]));

  // No network at all: the shell still opens, from the worker, and hydrates (the wasm ran).
  await context.setOffline(true);
  const offline = await page.goto('/');
  expect(offline?.fromServiceWorker()).toBe(true);
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await expect(page.locator('header').first()).toBeVisible();
  await expect(page.getByRole('link', { name: 'Cloister' }).first()).toBeVisible();
  // A page never opened here says plainly that it needs the network.
  await page.goto('/admin');
  await expect(page.getByText('You are offline')).toBeVisible();
  await context.setOffline(false);

  // Signing out forgets every kept page (they were rendered for this member); built files stay.
  await page.goto('/');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await controlled(page);
  await page.getByRole('button', { name: 'Sign out' }).first().evaluate((b: HTMLElement) => b.click());
  await expect(page).toHaveURL(/\/login/);
  await expect
    .poll(async () => Object.values(await cached(page)).flat().filter((p) => !p.startsWith('/pkg/') && !p.startsWith('/icons/') && p !== '/favicon.png'), { timeout: 15_000 })
    .toEqual([]);
  expect(Object.values(await cached(page)).flat().some((p) => p.startsWith('/pkg/'))).toBe(true);
});

test('a new version of the worker takes over an open page and deletes the old caches', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  await controlled(page);
  const current = readFileSync(siteWorker, 'utf8');
  const version = /const VERSION = '([^']+)';/.exec(current)?.[1];
  expect(version).toBeTruthy();
  await expect.poll(async () => Object.keys(await cached(page))).toContain(`cloister-shell-${version}`);

  // The server now has a new version of the worker, as after an upgrade: the built site's sw.js
  // with a new VERSION (restored afterwards).
  // Its build-time .br/.gz copies are set aside, or the server would keep sending the old one.
  const compressed = ['.br', '.gz'].map((ext) => siteWorker + ext).filter((file) => existsSync(file));
  for (const file of compressed) renameSync(file, file + '.aside');
  writeFileSync(siteWorker, current.replace(`const VERSION = '${version}';`, "const VERSION = 'next-test';"));
  try {
    const before = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
    await page.evaluate(async () => {
      (window as any).__controllerChanged = false;
      navigator.serviceWorker.addEventListener('controllerchange', () => ((window as any).__controllerChanged = true));
      const registration = await navigator.serviceWorker.getRegistration();
      await registration!.update();
    });
    // The open page is taken over without a reload, and only the new version's cache is left.
    await expect.poll(() => page.evaluate(() => (window as any).__controllerChanged), { timeout: 30_000 }).toBe(true);
    await expect
      .poll(async () => Object.keys(await cached(page)).filter((n) => n.startsWith('cloister-shell-')), { timeout: 30_000 })
      .toEqual(['cloister-shell-next-test']);
    expect(await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL)).toBe(before);
    // The page still works: it navigates within the app, and a reload loads it through the new worker.
    await page.getByRole('link', { name: 'Cloister' }).first().click();
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    await expect(page.locator('html[data-hydrated]')).toBeAttached({ timeout: 30_000 });
  } finally {
    writeFileSync(siteWorker, current);
    for (const file of compressed) renameSync(file + '.aside', file);
  }
});

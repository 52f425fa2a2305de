// Cloister's service worker: keeps the app shell for a fast (and offline) revisit and receives
// videos shared from a phone's share sheet. Plain JavaScript on purpose: it must exist before the
// WebAssembly loads and runs where wasm may not. What it may keep, and why, is written down in
// docs/decisions.md ("Installable app, share target and uploads on a phone").
//
// It NEVER keeps API answers (/api/*), sealed media, thumbnails or anything else: only
// navigations (the server's HTML), /pkg/* (the built scripts, WebAssembly and CSS) and the icons.

// Bump on every change to this file: the old caches are deleted when the new worker activates.
const VERSION = 'v2';
const SHELL = `cloister-shell-${VERSION}`;
// Videos shared to Cloister, kept until they are uploaded or removed. Not versioned: a file shared
// just before an update must survive it.
const SHARED = 'cloister-shared';
const SHARE_ACTION = '/share-target';
const SHARED_PREFIX = '/share-target/files/';
// Pages kept for offline use; the oldest goes first.
const MAX_PAGES = 20;
// A file shared but never uploaded is dropped after this long.
const SHARED_MAX_AGE_MS = 14 * 24 * 3600 * 1000;
const ICONS = ['/favicon.png', '/icons/icon-192.png', '/icons/icon-512.png'];

self.addEventListener('install', (event) => {
  // Keep '/' and what it loads, so the second visit works even with no network. A new worker
  // takes over at once (see "activate"): it holds no state that an open page depends on.
  event.waitUntil(
    Promise.allSettled([keepPage('/'), ...ICONS.map(keepAsset)]).then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== SHELL && name !== SHARED) await caches.delete(name);
      }
      await dropStaleShares();
      await self.clients.claim();
    })(),
  );
});

// The page tells the worker which page it is on, so that page (not only '/') opens offline.
// On sign-out it asks the worker to forget every kept page: they were rendered for that member.
self.addEventListener('message', (event) => {
  const path = event.data && event.data.keepPage;
  if (typeof path === 'string' && path.startsWith('/') && !path.startsWith('//')) {
    event.waitUntil(keepPage(path));
  }
  if (event.data && event.data.forgetPages === true) event.waitUntil(forgetPages());
});

async function forgetPages() {
  const cache = await caches.open(SHELL);
  for (const kept of await cache.keys()) {
    if (!new URL(kept.url).pathname.startsWith('/pkg/') && !isIcon(kept.url)) await cache.delete(kept);
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === 'POST' && url.pathname === SHARE_ACTION) {
    event.respondWith(receiveShare(request));
    return;
  }
  if (request.method !== 'GET' || request.headers.has('range')) return;
  if (url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    event.respondWith(page(request, url));
  } else if (url.pathname.startsWith('/pkg/')) {
    event.respondWith(hashed(url.pathname) ? cacheFirst(request) : networkFirst(request));
  } else if (ICONS.includes(url.pathname) || url.pathname.startsWith('/icons/')) {
    event.respondWith(cacheFirst(request));
  }
  // Everything else (media, thumbnails, the web app manifest, this file) goes to the network untouched.
});

/** A built file whose name carries its content hash (e.g. cloister.8f3a91c2.wasm) never changes. */
function hashed(path) {
  return /[.-](?=[A-Za-z0-9_]*[0-9])[A-Za-z0-9_]{8,}\.[a-z0-9]+$/.test(path);
}

/** Its name without the hash, so an older build of the same file can be dropped. */
function unhashed(path) {
  return path.replace(/[.-](?=[A-Za-z0-9_]*[0-9])[A-Za-z0-9_]{8,}(\.[a-z0-9]+)$/, '$1');
}

/** Worth keeping: a complete, same-origin, successful answer the server allows to be stored. */
function keepable(response) {
  const cacheControl = response.headers.get('cache-control') || '';
  return response.ok && response.status === 200 && response.type === 'basic' && !response.redirected && !/no-store/i.test(cacheControl);
}

/** Navigations: the network first (pages change with the session); the kept copy when offline. */
async function page(request, url) {
  try {
    const response = await fetch(request);
    if (keepable(response) && isHtml(response)) await putPage(url.pathname, response.clone());
    return response;
  } catch (offline) {
    const kept = await caches.match(url.pathname, { cacheName: SHELL });
    if (kept) return kept;
    return new Response(
      '<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
        '<title>Cloister</title><p>You are offline, and this page was not opened here before. ' +
        'Connect to the internet and try again.</p>',
      { status: 503, headers: { 'content-type': 'text/html; charset=utf-8' } },
    );
  }
}

function isHtml(response) {
  return (response.headers.get('content-type') || '').startsWith('text/html');
}

async function putPage(path, response) {
  const cache = await caches.open(SHELL);
  await cache.put(path, response);
  const pages = (await cache.keys()).filter((r) => !new URL(r.url).pathname.startsWith('/pkg/') && !isIcon(r.url));
  for (const old of pages.slice(0, Math.max(0, pages.length - MAX_PAGES))) await cache.delete(old);
}

function isIcon(href) {
  const path = new URL(href).pathname;
  return ICONS.includes(path) || path.startsWith('/icons/');
}

/** Fetches a page and everything under /pkg/ it names, and keeps them. */
async function keepPage(path) {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!keepable(response) || !isHtml(response)) return;
  const html = await response.clone().text();
  await putPage(path, response);
  const assets = new Set(html.match(/\/pkg\/[A-Za-z0-9._\-/]+/g) || []);
  await Promise.allSettled([...assets].map(keepAsset));
}

async function keepAsset(path) {
  const response = await fetch(path);
  if (keepable(response)) await putAsset(new Request(new URL(path, self.location.origin)), response);
}

async function putAsset(request, response) {
  const cache = await caches.open(SHELL);
  const path = new URL(request.url).pathname;
  if (hashed(path)) {
    // One build of each file is enough: drop the older ones.
    for (const old of await cache.keys()) {
      const oldPath = new URL(old.url).pathname;
      if (oldPath !== path && hashed(oldPath) && unhashed(oldPath) === unhashed(path)) await cache.delete(old);
    }
  }
  await cache.put(request, response);
}

async function cacheFirst(request) {
  const kept = await caches.match(request, { cacheName: SHELL });
  if (kept) return kept;
  const response = await fetch(request);
  if (keepable(response)) await putAsset(request, response.clone());
  return response;
}

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (keepable(response)) await putAsset(request, response.clone());
    return response;
  } catch (offline) {
    const kept = await caches.match(request, { cacheName: SHELL });
    if (kept) return kept;
    throw offline;
  }
}

/**
 * The share sheet's POST (the manifest's share_target): keep each video in Cache Storage and send
 * the browser to the Upload page, which lists them (docs/uploads.md, "From a phone").
 */
async function receiveShare(request) {
  let form;
  try {
    form = await request.formData();
  } catch (unreadable) {
    return Response.redirect('/upload?shared=failed', 303);
  }
  const files = form.getAll('videos').filter((f) => f instanceof File && f.size > 0);
  if (files.length === 0) return Response.redirect('/upload?shared=none', 303);
  const batch = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
  const cache = await caches.open(SHARED);
  try {
    await Promise.all(
      files.map((file, i) =>
        cache.put(
          `${SHARED_PREFIX}${batch}/${i}`,
          new Response(file, {
            headers: {
              'content-type': file.type || 'application/octet-stream',
              'x-cloister-name': encodeURIComponent(file.name || `shared-video-${i + 1}`),
              'x-cloister-modified': String(file.lastModified || Date.now()),
              'x-cloister-shared-at': String(Date.now()),
            },
          }),
        ),
      ),
    );
  } catch (full) {
    return Response.redirect('/upload?shared=failed', 303);
  }
  return Response.redirect(`/upload?shared=${batch}`, 303);
}

async function dropStaleShares() {
  const cache = await caches.open(SHARED);
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    const at = Number(response && response.headers.get('x-cloister-shared-at'));
    if (!at || Date.now() - at > SHARED_MAX_AGE_MS) await cache.delete(request);
  }
}

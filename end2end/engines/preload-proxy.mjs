// Runs a script before any script of the app's pages, for a browser whose WebDriver cannot
// (Debian's WebKitWebDriver has no BiDi, so no `script.addPreloadScript`): a reverse proxy in
// front of the Cloister server that adds `<script src="/__cross-engine/preload.js">` as the first
// element of every HTML page's <head> and serves that script itself. It is same-origin, so the
// page's Content-Security-Policy (`script-src 'self'`) lets it run, unchanged; a classic script
// at the top of <head> runs before the page's module scripts. Everything else, WebSockets
// included, passes through untouched, except that pages are asked for uncompressed (no
// Accept-Encoding), so they can be edited.

import http from 'node:http';
import net from 'node:net';

const PRELOAD_PATH = '/__cross-engine/preload.js';

export async function startPreloadProxy(port, upstreamPort, preloadSource) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    if (req.url === PRELOAD_PATH) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(preloadSource);
      return;
    }
    const headers = { ...req.headers };
    delete headers['accept-encoding'];
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers },
      (up) => {
        const isHtml = /^text\/html/i.test(up.headers['content-type'] ?? '');
        if (!isHtml) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const chunks = [];
        up.on('data', (c) => chunks.push(c));
        up.on('end', () => {
          const html = Buffer.concat(chunks).toString('utf8');
          const tag = `<script src="${PRELOAD_PATH}"></script>`;
          const edited = html.replace(/<head(\s[^>]*)?>/i, (head) => head + tag);
          const out = { ...up.headers };
          delete out['content-length'];
          delete out['transfer-encoding'];
          res.writeHead(up.statusCode ?? 502, { ...out, 'content-length': Buffer.byteLength(edited) });
          res.end(edited);
        });
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  // WebSockets (/api/events): the request head as it came, then bytes both ways.
  server.on('upgrade', (req, socket, head) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    sockets.add(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The iOS 17.1+ shape: no `MediaSource`, only `ManagedMediaSource`. Counts the ManagedMediaSource
 * objects the page constructs, so the test can tell it played through one (and not through a
 * whole-file fallback).
 */
export const REMOVE_MEDIA_SOURCE = `
(() => {
  const seen = { managedMediaSources: 0, mediaSourceRemoved: delete window.MediaSource };
  const Managed = window.ManagedMediaSource;
  if (Managed) {
    window.ManagedMediaSource = new Proxy(Managed, {
      construct(target, args, newTarget) {
        seen.managedMediaSources += 1;
        return Reflect.construct(target, args, newTarget === window.ManagedMediaSource ? target : newTarget);
      },
    });
  }
  Object.defineProperty(window, '__crossEngine', { value: seen });
})();
`;

/** Older iPhones (before iOS 17.1): neither `MediaSource` nor `ManagedMediaSource`. */
export const REMOVE_ALL_MEDIA_SOURCES = `
(() => {
  const seen = { managedMediaSources: 0, removed: delete window.MediaSource && delete window.ManagedMediaSource };
  Object.defineProperty(window, '__crossEngine', { value: seen });
})();
`;

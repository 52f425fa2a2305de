// Search benchmark (docs/benchmarks.md, "Search"). Not a test: it measures and prints, and
// asserts nothing about time.
//
//     cargo leptos build --release --split && target/release/cloister compress-site --site-root target/site
//     cargo build --release -p cloister --example find_seed
//     cd end2end && node bench/search.mjs [--videos 5000] [--baseline 200] [--keystrokes 60] [--port 3145]
//
// A real `cloister serve` on a temp data directory (127.0.0.1:<port>), an admin who sets the
// library up in Chromium, then the library filled with the `find_seed` example (sealed titles,
// descriptions and metadata under the real library key; no media). For each size — the baseline
// (200 videos) first, then the full library — Chromium signs in and unlocks afresh, and the
// gallery fetches `GET /api/videos/index` and builds its index with the real code; the build time
// is the gap between the gallery's `performance.mark`s around `LibraryIndex::build`. Then words
// are typed into the search box one key at a time: each keystroke is an `input` event, timed on
// the page's `performance.now()` from just before the event to the moment the result count in the
// DOM changed (the tiles are replaced in the same update), and to the next frame after it.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const binary = path.join(root, 'target/release/cloister');
const seeder = path.join(root, 'target/release/examples/find_seed');
const siteRoot = path.join(root, 'target/site');

const USER = 'bench';
const PASSWORD = 'bench password, not secret';
const PASSPHRASE = 'a benchmark passphrase of several words';
/** Words the seeder uses, typed a key at a time (each prefix is one search). */
const TYPED = ['garden', 'birthday', 'picnic', 'mountain', 'fireworks', 'grandma', 'violin', 'harbour', 'festival', 'sunset'];

function options(argv) {
  const o = { videos: 5000, baseline: 200, keystrokes: 60, port: 3145 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[++i]);
    if (a === '--videos') o.videos = v;
    else if (a === '--baseline') o.baseline = v;
    else if (a === '--keystrokes') o.keystrokes = v;
    else if (a === '--port') o.port = v;
    else throw new Error(`unknown option ${a} (--videos N --baseline N --keystrokes N --port P)`);
  }
  if (!(o.baseline >= 1 && o.videos > o.baseline && o.keystrokes >= 5)) throw new Error('bad numbers');
  return o;
}

function serve(dataDir, port) {
  const child = spawn(binary, ['serve', '--addr', `127.0.0.1:${port}`, '--site-root', siteRoot], {
    env: { ...process.env, CLOISTER_DATA_DIR: dataDir, CLOISTER_LOGIN_BURST: '100', CLOISTER_WORKERS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('cloister serve did not start in 30 s')), 30_000);
    child.on('exit', (code) => reject(new Error(`cloister serve exited (${code})`)));
    child.stdout.on('data', (data) => {
      out += data;
      if (/Cloister is running at/.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
  });
}

function seed(dataDir, count, seedNo) {
  execFileSync(seeder, ['--data-dir', dataDir, '--owner', USER, '--count', String(count), '--seed', String(seedNo)], {
    env: { ...process.env, CLOISTER_PASSPHRASE: PASSPHRASE },
    stdio: 'pipe',
  });
}

async function signIn(page, base, fresh) {
  await page.goto(`${base}/login`);
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached', timeout: 60_000 });
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (fresh) {
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByLabel('Type it again').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Set passphrase' }).click();
  } else {
    await page.getByLabel('Library passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await page.getByTestId('library-unlocked').waitFor({ timeout: 120_000 });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/** Signs in afresh, waits for the whole index, types; answers build time, index size, keystroke times. */
async function measure(browser, base, expected, keystrokes) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, base, false);
  const count = page.getByTestId('find-count');
  await count.waitFor({ timeout: 120_000 });
  await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]')?.textContent === `${n} videos`, expected, { timeout: 120_000 });
  const built = await page.evaluate(() => {
    const [fetched] = performance.getEntriesByName('cloister-find-index-fetched').slice(-1);
    const [done] = performance.getEntriesByName('cloister-find-index-built').slice(-1);
    const index = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/api/videos/index').slice(-1)[0];
    return { buildMs: done.startTime - fetched.startTime, wire: index?.encodedBodySize, body: index?.decodedBodySize };
  });
  const dom = [];
  const counted = [];
  const frame = [];
  const found = [];
  let typed = 0;
  for (let w = 0; typed < keystrokes; w++) {
    const word = TYPED[w % TYPED.length];
    for (let i = 1; i <= word.length && typed < keystrokes; i++, typed++) {
      const r = await page.evaluate(async (text) => {
        const input = document.querySelector('[data-testid="find-text"]');
        const counter = document.querySelector('[data-testid="find-count"]');
        const before = counter.textContent;
        let changed = null;
        const obs = new MutationObserver(() => {
          if (changed === null && counter.textContent !== before) changed = performance.now();
        });
        obs.observe(counter, { childList: true, characterData: true, subtree: true });
        const t0 = performance.now();
        input.value = text;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        // Leptos runs its effects (the search, the new tiles) as microtasks: by the next task
        // they are done and the DOM holds the results.
        await new Promise((r) => setTimeout(r, 0));
        const settled = performance.now();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        obs.disconnect();
        return { settled: settled - t0, changed: changed === null ? null : changed - t0, frame: performance.now() - t0, text: counter.textContent };
      }, word.slice(0, i));
      dom.push(r.settled);
      // A keystroke that leaves the count unchanged has no count change to time.
      if (r.changed !== null) counted.push(r.changed);
      frame.push(r.frame);
      found.push(r.text);
    }
    // Clear the box between words (all videos again), untimed.
    await page.getByTestId('find-text').fill('');
    await page.waitForFunction((n) => document.querySelector('[data-testid="find-count"]')?.textContent === `${n} videos`, expected);
  }
  await page.close();
  return { ...built, dom, counted, frame, found };
}

async function main() {
  const o = options(process.argv.slice(2));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cloister-search-bench-'));
  let server;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    execFileSync(binary, ['user', 'add', USER, '--admin', '--password-stdin'], {
      env: { ...process.env, CLOISTER_DATA_DIR: dataDir },
      input: `${PASSWORD}\n`,
      stdio: 'pipe',
    });
    server = await serve(dataDir, o.port);
    const base = `http://127.0.0.1:${o.port}`;
    const setup = await browser.newPage();
    await signIn(setup, base, true);
    await setup.close();

    seed(dataDir, o.baseline, 1);
    const small = await measure(browser, base, o.baseline, o.keystrokes);
    seed(dataDir, o.videos - o.baseline, 2);
    const large = await measure(browser, base, o.videos, o.keystrokes);

    const load = os.loadavg().map((l) => l.toFixed(2)).join(', ');
    console.log(`Chromium ${browser.version()}, ${os.cpus().length} cores, load average ${load}`);
    console.log(`| | ${o.baseline} videos (baseline) | ${o.videos} videos | ratio |`);
    console.log('|---|---|---|---|');
    const row = (name, a, b, unit = ' ms') => console.log(`| ${name} | ${a.toFixed(1)}${unit} | ${b.toFixed(1)}${unit} | ${(b / a).toFixed(2)} |`);
    row('Index build (decrypt + fold), once per fetch', small.buildMs, large.buildMs);
    row('Index answer on the wire', small.wire / 1024, large.wire / 1024, ' KB');
    row('Index answer decoded', small.body / 1024, large.body / 1024, ' KB');
    row('Keystroke → results in the DOM, median', median(small.counted), median(large.counted));
    row('Keystroke → results in the DOM, 90th percentile', pct(small.counted, 0.9), pct(large.counted, 0.9));
    row('Keystroke → results in the DOM, slowest', Math.max(...small.counted), Math.max(...large.counted));
    console.log(`(${o.keystrokes} keystrokes typed at each size; ${small.counted.length} and ${large.counted.length} changed the count)`);
  } finally {
    await browser.close();
    if (server) server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

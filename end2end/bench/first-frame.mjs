// Play-to-first-frame benchmark (docs/benchmarks.md, "Play to first frame"; issue #6). Not a test:
// it measures and prints, and asserts nothing about time. Run it through scripts/bench-playback.sh.
//
// A real `cloister serve` on a temp data directory (127.0.0.1), an admin, the library and a real
// 720p H.264/AAC clip uploaded with `cloister upload --wait`; then Chromium opens `/videos/:id`
// afresh for every run, with the HTTP cache disabled (CDP), and times Play → the first frame the
// `<video>` presents (`requestVideoFrameCallback`), both taken with `performance.now()` in the page.
// Baselines, interleaved with it in the same run and served from a local static server:
//   - "plain MP4": `<video src=clip.mp4 preload=none>` of the unencrypted upload, play() on click;
//   - "plain MSE": the same fMP4 init and first segment, unencrypted, fed to a MediaSource by a
//     dozen lines of JavaScript — Cloister's sequence without the WebAssembly, the checks and the
//     decryption.
// Hooks on MediaSource, SourceBuffer and SubtleCrypto (and Resource Timing) split Cloister's time
// into phases.

import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const binary = path.join(root, 'target/release/cloister');
const siteRoot = path.join(root, 'target/site');
const fixtures = path.join(root, 'end2end/.cache/fixtures');

const USER = 'bench';
const PASSWORD = 'bench password, not secret';
const PASSPHRASE = 'a benchmark passphrase of several words';

function options(argv) {
  const o = { runs: 15, warmup: 2, seconds: 60, bitrate: '4M', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') o.runs = Number(value());
    else if (a === '--warmup') o.warmup = Number(value());
    else if (a === '--seconds') o.seconds = Number(value());
    else if (a === '--bitrate') o.bitrate = value();
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown option ${a} (--runs N --warmup N --seconds S --bitrate 4M --keep)`);
  }
  if (!(o.runs >= 1) || !(o.warmup >= 0) || !(o.seconds >= 8)) throw new Error('bad --runs, --warmup or --seconds');
  return o;
}

/** 720p30 H.264 High + AAC, a keyframe every 2 s (as phones write), fast start. Made once. */
function makeClip(seconds, bitrate) {
  mkdirSync(fixtures, { recursive: true });
  const file = path.join(fixtures, `bench-720p-${seconds}s-${bitrate}.mp4`);
  if (!existsSync(file)) {
    const partial = `${file}.partial.mp4`;
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
      // Moving noise so the encoder really spends the bitrate (testsrc2 alone compresses to little).
      '-vf', 'noise=alls=12:allf=t',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
      '-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate,
      '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
      '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', '-shortest', partial,
    ]);
    execFileSync('mv', [partial, file]);
  }
  return file;
}

/** The clip cut as the server's remux cuts it (HLS fMP4, 4 s), unencrypted, for the MSE baseline. */
function segment(clip, dir) {
  mkdirSync(dir, { recursive: true });
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-i', clip,
    '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy',
    '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '4', '-hls_playlist_type', 'vod',
    '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', path.join(dir, 'seg%05d.m4s'),
    path.join(dir, 'index.m3u8'),
  ]);
}

const PLAIN_PAGE = `<!doctype html><meta charset="utf-8"><title>plain MP4</title>
<video data-testid="video" preload="none" playsinline src="/clip.mp4" style="width:640px"></video>
<button data-testid="play" onclick="document.querySelector('video').play()">Play</button>`;

// What Cloister's engine does, minus WebAssembly, checks and decryption: attach, add the buffer,
// append init then segment 0, play() called at the click.
const MSE_PAGE = `<!doctype html><meta charset="utf-8"><title>plain MSE</title>
<video data-testid="video" preload="none" playsinline style="width:640px"></video>
<button data-testid="play">Play</button>
<script>
const mime = new URLSearchParams(location.search).get('mime');
const video = document.querySelector('video');
const once = (target, name) => new Promise((resolve) => target.addEventListener(name, resolve, { once: true }));
async function append(buffer, url) {
  const bytes = await (await fetch(url)).arrayBuffer();
  buffer.appendBuffer(bytes);
  await once(buffer, 'updateend');
}
document.querySelector('button').addEventListener('click', () => {
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  video.play().catch(() => {});
  once(source, 'sourceopen').then(async () => {
    const buffer = source.addSourceBuffer(mime);
    await append(buffer, '/init.mp4');
    await append(buffer, '/seg00000.m4s');
  });
});
</script>`;

/** A static server for the baselines: the pages, the clip and its segments, with Range. */
function staticServer(clip, segments) {
  const files = new Map([['/clip.mp4', clip]]);
  for (const name of readdirSync(segments)) files.set(`/${name}`, path.join(segments, name));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const headers = { 'cache-control': 'no-store' };
    if (url.pathname === '/plain.html' || url.pathname === '/mse.html') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html' });
      res.end(url.pathname === '/plain.html' ? PLAIN_PAGE : MSE_PAGE);
      return;
    }
    const file = files.get(url.pathname);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    const type = url.pathname.endsWith('.mp4') ? 'video/mp4' : 'application/octet-stream';
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      res.writeHead(206, {
        ...headers, 'content-type': type, 'accept-ranges': 'bytes',
        'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1,
      });
      createReadStream(file, { start, end }).pipe(res);
    } else {
      res.writeHead(200, { ...headers, 'content-type': type, 'accept-ranges': 'bytes', 'content-length': size });
      createReadStream(file).pipe(res);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function cloister(args, env, input) {
  return execFileSync(binary, args, { env: { ...process.env, ...env }, input, encoding: 'utf8', stdio: 'pipe' });
}

/** `cloister serve` on a free port; resolves with the child and its base URL. */
function serve(dataDir) {
  const child = spawn(binary, ['serve', '--addr', '127.0.0.1:0', '--site-root', siteRoot], {
    env: {
      ...process.env,
      CLOISTER_DATA_DIR: dataDir,
      CLOISTER_LOGIN_BURST: '100',
      // Other builds share this machine: the resource gate must not hold the upload's processing
      // back for the load average (memory and disk checks still apply).
      CLOISTER_MAX_LOAD: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('cloister serve did not start in 30 s')), 30_000);
    child.on('exit', (code) => reject(new Error(`cloister serve exited (${code})`)));
    child.stdout.on('data', (data) => {
      out += data;
      const match = /Cloister is running at (http:\/\/\S+?)\/?\s/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, base: match[1] });
      }
    });
  });
}

// Installed in every page before its own scripts: the click, the first frame, and Cloister's
// phases, all on the page's performance.now() clock.
function instrument() {
  const b = (window.__bench = { click: null, frame: null, marks: [] });
  const mark = (name, extra = {}) => b.marks.push({ name, t: performance.now(), ...extra });
  const onFrame = (now, meta) => {
    if (b.frame === null) b.frame = { now, presentationTime: meta.presentationTime, mediaTime: meta.mediaTime, presentedFrames: meta.presentedFrames };
  };
  document.addEventListener('click', (event) => {
    if (!(event.target instanceof Element) || !event.target.closest('[data-testid="play"]')) return;
    b.click = performance.now();
    const video = document.querySelector('video');
    video.requestVideoFrameCallback(onFrame);
    // In case attaching a new source dropped the request made before it.
    video.addEventListener('loadstart', () => video.requestVideoFrameCallback(onFrame), { once: true });
    for (const name of ['loadedmetadata', 'loadeddata', 'playing']) {
      video.addEventListener(name, () => mark(name), { once: true });
    }
  }, true);
  // Main-thread tasks over 50 ms: what can hold the first frame back besides the media.
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.marks.push({ name: 'longtask', t: e.startTime, end: e.startTime + e.duration });
  }).observe({ type: 'longtask' });
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = function (object) {
    if (object instanceof MediaSource) {
      mark('attach');
      object.addEventListener('sourceopen', () => mark('sourceopen'), { once: true });
    }
    return createObjectURL.call(this, object);
  };
  const addSourceBuffer = MediaSource.prototype.addSourceBuffer;
  MediaSource.prototype.addSourceBuffer = function (type) {
    b.mime = type;
    return addSourceBuffer.call(this, type);
  };
  const appendBuffer = SourceBuffer.prototype.appendBuffer;
  SourceBuffer.prototype.appendBuffer = function (data) {
    const bytes = data.byteLength;
    mark('append', { bytes });
    this.addEventListener('updateend', () => mark('appended', { bytes }), { once: true });
    return appendBuffer.call(this, data);
  };
  const decrypt = SubtleCrypto.prototype.decrypt;
  SubtleCrypto.prototype.decrypt = function (...args) {
    const t = performance.now();
    const bytes = args[2]?.byteLength;
    return decrypt.apply(this, args).then((plain) => {
      b.marks.push({ name: 'decrypt', t, end: performance.now(), bytes });
      return plain;
    });
  };
  const importKey = SubtleCrypto.prototype.importKey;
  SubtleCrypto.prototype.importKey = function (...args) {
    const t = performance.now();
    return importKey.apply(this, args).then((key) => {
      b.marks.push({ name: 'importKey', t, end: performance.now() });
      return key;
    });
  };
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    mark('play()');
    return play.call(this);
  };
}

/** Clicks Play and waits for the first frame; answers the page's record and its resource timings. */
async function measure(page, play) {
  await play.waitFor({ state: 'visible', timeout: 60_000 });
  // Let the page settle (the gallery's thumbnail beneath, the events socket) before the click.
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
  await page.waitForTimeout(200);
  await play.click();
  await page.waitForFunction(() => window.__bench.frame !== null, null, { timeout: 30_000, polling: 50 });
  return page.evaluate(() => ({
    ...window.__bench,
    resources: performance
      .getEntriesByType('resource')
      .filter((e) => e.startTime >= window.__bench.click)
      .map((e) => ({ name: new URL(e.name).pathname, start: e.startTime, responseStart: e.responseStart, end: e.responseEnd, bytes: e.encodedBodySize })),
  }));
}

/** Cloister's record → phase times relative to the click (ms). */
function phases(r) {
  const at = (t) => (t === undefined ? undefined : t - r.click);
  // Opening the view decrypted the manifest (and the title, a thumbnail) before the click.
  const after = r.marks.filter((m) => m.t >= r.click);
  const find = (name) => after.find((m) => m.name === name);
  const init = r.resources.find((e) => /\/renditions\/[0-9a-f]+\/init$/.test(e.name));
  const seg0 = r.resources.find((e) => /\/segments\/0$/.test(e.name));
  // Init and segment 0 are one 4 MiB chunk each (checked by the count below): one decrypt each.
  const decrypts = after.filter((m) => m.name === 'decrypt');
  const imports = after.filter((m) => m.name === 'importKey');
  const appended = after.filter((m) => m.name === 'appended');
  return {
    'sourceopen': at(find('sourceopen')?.t),
    'init fetch start': at(init?.start),
    'init fetched': at(init?.end),
    'init decrypted': at(decrypts[0]?.end),
    'init appended': at(appended[0]?.t),
    'segment 0 fetch start': at(seg0?.start),
    'segment 0 first byte': at(seg0?.responseStart),
    'segment 0 fetched': at(seg0?.end),
    'segment 0 key imported': at(imports[1]?.end),
    'segment 0 decrypted': at(decrypts[1]?.end),
    'segment 0 appended': at(appended[1]?.t),
    'loadedmetadata': at(find('loadedmetadata')?.t),
    'loadeddata': at(find('loadeddata')?.t),
    'first frame': at(r.frame.now),
    'playing': at(find('playing')?.t),
    '(segment 0 bytes)': seg0?.bytes,
    '(segment 0 decrypt ms)': decrypts[1] && decrypts[1].end - decrypts[1].t,
    '(decrypts by the first frame)': decrypts.filter((d) => d.end <= r.frame.now).length,
    '(long-task ms, click to first frame)': after
      .filter((m) => m.name === 'longtask' && m.t < r.frame.now)
      .reduce((sum, m) => sum + Math.min(m.end, r.frame.now) - m.t, 0),
  };
}

/** The plain MSE page's steps, relative to the click (ms). */
function basicSteps(r) {
  const after = r.marks.filter((m) => m.t >= r.click);
  const appended = after.filter((m) => m.name === 'appended');
  const at = (t) => (t === undefined ? undefined : t - r.click);
  return {
    'sourceopen': at(after.find((m) => m.name === 'sourceopen')?.t),
    'init appended': at(appended[0]?.t),
    'segment 0 appended': at(appended[1]?.t),
    'loadeddata': at(after.find((m) => m.name === 'loadeddata')?.t),
    'first frame': at(r.frame.now),
    'playing': at(after.find((m) => m.name === 'playing')?.t),
  };
}

function printSteps(runs) {
  for (const key of Object.keys(runs[0])) {
    const xs = runs.map((p) => p[key]).filter((x) => x !== undefined);
    if (xs.length) console.log(`| ${key} | ${f1(median(xs))} | ${f1(Math.min(...xs))} | ${f1(Math.max(...xs))} |`);
  }
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => {
  const s = sorted(xs);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const p90 = (xs) => sorted(xs)[Math.max(0, Math.ceil(0.9 * xs.length) - 1)];
const f1 = (x) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(1));

async function main() {
  const o = options(process.argv.slice(2));
  if (!existsSync(binary) || !existsSync(path.join(siteRoot, 'pkg'))) {
    throw new Error('build first: cargo leptos build --release (scripts/bench-playback.sh does)');
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'cloister-bench-playback-'));
  const dataDir = path.join(work, 'data');
  mkdirSync(dataDir);
  const cleanup = [];
  try {
    const clip = makeClip(o.seconds, o.bitrate);
    const plainSegments = path.join(work, 'plain');
    segment(clip, plainSegments);
    const statics = await staticServer(clip, plainSegments);
    cleanup.push(() => statics.close());
    const staticBase = `http://127.0.0.1:${statics.address().port}`;

    const { child, base } = await serve(dataDir);
    cleanup.push(() => child.kill('SIGTERM'));
    cloister(['user', 'add', USER, '--admin', '--password-stdin'], { CLOISTER_DATA_DIR: dataDir }, `${PASSWORD}\n`);
    const client = { CLOISTER_SERVER: base, CLOISTER_USER: USER, CLOISTER_PASSWORD: PASSWORD, CLOISTER_PASSPHRASE: PASSPHRASE };
    cloister(['library', 'init'], client);
    const t0 = Date.now();
    const uploaded = cloister(['upload', '--wait', '--title', 'Bench 720p', clip], client);
    const id = /video ([0-9a-f]{32})/.exec(uploaded)?.[1];
    if (!id) throw new Error(`no video id in: ${uploaded}`);
    console.log(`clip: ${path.relative(root, clip)} (${(statSync(clip).size / 1e6).toFixed(1)} MB), uploaded and processed in ${((Date.now() - t0) / 1000).toFixed(1)} s as video ${id}`);

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    cleanup.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(instrument);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

    // Sign in and unlock, remembering the key for this tab so every reload opens the view at once.
    await page.goto(`${base}/login`);
    await page.locator('html[data-hydrated]').waitFor({ state: 'attached', timeout: 30_000 });
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Library passphrase').fill(PASSPHRASE);
    await page.getByLabel('Remember for this browser session').check();
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByTestId('library-unlocked').waitFor({ timeout: 60_000 });

    console.log(`chromium ${browser.version()}; ${os.cpus().length} cores; load before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const results = { cloister: [], 'plain MSE': [], 'plain MP4': [] };
    const phaseRuns = [];
    const mseRuns = [];
    let mime = null;
    for (let run = 0; run < o.warmup + o.runs; run++) {
      const counted = run >= o.warmup;
      // Cloister first: its addSourceBuffer tells the MSE baseline the codec string.
      await page.goto(`${base}/videos/${id}`);
      const r = await measure(page, page.getByTestId('play'));
      mime = r.mime;
      const p = phases(r);
      if (counted) {
        results.cloister.push(p['first frame']);
        phaseRuns.push(p);
      }
      await page.goto(`${staticBase}/mse.html?mime=${encodeURIComponent(mime)}`);
      const mse = await measure(page, page.getByTestId('play'));
      if (counted) {
        results['plain MSE'].push(mse.frame.now - mse.click);
        mseRuns.push(basicSteps(mse));
      }
      await page.goto(`${staticBase}/plain.html`);
      const plain = await measure(page, page.getByTestId('play'));
      if (counted) results['plain MP4'].push(plain.frame.now - plain.click);
      console.log(
        `${counted ? `run ${run - o.warmup + 1}` : 'warm-up'}: cloister ${f1(p['first frame'])} ms, plain MSE ${f1(mse.frame.now - mse.click)} ms, plain MP4 ${f1(plain.frame.now - plain.click)} ms` +
          ` (first frame's mediaTime ${r.frame.mediaTime}, presentedFrames ${r.frame.presentedFrames})`,
      );
    }
    console.log(`load after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; codec ${mime}`);

    console.log(`\nPlay → first frame, ms, ${o.runs} runs (after ${o.warmup} warm-up):`);
    console.log('| Player | Median | p90 | Min | Max |\n|---|---|---|---|---|');
    for (const [name, xs] of Object.entries(results)) {
      console.log(`| ${name} | ${f1(median(xs))} | ${f1(p90(xs))} | ${f1(Math.min(...xs))} | ${f1(Math.max(...xs))} |`);
    }
    const m = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, median(xs)]));
    console.log(`\nratio of medians: cloister / plain MP4 = ${(m.cloister / m['plain MP4']).toFixed(2)}, cloister / plain MSE = ${(m.cloister / m['plain MSE']).toFixed(2)}`);

    console.log('\nCloister, medians of each step, ms after the click:');
    console.log('| Step | Median | Min | Max |\n|---|---|---|---|');
    printSteps(phaseRuns);
    console.log('\nPlain MSE, the same steps:');
    console.log('| Step | Median | Min | Max |\n|---|---|---|---|');
    printSteps(mseRuns);
  } finally {
    for (const undo of cleanup.reverse()) {
      try {
        await undo();
      } catch {
        // Best effort: the rest must still be cleaned up.
      }
    }
    if (o.keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench-playback: ${err.message ?? err}`);
  process.exit(1);
});

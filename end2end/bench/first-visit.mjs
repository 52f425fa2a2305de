// Measures first visits to a running Cloister in Debian's Chromium, each in a fresh context (an
// empty cache): bytes on the wire (all responses, as Chromium counted them, headers included),
// bytes of WebAssembly on the wire, and the time from navigation to hydration (`html[data-hydrated]`),
// with and without network emulation. Used by scripts/bench-first-visit.sh.
//   node bench/first-visit.mjs <base URL> <label> <runs>
import { chromium } from 'playwright-core';

const [base, label, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
// 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency: Lighthouse's "slow 4G".
const SLOW = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function visit(browser, conditions) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (conditions) await cdp.send('Network.emulateNetworkConditions', conditions);
  const urls = new Map();
  let wire = 0;
  let wasm = 0;
  cdp.on('Network.responseReceived', (event) => urls.set(event.requestId, event.response.url));
  cdp.on('Network.loadingFinished', (event) => {
    wire += event.encodedDataLength;
    if (new URL(urls.get(event.requestId) ?? base).pathname.endsWith('.wasm')) wasm += event.encodedDataLength;
  });
  const started = Date.now();
  await page.goto(`${base}/login`, { waitUntil: 'commit', timeout: 120_000 });
  await page.locator('html[data-hydrated]').waitFor({ state: 'attached', timeout: 120_000 });
  const interactive = Date.now() - started;
  await page.waitForLoadState('networkidle');
  await context.close();
  return { wire, wasm, interactive };
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic'],
});
const fast = [];
const slow = [];
for (let i = 0; i < runs; i++) {
  fast.push(await visit(browser, null));
  slow.push(await visit(browser, SLOW));
}
await browser.close();
const result = {
  label,
  runs,
  wireBytes: median(slow.map((r) => r.wire)),
  wasmBytes: median(slow.map((r) => r.wasm)),
  interactiveMsSlow: median(slow.map((r) => r.interactive)),
  interactiveMsLocal: median(fast.map((r) => r.interactive)),
};
console.log(JSON.stringify(result));

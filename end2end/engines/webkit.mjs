// WebKit: Debian's WebKitWebDriver (webkit2gtk-driver) driving MiniBrowser on a virtual X
// display (Xvfb), with webdriverio as the W3C WebDriver client. Debian's WebKitGTK is built
// without WebDriver BiDi, so this is WebDriver classic. H.264/AAC play through GStreamer
// (gstreamer1.0-libav and -plugins-base/good/bad).

import { createWriteStream, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { remote } from 'webdriverio';
import { start, stop } from './processes.mjs';

const DRIVER = process.env.CLOISTER_WEBKIT_DRIVER ?? 'WebKitWebDriver';

/** MiniBrowser lives in WebKitGTK's library directory, whose API version is in its name. */
export function findMiniBrowser() {
  if (process.env.CLOISTER_MINIBROWSER) return process.env.CLOISTER_MINIBROWSER;
  const found = [];
  for (const arch of readdirSync('/usr/lib')) {
    const archDir = path.join('/usr/lib', arch);
    let entries = [];
    try {
      entries = readdirSync(archDir);
    } catch {
      continue;
    }
    for (const api of entries.filter((e) => /^webkit2gtk-4\.\d+$/.test(e))) {
      const candidate = path.join(archDir, api, 'MiniBrowser');
      if (existsSync(candidate)) found.push(candidate);
    }
  }
  // The newest API version (4.1 over 4.0).
  return found.sort().reverse()[0];
}

/** Starts Xvfb on a free display number (it tells which through -displayfd). */
async function startXvfb(log) {
  const xvfb = start('Xvfb', 'Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  xvfb.stderr.on('data', (d) => log.write(d));
  const display = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not report a display within 15 s')), 15_000);
    xvfb.stdio[3].on('data', (d) => {
      text += d;
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${text.trim()}`);
      }
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before it reported a display`));
    });
  });
  return { xvfb, display };
}

async function waitForDriver(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${DRIVER} exited (${child.exitCode})`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${DRIVER} did not answer on port ${port} within ${timeoutMs / 1000} s`);
}

/** The virtual display the WebKit cases share. */
export async function startDisplay(logDir) {
  const log = createWriteStream(path.join(logDir, 'webkit.log'));
  const { xvfb, display } = await startXvfb(log);
  return { display, log, stop: () => stop(xvfb) };
}

/**
 * A fresh WebKitWebDriver and MiniBrowser (its own cookies and storage) for one case; closing
 * the session stops both. A session that does not start is tried once more with a new driver:
 * on a loaded machine MiniBrowser has, rarely, failed to come up for a second session.
 */
export async function launchWebKit({ display, log }, port) {
  const miniBrowser = findMiniBrowser();
  if (!miniBrowser) throw new Error('MiniBrowser not found under /usr/lib/*/webkit2gtk-4.*/ (apt install webkit2gtk-driver)');
  for (let attempt = 1; ; attempt++) {
    const driver = start('WebKitWebDriver', DRIVER, [`--port=${port}`], { env: { DISPLAY: display }, log });
    try {
      await waitForDriver(port, driver, 15_000);
      return await launchMiniBrowser(port, miniBrowser, () => stop(driver));
    } catch (err) {
      await stop(driver);
      if (attempt >= 2) throw err;
      log.write(`\n[cross-engine] the WebKit session did not start (${err.message}); trying once more\n`);
    }
  }
}

async function launchMiniBrowser(port, miniBrowser, stopDriver) {
  const browser = await remote({
    hostname: '127.0.0.1',
    port,
    logLevel: 'silent',
    connectionRetryTimeout: 45_000,
    connectionRetryCount: 0,
    capabilities: {
      // webdriverio would ask for BiDi (webSocketUrl), which this driver does not offer.
      'wdio:enforceWebDriverClassic': true,
      'webkitgtk:browserOptions': { binary: miniBrowser, args: ['--automation'] },
    },
  });
  await browser.setTimeout({ script: 30_000, pageLoad: 60_000 });
  await browser.setWindowSize(1280, 800).catch(() => {});
  return {
    name: 'WebKit',
    version: `MiniBrowser ${browser.capabilities.browserVersion ?? ''}`.trim(),
    errors: [],
    goto: (url) => browser.url(url),
    evaluate: (fn, ...args) => browser.execute(fn, ...args),
    click: async (selector) => (await browser.$(selector)).click(),
    type: async (selector, text) => (await browser.$(selector)).setValue(text),
    // WebDriver's Element Send Keys with a path is how a file input is given a file.
    setFile: async (selector, file) => (await browser.$(selector)).addValue(file),
    screenshot: (file) => browser.saveScreenshot(file),
    close: async () => {
      await browser.deleteSession().catch(() => {});
      await stopDriver();
    },
  };
}

#!/usr/bin/env node
// Cross-engine tests (docs/decisions.md, "Cross-engine tests"): the member's path — sign in, unlock, a
// decoded thumbnail, Play advancing currentTime, an upload through the Upload page — in Firefox
// (firefox-esr over WebDriver BiDi) and WebKit (MiniBrowser under WebKitWebDriver and Xvfb), and
// in WebKit without window.MediaSource (the iOS 17.1+ shape: ManagedMediaSource only) and
// without either (older iPhones: a short video is played whole), against a real server of its own. Every check is reported by name; the exit code is non-zero
// if any failed; every process started here is stopped on the way out, whatever happened.
//
// Usage: node end2end/engines/run.mjs [--only firefox|webkit|webkit-no-mse|webkit-no-streaming]...
// Ports: CLOISTER_ENGINES_PORT (default 3110) for the server, +1 for the WebKit page proxy,
// +2 for WebKitWebDriver. Needs target/release/cloister and target/site (cargo leptos build --release).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createReport, within } from './checks.mjs';
import { launchFirefox } from './firefox.mjs';
import { REMOVE_ALL_MEDIA_SOURCES, REMOVE_MEDIA_SOURCE, startPreloadProxy } from './preload-proxy.mjs';
import { killAllNow, stopAll } from './processes.mjs';
import { closeVideoStep, lengthStep, playStep, problemsOnPage, signInSteps, thumbnailStep, uploadStep } from './scenario.mjs';
import { makeClip, PASSPHRASE, PASSWORD, root, SEEDED_SECONDS, SEEDED_TITLE, startServer, USER } from './server.mjs';
import { launchWebKit, startDisplay } from './webkit.mjs';

const CASES = ['firefox', 'webkit', 'webkit-no-mse', 'webkit-no-streaming'];
const only = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--only' && CASES.includes(process.argv[i + 1])) only.push(process.argv[++i]);
  else {
    console.error(`usage: run.mjs [--only ${CASES.join('|')}]...`);
    process.exit(2);
  }
}
const wanted = (c) => only.length === 0 || only.includes(c);

const basePort = Number(process.env.CLOISTER_ENGINES_PORT ?? 3110);
const outDir = path.join(root, 'end2end/.cache/engines');
mkdirSync(outDir, { recursive: true });

// Whatever happens, nothing started here outlives the run.
let cleaning;
const cleanUp = () => (cleaning ??= stopAll());
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.log(`\n${signal}: stopping everything started here`);
    cleanUp().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

const report = createReport();
const timings = [];
const timed = async (label, fn) => {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    timings.push(`${label} ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
};

/** Runs one case in a freshly launched browser, which is closed afterwards in any case. */
async function runCase(caseName, launch, buildSteps) {
  let driver;
  try {
    driver = await within(120_000, `${caseName} to start`, launch());
  } catch (err) {
    report.fail(`${caseName}: the browser starts`, err);
    return;
  }
  console.log(`${caseName} (${driver.version})`);
  const evidence = async (label) => {
    const file = path.join(outDir, `${label.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.png`);
    const page = await within(10_000, 'reading the page', driver.evaluate(problemsOnPage)).catch(() => null);
    if (page) console.log(`       at ${page.url}${page.shown.length ? `; the page says: ${page.shown.join(' | ')}` : ''}`);
    if (driver.errors.length) console.log(`       page errors: ${driver.errors.slice(-5).join(' | ')}`);
    await within(15_000, 'a screenshot', driver.screenshot(file));
    console.log(`       screenshot: ${path.relative(root, file)}`);
  };
  try {
    await report.runCase(caseName, buildSteps(driver), evidence);
  } finally {
    await within(20_000, `closing ${caseName}`, driver.close()).catch(() => {});
  }
}

async function main() {
  const started = Date.now();
  const server = await timed('server start and seeding', () => startServer(basePort, outDir));
  const session = { url: server.url, user: USER, password: PASSWORD, passphrase: PASSPHRASE };
  // The uploaded file's name is its default title; one file per engine, so each upload is new.
  const uploadClip = async (engine) => {
    const file = await makeClip(`engines-upload-${engine}.mp4`, 3);
    return { file, title: path.basename(file, '.mp4') };
  };
  try {
    if (wanted('firefox')) {
      const upload = await uploadClip('firefox');
      await timed('Firefox', () => runCase('Firefox', launchFirefox, (d) => [
        ...signInSteps(d, session),
        thumbnailStep(d, { title: SEEDED_TITLE }),
        playStep(d, { title: SEEDED_TITLE, screenshotTo: path.join(outDir, 'firefox-playing.png') }),
        lengthStep(d, { seconds: SEEDED_SECONDS }),
        closeVideoStep(d),
        uploadStep(d, upload),
      ]));
    }
    if (CASES.filter((c) => c.startsWith('webkit')).some(wanted)) {
      const display = await startDisplay(outDir);
      const launchMiniBrowser = () => launchWebKit(display, basePort + 2);
      try {
        if (wanted('webkit')) {
          const upload = await uploadClip('webkit');
          await timed('WebKit', () => runCase('WebKit', launchMiniBrowser, (d) => [
            ...signInSteps(d, session),
            thumbnailStep(d, { title: SEEDED_TITLE }),
            playStep(d, { title: SEEDED_TITLE, screenshotTo: path.join(outDir, 'webkit-playing.png') }),
            lengthStep(d, { seconds: SEEDED_SECONDS }),
            closeVideoStep(d),
            uploadStep(d, upload),
          ]));
        }
        // The phone shapes: a proxy adds a script that runs before the app's (preload-proxy.mjs).
        const shapes = [
          ['webkit-no-mse', 'WebKit without MediaSource', REMOVE_MEDIA_SOURCE, 'MediaSource'],
          ['webkit-no-streaming', 'WebKit without any media source', REMOVE_ALL_MEDIA_SOURCES, 'any media source'],
        ];
        for (const [id, caseName, preload, without] of shapes.filter(([id]) => wanted(id))) {
          const proxy = await startPreloadProxy(basePort + 1, basePort, preload);
          try {
            const viaProxy = { ...session, url: proxy.url };
            await timed(caseName, () => runCase(caseName, launchMiniBrowser, (d) => [
              ...signInSteps(d, viaProxy),
              thumbnailStep(d, { title: SEEDED_TITLE }),
              playStep(d, { title: SEEDED_TITLE, without, screenshotTo: path.join(outDir, `${id}-playing.png`) }),
              lengthStep(d, { seconds: SEEDED_SECONDS }),
            ]));
          } finally {
            await proxy.stop();
          }
        }
      } finally {
        await display.stop();
      }
    }
  } finally {
    await server.stop();
  }
  timings.push(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

let exitCode = 1;
try {
  await main();
  const failed = report.results.filter((r) => r.status !== 'passed');
  console.log(`\n${report.results.length - failed.length} of ${report.results.length} checks passed; ${timings.join(', ')}`);
  exitCode = report.ok ? 0 : 1;
} catch (err) {
  console.error(`\nThe cross-engine tests could not run: ${err?.stack ?? err}`);
} finally {
  await cleanUp();
}
process.exit(exitCode);

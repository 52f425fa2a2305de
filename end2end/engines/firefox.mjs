// Firefox (Debian's firefox-esr), headless, driven over WebDriver BiDi by puppeteer-core: no
// geckodriver. The same small driver interface as webkit.mjs, so one scenario runs in both.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { adopt, removeAtCleanup } from './processes.mjs';

export const FIREFOX = process.env.CLOISTER_FIREFOX ?? '/usr/bin/firefox-esr';

export async function launchFirefox() {
  // A profile of our own, so it is deleted even if Firefox has to be killed.
  const profile = mkdtempSync(path.join(os.tmpdir(), 'cloister-engines-firefox-'));
  removeAtCleanup(profile);
  const browser = await puppeteer.launch({
    userDataDir: profile,
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    timeout: 60_000,
    protocolTimeout: 60_000,
    defaultViewport: { width: 1280, height: 800 },
  });
  const child = browser.process();
  if (child) adopt('firefox-esr', child);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err?.message ?? err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return {
    name: 'Firefox',
    version: await browser.version(),
    errors,
    goto: (url) => page.goto(url, { waitUntil: 'load', timeout: 60_000 }),
    evaluate: (fn, ...args) => page.evaluate(fn, ...args),
    click: async (selector) => page.click(selector),
    type: async (selector, text) => {
      await page.click(selector);
      await page.type(selector, text);
    },
    setFile: async (selector, file) => {
      const input = await page.$(selector);
      if (!input) throw new Error(`no ${selector}`);
      await input.uploadFile(file);
    },
    screenshot: (file) => page.screenshot({ path: file }),
    close: () => browser.close(),
  };
}

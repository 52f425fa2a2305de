// Renders public/icons/*.svg into the PNG sizes the web app manifest lists (docs/decisions.md,
// "Installable app"), with Debian's Chromium through Playwright. Run from end2end/:
//   node support/render-icons.mjs
import { chromium } from '@playwright/test';
import { readFileSync } from 'node:fs';

const icons = new URL('../../public/icons/', import.meta.url);
const renders = [
  ['icon.svg', 'icon-192.png', 192],
  ['icon.svg', 'icon-512.png', 512],
  ['icon-maskable.svg', 'icon-maskable-192.png', 192],
  ['icon-maskable.svg', 'icon-maskable-512.png', 512],
  ['icon-maskable.svg', 'apple-touch-icon.png', 180],
];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
for (const [svg, png, size] of renders) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  const source = readFileSync(new URL(svg, icons), 'utf8');
  await page.setContent(
    `<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${source}`,
  );
  await page.screenshot({ path: new URL(png, icons).pathname, omitBackground: true });
  await page.close();
}
await browser.close();

import AxeBuilder from '@axe-core/playwright';
import { test, expect, Page } from '@playwright/test';
import { DESKTOP, PHONE, tourEveryPage } from '../support/tour';

// axe-core on every page, signed out and in, in the light and the dark colour scheme, at a laptop's
// width and a phone's: no serious or critical violation anywhere.
async function seriousViolations(page: Page, label: string): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${label}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

test('no serious accessibility violation on any page, light or dark, laptop or phone', async ({ page }) => {
  test.setTimeout(300_000);
  const found: string[] = [];
  await page.setViewportSize(DESKTOP);
  await tourEveryPage(page, async (name) => {
    for (const size of [DESKTOP, PHONE]) {
      await page.setViewportSize(size);
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        found.push(...(await seriousViolations(page, `${name} ${size.width} ${colorScheme}`)));
      }
    }
    await page.setViewportSize(DESKTOP);
    await page.emulateMedia({ colorScheme: 'light' });
  });
  expect(found).toEqual([]);
});

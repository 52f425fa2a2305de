import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test, expect, Page } from '@playwright/test';
import { ensureUser } from '../support/cli';
import { signInAndUnlock } from '../support/session';
import { DESKTOP, PHONE, hydrated, tourAdmin, tourEveryPage } from '../support/tour';

// Every page at a phone's width and a laptop's, signed out and in: no sideways scrolling, and on
// the phone every button and link is big enough for a thumb. The screenshots are kept for people
// to look at (test-results/layout/).
const shots = path.resolve(__dirname, '../test-results/layout');

/** How far the page can scroll sideways (0 when it fits the viewport). */
async function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/**
 * Visible buttons and links smaller than 44×44 CSS pixels. A link inside a sentence is exempt (as
 * in WCAG 2.5.8), a checkbox counts with its label, and a link stretched over its card by an
 * absolutely placed ::after counts as the card.
 */
async function smallTapTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const small: string[] = [];
    const targets = document.querySelectorAll<HTMLElement>(
      'button, a[href], summary, [role="button"], input[type="checkbox"], input[type="radio"], select',
    );
    for (const el of targets) {
      if (!el.checkVisibility({ checkVisibilityCSS: true } as any)) continue;
      const style = getComputedStyle(el);
      if (el.tagName === 'A' && style.display === 'inline' && el.closest('p, li, dd')) continue;
      // A checkbox's label is tapped as well as the box itself.
      let box = (el.tagName === 'INPUT' && el.closest('label') ? el.closest('label')! : el).getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      const after = getComputedStyle(el, '::after');
      if (after.content !== 'none' && after.position === 'absolute' && el.offsetParent) {
        box = el.offsetParent.getBoundingClientRect();
      }
      if (box.width < 43.5 || box.height < 43.5) {
        const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40);
        small.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}×${Math.round(box.height)}`);
      }
    }
    return small;
  });
}

/** Looks at the page at one size: screenshots light and dark, the overflow, on the phone the targets. */
async function look(page: Page, name: string, size: { width: number; height: number }) {
  await page.setViewportSize(size);
  // Let layout, fonts and pictures settle at the new size.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const label = `${name}-${size.width}`;
  // A modal covers the viewport: the page beneath it is not what a person sees.
  const fullPage = (await page.locator('dialog[open]').count()) === 0;
  await page.screenshot({ path: path.join(shots, `${label}.png`), fullPage });
  // The same in the dark colour scheme, for people to compare (axe checks its contrast).
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(shots, `${label}-dark.png`), fullPage });
  await page.emulateMedia({ colorScheme: 'light' });
  expect.soft(await sidewaysOverflow(page), `${label}: the page scrolls sideways`).toBeLessThanOrEqual(0);
  if (size.width === PHONE.width) {
    expect.soft(await smallTapTargets(page), `${label}: tap targets under 44 px`).toEqual([]);
  }
}

test('every page fits a phone and a laptop, with thumb-sized targets on the phone', async ({ page }) => {
  test.setTimeout(240_000);
  mkdirSync(shots, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await tourEveryPage(page, async (name) => {
    await look(page, name, PHONE);
    await look(page, name, DESKTOP);
  });
});

test('on a phone the header folds into a menu that opens, reaches Sign out and closes (Escape, a link)', async ({ page }) => {
  test.setTimeout(120_000);
  mkdirSync(shots, { recursive: true });
  await page.setViewportSize(DESKTOP);
  ensureUser(tourAdmin.name, tourAdmin.password, true);
  await signInAndUnlock(page, tourAdmin.name, tourAdmin.password);
  await page.setViewportSize(PHONE);
  await page.goto('/');
  await hydrated(page);
  const toggle = page.getByRole('button', { name: 'Menu' });
  const signOut = page.getByRole('button', { name: 'Sign out' });
  await expect(toggle).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(toggle).toHaveAttribute('aria-controls', 'site-nav');
  await expect(signOut).toBeHidden();

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(signOut).toBeVisible();
  await expect(page.getByRole('banner').getByRole('link', { name: 'Upload' })).toBeVisible();
  await page.screenshot({ path: path.join(shots, 'menu-open-390.png') });
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
  expect(await smallTapTargets(page)).toEqual([]);

  // Escape closes it and leaves the focus on the button.
  await page.keyboard.press('Escape');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(signOut).toBeHidden();
  await expect(toggle).toBeFocused();
  await toggle.click();
  await expect(signOut).toBeVisible();

  // Following a link closes the menu.
  await page.getByRole('banner').getByRole('link', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/upload$/);
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(signOut).toBeHidden();

  // At a laptop's width there is no menu: the links are in the bar.
  await page.setViewportSize(DESKTOP);
  await expect(toggle).toBeHidden();
  await expect(signOut).toBeVisible();

  // Sign out works from the phone's menu.
  await page.setViewportSize(PHONE);
  await toggle.click();
  await signOut.click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(toggle).toHaveCount(0);
});

import { Page } from '@playwright/test';

/** One state a gallery tile showed. */
export type TileState = { status: string | null; percent: string | null; text: string };

/**
 * Records, inside the page, every state each gallery tile passes through (status, progress bar,
 * status line), so a test can check the sequence afterwards however fast it went. Also leaves a
 * marker on `window` that only survives if the page is never reloaded.
 */
export async function recordTiles(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    if (w.__tileLog) return;
    const log: Record<string, TileState[]> = {};
    w.__tileLog = log;
    w.__sameDocument = true;
    const record = () => {
      document.querySelectorAll('[data-testid="video-tile"]').forEach((tile) => {
        const id = tile.getAttribute('data-video-id') ?? '';
        const bar = tile.querySelector('[data-testid="tile-progress"]');
        const state = {
          status: tile.getAttribute('data-status'),
          percent: bar ? bar.getAttribute('aria-valuenow') : null,
          text: tile.querySelector('[data-testid="tile-status"]')?.textContent ?? '',
        };
        const seen = (log[id] ??= []);
        const last = seen[seen.length - 1];
        if (!last || last.status !== state.status || last.percent !== state.percent || last.text !== state.text) {
          seen.push(state);
        }
      });
    };
    record();
    new MutationObserver(record).observe(document.body, {
      subtree: true, childList: true, attributes: true, characterData: true,
    });
  });
}

export async function tileLog(page: Page, videoId: string): Promise<TileState[]> {
  return page.evaluate((id) => (window as any).__tileLog?.[id] ?? [], videoId);
}

/** True while the page recordTiles was called on has not been reloaded or replaced. */
export async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as any).__sameDocument === true);
}

/** The statuses in the order they were first shown, without repeats in a row. */
export function statusSequence(log: TileState[]): string[] {
  return log.map((s) => s.status ?? '').filter((s, i, all) => i === 0 || s !== all[i - 1]);
}

import { expect, Page } from '@playwright/test';

/** Indexes of the chunks the page PUTs from now on (a resumed upload must send only the missing ones). */
export function chunksSent(page: Page): number[] {
  const sent: number[] = [];
  page.on('request', (r) => {
    const m = r.url().match(/\/chunks\/(\d+)$/);
    if (m && r.method() === 'PUT') sent.push(Number(m[1]));
  });
  return sent;
}

/**
 * The Upload page checks every chosen file before anything is sent (upload-hygiene.spec.ts). The
 * specs share one library, and ffmpeg makes the same bytes for the same settings, so a fixture may
 * be in the library already: keep both, as a member who means to upload it again would.
 */
export async function keepBothIfAsked(page: Page): Promise<void> {
  await expect(page.getByTestId('upload-item').first()).toBeVisible();
  await expect(page.getByTestId('upload-status').filter({ hasText: 'Checking the file' })).toHaveCount(0, { timeout: 30_000 });
  const anyway = page.getByTestId('upload-anyway');
  while ((await anyway.count()) > 0) await anyway.first().click();
}

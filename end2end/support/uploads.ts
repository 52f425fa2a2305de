import { Page } from '@playwright/test';

/** Indexes of the chunks the page PUTs from now on (a resumed upload must send only the missing ones). */
export function chunksSent(page: Page): number[] {
  const sent: number[] = [];
  page.on('request', (r) => {
    const m = r.url().match(/\/chunks\/(\d+)$/);
    if (m && r.method() === 'PUT') sent.push(Number(m[1]));
  });
  return sent;
}

import { statSync } from 'node:fs';
import path from 'node:path';
import { expect, Page } from '@playwright/test';

/** The seed's words for a busy server (`DOWNLOAD_UNAVAILABLE_MESSAGE` in shared/src/api/downloads.rs). */
export const DOWNLOAD_UNAVAILABLE =
  'Download temporarily unavailable due to server load. Add to download queue or try again later.';

/** The newest video of `owner` whose plaintext is as long as `file` (the CLI prints no id we keep). */
export async function videoIdOf(page: Page, owner: string, file: string): Promise<string> {
  const size = statSync(file).size;
  const listing = await (await page.request.get('/api/videos?limit=200')).json();
  const video = listing.videos.find((v: any) => v.owner === owner && v.size_bytes === size);
  expect(video, `no video of ${owner} with ${size} bytes`).toBeTruthy();
  return video.video_id;
}

/** Opens the video view from its gallery tile (client-side, so the tab keeps the library key). */
export async function openVideo(page: Page, videoId: string): Promise<void> {
  const tile = page.locator(`[data-testid="video-tile"][data-video-id="${videoId}"]`);
  await tile.getByTestId('open-video').click();
  await expect(page.getByTestId('video-view')).toBeVisible();
  await expect(page.getByTestId('download-panel')).toBeVisible();
}

/**
 * Makes the page's `showSaveFilePicker` hand out a real file handle from the Origin Private File
 * System, so the File System Access path (createWritable → write → close/abort) runs for real
 * without a native dialog Playwright cannot answer. `savedFile` reads it back.
 */
export async function pickerWritesToOpfs(page: Page): Promise<void> {
  await page.addInitScript(() => {
    (window as any).showSaveFilePicker = async (options: { suggestedName?: string }) => {
      (window as any).__suggestedName = options?.suggestedName ?? null;
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle('e2e-save.bin', { create: true });
    };
  });
}

/** The OPFS file the stub picker handed out: its size, SHA-256 (hashed in the page) and suggested name. */
export async function savedFile(page: Page): Promise<{ size: number; sha256: string; suggestedName: string | null }> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const file = await (await root.getFileHandle('e2e-save.bin')).getFile();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    return {
      size: file.size,
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
      suggestedName: (window as any).__suggestedName ?? null,
    };
  });
}

/** Hides `showSaveFilePicker`, as in browsers without the File System Access API. */
export async function withoutFilePicker(page: Page): Promise<void> {
  await page.addInitScript(() => {
    Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
  });
}

export const baseName = (file: string) => path.basename(file);

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, Page } from '@playwright/test';
import { keepBothIfAsked } from './uploads';

const fixtures = path.resolve(__dirname, '../.cache/fixtures');

/**
 * A small H.264/AAC MP4 with a keyframe every 2 s, so the server's remux cuts it into 4 s
 * segments (a clip with x264's default keyframe distance would give few, long ones). 640×360 at a
 * low bitrate keeps a minute of it to a few megabytes.
 */
export function makeSegmentedClip(name: string, seconds: number): string {
  mkdirSync(fixtures, { recursive: true });
  const file = path.join(fixtures, name);
  if (!existsSync(file)) {
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=550:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
      '-b:v', '400k', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '64k', '-shortest', file,
    ]);
  }
  return file;
}

/** Uploads `file` from the Upload page, goes back to the library and waits until it is ready. */
export async function uploadUntilReady(page: Page, file: string, title: string): Promise<string> {
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByTestId('file-input').setInputFiles(file);
  await page.getByTestId('upload-item').getByLabel('Title').fill(title);
  await keepBothIfAsked(page);
  await page.getByTestId('start-upload').click();
  await expect(page.getByTestId('processing-queued')).toBeVisible({ timeout: 60_000 });
  // Client-side, so the tab keeps the library key.
  await page.getByRole('link', { name: 'Cloister' }).click();
  const tile = page.getByTestId('video-tile').filter({ hasText: title });
  await expect(tile).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  const id = (await tile.getAttribute('data-video-id')) ?? '';
  expect(id).toMatch(/^[0-9a-f]{32}$/);
  return id;
}

/** The video's sealed-file requests a page makes, in order, as `manifest`, `init` or a segment number. */
export function recordVideoRequests(page: Page, videoId: string): (string | number)[] {
  const seen: (string | number)[] = [];
  const prefix = `/api/videos/${videoId}/`;
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (!pathname.startsWith(prefix)) return;
    const rest = pathname.slice(prefix.length);
    const segment = /^renditions\/[0-9a-f]{16}\/segments\/(\d+)$/.exec(rest);
    if (segment) seen.push(Number(segment[1]));
    else if (/^renditions\/[0-9a-f]{16}\/init$/.test(rest)) seen.push('init');
    else if (rest === 'manifest') seen.push('manifest');
  });
  return seen;
}

export const segmentsIn = (seen: (string | number)[]): number[] =>
  seen.filter((s): s is number => typeof s === 'number');

/** The player's `<video>`: where it is and whether real frames were decoded. */
export async function videoState(page: Page) {
  return page.getByTestId('video').evaluate((v: HTMLVideoElement) => ({
    currentTime: v.currentTime,
    paused: v.paused,
    width: v.videoWidth,
    frames: v.getVideoPlaybackQuality().totalVideoFrames,
  }));
}

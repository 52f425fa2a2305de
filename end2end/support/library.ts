import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, Page } from '@playwright/test';
import { dataDir } from '../playwright.config';
import { ensureKeys, PASSPHRASE } from './session';

const fixtures = path.resolve(__dirname, '../.cache/fixtures');

/**
 * `count` distinct files of one tiny clip (1 s, 320×180, browser-ready, so the server only remuxes
 * it): the clip is made once by ffmpeg and copied, each copy a different name and so a different
 * upload and title. Names sort in upload order: `<prefix> 01.mp4`, `<prefix> 02.mp4`, ….
 */
export function tinyClips(prefix: string, count: number): string[] {
  const dir = path.join(fixtures, 'tiny');
  mkdirSync(dir, { recursive: true });
  const clip = path.join(fixtures, 'tiny-1s.mp4');
  if (!existsSync(clip)) {
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15:duration=1',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-an', clip,
    ]);
  }
  return Array.from({ length: count }, (_, i) => {
    const file = path.join(dir, `${prefix} ${String(i + 1).padStart(2, '0')}.mp4`);
    if (!existsSync(file)) copyFileSync(clip, file);
    return file;
  });
}

/** Uploads the files with the CLI as `user` (one sign-in and unlock for all of them). */
export function uploadWithCli(page: Page, user: { name: string; password: string }, files: string[]): void {
  ensureKeys(new URL(page.url()).origin, user);
  // As support/cli.ts runs it, but quietly: each upload notes how many videos are queued ahead.
  execFileSync(path.resolve(__dirname, '../../target/release/cloister'), ['upload', ...files], {
    cwd: path.resolve(__dirname, '..'),
    env: {
      ...process.env,
      CLOISTER_DATA_DIR: dataDir,
      CLOISTER_SERVER: new URL(page.url()).origin,
      CLOISTER_USER: user.name,
      CLOISTER_PASSWORD: user.password,
      CLOISTER_PASSPHRASE: PASSPHRASE,
    },
    stdio: 'pipe',
  });
}

/** Waits until no processing job is queued, waiting or running (the page must be signed in). */
export async function waitForIdleQueue(page: Page, timeout: number): Promise<void> {
  await expect
    .poll(async () => (await (await page.request.get('/api/jobs?active=true')).json()).jobs.length, {
      timeout,
      intervals: [1_000],
    })
    .toBe(0);
}

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const fixtures = path.resolve(__dirname, '../.cache/fixtures');

/**
 * A real H.264/AAC MP4 made by ffmpeg (no binary fixtures in the repo). The test pattern and noise
 * at a high bitrate make a file of several 4 MiB chunks, so progress has steps to show.
 */
export function makeVideo(name: string, seconds: number, bitrate = '16M'): string {
  mkdirSync(fixtures, { recursive: true });
  const file = path.join(fixtures, name);
  if (!existsSync(file)) {
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
      '-vf', 'noise=alls=40:allf=t',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate,
      '-c:a', 'aac', '-shortest', file,
    ]);
  }
  return file;
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * A VP9/Opus WebM at 640×360 with moving noise: not browser-ready for Cloister, so the server
 * must transcode it (libx264, one thread), which takes several seconds and reports progress.
 */
export function makeWebm(name: string, seconds: number): string {
  mkdirSync(fixtures, { recursive: true });
  const file = path.join(fixtures, name);
  if (!existsSync(file)) {
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=30:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=330:duration=${seconds}`,
      '-vf', 'noise=alls=30:allf=t',
      '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '2M',
      '-c:a', 'libopus', '-shortest', file,
    ]);
  }
  return file;
}

// A real Cloister server for the cross-engine tests, on a fresh data directory, seeded as
// end2end/support does it: an admin made with the CLI, the library passphrase set and a clip
// uploaded with the CLI (which encrypts on this machine), then processed by the server.

import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { removeAtCleanup, start, stop } from './processes.mjs';

const run = promisify(execFile);
const MIB = 1024 * 1024;

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const binary = path.join(root, 'target/release/cloister');
const siteRoot = path.join(root, 'target/site');
export const fixtures = path.join(root, 'end2end/.cache/fixtures');

export const USER = 'engines';
export const PASSWORD = 'engines password, not secret';
export const PASSPHRASE = 'cross engine library passphrase words';
export const SEEDED_TITLE = 'Cross-engine clip';
export const SEEDED_SECONDS = 12;

/**
 * A real H.264/AAC MP4 made by ffmpeg, once: 640×360, a keyframe every 2 s (so the server cuts
 * it into several segments), a tone, `seconds` long. Its name goes into the container's title, so
 * two clips of the same length are different files (the Upload page would otherwise say the second
 * one is already in the library).
 */
export async function makeClip(name, seconds) {
  mkdirSync(fixtures, { recursive: true });
  const file = path.join(fixtures, name);
  if (existsSync(file)) return file;
  const partial = `${file}.partial.mp4`;
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=660:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0',
    '-b:v', '400k', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '64k', '-shortest', '-metadata', `title=${name}`, partial,
  ]);
  renameSync(partial, file);
  return file;
}

async function waitForHealth(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode}) before it answered`);
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the server did not answer ${url}/api/health within ${timeoutMs / 1000} s`);
}

/** Starts the server on 127.0.0.1:`port` and seeds it. Returns its URL and a stop function. */
export async function startServer(port, logDir) {
  for (const needed of [binary, path.join(siteRoot, 'pkg')]) {
    if (!existsSync(needed)) throw new Error(`${needed} is missing: run \`cargo leptos build --release\` first`);
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cloister-engines-'));
  removeAtCleanup(dataDir);
  // The resource gate reads these instead of the machine, so a busy test machine does not hold
  // processing back (as end2end/support/gate.ts does for Playwright).
  const gateFile = path.join(dataDir, 'gate-readings.json');
  writeFileSync(gateFile, JSON.stringify({
    total_ram_bytes: 2048 * MIB, available_ram_bytes: 1500 * MIB, ram_percent: 27,
    swap_used_bytes: 0, load_1m: 0.1, cores: 2, disk_free_bytes: 100 * 1024 * MIB,
  }));
  const url = `http://127.0.0.1:${port}`;
  const cli = (args, { input, env = {}, timeout = 120_000 } = {}) => {
    const child = execFile(binary, args, {
      env: {
        ...process.env, CLOISTER_DATA_DIR: dataDir, CLOISTER_SERVER: url, CLOISTER_USER: USER,
        CLOISTER_PASSWORD: PASSWORD, CLOISTER_PASSPHRASE: PASSPHRASE, ...env,
      },
      timeout,
    });
    const done = new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code, signal) =>
        code === 0 ? resolve(out) : reject(new Error(`cloister ${args[0]} failed (${signal ?? code}): ${out.trim()}`)));
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    return done;
  };

  await cli(['user', 'add', USER, '--admin', '--password-stdin'], { input: `${PASSWORD}\n` });
  const log = createWriteStream(path.join(logDir, 'server.log'));
  const server = start('cloister serve', binary,
    ['serve', '--data-dir', dataDir, '--site-root', siteRoot, '--addr', `127.0.0.1:${port}`], {
      log,
      env: {
        CLOISTER_LOGIN_BURST: '100',
        CLOISTER_GATE_READINGS_FILE: gateFile,
        CLOISTER_GATE_RECHECK_SECS: '1',
      },
    });
  const stopServer = async () => {
    await stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, server, 30_000);
    await cli(['library', 'init']);
    const clip = await makeClip(`engines-${SEEDED_SECONDS}s.mp4`, SEEDED_SECONDS);
    await cli(['upload', clip, '--title', SEEDED_TITLE, '--wait'], { timeout: 180_000 });
  } catch (err) {
    await stopServer();
    throw err;
  }
  return { url, stop: stopServer };
}

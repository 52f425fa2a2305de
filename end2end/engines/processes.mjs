// Every process the cross-engine runner starts, so it can stop all of them on any exit path.
// Each is started in a process group of its own (detached) and stopped by group: a driver's
// browser, or a browser's content processes, go with it.

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

const started = new Set();
const directories = new Set();

/** A temporary directory to delete once everything started here has stopped. */
export function removeAtCleanup(dir) {
  directories.add(dir);
}

function removeDirectories() {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
}

/** Starts `command` in its own process group; its output goes to `log` (a writable stream) if given. */
export function start(name, command, args, { env, log, stdio } = {}) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    detached: true,
    stdio: stdio ?? ['ignore', log ? 'pipe' : 'ignore', log ? 'pipe' : 'ignore'],
  });
  if (log) {
    child.stdout?.on('data', (d) => log.write(d));
    child.stderr?.on('data', (d) => log.write(d));
  }
  const entry = { name, child, exited: false };
  child.once('exit', () => {
    entry.exited = true;
  });
  child.once('error', () => {
    entry.exited = true;
  });
  started.add(entry);
  return child;
}

function signalGroup(entry, signal) {
  if (entry.exited || entry.child.pid === undefined) return;
  try {
    process.kill(-entry.child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops one process started here (TERM, then KILL after `graceMs`). */
export async function stop(child, graceMs = 3_000) {
  const entry = [...started].find((e) => e.child === child);
  if (!entry) return;
  signalGroup(entry, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (!entry.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  signalGroup(entry, 'SIGKILL');
  started.delete(entry);
}

/** Stops every process still running, newest first. */
export async function stopAll() {
  for (const entry of [...started].reverse()) await stop(entry.child);
  removeDirectories();
}

/** Last resort on an abrupt exit (an uncaught error, Ctrl-C): no waiting possible, so KILL. */
export function killAllNow() {
  for (const entry of started) signalGroup(entry, 'SIGKILL');
  removeDirectories();
}

/** Tracks a process another library started (a browser puppeteer launched), to stop it like ours. */
export function adopt(name, child) {
  const entry = { name, child, exited: child.exitCode !== null };
  child.once('exit', () => {
    entry.exited = true;
  });
  started.add(entry);
}

import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gateReadingsFile } from '../playwright.config';

const file = path.resolve(__dirname, '..', gateReadingsFile);
const MIB = 1024 * 1024;

/** A roomy machine: every default threshold of the resource gate passes. */
const idle = {
  total_ram_bytes: 2048 * MIB,
  available_ram_bytes: 1500 * MIB,
  ram_percent: 27,
  swap_used_bytes: 0,
  load_1m: 0.1,
  cores: 2,
  disk_free_bytes: 100 * 1024 * MIB,
};

/** RAM nearly full: the gate says "only 100 MB of RAM available" and "RAM in use 90 %". */
const busy = { ...idle, available_ram_bytes: 100 * MIB, ram_percent: 90 };

/**
 * Makes the test server's resource gate read `busy` or `idle` readings instead of the machine's
 * (written whole, then renamed, so the server never reads half a file). Idle rather than the real
 * machine keeps processing tests independent of whatever else the machine is doing.
 */
export function setGate(readings: 'busy' | 'idle'): void {
  const partial = `${file}.partial`;
  writeFileSync(partial, JSON.stringify(readings === 'busy' ? busy : idle));
  renameSync(partial, file);
}

/** Back to the machine's own readings. */
export function clearGate(): void {
  rmSync(file, { force: true });
}

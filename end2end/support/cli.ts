import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { dataDir } from '../playwright.config';

const binary = path.resolve(__dirname, '../../target/release/cloister');

/** Runs the real `cloister` binary against the test server's data directory. */
export function cloister(args: string[], input?: string, env: Record<string, string> = {}): string {
  return execFileSync(binary, args, {
    cwd: path.resolve(__dirname, '..'),
    input,
    env: { ...process.env, CLOISTER_DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
  });
}

/** Creates a user with the CLI (the password goes through stdin, never argv). */
export function addUser(name: string, password: string, admin = false): void {
  cloister(['user', 'add', name, ...(admin ? ['--admin'] : []), '--password-stdin'], `${password}\n`);
}

/** Creates the user unless `cloister user list` already shows it (specs may run alone or together). */
export function ensureUser(name: string, password: string, admin = false): void {
  const listed = cloister(['user', 'list']);
  if (!listed.split('\n').some((line) => line.trim().split(/\s+/)[0] === name)) addUser(name, password, admin);
}

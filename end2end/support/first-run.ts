import path from 'node:path';

/**
 * The first admin, made by first-run.spec through the setup link on the empty test server. Their
 * own passphrase is the suite's PASSPHRASE (support/session.ts).
 */
export const FIRST_ADMIN = { name: 'e2e-admin', password: 'correct horse admin' };

/** The recovery key's 24 words as first-run.spec saw them, one line, for the recovery spec. */
export const RECOVERY_WORDS_FILE = path.resolve(__dirname, '../.cache/recovery-words.txt');

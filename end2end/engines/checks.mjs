// Named checks, reported one line each as they finish; a failure stops the rest of its case
// (they depend on it), which are then reported as not run, unless the failed check is marked
// `{ independent: true }` (nothing after it depends on it).

export function createReport() {
  const results = [];
  return {
    results,
    /** Runs the checks of one case in order: `steps` is a list of [name, async fn]. */
    async runCase(caseName, steps, onFailure) {
      let failed = false;
      for (const [name, fn, { independent = false } = {}] of steps) {
        const label = `${caseName}: ${name}`;
        if (failed) {
          results.push({ label, status: 'not run' });
          console.log(`  -   ${label} (not run: an earlier check failed)`);
          continue;
        }
        const started = Date.now();
        try {
          await fn();
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          results.push({ label, status: 'passed', seconds });
          console.log(`  ok  ${label} (${seconds} s)`);
        } catch (err) {
          if (!independent) failed = true;
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          results.push({ label, status: 'failed', seconds, error: err });
          console.log(`  FAIL ${label} (${seconds} s)\n       ${String(err?.message ?? err).replace(/\n/g, '\n       ')}`);
          if (onFailure) await onFailure(label).catch((e) => console.log(`       (while saving evidence: ${e.message})`));
        }
      }
    },
    /** A case that could not even start (its browser did not launch): one failed line. */
    fail(label, err) {
      results.push({ label, status: 'failed', error: err });
      console.log(`  FAIL ${label}\n       ${String(err?.message ?? err).replace(/\n/g, '\n       ')}`);
    },
    get ok() {
      return results.length > 0 && results.every((r) => r.status === 'passed');
    },
  };
}

/** Rejects after `ms` with `what` unless `promise` settles first. */
export function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms);
    }),
  ]);
}

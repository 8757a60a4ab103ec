/**
 * The crash-test hook of the CLI: `OCR_AL_CRASH_AT=<point>` makes the process SIGKILL itself
 * when an append or a compaction reaches that named point (see `crashPoint` in
 * src/core/manifest/journal.ts and docs/edits.md for the points). It exists so the crash test
 * can stop the real binary in every interesting state instead of hoping a timer lands there.
 * Without the variable it does nothing.
 */
import type { CrashHook } from '../core/manifest/journal';

/** The hook for `OCR_AL_CRASH_AT` in `env`, or undefined when unset. */
export function crashHookFromEnv(env: NodeJS.ProcessEnv = process.env): CrashHook | undefined {
  const at = env.OCR_AL_CRASH_AT;
  if (!at) return undefined;
  return {
    wants: (point) => point === at,
    crash: () => {
      process.kill(process.pid, 'SIGKILL');
      // SIGKILL to ourselves is delivered at once; block so nothing else runs meanwhile.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
    },
  };
}

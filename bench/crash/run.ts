/**
 * The long crash run: `npm run bench:crash [-- TRIALS [SEED]]` (default 2000 trials) kills the
 * built CLI during label and compact and prints counts and any violation. Build first
 * (`npm run build`). Exits 1 when a check failed.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { runCrashTrials } from './trials';

async function main(): Promise<number> {
  const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
  if (!existsSync(cli)) {
    console.error(`${cli} is missing: run npm run build first`);
    return 2;
  }
  const trials = Number(process.argv[2] ?? 2000);
  const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
  const started = Date.now();
  const counts = await runCrashTrials({
    trials,
    seed,
    cliPath: cli,
    onProgress: (done, c) => {
      if (done % 250 === 0) console.log(`${done}/${trials} trials, ${c.violations.length} violations, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    },
  });
  console.log(JSON.stringify({ seed, seconds: Math.round((Date.now() - started) / 1000), ...counts }, null, 2));
  if (counts.violations.length) {
    console.error(`FAILED (seed ${seed}):\n${counts.violations.join('\n')}`);
    return 1;
  }
  const kills = counts.label.killedAtPoint + counts.label.killedByTimer + counts.compact.killedAtPoint + counts.compact.killedByTimer;
  console.log(`OK: ${counts.trials} trials, ${kills} kills, no damaged line, no lost acknowledged edit`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);

/**
 * kill -9 the built CLI in the middle of `label` and `compact` a few hundred times (at named
 * points and after random delays, some runs concurrent) and check after every trial that no
 * line is damaged and no acknowledged edit is lost. `npm run bench:crash` runs thousands.
 * Needs dist/cli.js (npm test builds it first; otherwise `npm run build`).
 *
 * Cost: each trial is one or two CLI processes (~0.2 s of CPU each, mostly Node startup), so
 * the 200 trials run as two independent chains of 100 in parallel, one per core: about a
 * minute on an idle 2-core machine. The timeout leaves room for a busy one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { type TrialCounts, runCrashTrials } from '../../bench/crash/trials';

const CLI = path.resolve(__dirname, '../..', 'dist', 'cli.js');

function merge(a: TrialCounts, b: TrialCounts): TrialCounts {
  const ops = (x: TrialCounts['label'], y: TrialCounts['label']) => ({
    runs: x.runs + y.runs,
    acknowledged: x.acknowledged + y.acknowledged,
    killedAtPoint: x.killedAtPoint + y.killedAtPoint,
    killedByTimer: x.killedByTimer + y.killedByTimer,
  });
  const points = { ...a.points };
  for (const [k, v] of Object.entries(b.points)) points[k] = (points[k] ?? 0) + v;
  return {
    trials: a.trials + b.trials,
    concurrent: a.concurrent + b.concurrent,
    label: ops(a.label, b.label),
    compact: ops(a.compact, b.compact),
    points,
    violations: [...a.violations, ...b.violations.map((v) => `chain 2, ${v}`)],
    baselineMs: a.baselineMs,
  };
}

test('kill -9 during label and compact never damages a line or loses an acknowledged edit', { timeout: 900_000 }, async (t) => {
  if (process.env.OCR_AL_TEST_ONLY === 'unit') {
    t.skip('crash trials are skipped by `npm run test:unit` (scripts/test.mjs); `npm test` runs them');
    return;
  }
  if (!existsSync(CLI)) {
    t.skip(`${CLI} is missing: run npm run build (npm test does it first)`);
    return;
  }
  const seed = Number(process.env.OCR_AL_CRASH_SEED ?? Date.now() % 2 ** 31);
  const total = Number(process.env.OCR_AL_CRASH_TRIALS ?? 200);
  const options = { cliPath: CLI, entries: 20, bulk: 4_000 };
  const [a, b] = await Promise.all([
    runCrashTrials({ ...options, trials: Math.ceil(total / 2), seed }),
    runCrashTrials({ ...options, trials: Math.floor(total / 2), seed: seed + 1 }),
  ]);
  const counts = merge(a, b);
  t.diagnostic(`seed ${seed}: ${JSON.stringify({ ...counts, violations: counts.violations.length })}`);
  assert.deepEqual(counts.violations, [], `rerun with OCR_AL_CRASH_SEED=${seed}`);
  assert.equal(counts.trials, total);
  if (total >= 200) {
    // The trials must really have crashed both commands, at named points and by timer.
    assert.ok(counts.label.killedAtPoint > 10 && counts.compact.killedAtPoint > 10, JSON.stringify(counts));
    assert.ok(counts.label.acknowledged > 10 && counts.compact.acknowledged > 5, JSON.stringify(counts));
    assert.ok(counts.label.killedByTimer + counts.compact.killedByTimer > 10, JSON.stringify(counts));
  }
});

// Runs the suite with node's test runner (TypeScript through tsx). Node 20's --test takes no
// globs, so the files are listed here. `--unit` skips the slow suites (e2e in code-server,
// crash trials); `--e2e` runs only the e2e journeys. Output ends with node's summary.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const only = args.includes('--e2e') ? 'e2e' : args.includes('--unit') ? 'unit' : 'all';
const extra = args.filter((a) => !a.startsWith('--'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === '.tmp' || name === 'fixtures' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

let files = extra.length ? extra : walk('test').sort();
const isE2e = (f) => f.startsWith(join('test', 'e2e'));
if (only === 'e2e') files = files.filter(isE2e);
if (only === 'unit') files = files.filter((f) => !isE2e(f));

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  { stdio: 'inherit', env: { ...process.env, OCR_AL_TEST_ONLY: only } },
);
process.exit(result.status ?? 1);

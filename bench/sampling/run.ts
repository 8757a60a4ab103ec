/**
 * Sampling benchmark (issue 3). In one run:
 *  1. 100k images x 30 boxes x 11 classes of soft labels, generated deterministically in memory
 *     (softmax of seeded random logits, one class boosted per box, 40% of boxes `other`);
 *  2. TypeScript: the four scores of every box in one fused pass (scoreImages) with `max`
 *     aggregation, then the top 1000 images of each strategy (selectImages: bounded heap, ties
 *     by source-ref);
 *  3. numpy: the same scores, vectorized, on the same data (written to a temp .f32 file), and
 *     the same top 1000 (argpartition + lexsort) — skipped when python3/numpy is missing;
 *  4. the ratio, and how many of the top 1000 agree between the two;
 *  5. when the index bench's manifest exists (bench/.data/index-*.jsonl, `npm run bench:index`),
 *     end-to-end `ocr-al sample` on it: cold (no index cache) and warm (cache hit).
 * Each timed part runs 3 times; the best run counts (the machine is shared, noise only adds).
 * Env: BENCH_SAMPLING_IMAGES (default 100000) for a quicker try.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { STRATEGIES, STRATEGY_COLUMN, scoreImages } from '../../src/core/sampling/scores';
import { selectImages } from '../../src/core/sampling/select';

const IMAGES = Number(process.env.BENCH_SAMPLING_IMAGES ?? 100_000);
const BOXES = 30;
const CLASSES = 11;
const OTHER = CLASSES - 1;
const TOP = 1000;
const REPEATS = 3;
const root = path.resolve(__dirname, '..', '..');

/** mulberry32: a tiny seeded PRNG, so the data are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(): Float32Array {
  const rand = mulberry32(3);
  const p = new Float32Array(IMAGES * BOXES * CLASSES);
  const logits = new Float64Array(CLASSES);
  for (let box = 0; box < IMAGES * BOXES; box++) {
    const top = rand() < 0.4 ? OTHER : Math.floor(rand() * OTHER);
    const confidence = 6 * rand() * rand(); // mostly sure, some not
    let max = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      logits[c] = 1.5 * rand() + (c === top ? confidence : 0);
      if (logits[c]! > max) max = logits[c]!;
    }
    let sum = 0;
    for (let c = 0; c < CLASSES; c++) sum += logits[c] = Math.exp(logits[c]! - max);
    for (let c = 0; c < CLASSES; c++) p[box * CLASSES + c] = logits[c]! / sum;
  }
  return p;
}

const NUMPY = String.raw`
import json, sys, time
import numpy as np
path, I, B, C, TOP, REPEATS = sys.argv[1], *map(int, sys.argv[2:7])
TOP = min(TOP, I - 1)
p = np.fromfile(path, dtype=np.float32).reshape(I, B, C)
idx = np.arange(I)
best, tops = float('inf'), None
for _ in range(REPEATS):
    t0 = time.perf_counter()
    s = p.sum(-1)
    part = np.partition(p, C - 2, axis=-1)
    p1, p2 = part[..., C - 1], part[..., C - 2]
    lg = np.zeros_like(p)
    np.log(p, out=lg, where=p > 0)
    lg *= p
    plogp = lg.sum(-1)
    box = {
        'least': (1 - p1 / s) * (C / (C - 1)),
        'margin': 1 - (p1 - p2) / s,
        'ratio': p2 / p1,
        'entropy': (np.log(s) - plogp / s) / np.log(C),
    }
    result = {}
    for name, score in box.items():
        m = np.clip(score, 0, 1).max(axis=1)
        cand = np.argpartition(-m, TOP)[:TOP]
        # score descending, ties by source-ref ascending (= image index: refs are zero-padded)
        result[name] = cand[np.lexsort((cand, -m[cand]))].tolist()
    ms = (time.perf_counter() - t0) * 1000
    if ms < best:
        best, tops = ms, result
print(json.dumps({'ms': best, 'numpy': np.__version__, 'top': tops}))
`;

function runNumpy(p: Float32Array): { ms: number; numpy: string; top: Record<string, number[]> } | string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ocr-al-sampling-'));
  try {
    const file = path.join(dir, 'probs.f32');
    writeFileSync(file, new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    // The machine's OpenBLAS tuning variables are for other jobs; numpy's own defaults here.
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const args = ['-c', NUMPY, file, String(IMAGES), String(BOXES), String(CLASSES), String(TOP), String(REPEATS)];
    const run = spawnSync('python3', args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.error) return `python3 not runnable (${run.error.message})`;
    if (run.status !== 0) {
      return /No module named .?numpy/.test(run.stderr) ? 'numpy is not installed' : `python3 failed: ${run.stderr.trim().split('\n').pop()}`;
    }
    return JSON.parse(run.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runTs(p: Float32Array, refs: readonly string[]) {
  const boxStart = new Int32Array(IMAGES + 1);
  for (let i = 0; i <= IMAGES; i++) boxStart[i] = i * BOXES;
  let best = { total: Infinity, score: 0, select: 0 };
  let tops: Record<string, number[]> = {};
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const { scores } = scoreImages(p, CLASSES, boxStart, { aggregate: 'max' });
    const t1 = performance.now();
    const result: Record<string, number[]> = {};
    const column = new Float64Array(IMAGES);
    for (const s of STRATEGIES) {
      const c = STRATEGY_COLUMN[s];
      for (let i = 0; i < IMAGES; i++) column[i] = scores[i * 4 + c]!;
      const picked = await selectImages({ refs, scores: column }, { budget: TOP });
      result[s] = picked.selected.map((x) => x.index);
    }
    const t2 = performance.now();
    if (t2 - t0 < best.total) {
      best = { total: t2 - t0, score: t1 - t0, select: t2 - t1 };
      tops = result;
    }
  }
  return { ...best, tops };
}

function overlap(a: readonly number[], b: readonly number[]): number {
  const set = new Set(a);
  return b.filter((x) => set.has(x)).length;
}

/** `ocr-al sample` on the index bench's manifest, cold (its index cache removed) and warm. */
function endToEnd(): void {
  const dataDir = path.join(root, 'bench', '.data');
  const manifests = existsSync(dataDir) ? readdirSync(dataDir).filter((f) => /^index-.*\.jsonl$/.test(f)) : [];
  if (manifests.length === 0) {
    process.stdout.write('\nend-to-end: skipped (no bench/.data/index-*.jsonl; run `npm run bench:index` first)\n');
    return;
  }
  const manifest = path.join(dataDir, manifests.sort((a, b) => statSync(path.join(dataDir, b)).size - statSync(path.join(dataDir, a)).size)[0]!);
  const cacheDir = path.join(dataDir, '.ocr-al');
  // The CLI as users run it: one esbuild bundle (as dist/cli.js), not TypeScript through tsx.
  const bundleDir = mkdtempSync(path.join(os.tmpdir(), 'ocr-al-cli-'));
  const cli = path.join(bundleDir, 'cli.js');
  esbuild.buildSync({ entryPoints: [path.join(root, 'src', 'cli', 'main.ts')], outfile: cli, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], logLevel: 'warning' });
  const args = [cli, 'sample', manifest, '--strategy', 'entropy', '--budget', String(TOP), '--json'];
  const run = (): { ms: number; selected: number } => {
    const t0 = performance.now();
    const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { ms: performance.now() - t0, selected: (JSON.parse(out) as { selected: unknown[] }).selected.length };
  };
  const startup = (() => {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, '--help'], { cwd: root, encoding: 'utf8' });
    return performance.now() - t0;
  })();
  process.stdout.write(`\nend-to-end \`ocr-al sample --strategy entropy --budget ${TOP}\` on ${path.relative(root, manifest)} (${(statSync(manifest).size / 1e9).toFixed(2)} GB):\n`);
  // Cold: remove only this manifest's cache files (other benches pass their own cache dirs).
  const base = path.basename(manifest);
  if (existsSync(cacheDir)) for (const f of readdirSync(cacheDir)) if (f.startsWith(`${base}.`)) rmSync(path.join(cacheDir, f), { force: true });
  const cold = run();
  const warm = [run(), run(), run()].sort((a, b) => a.ms - b.ms)[0]!;
  process.stdout.write(`  process start + CLI load (--help): ${startup.toFixed(0)} ms\n`);
  process.stdout.write(`  cold (builds and caches the index): ${(cold.ms / 1000).toFixed(2)} s, ${cold.selected} selected\n`);
  process.stdout.write(`  warm (index cache hit), best of 3:  ${warm.ms.toFixed(0)} ms, ${warm.selected} selected\n`);
  rmSync(bundleDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  process.stdout.write(`sampling bench: ${IMAGES} images x ${BOXES} boxes x ${CLASSES} classes, top ${TOP}, best of ${REPEATS}; ${os.cpus().length} cpus, node ${process.version}\n`);
  const g0 = performance.now();
  const p = generate();
  const refs = Array.from({ length: IMAGES }, (_, i) => `s3://bench/thumbnails/img-${String(i).padStart(7, '0')}.png`);
  process.stdout.write(`  data generated in ${((performance.now() - g0) / 1000).toFixed(1)} s (${(p.byteLength / 1e6).toFixed(0)} MB float32)\n`);

  const ts = await runTs(p, refs);
  process.stdout.write(`TypeScript: ${ts.total.toFixed(0)} ms (scores + max: ${ts.score.toFixed(0)} ms, 4 x top ${TOP}: ${ts.select.toFixed(0)} ms)\n`);

  const np = runNumpy(p);
  if (typeof np === 'string') {
    process.stdout.write(`numpy: skipped (${np})\n`);
  } else {
    process.stdout.write(`numpy ${np.numpy}: ${np.ms.toFixed(0)} ms\n`);
    process.stdout.write(`ratio: TypeScript is ${(np.ms / ts.total).toFixed(1)}x faster than numpy (target >= 5x)\n`);
    const agree = STRATEGIES.map((s) => `${s} ${overlap(ts.tops[s]!, np.top[s]!)}/${TOP}`).join(', ');
    process.stdout.write(`top ${TOP} agreement (same images picked): ${agree}\n`);
  }
  if (!process.env.BENCH_SAMPLING_SKIP_E2E) endToEnd();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

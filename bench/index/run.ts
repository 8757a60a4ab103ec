/**
 * Index benchmark (issue 2): on a >= 1 GB synthetic manifest (40k lines, 60 inline WORD
 * blocks with soft labels over 11 classes each), prints in one run the throughput of a plain
 * sequential read, a plain newline scan, naive per-line JSON.parse and our cold index (on one
 * thread, and on two: src/sources/parallelIndex.ts, as the CLI and the extension index local
 * files), with ratios, plus warm reopen time (cache hit) and the index processes' peak RSS.
 * All reads are from the page cache (the file is read once first), so the numbers compare
 * CPU work, not the disk.
 *
 * The manifest is generated once into bench/.data/ (gitignored). Env: BENCH_INDEX_LINES
 * (default 40000) to try other sizes.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticManifest } from '../../scripts/genManifest';

const LINES = Number(process.env.BENCH_INDEX_LINES ?? 40000);
const WORDS = 60;
const SEED = 42;
const CHUNK = 4 * 1024 * 1024;
const root = path.resolve(__dirname, '..', '..');
const dataDir = path.join(root, 'bench', '.data');
const manifest = path.join(dataDir, `index-${LINES}x${WORDS}-s${SEED}.jsonl`);

async function ensureManifest(): Promise<number> {
  if (!existsSync(manifest)) {
    await fs.mkdir(dataDir, { recursive: true });
    process.stdout.write(`generating ${manifest} (once) ...\n`);
    const temp = `${manifest}.tmp`;
    const t0 = performance.now();
    await writeSyntheticManifest(temp, { lines: LINES, words: WORDS, seed: SEED });
    await fs.rename(temp, manifest);
    process.stdout.write(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return (await fs.stat(manifest)).size;
}

/** Calls `each(buffer, n)` for every 4 MiB chunk of the manifest. */
async function readAll(each: (b: Buffer, n: number) => void): Promise<void> {
  const handle = await fs.open(manifest, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      each(buffer, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Wall-clock and CPU (user + system, all threads of this process) milliseconds. */
interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

async function timed(run: () => Promise<void>): Promise<Timing> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await run();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

function child(mode: 'cold' | 'cold2' | 'warm', cacheDir: string): { ms: number; cpuMs: number; firstPageMs: number; entries: number; fromCache: boolean; maxRssMb: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'child.ts'), mode, manifest, cacheDir], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const size = await ensureManifest();
  const mb = size / 1e6;
  const rate = (ms: number): number => mb / (ms / 1000);
  process.stdout.write(`load average before: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write(`manifest: ${manifest}\n  ${LINES} lines, ${(size / 1e9).toFixed(2)} GB, ${os.cpus().length} cpus, node ${process.version}\n`);
  await readAll(() => undefined); // page-cache warm-up

  const readT = await timed(() => readAll(() => undefined));
  let newlines = 0;
  const scanT = await timed(() =>
    readAll((b, n) => {
      for (let i = b.indexOf(10); i >= 0 && i < n; i = b.indexOf(10, i + 1)) newlines++;
    }),
  );
  let parsed = 0;
  const decoder = new TextDecoder();
  const naiveT = await timed(async () => {
    let carry = '';
    await readAll((b, n) => {
      const text = carry + decoder.decode(b.subarray(0, n), { stream: true });
      const lines = text.split('\n');
      carry = lines.pop()!;
      for (const line of lines) if (line.trim()) parsed += JSON.parse(line) ? 1 : 0;
    });
    if (carry.trim()) parsed += JSON.parse(carry) ? 1 : 0;
  });

  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'ocr-al-bench-'));
  const cacheDir2 = mkdtempSync(path.join(os.tmpdir(), 'ocr-al-bench-'));
  try {
    const cold = child('cold', cacheDir);
    const cold2 = child('cold2', cacheDir2);
    // Warm reopen: five fresh processes; the median is reported (the machine is shared).
    const warms = Array.from({ length: 5 }, () => child('warm', cacheDir)).sort((a, b) => a.ms - b.ms);
    const warm = warms[2]!;
    const row = (name: string, t: Timing, extra = ''): string =>
      `  ${name.padEnd(30)} ${(t.ms / 1000).toFixed(2).padStart(6)} s ${rate(t.ms).toFixed(0).padStart(6)} MB/s   cpu ${(t.cpuMs / 1000).toFixed(2).padStart(6)} s ${rate(t.cpuMs).toFixed(0).padStart(6)} MB/s${extra}\n`;
    process.stdout.write(`\n  ${''.padEnd(30)} ${'wall'.padStart(19)}   ${'cpu time'.padStart(22)}\n`);
    process.stdout.write(row('plain sequential read', readT));
    process.stdout.write(row('plain newline scan', scanT, `   (${newlines} lines)`));
    process.stdout.write(row('naive JSON.parse per line', naiveT, `   (${parsed} entries)`));
    process.stdout.write(row('ocr-al cold index', cold, `   (${cold.entries} entries)`));
    process.stdout.write(row('ocr-al cold index, 2 threads', cold2, `   (${cold2.entries} entries)`));
    process.stdout.write(`  first page of 50 entries   ${cold.firstPageMs.toFixed(0)} ms (1 thread), ${cold2.firstPageMs.toFixed(0)} ms (2 threads)\n\n`);
    // Ratios of throughput, by wall clock and by CPU time (the machine is shared: CPU time is
    // the steadier of the two when other processes compete for the cores).
    const ratio = (a: Timing, b: Timing): [number, number] => [b.ms / a.ms, b.cpuMs / a.cpuMs];
    const verdict = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
    const line = (name: string, [wall, cpu]: [number, number], target: number | undefined, percent: boolean): string => {
      const f = (x: number): string => (percent ? `${(x * 100).toFixed(0)}%` : `${x.toFixed(2)}x`);
      const goal = target === undefined ? '' : `target >= ${f(target)}  ${verdict(wall >= target)} (wall) / ${verdict(cpu >= target)} (cpu)`;
      return `  ${name.padEnd(30)} wall ${f(wall).padStart(6)}   cpu ${f(cpu).padStart(6)}   ${goal}\n`;
    };
    process.stdout.write(line('cold index / naive JSON.parse', ratio(cold, naiveT), 2, false));
    process.stdout.write(line('cold index / newline scan', ratio(cold, scanT), 0.2, true));
    process.stdout.write(line('cold index / plain read', ratio(cold, readT), 0.4, true));
    process.stdout.write(line('2 threads / naive JSON.parse', ratio(cold2, naiveT), 2, false));
    process.stdout.write(line('2 threads / newline scan', ratio(cold2, scanT), 0.2, true));
    process.stdout.write(line('2 threads / plain read', ratio(cold2, readT), 0.4, true));
    process.stdout.write(
      `  warm reopen (cache hit: ${warms.every((w) => w.fromCache)})  median ${warm.ms.toFixed(1)} ms (cpu ${warm.cpuMs.toFixed(1)} ms), best ${warms[0]!.ms.toFixed(1)}, worst ${warms[4]!.ms.toFixed(1)}   target < 100 ms  ${verdict(warms.every((w) => w.fromCache) && warm.ms < 100)}\n`,
    );
    process.stdout.write(`  peak RSS, cold index process   ${cold.maxRssMb.toFixed(0)} MB   target < 256 MB  ${verdict(cold.maxRssMb < 256)}\n`);
    process.stdout.write(`  peak RSS, 2-thread cold index  ${cold2.maxRssMb.toFixed(0)} MB   target < 256 MB  ${verdict(cold2.maxRssMb < 256)}\n`);
    process.stdout.write(`  peak RSS, warm reopen process  ${warm.maxRssMb.toFixed(0)} MB\n`);
    if (cold.entries !== parsed) process.stdout.write(`  WARNING: index saw ${cold.entries} entries, JSON.parse ${parsed}\n`);
    if (cold2.entries !== parsed) process.stdout.write(`  WARNING: 2-thread index saw ${cold2.entries} entries, JSON.parse ${parsed}\n`);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(cacheDir2, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(String(error) + '\n');
  process.exitCode = 1;
});

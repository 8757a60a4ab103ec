/**
 * Crash trials for the edits journal and compaction, shared by test/cli/crash.test.ts (a few
 * hundred trials) and bench/crash/run.ts (thousands). Each trial spawns the built CLI
 * (`node dist/cli.js label|compact ...`) on one long-lived batch and kills it with SIGKILL:
 * at a named point (OCR_AL_CRASH_AT, see docs/edits.md), after a random delay, or not at all;
 * some trials run a label and a compaction at the same time. After every trial it checks:
 *
 * - every manifest line parses as a JSON object, is blank, or is one of the original
 *   malformed lines, and every entry is still there exactly once;
 * - the journal has no corrupt line in the middle (a torn tail is allowed);
 * - every acknowledged label (exit 0) is in the effective manifest: each word's class is the
 *   class of its last acknowledged label or of a killed label issued after it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { classOfWord, parseObjectDetectionMetadata, parseObjectDetectionValue } from '../../src/core/groundtruth/objectDetection';
import { DEFAULT_PASSPORT_CLASSES } from '../../src/core/classes';
import { EditResolver, openSnapshot } from '../../src/core/manifest/effectiveManifest';
import { readManifestLines } from '../../src/core/manifest/manifestLines';

export const LABEL_POINTS = ['label:locked', 'label:torn', 'label:written', 'label:synced'] as const;
export const COMPACT_POINTS = [
  'compact:locked',
  'compact:temp-partial',
  'compact:temp-synced',
  'compact:torn',
  'compact:written',
  'compact:synced',
  'compact:renamed',
  'compact:dir-synced',
  'compact:cleared',
] as const;

export interface TrialOptions {
  readonly trials: number;
  readonly seed: number;
  /** Path of the built CLI (dist/cli.js). */
  readonly cliPath: string;
  /** Entries in the batch (default 40) and the bulk per entry in bytes (default 20 000). */
  readonly entries?: number;
  readonly bulk?: number;
  readonly onProgress?: (done: number, counts: TrialCounts) => void;
}

export interface OpCounts {
  runs: number;
  acknowledged: number;
  killedAtPoint: number;
  killedByTimer: number;
}

export interface TrialCounts {
  trials: number;
  concurrent: number;
  label: OpCounts;
  compact: OpCounts;
  /** Kills per named point. */
  points: Record<string, number>;
  /** Checks that failed (empty when all is well), each with its trial number. */
  violations: string[];
  /** Wall time per trial, ms (median of undisturbed runs). */
  baselineMs: { label: number; compact: number };
}

/** xorshift32: reproducible trials from a seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const IMAGE = { width: 1200, height: 900 };
const WORDS = 8;
const box = (i: number) => ({ left: 0.02 + i * 0.12, top: 0.1, width: 0.08, height: 0.05 });
const wordId = (ref: string, i: number) => `${ref}/w${i}`;
const MALFORMED = ['{"source-ref": "torn.png", "x": [1, 2', 'not json', '{"a":1}}'];

function buildManifest(entries: number, bulk: number, rnd: () => number): { text: string; refs: string[] } {
  const refs: string[] = [];
  const lines: string[] = [];
  for (let e = 0; e < entries; e++) {
    const ref = `pages/p${e}.png`;
    refs.push(ref);
    const blocks = Array.from({ length: WORDS }, (_, i) => {
      const b = box(i);
      return { BlockType: 'WORD', Id: wordId(ref, i), Text: `w${i}`, Confidence: 99, Page: 1, Geometry: { BoundingBox: { Width: b.width, Height: b.height, Left: b.left, Top: b.top } } };
    });
    const filler = Array.from({ length: Math.ceil(bulk / 8) }, () => Math.round(rnd() * 1e5) / 1e5);
    // Odd spacing and number spellings, an unknown key: all must survive compaction.
    lines.push(`{"source-ref": ${JSON.stringify(ref)}, "source-size": {"width": 1200.0, "height": 9e2}, "user-notes": {"n": 1.50, "f": ${JSON.stringify(filler)}}, "textract": ${JSON.stringify({ Blocks: blocks })}}`);
    if (e % 13 === 5) lines.push(MALFORMED[(e / 13) % MALFORMED.length | 0]!);
    if (e % 17 === 3) lines.push('');
  }
  let text = '';
  lines.forEach((l, i) => {
    text += l + (i === lines.length - 1 ? '' : i % 5 === 2 ? '\r\n' : '\n');
  });
  return { text, refs };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

function runCli(cliPath: string, args: string[], crashAt: string | undefined, killAfterMs: number | undefined): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const env = { ...process.env };
    delete env.OCR_AL_CRASH_AT;
    if (crashAt) env.OCR_AL_CRASH_AT = crashAt;
    const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - started });
    });
  });
}

/** Runs the trials in a fresh temp batch (removed afterwards) and returns the counts. */
export async function runCrashTrials(options: TrialOptions): Promise<TrialCounts> {
  const rnd = prng(options.seed);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-crash-'));
  const manifest = path.join(dir, 'manifest.jsonl');
  const { text, refs } = buildManifest(options.entries ?? 40, options.bulk ?? 20_000, rnd);
  await fs.writeFile(manifest, text);
  const malformed = new Set(MALFORMED);
  /** word key -> classes it may have (undefined = unlabeled). */
  const allowed = new Map<string, Set<string | undefined>>();
  const counts: TrialCounts = {
    trials: 0,
    concurrent: 0,
    label: { runs: 0, acknowledged: 0, killedAtPoint: 0, killedByTimer: 0 },
    compact: { runs: 0, acknowledged: 0, killedAtPoint: 0, killedByTimer: 0 },
    points: {},
    violations: [],
    baselineMs: { label: 0, compact: 0 },
  };
  const samples = { label: [] as number[], compact: [] as number[] };
  const baseline = (op: 'label' | 'compact') => {
    const s = [...samples[op]].sort((a, b) => a - b);
    return s.length ? s[s.length >> 1]! : 250;
  };

  const labelRun = () => {
    const ref = refs[Math.floor(rnd() * refs.length)]!;
    const word = Math.floor(rnd() * WORDS);
    const cls = DEFAULT_PASSPORT_CLASSES[Math.floor(rnd() * DEFAULT_PASSPORT_CLASSES.length)]!;
    return { ref, word, cls, args: ['label', manifest, '--ref', ref, '--box', wordId(ref, word), '--class', cls] };
  };

  const plan = (op: 'label' | 'compact'): { crashAt?: string; killAfterMs?: number; kind: 'point' | 'timer' | 'none' } => {
    const r = rnd();
    if (r < 0.45) {
      const points = op === 'label' ? LABEL_POINTS : COMPACT_POINTS;
      return { kind: 'point', crashAt: points[Math.floor(rnd() * points.length)]! };
    }
    if (r < 0.8) return { kind: 'timer', killAfterMs: Math.floor(rnd() * baseline(op) * 1.15) };
    return { kind: 'none' };
  };

  const record = (op: 'label' | 'compact', run: Run, how: ReturnType<typeof plan>, trial: number): 'ack' | 'killed' | 'failed' => {
    const c = counts[op];
    c.runs++;
    if (run.code === 0) {
      c.acknowledged++;
      if (how.kind === 'none') samples[op].push(run.ms);
      return 'ack';
    }
    if (run.signal === 'SIGKILL') {
      if (how.kind === 'point') {
        c.killedAtPoint++;
        counts.points[how.crashAt!] = (counts.points[how.crashAt!] ?? 0) + 1;
      } else {
        c.killedByTimer++;
      }
      return 'killed';
    }
    counts.violations.push(`trial ${trial}: ${op} exited ${run.code ?? run.signal}: ${run.stderr.trim()}`);
    return 'failed';
  };

  const applyLabelOutcome = (l: ReturnType<typeof labelRun>, outcome: 'ack' | 'killed' | 'failed') => {
    const key = `${l.ref}|${l.word}`;
    const set = allowed.get(key) ?? new Set<string | undefined>([undefined]);
    if (outcome === 'ack') allowed.set(key, new Set([l.cls]));
    else if (outcome === 'killed') allowed.set(key, set.add(l.cls));
  };

  try {
    for (let trial = 1; trial <= options.trials; trial++) {
      const r = rnd();
      if (r < 0.12 && trial > 10) {
        // A label and a compaction at once: the lock must serialize them.
        counts.concurrent++;
        const l = labelRun();
        const lp = plan('label');
        const cp = plan('compact');
        const [lr, cr] = await Promise.all([
          runCli(options.cliPath, l.args, lp.crashAt, lp.killAfterMs),
          runCli(options.cliPath, ['compact', manifest], cp.crashAt, cp.killAfterMs),
        ]);
        applyLabelOutcome(l, record('label', lr, lp, trial));
        record('compact', cr, cp, trial);
      } else if (r < 0.62) {
        const l = labelRun();
        const how = plan('label');
        applyLabelOutcome(l, record('label', await runCli(options.cliPath, l.args, how.crashAt, how.killAfterMs), how, trial));
      } else {
        const how = plan('compact');
        record('compact', await runCli(options.cliPath, ['compact', manifest], how.crashAt, how.killAfterMs), how, trial);
      }
      counts.trials = trial;
      await verify(manifest, refs, malformed, allowed, trial, counts.violations);
      options.onProgress?.(trial, counts);
      if (counts.violations.length > 20) break;
    }
    // A last clean compaction must succeed and leave the same effective state.
    const final = await runCli(options.cliPath, ['compact', manifest], undefined, undefined);
    if (final.code !== 0) counts.violations.push(`final compact exited ${final.code}: ${final.stderr.trim()}`);
    await verify(manifest, refs, malformed, allowed, options.trials + 1, counts.violations);
    const leftovers = (await fs.readdir(dir)).filter((n) => n !== 'manifest.jsonl' && n !== 'manifest.jsonl.edits');
    if (leftovers.length) counts.violations.push(`files left after a clean compaction: ${leftovers.join(', ')}`);
  } finally {
    counts.baselineMs = { label: baseline('label'), compact: baseline('compact') };
    await fs.rm(dir, { recursive: true, force: true });
  }
  return counts;
}

async function verify(
  manifest: string,
  refs: readonly string[],
  malformed: ReadonlySet<string>,
  allowed: ReadonlyMap<string, ReadonlySet<string | undefined>>,
  trial: number,
  violations: string[],
): Promise<void> {
  const fail = (message: string) => violations.push(`trial ${trial}: ${message}`);
  const snapshot = await openSnapshot(fs, manifest);
  try {
    if (snapshot.journal.problems.length) fail(`journal problems: ${snapshot.journal.problems.map((p) => p.message).join('; ')}`);
    const byRef = new Map<string, Record<string, unknown>>();
    const decoder = new TextDecoder();
    for await (const line of readManifestLines(fs, snapshot.handle)) {
      const text = decoder.decode(line.bytes);
      if (text.trim() === '' || malformed.has(text)) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        fail(`line ${line.line} does not parse and is not an original malformed line: ${text.slice(0, 80)}`);
        continue;
      }
      const ref = (value as Record<string, unknown>)['source-ref'] as string;
      if (byRef.has(ref)) fail(`entry ${ref} appears twice`);
      byRef.set(ref, value as Record<string, unknown>);
    }
    if (byRef.size !== refs.length) fail(`${byRef.size} entries, expected ${refs.length}`);
    const resolver = new EditResolver(fs, manifest);
    const touched = new Set([...allowed.keys()].map((k) => k.slice(0, k.lastIndexOf('|'))));
    for (const ref of touched) {
      const base = byRef.get(ref);
      if (!base) continue;
      let value: Record<string, unknown>;
      try {
        value = await resolver.applyAll(base, snapshot.pending.filter((e) => e.record.ref === ref));
      } catch (error) {
        fail(`cannot apply the journal to ${ref}: ${(error as Error).message}`);
        continue;
      }
      for (let i = 0; i < WORDS; i++) {
        const may = allowed.get(`${ref}|${i}`);
        if (!may) continue;
        let cls: string | undefined;
        if (value['labels'] !== undefined) {
          const labels = parseObjectDetectionValue(value['labels'], 'labels');
          const meta = parseObjectDetectionMetadata(value['labels-metadata'], 'labels');
          const id = classOfWord({ box: box(i) }, IMAGE, labels.annotations);
          cls = id === undefined ? undefined : meta['class-map'][String(id)];
        }
        if (!may.has(cls)) fail(`${ref} word ${i} is ${cls ?? 'unlabeled'}, expected one of ${[...may].map((c) => c ?? 'unlabeled').join('/')}`);
      }
    }
  } finally {
    await snapshot.handle.close();
  }
}

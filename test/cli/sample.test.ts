import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendEdits } from '../../src/core/manifest/journal';
import { runCli } from './cliHarness';

const soft = (...boxes: number[][]) => ({ model: 'm1', created: '2024-01-01', boxes: Object.fromEntries(boxes.map((b, i) => [`w${i}`, b])) });
// 11 passport classes; index 10 is `other`.
const dist = (top: number, p1: number, second = -1, p2 = 0): number[] => {
  const p = Array<number>(11).fill(0);
  p[top] = p1;
  if (second >= 0) p[second] = p2;
  return p;
};

/**
 * Lines (margin with max aggregation in brackets):
 *  1 a.png   [1]    tie between surname and mrz
 *  2 b.png   [0.2]
 *  3 c.png   labeled
 *  4 d.png   no soft labels
 *  5 (malformed)
 *  6 e.png   [0.96] its uncertain box is `other` (vs surname); its field box: 0.1
 *  7 f.png   [0.8]
 *  8 g.png   unusable soft labels (all zero)
 */
const LINES = [
  JSON.stringify({ 'source-ref': 'a.png', country: 'FR', 'soft-labels': soft(dist(0, 0.5, 9, 0.5), dist(1, 1)) }),
  JSON.stringify({ 'source-ref': 'b.png', country: 'FR', 'soft-labels': soft(dist(0, 0.6, 1, 0.4)), 'user-note': { keep: [1, 2] } }),
  JSON.stringify({ 'source-ref': 'c.png', 'soft-labels': soft(dist(0, 0.5, 1, 0.5)), labels: { image_size: [{ width: 1, height: 1, depth: 3 }], annotations: [] } }),
  JSON.stringify({ 'source-ref': 'd.png', textract: { Blocks: [] } }),
  '{"source-ref": "broken.png", ',
  `{"source-ref":  "e.png" ,"country":"DE","soft-labels":${JSON.stringify(soft(dist(10, 0.52, 0, 0.48), dist(2, 0.95, 3, 0.05)))}}`,
  JSON.stringify({ 'source-ref': 'f.png', country: 'DE', 'soft-labels': soft(dist(4, 0.6, 5, 0.4), dist(4, 0.55, 6, 0.35)) }),
  JSON.stringify({ 'source-ref': 'g.png', 'soft-labels': soft(dist(0, 0)) }),
];

async function batch(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; manifest: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-sample-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const manifest = path.join(dir, 'manifest.jsonl');
  await fs.writeFile(manifest, LINES.join('\n') + '\n');
  return { dir, manifest };
}

const sample = async (manifest: string, ...args: string[]) => {
  const run = await runCli(['sample', manifest, ...args, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as {
    strategy: string;
    aggregate: string;
    considered: number;
    skipped: { labeled: number; noSoftLabels: number; malformed: number };
    selected: { ref: string; line: number; score: number }[];
    softLabelProblems: { line: number; message: string }[];
  };
};

test('--json has the documented shape: ranked by score, ties by source-ref, exclusions counted', async (t) => {
  const { manifest } = await batch(t);
  const report = await sample(manifest, '--strategy', 'margin', '--budget', '10');
  assert.deepEqual(Object.keys(report), ['strategy', 'aggregate', 'considered', 'skipped', 'selected', 'softLabelProblems']);
  assert.equal(report.strategy, 'margin');
  assert.equal(report.aggregate, 'max');
  assert.equal(report.considered, 4);
  assert.deepEqual(report.skipped, { labeled: 1, noSoftLabels: 2, malformed: 1 });
  assert.deepEqual(report.selected, [
    { ref: 'a.png', line: 1, score: 1 },
    { ref: 'e.png', line: 6, score: 0.96 },
    { ref: 'b.png', line: 2, score: 0.8 },
    { ref: 'f.png', line: 7, score: 0.8 },
  ]);
  assert.deepEqual(report.softLabelProblems.map((p) => p.line), [8]);
});

test('--budget, --threshold, --aggregate and --fields-only change the picks as documented', async (t) => {
  const { manifest } = await batch(t);
  assert.deepEqual((await sample(manifest, '--strategy', 'margin', '--budget', '1')).selected.map((s) => s.ref), ['a.png']);
  assert.deepEqual((await sample(manifest, '--strategy', 'margin', '--threshold', '0.9')).selected.map((s) => s.ref), ['a.png', 'e.png']);
  // f's second box sums to 0.9: renormalized, its margin is 1 - 0.2 / 0.9 = 0.7777...
  // Sum over boxes: f 0.8 + 0.778, e 0.96 + 0.1, a 1 + 0.
  const sum = await sample(manifest, '--strategy', 'margin', '--budget', '2', '--aggregate', 'sum');
  assert.equal(sum.aggregate, 'sum');
  assert.deepEqual(sum.selected.map((s) => s.ref), ['f.png', 'e.png']);
  // Mean: b 0.8, f (0.8 + 0.7777...) / 2, e 0.53, a (1 + 0) / 2.
  const mean = await sample(manifest, '--strategy', 'margin', '--budget', '4', '--aggregate', 'mean');
  assert.deepEqual(mean.selected.map((s) => [s.ref, s.score]), [
    ['b.png', 0.8],
    ['f.png', 0.7888889],
    ['e.png', 0.53],
    ['a.png', 0.5],
  ]);
  // Fields only: e's uncertain box is `other`, so only its sure field box (0.1) counts.
  const fields = await sample(manifest, '--strategy', 'margin', '--budget', '4', '--fields-only');
  assert.deepEqual(fields.selected.map((s) => [s.ref, s.score]), [
    ['a.png', 1],
    ['b.png', 0.8],
    ['f.png', 0.8],
    ['e.png', 0.1],
  ]);
});

test('--group-by KEY --max-per-group K caps picks per value of a manifest key', async (t) => {
  const { manifest } = await batch(t);
  const report = await sample(manifest, '--strategy', 'margin', '--budget', '3', '--group-by', 'country', '--max-per-group', '1');
  assert.deepEqual(report.selected.map((s) => s.ref), ['a.png', 'e.png'], 'b (FR) and f (DE) are passed over');
  // A key only b has (an object value): every entry without it shares one group.
  const note = await sample(manifest, '--strategy', 'margin', '--budget', '3', '--group-by', 'user-note', '--max-per-group', '1');
  assert.deepEqual(note.selected.map((s) => s.ref), ['a.png', 'b.png']);
});

test('random: seeded, reproducible, independent of soft labels; other seeds pick differently', async (t) => {
  const { manifest } = await batch(t);
  const a = await sample(manifest, '--strategy', 'random', '--budget', '5', '--seed', '7');
  const b = await sample(manifest, '--strategy', 'random', '--budget', '5', '--seed', '7');
  assert.deepEqual(a, b);
  assert.equal(a.considered, 6, 'all unlabeled, well-formed entries, with or without soft labels');
  assert.deepEqual(a.skipped, { labeled: 1, noSoftLabels: 0, malformed: 1 });
  const orders = new Set<string>();
  for (let seed = 0; seed < 6; seed++) orders.add((await sample(manifest, '--strategy', 'random', '--budget', '5', '--seed', String(seed))).selected.map((s) => s.ref).join());
  assert.ok(orders.size > 1);
});

test('--out writes the picked lines byte for byte, in rank order, atomically', async (t) => {
  const { dir, manifest } = await batch(t);
  const out = path.join(dir, 'to-label.jsonl');
  const report = await sample(manifest, '--strategy', 'margin', '--budget', '3', '--out', out);
  const written = await fs.readFile(out, 'utf8');
  const byRef = new Map(LINES.map((l) => [/"source-ref":\s*"([^"]+)"/.exec(l)?.[1], l]));
  assert.equal(written, report.selected.map((s) => byRef.get(s.ref)).join('\n') + '\n');
  assert.ok(written.includes('"source-ref":  "e.png" ,'), 'odd spacing kept as is');
  assert.deepEqual((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')), []);

  const refused = await runCli(['sample', manifest, '--strategy', 'least', '--budget', '1', '--out', manifest]);
  assert.equal(refused.code, 2);
  assert.equal((await fs.readFile(manifest, 'utf8')).split('\n').length, LINES.length + 1);
});

test('labels appended to the journal but not yet compacted count as labeled', async (t) => {
  const { manifest } = await batch(t);
  await appendEdits(fs, manifest, [{ op: 'set', ref: 'a.png', key: 'labels', value: { image_size: [{ width: 1, height: 1, depth: 3 }], annotations: [] }, at: '2024-01-01T00:00:00.000Z' }]);
  const report = await sample(manifest, '--strategy', 'margin', '--budget', '10');
  assert.equal(report.skipped.labeled, 2);
  assert.ok(!report.selected.some((s) => s.ref === 'a.png'));
});

test('a warm run reads the index cache and gives the same answer', async (t) => {
  const { dir, manifest } = await batch(t);
  const cold = await sample(manifest, '--strategy', 'entropy', '--budget', '3');
  assert.ok((await fs.readdir(path.join(dir, '.ocr-al'))).some((f) => f.endsWith('.idx')));
  assert.deepEqual(await sample(manifest, '--strategy', 'entropy', '--budget', '3'), cold);
});

test('text output lists the picks; bad input exits 2 with one line on stderr', async (t) => {
  const { manifest } = await batch(t);
  const text = await runCli(['sample', manifest, '--strategy', 'least', '--budget', '2']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^2 selected of 4 considered/);
  assert.match(text.stderr, /line 8: soft-labels/);
  for (const args of [
    ['--budget', '1'],
    ['--strategy', 'confidence', '--budget', '1'],
    ['--strategy', 'least'],
    ['--strategy', 'least', '--budget', '-3'],
    ['--strategy', 'least', '--budget', '1', '--aggregate', 'median'],
    ['--strategy', 'least', '--budget', '1', '--group-by', 'country'],
    ['--strategy', 'random', '--threshold', '0.5'],
    ['--strategy', 'least', '--threshold', 'high'],
  ]) {
    const run = await runCli(['sample', manifest, ...args]);
    assert.equal(run.code, 2, args.join(' '));
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
  const missing = await runCli(['sample', manifest + '.nope', '--strategy', 'least', '--budget', '1']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file/);
});

test('a line rewritten behind the index cache aborts --out with Conflict and writes nothing', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-sample-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const manifest = path.join(dir, 'manifest.jsonl');
  // Large padding lines first and last, so the edited middle line is outside the cache's
  // fingerprint (first and last 64 KiB) and the size and mtime are restored: the cache still
  // looks valid, as after an editor that preserved them.
  const pad = (ref: string) => JSON.stringify({ 'source-ref': ref, note: 'x'.repeat(70_000) });
  const middle = JSON.stringify({ 'source-ref': 'm1.png', 'soft-labels': soft(dist(0, 0.5, 1, 0.5)) });
  await fs.writeFile(manifest, [pad('p1.png'), middle, pad('p2.png')].join('\n') + '\n');
  await fs.utimes(manifest, 1_700_000_000, 1_700_000_000); // whole seconds: restorable exactly
  const first = await sample(manifest, '--strategy', 'margin', '--budget', '1');
  assert.deepEqual(first.selected.map((s) => s.ref), ['m1.png']);

  const text = await fs.readFile(manifest, 'utf8');
  await fs.writeFile(manifest, text.replace('"m1.png"', '"m2.png"'));
  await fs.utimes(manifest, 1_700_000_000, 1_700_000_000);
  const out = path.join(dir, 'out.jsonl');
  const run = await runCli(['sample', manifest, '--strategy', 'margin', '--budget', '1', '--out', out]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /changed since it was indexed/);
  assert.ok(!(await fs.readdir(dir)).includes('out.jsonl'));
});

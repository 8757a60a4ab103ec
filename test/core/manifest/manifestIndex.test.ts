import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import fc from 'fast-check';
import { memoryByteSource, fileByteSource, type ByteSource } from '../../../src/core/manifest/byteSource';
import { ManifestIndex, IMAGE_SCORE_SLOTS, scoreSlot } from '../../../src/core/manifest/manifestIndex';
import { entryProblem } from '../../../src/core/manifest/entrySchema';
import { STRATEGIES, scoreBox } from '../../../src/core/sampling/scores';
import { syntheticManifest, SYNTHETIC_CLASSES } from '../../../scripts/genManifest';
import type { EntryStatus } from '../../../src/core/manifest/types';

const enc = new TextEncoder();

async function indexOf(text: string | Uint8Array, options: { chunkSize?: number; labelAttribute?: string } = {}): Promise<ManifestIndex> {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  return ManifestIndex.build(memoryByteSource(bytes), options).done;
}

const probs = (top: number, p = 0.9, n = 11): number[] => Array.from({ length: n }, (_, c) => (c === top ? p : (1 - p) / (n - 1)));

test('status comes from the keys: labeled > predicted > extracted > new; malformed first', async () => {
  const lines = [
    '{"source-ref":"a"}',
    '{"source-ref":"b","textract-ref":"t.json"}',
    '{"source-ref":"c","textract":{"Blocks":[]}}',
    `{"source-ref":"d","textract":{"Blocks":[]},"soft-labels":{"boxes":{"w":${JSON.stringify(probs(0))}}}}`,
    `{"source-ref":"e","soft-labels":{"boxes":{}},"labels":{"annotations":[]}}`,
    '{"source-ref":"f","labels":null,"soft-labels":null,"textract":null}',
    '{"textract-ref":"x"}',
    '{"source-ref":5}',
    '{"source-ref":""}',
    '{"source-ref":"g","soft-labels":[1]}',
    '{"source-ref":"h","labels":"yes"}',
    '[1,2]',
    '{"source-ref":"i",}',
  ];
  const index = await indexOf(lines.join('\n') + '\n');
  const expected: EntryStatus[] = ['new', 'extracted', 'extracted', 'predicted', 'labeled', 'new', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed'];
  assert.deepEqual(
    index.page(0, 100).map((s) => s.status),
    expected,
  );
  assert.deepEqual(index.counts, { new: 2, extracted: 2, predicted: 1, labeled: 1, malformed: 7 });
  assert.deepEqual(
    index.problems.map((p) => p.line),
    [7, 8, 9, 10, 11, 12, 13],
  );
  assert.match(index.problems[0]!.message, /missing source-ref/);
  assert.match(index.problems[1]!.message, /source-ref must be a string/);
  assert.match(index.problems[6]!.message, /column 19/);
  // The zod schema used by readEntry agrees on every line.
  for (let i = 0; i < index.entryCount; i++) {
    let value: unknown;
    try {
      value = JSON.parse(lines[i]!);
    } catch {
      value = undefined;
    }
    const problem = value === undefined ? 'parse error' : entryProblem(value);
    assert.equal(problem !== undefined, index.statusOf(i) === 'malformed', lines[i]);
  }
});

test('a custom label attribute decides `labeled`', async () => {
  const text = '{"source-ref":"a","labels":{}}\n{"source-ref":"b","passport-labels":{}}\n';
  assert.deepEqual((await indexOf(text)).counts.labeled, 1);
  const custom = await indexOf(text, { labelAttribute: 'passport-labels' });
  assert.equal(custom.statusOf(0), 'new');
  assert.equal(custom.statusOf(1), 'labeled');
});

test('blank lines, CRLF, a BOM and a missing final newline', async () => {
  const text = '\ufeff{"source-ref":"a"}\r\n\r\n  \n{"source-ref":"b"}\r\n\n{"source-ref":"c"}';
  const bytes = enc.encode(text);
  for (const chunkSize of [1, 2, 3, 5, 64, 1 << 20]) {
    const index = await indexOf(bytes, { chunkSize });
    assert.equal(index.entryCount, 3, `chunk ${chunkSize}`);
    assert.equal(index.lineCount, 6);
    const s = index.page(0, 10);
    assert.deepEqual(
      s.map((e) => [e.line, e.sourceRef, e.status]),
      [
        [1, 'a', 'new'],
        [4, 'b', 'new'],
        [6, 'c', 'new'],
      ],
    );
    // Offsets and lengths point at the JSON text only (no BOM, no '\r').
    for (const e of s) {
      const line = new TextDecoder().decode(bytes.subarray(e.offset, e.offset + e.length));
      assert.deepEqual(JSON.parse(line), { 'source-ref': e.sourceRef });
    }
    assert.equal((await index.readEntry(2)).text, '{"source-ref":"c"}');
  }
});

test('multi-byte UTF-8 split across chunk boundaries is decoded intact', async () => {
  const refs = ['größe/日本語.png', '😀/ü.png', 'plain.png', 'é'.repeat(50)];
  const text = refs.map((r) => JSON.stringify({ 'source-ref': r, note: '€uro ✓' })).join('\n') + '\n';
  for (let chunkSize = 1; chunkSize <= 9; chunkSize++) {
    const index = await indexOf(text, { chunkSize });
    assert.deepEqual(
      index.page(0, 10).map((e) => e.sourceRef),
      refs,
      `chunk ${chunkSize}`,
    );
    assert.equal(index.counts.malformed, 0);
  }
});

test('malformed lines are entries with their line number (from 1) and stay readable verbatim', async () => {
  const text = 'not json\n{"source-ref":"ok"}\n\n{"source-ref": "x", "a": [1,2,]}\n';
  const index = await indexOf(text, { chunkSize: 4 });
  assert.equal(index.entryCount, 3);
  assert.deepEqual(
    index.problems.map((p) => p.line),
    [1, 4],
  );
  const bad = await index.readEntry(2);
  assert.equal(bad.text, '{"source-ref": "x", "a": [1,2,]}');
  assert.equal(bad.value, undefined);
  assert.equal(bad.summary.status, 'malformed');
  const ok = await index.readEntry(1);
  assert.deepEqual(ok.value, { 'source-ref': 'ok' });
});

test('image scores: the four strategies x max/mean/sum x all/fields-only, as scoreBox computes them', async () => {
  const boxes: Record<string, number[]> = {
    w1: probs(0, 0.6),
    w2: probs(10, 0.95), // top class `other`
    w3: [0.3, 0.25, 0.2, 0.05, 0.05, 0.05, 0.04, 0.03, 0.02, 0.005, 0.005],
    w4: probs(3, 0.4),
  };
  const index = await indexOf(JSON.stringify({ 'source-ref': 'a', 'soft-labels': { model: 'm', boxes } }) + '\n');
  const scores = index.imageScores(0)!;
  assert.equal(scores.length, IMAGE_SCORE_SLOTS);
  for (const strategy of STRATEGIES) {
    const all = Object.values(boxes).map((p) => scoreBox(strategy, p, 0, 11));
    const fields = Object.entries(boxes)
      .filter(([id]) => id !== 'w2')
      .map(([, p]) => scoreBox(strategy, p, 0, 11));
    const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-6, `${strategy} ${what}: ${actual} vs ${expected}`);
    close(scores[scoreSlot(strategy, 'max', false)]!, Math.max(...all), 'max');
    close(scores[scoreSlot(strategy, 'sum', false)]!, all.reduce((a, b) => a + b), 'sum');
    close(scores[scoreSlot(strategy, 'mean', false)]!, all.reduce((a, b) => a + b) / all.length, 'mean');
    close(scores[scoreSlot(strategy, 'max', true)]!, Math.max(...fields), 'max fields');
    close(scores[scoreSlot(strategy, 'mean', true)]!, fields.reduce((a, b) => a + b) / fields.length, 'mean fields');
  }
  const u = index.summary(0).uncertainty!;
  assert.ok(Math.abs(u.entropy - scores[scoreSlot('entropy', 'max', false)]!) === 0);
  // Every slot is distinct.
  const slots = new Set(STRATEGIES.flatMap((s) => (['max', 'mean', 'sum'] as const).flatMap((a) => [scoreSlot(s, a, false), scoreSlot(s, a, true)])));
  assert.equal(slots.size, IMAGE_SCORE_SLOTS);
});

test('a malformed line has no image scores, even when its soft labels were fine', async () => {
  const soft = `"soft-labels":{"boxes":{"w":${JSON.stringify(probs(0))}}}`;
  const index = await indexOf([`{${soft}}`, `{"source-ref":"a",${soft},"x":01}`, `{"source-ref":"b",${soft},"labels":[]}`].join('\n'));
  for (let i = 0; i < 3; i++) {
    assert.equal(index.statusOf(i), 'malformed');
    assert.equal(index.imageScores(i), undefined);
    assert.equal(index.summary(i).uncertainty, undefined);
  }
});

test('soft-labels.classes sets the class count and which class is `other`', async () => {
  const classes = ['other', 'name', 'date'];
  const line = JSON.stringify({ 'source-ref': 'a', 'soft-labels': { classes, boxes: { a: [0.8, 0.1, 0.1], b: [0.1, 0.5, 0.4] } } });
  const index = await indexOf(line + '\n');
  const s = index.imageScores(0)!;
  assert.ok(Math.abs(s[scoreSlot('least', 'max', true)]! - scoreBox('least', [0.1, 0.5, 0.4], 0, 3)) < 1e-6);
  assert.equal(index.softLabelProblem(0), undefined);
});

test('unusable soft labels: no uncertainty, a soft-label problem, but not malformed', async () => {
  const cases: [unknown, RegExp][] = [
    [{ boxes: { a: [0.5, 0.5] } }, /has 2 probabilities, expected 11/],
    [{ boxes: { a: probs(1).map((v, k) => (k === 0 ? -0.1 : v)) } }, /unusable/],
    [{ boxes: { a: new Array(11).fill(0) } }, /unusable/],
    [{ boxes: { a: ['x', ...probs(1).slice(1)] } }, /array of probabilities/],
    [{ boxes: [] }, /must be an object/],
    [{ model: 'm' }, /no boxes/],
    [{ classes: 'abc', boxes: {} }, /classes must be an array/],
  ];
  for (const [soft, message] of cases) {
    const index = await indexOf(JSON.stringify({ 'source-ref': 'a', 'soft-labels': soft }) + '\n');
    assert.equal(index.statusOf(0), 'predicted', JSON.stringify(soft));
    assert.equal(index.imageScores(0), undefined);
    assert.equal(index.summary(0).uncertainty, undefined);
    assert.match(index.softLabelProblem(0) ?? '', message);
    assert.deepEqual(
      index.softLabelProblems.map((p) => p.line),
      [1],
    );
  }
});

test('numbers in soft labels parse like JSON.parse, in every spelling', async () => {
  fc.assert(
    fc.asyncProperty(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 11, maxLength: 11 }), async (values) => {
      if (!(values.reduce((a, b) => a + b, 0) > 0)) return;
      const spelled = values.map((v, k) => (k % 3 === 0 ? v.toExponential() : k % 3 === 1 ? String(v) : v.toFixed(6)));
      const line = `{"source-ref":"a","soft-labels":{"boxes":{"b":[${spelled.join(' , ')}]}}}`;
      const index = await indexOf(line + '\n');
      const parsed = (JSON.parse(line) as { 'soft-labels': { boxes: { b: number[] } } })['soft-labels'].boxes.b;
      for (const strategy of STRATEGIES) {
        const expected = Math.fround(scoreBox(strategy, parsed, 0, 11));
        const actual = index.imageScores(0)![scoreSlot(strategy, 'max', false)]!;
        assert.ok(Math.abs(actual - expected) <= 1e-6, `${strategy}: ${actual} vs ${expected} for ${spelled.join(',')}`);
      }
    }),
    { numRuns: 100 },
  );
});

test('firstPage resolves before the build is done; progress and abort', async () => {
  const text = syntheticManifest({ lines: 40, words: 5, seed: 3 });
  const bytes = enc.encode(text);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // A source whose reads after the first 16 KB wait for the gate: the build cannot finish.
  const slow: ByteSource = {
    ...memoryByteSource(bytes),
    readInto: undefined,
    async read(offset, length) {
      if (offset >= 16384) await gate;
      return bytes.slice(offset, offset + length);
    },
  };
  const progress: number[] = [];
  const build = ManifestIndex.build(slow, { chunkSize: 2048, onProgress: (p) => progress.push(p.bytesRead) });
  let finished = false;
  void build.done.then(() => (finished = true));
  const first = await build.firstPage(1);
  assert.equal(first.length, 1);
  assert.equal(first[0]!.sourceRef, 'thumbnails/img-000000.png');
  assert.equal(finished, false);
  release();
  const index = await build.done;
  assert.equal(index.entryCount, 40);
  assert.deepEqual(
    (await build.firstPage(100)).map((s) => s.index),
    [...Array(40).keys()],
  );
  assert.ok(progress.length > 1 && progress.at(-1) === bytes.length);
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b));

  const controller = new AbortController();
  const aborted = ManifestIndex.build(memoryByteSource(bytes), { chunkSize: 256, signal: controller.signal, onProgress: () => controller.abort() });
  await assert.rejects(aborted.done, (e: unknown) => (e as { code?: string }).code === 'Cancelled');
  await assert.rejects(aborted.firstPage(1000));
});

test('paging: by line, by name, by uncertainty, by status; findByRef; readEntry', async () => {
  const lines = [
    { 'source-ref': 'c', 'soft-labels': { boxes: { a: probs(0, 0.9) } } },
    { 'source-ref': 'a', 'soft-labels': { boxes: { a: probs(0, 0.3) } } },
    { 'source-ref': 'b' },
    { 'source-ref': 'd', 'soft-labels': { boxes: { a: probs(0, 0.6) } }, labels: {} },
  ];
  const index = await indexOf(lines.map((l) => JSON.stringify(l)).join('\n'));
  const refs = (sort: 'line' | 'name' | 'uncertainty', status?: EntryStatus): (string | undefined)[] => index.page(0, 10, { sort, status }).map((s) => s.sourceRef);
  assert.deepEqual(refs('line'), ['c', 'a', 'b', 'd']);
  assert.deepEqual(refs('name'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(refs('uncertainty'), ['a', 'd', 'c', 'b']);
  assert.deepEqual(refs('uncertainty', 'predicted'), ['a', 'c']);
  assert.equal(index.pageTotal({ status: 'predicted' }), 2);
  assert.deepEqual(
    index.page(1, 2, { sort: 'name' }).map((s) => s.sourceRef),
    ['b', 'c'],
  );
  assert.equal(index.findByRef('d'), 3);
  assert.equal(index.findByRef('zzz'), undefined);
  const entry = await index.readEntry(3);
  assert.deepEqual(entry.value, lines[3]);
  assert.equal(entry.summary.status, 'labeled');
  assert.throws(() => index.summary(4), /no entry 4/);
});

test('readEntry notices a line that changed underneath', async () => {
  const bytes = enc.encode('{"source-ref":"a"}\n');
  const index = await ManifestIndex.build(memoryByteSource(bytes)).done;
  bytes[5] = 0x7d; // corrupt the key in place
  const read = await index.readEntry(0);
  assert.equal(read.summary.status, 'malformed');
  assert.equal(read.value, undefined);
});

test('synthetic manifests: the index agrees with JSON.parse + the zod schema on every line', async () => {
  const text = syntheticManifest({
    lines: 300,
    words: 4,
    seed: 11,
    malformedRate: 0.15,
    blankRate: 0.1,
    unknownKeys: true,
    statusWeights: { new: 1, extracted: 1, predicted: 2, labeled: 1 },
  });
  const index = await indexOf(text, { chunkSize: 997 });
  const lines = text.split('\n');
  let entry = 0;
  const counts: Record<EntryStatus, number> = { new: 0, extracted: 0, predicted: 0, labeled: 0, malformed: 0 };
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === '') continue;
    let value: Record<string, unknown> | undefined;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      value = undefined;
    }
    const status: EntryStatus =
      value === undefined || entryProblem(value) !== undefined
        ? 'malformed'
        : value.labels
          ? 'labeled'
          : value['soft-labels']
            ? 'predicted'
            : value.textract || value['textract-ref']
              ? 'extracted'
              : 'new';
    counts[status]++;
    assert.equal(index.statusOf(entry), status, `line ${n + 1}: ${line.slice(0, 80)}`);
    assert.equal(index.lineOf(entry), n + 1);
    if (status === 'predicted' || status === 'labeled') {
      const boxes = (value!['soft-labels'] as { boxes: Record<string, number[]> }).boxes;
      const expected = Math.max(...Object.values(boxes).map((p) => scoreBox('entropy', p, 0, SYNTHETIC_CLASSES.length)));
      assert.ok(Math.abs(index.summary(entry).uncertainty!.entropy - expected) < 1e-6);
    }
    entry++;
  }
  assert.equal(index.entryCount, entry);
  assert.deepEqual(index.counts, counts);
  assert.ok(counts.malformed > 10 && counts.labeled > 10);
});

const realGroundTruth = path.resolve(__dirname, '../../../..', 'shared/fixtures/real/groundtruth');

test('real Ground Truth output manifests: one entry per non-blank line', async (t) => {
  let names: string[];
  try {
    names = (await fs.readdir(realGroundTruth)).filter((n) => n.endsWith('.jsonl'));
  } catch {
    t.skip(`real fixtures not found at ${realGroundTruth}`);
    return;
  }
  assert.ok(names.length > 0);
  for (const name of names) {
    const file = path.join(realGroundTruth, name);
    const text = await fs.readFile(file, 'utf8');
    const nonBlank = text.split('\n').filter((l) => l.trim() !== '').length;
    const index = await ManifestIndex.build(fileByteSource(fs, file), { chunkSize: 4096 }).done;
    assert.equal(index.entryCount, nonBlank, name);
    assert.equal(index.bytes, Buffer.byteLength(text));
    // Lines without a source-ref (text jobs use `source`) are malformed for this tool, never dropped.
    for (let i = 0; i < index.entryCount; i++) {
      const read = await index.readEntry(i);
      const value = JSON.parse(read.text) as Record<string, unknown>;
      assert.equal(index.statusOf(i) === 'malformed', typeof value['source-ref'] !== 'string', `${name} entry ${i}`);
    }
  }
});

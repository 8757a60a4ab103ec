import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryByteSource } from '../../../src/core/manifest/byteSource';
import { ManifestIndex, type BuildOptions } from '../../../src/core/manifest/manifestIndex';
import { rng, syntheticManifestLines } from '../../../scripts/genManifest';

const enc = new TextEncoder();

/**
 * A random small manifest: a mix of statuses, malformed and blank lines, whitespace-only
 * lines, unusable soft labels, CRLF or LF per line, sometimes a BOM and sometimes no final
 * line break.
 */
function randomManifest(seed: number): Uint8Array {
  const r = rng(seed);
  const lines = [
    ...syntheticManifestLines({
      lines: 12 + Math.floor(r() * 10),
      words: 2,
      seed,
      statusWeights: { new: 1, extracted: 1, predicted: 2, labeled: 1 },
      malformedRate: 0.2,
      blankRate: 0.2,
      unknownKeys: r() < 0.5,
    }),
  ];
  lines.splice(Math.floor(r() * lines.length), 0, '  \t ');
  lines.splice(Math.floor(r() * lines.length), 0, '{"source-ref":"odd.png","soft-labels":{"boxes":{"w":[0.5,0.5]}}}');
  let text = r() < 0.4 ? '\ufeff' : '';
  lines.forEach((line, k) => {
    const last = k === lines.length - 1;
    text += line + (last && r() < 0.4 ? '' : r() < 0.3 ? '\r\n' : '\n');
  });
  return enc.encode(text);
}

/** Everything a caller can see of an index. */
function snapshot(index: ManifestIndex): unknown {
  const entries = [];
  for (let i = 0; i < index.entryCount; i++) {
    const scores = index.imageScores(i);
    entries.push({ summary: index.summary(i), scores: scores && Array.from(scores), soft: index.softLabelProblem(i) });
  }
  return {
    bytes: index.bytes,
    lineCount: index.lineCount,
    entryCount: index.entryCount,
    counts: index.counts,
    problems: index.problems,
    softLabelProblems: index.softLabelProblems,
    entries,
  };
}

async function byRanges(bytes: Uint8Array, splits: readonly number[], options: BuildOptions): Promise<ManifestIndex> {
  const source = memoryByteSource(bytes);
  const bounds = [0, ...splits, Infinity];
  const parts = await Promise.all(bounds.slice(0, -1).map((start, k) => ManifestIndex.buildRange(source, start, bounds[k + 1]!, options).done));
  return ManifestIndex.merge(parts, source);
}

test('indexing byte ranges and merging them gives exactly the single build, at every kind of split point', async () => {
  let compared = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const bytes = randomManifest(seed);
    const options: BuildOptions = { chunkSize: seed % 3 === 0 ? 4 * 1024 * 1024 : 37 + seed * 11 };
    const whole = snapshot(await ManifestIndex.build(memoryByteSource(bytes), options).done);
    // Split points at, just before and just after every line break (lines straddling the
    // split, a split right at a line start, inside a CRLF and inside the BOM), plus random ones.
    const points = new Set<number>([0, 1, 2, 3, 4, bytes.length - 1, bytes.length, bytes.length + 10]);
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) for (const d of [-1, 0, 1, 2]) points.add(i + d);
    const r = rng(seed * 7919);
    for (let k = 0; k < 10; k++) points.add(Math.floor(r() * bytes.length));
    for (const p of [...points].filter((x) => x >= 0)) {
      assert.deepEqual(snapshot(await byRanges(bytes, [p], options)), whole, `seed ${seed}, split at ${p}`);
      compared++;
    }
    for (let k = 0; k < 10; k++) {
      const splits = [Math.floor(r() * bytes.length), Math.floor(r() * bytes.length), Math.floor(r() * bytes.length)].sort((a, b) => a - b);
      assert.deepEqual(snapshot(await byRanges(bytes, splits, options)), whole, `seed ${seed}, splits at ${splits.join(', ')}`);
      compared++;
    }
  }
  assert.ok(compared > 400);
});

test('a range holds only the lines that start in it, numbered from its first line', async () => {
  const text = '{"source-ref":"a"}\n{"source-ref":"b"}\n\n{"source-ref":"c"}';
  const source = memoryByteSource(enc.encode(text));
  const start = text.indexOf('{"source-ref":"b"}') + 3; // mid-line: b belongs to the range before
  const head = await ManifestIndex.buildRange(source, 0, start).done;
  const tail = await ManifestIndex.buildRange(source, start, Infinity).done;
  assert.deepEqual([head.entryCount, head.lineCount, tail.entryCount, tail.lineCount], [2, 2, 1, 2]);
  assert.equal(tail.lines[0], 2);
  assert.equal(tail.offsets[0], text.indexOf('{"source-ref":"c"}'));
  const merged = ManifestIndex.merge([head, tail], source);
  assert.equal(merged.lineOf(2), 4);
  assert.equal((await merged.readEntry(2)).summary.sourceRef, 'c');
  assert.throws(() => ManifestIndex.merge([tail], source), /starting at byte 0/);
  assert.throws(() => ManifestIndex.merge([head, head], source), /not consecutive/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileByteSource } from '../../../src/core/manifest/byteSource';
import { cacheFileFor, defaultCacheDir, openManifestIndex, type OpenOptions } from '../../../src/core/manifest/indexCache';
import { IMAGE_SCORE_SLOTS, type ManifestIndex } from '../../../src/core/manifest/manifestIndex';
import { syntheticManifest } from '../../../scripts/genManifest';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-cache-'));
  try {
    await run(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function open(file: string, options: OpenOptions = {}): Promise<{ index: ManifestIndex; fromCache: boolean }> {
  const opening = openManifestIndex(fs, fileByteSource(fs, file), options);
  const index = await opening.done;
  await opening.cacheSettled;
  return { index, fromCache: await opening.fromCache };
}

/** Everything a user of the index can observe, for comparing a cached index with a built one. */
function observable(index: ManifestIndex): unknown {
  return {
    entries: index.entryCount,
    bytes: index.bytes,
    lines: index.lineCount,
    counts: index.counts,
    problems: index.problems,
    soft: index.softLabelProblems,
    summaries: index.page(0, index.entryCount),
    scores: Array.from({ length: index.entryCount }, (_, i) => (index.imageScores(i) ? [...index.imageScores(i)!] : null)),
  };
}

const text = syntheticManifest({ lines: 60, words: 3, seed: 5, malformedRate: 0.1, blankRate: 0.1, statusWeights: { new: 1, predicted: 2, labeled: 1 } });

test('miss, then hit: the cached index is the same index, read from .ocr-al beside the manifest', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    await fs.writeFile(file, text);
    const cold = await open(file);
    assert.equal(cold.fromCache, false);
    const cacheFile = cacheFileFor(defaultCacheDir(file), file, 'labels');
    assert.equal(path.dirname(cacheFile), path.join(dir, '.ocr-al'));
    await fs.access(cacheFile);
    assert.deepEqual(
      (await fs.readdir(path.join(dir, '.ocr-al'))).filter((n) => n.includes('.tmp')),
      [],
      'no temp files left',
    );
    const warm = await open(file);
    assert.equal(warm.fromCache, true);
    assert.deepEqual(observable(warm.index), observable(cold.index));
    assert.ok(warm.index.counts.predicted > 0);
    const predicted = warm.index.page(0, 1, { status: 'predicted' })[0]!;
    assert.equal(warm.index.imageScores(predicted.index)!.length, IMAGE_SCORE_SLOTS);
    // Entries read through a cached index come from the manifest.
    const i = warm.index.findByRef(cold.index.page(0, 1)[0]!.sourceRef!)!;
    assert.deepEqual((await warm.index.readEntry(i)).value, (await cold.index.readEntry(i)).value);
  });
});

test('stale: an edited manifest (size or mtime) is re-indexed', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    await fs.writeFile(file, text);
    const first = await open(file);
    await fs.appendFile(file, '{"source-ref":"added.png"}\n');
    const second = await open(file);
    assert.equal(second.fromCache, false);
    assert.equal(second.index.entryCount, first.index.entryCount + 1);
    assert.equal(second.index.findByRef('added.png'), first.index.entryCount);
    assert.equal((await open(file)).fromCache, true);
  });
});

test('stale: same size and mtime but different content is caught by the fingerprint', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    await fs.writeFile(file, '{"source-ref":"a.png"}\n{"source-ref":"b.png"}\n');
    await open(file);
    const before = await fs.stat(file);
    await fs.writeFile(file, '{"source-ref":"a.png"}\n{"source-ref":"c.png"}\n');
    await fs.utimes(file, before.atime, before.mtime);
    const reopened = await open(file);
    assert.equal(reopened.fromCache, false);
    assert.equal(reopened.index.findByRef('c.png'), 1);
  });
});

test('corrupt or foreign cache files are ignored and replaced', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    await fs.writeFile(file, text);
    const built = await open(file);
    const cacheFile = cacheFileFor(defaultCacheDir(file), file, 'labels');
    const good = await fs.readFile(cacheFile);
    const damaged: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['garbage', Buffer.from('hello, not an index')],
      ['truncated', good.subarray(0, good.length - 100)],
      ['flipped byte in the body', Buffer.from(good.map((b, k) => (k === good.length - 200 ? b ^ 0xff : b)))],
      ['flipped byte in the header', Buffer.from(good.map((b, k) => (k === 20 ? b ^ 0x01 : b)))],
    ];
    for (const [what, bytes] of damaged) {
      await fs.writeFile(cacheFile, bytes);
      const reopened = await open(file);
      assert.equal(reopened.fromCache, false, what);
      assert.deepEqual(observable(reopened.index), observable(built.index), what);
      assert.deepEqual(await fs.readFile(cacheFile), good, `${what}: rewritten`);
    }
  });
});

test('the label attribute is part of the key; the cache dir can be moved or disabled', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    await fs.writeFile(file, '{"source-ref":"a","gt":{}}\n');
    assert.equal((await open(file)).index.counts.labeled, 0);
    const custom = await open(file, { labelAttribute: 'gt' });
    assert.equal(custom.fromCache, false);
    assert.equal(custom.index.counts.labeled, 1);
    assert.equal((await open(file, { labelAttribute: 'gt' })).fromCache, true);

    const elsewhere = path.join(dir, 'elsewhere');
    assert.equal((await open(file, { cacheDir: elsewhere })).fromCache, false);
    assert.equal((await open(file, { cacheDir: elsewhere })).fromCache, true);
    assert.equal((await open(file, { cacheDir: false })).fromCache, false);
  });
});

test('an unwritable cache dir is a warning, not a failure', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    await fs.writeFile(file, '{"source-ref":"a"}\n');
    const blocker = path.join(dir, 'not-a-dir');
    await fs.writeFile(blocker, 'x');
    const warnings: string[] = [];
    const { index } = await open(file, { cacheDir: path.join(blocker, 'cache'), onCacheWarning: (m) => warnings.push(m) });
    assert.equal(index.entryCount, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot write the index cache/);
  });
});

test('a missing manifest is NotFound', async () => {
  await withDir(async (dir) => {
    const opening = openManifestIndex(fs, fileByteSource(fs, path.join(dir, 'nope.jsonl')));
    await assert.rejects(opening.done, (e: unknown) => (e as { code?: string }).code === 'NotFound');
    await opening.cacheSettled;
  });
});

test('refs survive the cache: non-ASCII, missing, and many lookups', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    for (const prefix of ['größe/日本', 'plain']) {
      const refs = Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? `${prefix}-${i}.png` : `img-${i}.png`));
      const lines = refs.map((r, i) => (i % 50 === 3 ? '{"no-ref":1}' : JSON.stringify({ 'source-ref': r })));
      await fs.writeFile(file, lines.join('\n') + '\n');
      const built = await open(file);
      assert.equal(built.fromCache, false);
      const reopened = await open(file);
      assert.equal(reopened.fromCache, true);
      const index = reopened.index;
      // One-by-one lookups first (decoded lazily), then enough to switch to decoding all at once.
      assert.equal(index.refOf(7), `${prefix}-7.png`);
      assert.equal(index.refOf(3), undefined);
      for (let i = 0; i < refs.length; i++) assert.equal(index.refOf(i), built.index.refOf(i), `entry ${i}`);
      assert.deepEqual(index.page(0, 500, { sort: 'name' }), built.index.page(0, 500, { sort: 'name' }));
      assert.equal(index.findByRef(`${prefix}-14.png`), 14);
    }
  });
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { fileByteSource } from '../../src/core/manifest/byteSource';
import { ManifestIndex } from '../../src/core/manifest/manifestIndex';
import { openManifestIndex } from '../../src/core/manifest/indexCache';
import { parallelIndexBuilder, type ParallelIndexSettings } from '../../src/sources/parallelIndex';
import { syntheticManifestLines } from '../../scripts/genManifest';

let dir: string;
let file: string;
let size: number;
let single: unknown;

/** Everything a caller can see of an index. */
function snapshot(index: ManifestIndex): unknown {
  const entries = [];
  for (let i = 0; i < index.entryCount; i++) {
    const scores = index.imageScores(i);
    entries.push({ summary: index.summary(i), scores: scores && Array.from(scores), soft: index.softLabelProblem(i) });
  }
  return { bytes: index.bytes, lineCount: index.lineCount, counts: index.counts, problems: index.problems, softLabelProblems: index.softLabelProblems, entries };
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-parallel-'));
  file = path.join(dir, 'manifest.jsonl');
  const lines = [
    ...syntheticManifestLines({ lines: 600, words: 8, seed: 5, statusWeights: { new: 1, extracted: 1, predicted: 3, labeled: 1 }, malformedRate: 0.05, blankRate: 0.05 }),
  ];
  // CRLF on every third line and no final line break.
  await fs.writeFile(file, '\ufeff' + lines.map((l, k) => l + (k % 3 === 0 ? '\r\n' : '\n')).join('').trimEnd());
  size = (await fs.stat(file)).size;
  single = snapshot(await ManifestIndex.build(fileByteSource(fs, file)).done);
});
after(() => fs.rm(dir, { recursive: true, force: true }));

/** Builds with the parallel builder; `workers` counts the workers it started, `logged` its fallbacks. */
async function parallel(settings: ParallelIndexSettings = {}, chunkSize = 16 * 1024) {
  const workers: Worker[] = [];
  const logged: string[] = [];
  const progress: number[] = [];
  const build = parallelIndexBuilder(file, { minBytes: 0, parallelism: 2, log: (m) => logged.push(m), onWorkerStart: (w) => workers.push(w), ...settings })(
    fileByteSource(fs, file),
    { chunkSize, onProgress: (p) => progress.push(p.bytesRead) },
  );
  const firstPage = await build.firstPage(5);
  const index = await build.done;
  return { index, firstPage, workers, logged, progress };
}

test('two threads give exactly the index of one, with progress up to the file size', async () => {
  for (const headShare of [0.5, 0.1, 0.9]) {
    const { index, firstPage, workers, logged, progress } = await parallel({ headShare });
    assert.equal(workers.length, 1, 'the worker thread ran');
    assert.deepEqual(logged, []);
    assert.deepEqual(snapshot(index), single, `head share ${headShare}`);
    assert.deepEqual(firstPage, index.page(0, 5));
    assert.equal(Math.max(...progress), size);
    assert.ok(progress.length > 10);
  }
});

test('firstPage asking for more entries than the first range holds waits for the whole index', async () => {
  const build = parallelIndexBuilder(file, { minBytes: 0, parallelism: 2, headShare: 0.01 })(fileByteSource(fs, file), {});
  const page = await build.firstPage(200);
  const index = await build.done;
  assert.deepEqual(page, index.page(0, 200));
});

test('the bundled worker (dist/indexWorker.js) gives the same index', async (t) => {
  const bundled = path.resolve(__dirname, '..', '..', 'dist', 'indexWorker.js');
  if (!existsSync(bundled)) return t.skip('dist/indexWorker.js is not built (npm run build)');
  const { index, workers, logged } = await parallel({ workerFile: bundled });
  assert.equal(workers.length, 1);
  assert.deepEqual(logged, []);
  assert.deepEqual(snapshot(index), single);
});

test('when the worker cannot start, the build finishes on one thread and says so', async () => {
  const { index, logged } = await parallel({ workerFile: path.join(dir, 'missing', 'indexWorker.js') });
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /on one thread: index worker/);
  assert.deepEqual(snapshot(index), single);
});

test('small files and single-core machines use no worker', async () => {
  for (const settings of [{ minBytes: size + 1 }, { parallelism: 1 }]) {
    const { index, workers } = await parallel(settings);
    assert.equal(workers.length, 0);
    assert.deepEqual(snapshot(index), single);
  }
});

test('aborting terminates the worker and rejects with Cancelled', async () => {
  const controller = new AbortController();
  let messages = 0;
  let exited: Promise<unknown> | undefined;
  const build = parallelIndexBuilder(file, {
    minBytes: 0,
    parallelism: 2,
    onWorkerStart: (w) => {
      w.on('message', () => messages++);
      exited = once(w, 'exit');
      controller.abort();
    },
  })(fileByteSource(fs, file), { signal: controller.signal, chunkSize: 4096 });
  await assert.rejects(build.done, { code: 'Cancelled' });
  assert.ok(exited, 'a worker was started');
  await exited;
  assert.equal(messages, 0, 'the worker was stopped before it indexed anything');
});

test('openManifestIndex takes the builder and caches what it built', async () => {
  const cacheDir = path.join(dir, 'cache');
  const workers: Worker[] = [];
  const builder = parallelIndexBuilder(file, { minBytes: 0, parallelism: 2, onWorkerStart: (w) => workers.push(w) });
  const cold = openManifestIndex(fs, fileByteSource(fs, file), { cacheDir, builder });
  assert.deepEqual(snapshot(await cold.done), single);
  await cold.cacheSettled;
  const warm = openManifestIndex(fs, fileByteSource(fs, file), { cacheDir, builder });
  assert.equal(await warm.fromCache, true);
  assert.deepEqual(snapshot(await warm.done), single);
  assert.equal(workers.length, 1);
});

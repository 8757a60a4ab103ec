import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { OcrAlError } from '../../src/core/errors';
import { ManifestIndex } from '../../src/core/manifest/manifestIndex';
import { LocalSource, walkManifests } from '../../src/sources/localSource';

describe('LocalSource', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ocr-al-local-'));
    for (const dir of ['batch-a', 'nested/batch b ü', 'node_modules/pkg', '.git/x', 'empty']) await mkdir(join(root, dir), { recursive: true });
    await writeFile(join(root, 'batch-a', 'manifest.jsonl'), '{"source-ref":"thumbnails/p1.png"}\n{"source-ref":"thumbnails/p2.png"}\nnot json\n');
    await writeFile(join(root, 'nested/batch b ü', 'manifest.jsonl'), '{"source-ref":"x.png"}\n');
    await writeFile(join(root, 'node_modules/pkg', 'manifest.jsonl'), '{}\n');
    await writeFile(join(root, '.git/x', 'manifest.jsonl'), '{}\n');
    await writeFile(join(root, 'empty', 'manifest.json'), '{}\n');
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('finds batch folders holding manifest.jsonl, skipping node_modules and .git', async () => {
    const source = new LocalSource({ find: walkManifests([root]) });
    const { batches, problems } = await source.listBatches();
    assert.deepEqual(problems, []);
    assert.deepEqual(
      batches.map((b) => [b.name, b.location, b.kind]),
      [
        ['batch-a', join(root, 'batch-a'), 'local'],
        ['batch b ü', join(root, 'nested/batch b ü'), 'local'],
      ],
    );
    assert.equal(batches[0]!.manifest, join(root, 'batch-a', 'manifest.jsonl'));
  });

  test('the same manifest found twice (overlapping workspace folders) is one batch', async () => {
    const source = new LocalSource({ find: walkManifests([root, join(root, 'batch-a')]) });
    assert.equal((await source.listBatches()).batches.length, 2);
  });

  test('opens the manifest for the index: entries, malformed line with its number', async () => {
    const source = new LocalSource({ find: walkManifests([root]) });
    const batch = (await source.listBatches()).batches[0]!;
    const index = await ManifestIndex.build(await source.openManifest(batch)).done;
    assert.equal(index.entryCount, 3);
    assert.deepEqual(index.problems.map((p) => p.line), [3]);
  });

  test('resolves refs inside the batch folder to file URLs and refuses escapes', async () => {
    const source = new LocalSource({ find: walkManifests([root]) });
    const batch = (await source.listBatches()).batches[0]!;
    assert.deepEqual(source.resolveRef(batch, 'thumbnails/p1.png'), { kind: 'local', path: join(root, 'batch-a', 'thumbnails', 'p1.png') });
    assert.equal(await source.imageUrl(batch, 'thumbnails/p 1.png'), pathToFileURL(join(root, 'batch-a', 'thumbnails', 'p 1.png')).href);
    assert.throws(() => source.resolveRef(batch, '../../etc/passwd'), (e: unknown) => OcrAlError.is(e, 'PathEscape'));
    await assert.rejects(source.imageUrl(batch, '/etc/passwd'), (e: unknown) => OcrAlError.is(e, 'PathEscape'));
  });

  test('change notifications reach listeners until disposed', () => {
    const source = new LocalSource({ find: async () => [] });
    let calls = 0;
    const sub = source.onDidChange(() => calls++);
    source.notifyChanged();
    sub.dispose();
    source.notifyChanged();
    assert.equal(calls, 1);
  });
});

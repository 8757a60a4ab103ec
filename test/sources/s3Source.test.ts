import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OcrAlError } from '../../src/core/errors';
import { ManifestIndex } from '../../src/core/manifest/manifestIndex';
import { S3Source, s3Batch } from '../../src/sources/s3Source';
import { type LocalS3, startLocalS3 } from '../aws/localS3';

const BUCKET = 'ocr-batches';

function manifestOf(count: number): string {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ 'source-ref': `thumbnails/p${String(i).padStart(6, '0')}.png`, pad: 'x'.repeat(200) })).join('\n') + '\n';
}

describe('S3Source against s3rver', () => {
  let s3: LocalS3;
  let locations: string[] = [];
  let storeCalls = 0;
  let source: S3Source;
  const big = manifestOf(5000); // ~1.1 MB: several ranged reads with a small chunk size

  before(async () => {
    s3 = await startLocalS3([BUCKET]);
    const objects = new Map<string, string>();
    for (let i = 0; i < 240; i++) objects.set(`jobs/run-1/thumbnails/p${i}.png`, 'png');
    objects.set('jobs/run-1/manifest.jsonl', big);
    objects.set('jobs/Läufe 2024/batch ü 2/manifest.jsonl', '{"source-ref":"a b.png"}\n{oops\n');
    objects.set('jobs/run-1/manifest.jsonl.bak', 'not a manifest');
    objects.set('other/manifest.jsonl', '{"source-ref":"x.png"}\n');
    objects.set('manifest.jsonl', '{"source-ref":"root.png"}\n');
    await s3.seed(BUCKET, objects);
    source = new S3Source({
      locations: () => locations,
      store: () => {
        storeCalls++;
        return s3.store();
      },
      pageSize: 50, // 245 keys under jobs/: five ListObjectsV2 pages
    });
  });
  after(() => s3?.close());

  test('no locations: no S3 client is even created', async () => {
    locations = [];
    assert.deepEqual(await source.listBatches(), { batches: [], problems: [] });
    assert.equal(storeCalls, 0);
  });

  test('finds every manifest.jsonl under a prefix across pages, with odd names', async () => {
    locations = [`s3://${BUCKET}/jobs`];
    const { batches, problems } = await source.listBatches();
    assert.deepEqual(problems, []);
    assert.deepEqual(
      batches.map((b) => [b.name, b.location, b.manifest]),
      [
        ['batch ü 2', `s3://${BUCKET}/jobs/Läufe 2024/batch ü 2/`, `s3://${BUCKET}/jobs/Läufe 2024/batch ü 2/manifest.jsonl`],
        ['run-1', `s3://${BUCKET}/jobs/run-1/`, `s3://${BUCKET}/jobs/run-1/manifest.jsonl`],
      ],
    );
  });

  test('a manifest at the bucket root is named after the bucket; overlapping locations do not duplicate', async () => {
    locations = [`s3://${BUCKET}/`, `s3://${BUCKET}/other/`];
    const { batches } = await source.listBatches();
    assert.deepEqual(
      batches.map((b) => b.name),
      [BUCKET, 'batch ü 2', 'run-1', 'other'],
    );
  });

  test('a missing bucket is a problem of that location; the others still list', async () => {
    locations = ['s3://no-such-bucket/x/', `s3://${BUCKET}/other/`];
    const { batches, problems } = await source.listBatches();
    assert.deepEqual(batches.map((b) => b.name), ['other']);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.location, 's3://no-such-bucket/x/');
    assert.ok(OcrAlError.is(problems[0]!.error, 'NotFound'));
    assert.match(problems[0]!.error.message, /S3 bucket "no-such-bucket" does not exist/);
  });

  test('listing stops at the key limit and says so', async () => {
    const limited = new S3Source({ locations: () => [`s3://${BUCKET}/jobs/`], store: () => s3.store(), maxKeysPerLocation: 100, pageSize: 50 });
    const { problems } = await limited.listBatches();
    assert.match(problems[0]!.error.message, /Stopped listing s3:\/\/ocr-batches\/jobs\/ after 100 keys; add a narrower prefix/);
  });

  test('the index reads the manifest with ranged GETs; the first page comes before the whole object', async () => {
    const batch = s3Batch(BUCKET, 'jobs/run-1/manifest.jsonl');
    const bytes = await source.openManifest(batch);
    assert.equal(await bytes.size(), Buffer.byteLength(big));
    assert.match(await bytes.identity(), /^"[0-9a-f]+":\d+$/);
    const reads: number[] = [];
    const counted = { ...bytes, read: (offset: number, length: number) => (reads.push(offset), bytes.read(offset, length)) };
    const build = ManifestIndex.build(counted, { chunkSize: 64 * 1024 });
    const first = await build.firstPage(200);
    assert.equal(first.length, 200);
    assert.equal(first[0]!.sourceRef, 'thumbnails/p000000.png');
    const readsForFirstPage = reads.length;
    const index = await build.done;
    assert.equal(index.entryCount, 5000);
    assert.ok(readsForFirstPage < reads.length / 2, `first page after ${readsForFirstPage} of ${reads.length} reads`);
  });

  test('a malformed line in an S3 manifest keeps its line number', async () => {
    const batch = s3Batch(BUCKET, 'jobs/Läufe 2024/batch ü 2/manifest.jsonl');
    const index = await ManifestIndex.build(await source.openManifest(batch)).done;
    assert.deepEqual(index.problems.map((p) => p.line), [2]);
    assert.equal(index.counts.malformed, 1);
  });

  test('a manifest replaced while being read fails with Conflict', async () => {
    const key = 'changing/manifest.jsonl';
    await (await s3.store()).write(BUCKET, key, manifestOf(10));
    const bytes = await source.openManifest(s3Batch(BUCKET, key));
    await bytes.read(0, 10);
    await (await s3.store()).write(BUCKET, key, manifestOf(11));
    await assert.rejects(bytes.read(0, 10), (e: unknown) => OcrAlError.is(e, 'Conflict'));
  });

  test('a missing manifest is NotFound', async () => {
    await assert.rejects(source.openManifest(s3Batch(BUCKET, 'gone/manifest.jsonl')), (e: unknown) => OcrAlError.is(e, 'NotFound'));
  });

  test('thumbnail refs resolve inside the batch prefix to presigned URLs that load', async () => {
    const batch = s3Batch(BUCKET, 'jobs/run-1/manifest.jsonl');
    assert.deepEqual(source.resolveRef(batch, 'thumbnails/p1.png'), { kind: 's3', bucket: BUCKET, key: 'jobs/run-1/thumbnails/p1.png' });
    const url = await source.imageUrl(batch, `s3://${BUCKET}/jobs/run-1/thumbnails/p1.png`);
    assert.ok(url);
    assert.equal(await (await fetch(url)).text(), 'png');
    assert.throws(() => source.resolveRef(batch, '../../other/x.png'), (e: unknown) => OcrAlError.is(e, 'PathEscape'));
    assert.throws(() => source.resolveRef(batch, 's3://another-bucket/jobs/run-1/x.png'), (e: unknown) => OcrAlError.is(e, 'PathEscape'));
  });
});

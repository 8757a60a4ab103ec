import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { OcrAlError } from '../../../src/core/errors';
import { type BatchLocation, checkEntryRefs, resolveRef, resolveRefOnDisk } from '../../../src/core/manifest/refs';

const local: BatchLocation = { kind: 'local', dir: '/data/batches/b1' };
const s3: BatchLocation = { kind: 's3', bucket: 'ml-bucket', prefix: 'batches/b1' };
const isEscape = (e: unknown) => OcrAlError.is(e, 'PathEscape');

test('refs inside a local batch resolve to paths in it', () => {
  assert.deepEqual(resolveRef(local, 'thumbnails/p1.png'), { kind: 'local', path: '/data/batches/b1/thumbnails/p1.png' });
  assert.deepEqual(resolveRef(local, './a/../p1.png'), { kind: 'local', path: '/data/batches/b1/p1.png' });
  assert.deepEqual(resolveRef(local, '..p1.png'), { kind: 'local', path: '/data/batches/b1/..p1.png' });
  assert.deepEqual(resolveRef(local, '/data/batches/b1/p1.png'), { kind: 'local', path: '/data/batches/b1/p1.png' });
});

test('hostile local refs are refused with PathEscape', () => {
  const hostile = [
    '../b2/p1.png',
    '../../../../etc/passwd',
    'thumbnails/../../b2/x.png',
    '/etc/passwd',
    '/data/batches/b1-evil/p.png',
    '%2e%2e/b2/p.png',
    '%2E%2E%2Fb2%2Fp.png',
    '..%2fb2',
    '..\\b2\\p.png',
    'thumbnails\\..\\..\\b2',
    'C:\\Windows\\win.ini',
    '\\\\server\\share\\x.png',
    'file:///etc/passwd',
    'http://169.254.169.254/latest/meta-data',
    's3://ml-bucket/batches/b1/p.png',
    'p1.png\0.json',
    'p1%00.png',
  ];
  for (const ref of hostile) assert.throws(() => resolveRef(local, ref, 'source-ref'), isEscape, ref);
});

test('the message names the key and the ref', () => {
  assert.throws(() => resolveRef(local, '../x', 'textract-ref'), /textract-ref "..\/x" resolves outside the batch folder; refused/);
});

test('non-string or empty refs are BadInput', () => {
  for (const v of [undefined, null, 3, '', {}]) assert.throws(() => resolveRef(local, v), (e: unknown) => OcrAlError.is(e, 'BadInput'));
});

test('S3 refs must stay in the batch bucket and prefix', () => {
  assert.deepEqual(resolveRef(s3, 's3://ml-bucket/batches/b1/thumbs/p.png'), { kind: 's3', bucket: 'ml-bucket', key: 'batches/b1/thumbs/p.png' });
  assert.deepEqual(resolveRef(s3, 'thumbs/p.png'), { kind: 's3', bucket: 'ml-bucket', key: 'batches/b1/thumbs/p.png' });
  const hostile = [
    's3://other-bucket/batches/b1/p.png',
    's3://ml-bucket/batches/b2/p.png',
    's3://ml-bucket/batches/b1x/p.png',
    's3://ml-bucket/batches/b1/../b2/p.png',
    's3://ml-bucket/batches/b1/%2e%2e/b2/p.png',
    '../b2/p.png',
    '%2e%2e/b2/p.png',
    '..\\b2\\p.png',
    '/batches/b1/p.png',
  ];
  for (const ref of hostile) assert.throws(() => resolveRef(s3, ref, 'raw-ref'), isEscape, ref);
});

test('symlinks out of the batch are refused when realpath is given', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-refs-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  const batchDir = path.join(root, 'batch');
  await fs.mkdir(path.join(batchDir, 'thumbs'), { recursive: true });
  await fs.writeFile(path.join(root, 'secret.txt'), 'x');
  await fs.writeFile(path.join(batchDir, 'thumbs', 'ok.png'), 'x');
  await fs.symlink(path.join(root, 'secret.txt'), path.join(batchDir, 'link.png'));
  await fs.symlink(root, path.join(batchDir, 'up'));
  await fs.symlink(path.join(batchDir, 'thumbs', 'ok.png'), path.join(batchDir, 'inside.png'));
  const batch: BatchLocation = { kind: 'local', dir: batchDir };
  await assert.rejects(resolveRefOnDisk(batch, 'link.png', 'source-ref', fs.realpath), isEscape);
  await assert.rejects(resolveRefOnDisk(batch, 'up/secret.txt', 'source-ref', fs.realpath), isEscape);
  await assert.rejects(resolveRefOnDisk(batch, 'up/missing/new.png', 'source-ref', fs.realpath), isEscape);
  assert.deepEqual(await resolveRefOnDisk(batch, 'inside.png', 'source-ref', fs.realpath), { kind: 'local', path: path.join(batchDir, 'inside.png') });
  assert.deepEqual(await resolveRefOnDisk(batch, 'thumbs/not-yet.png', 'source-ref', fs.realpath), {
    kind: 'local',
    path: path.join(batchDir, 'thumbs', 'not-yet.png'),
  });
  // Without realpath only the path is checked (the link is not followed).
  assert.equal((await resolveRefOnDisk(batch, 'link.png', 'source-ref', undefined)).kind, 'local');
});

test('checkEntryRefs checks every *-ref key, thumbnail-ref included', () => {
  assert.doesNotThrow(() => checkEntryRefs({ 'source-ref': 'a.png', 'raw-ref': 'raw/a.tif', 'textract-ref': 't/a.json', other: '../x' }, local));
  for (const key of ['source-ref', 'raw-ref', 'textract-ref', 'thumbnail-ref']) {
    assert.throws(() => checkEntryRefs({ 'source-ref': 'a.png', [key]: '../../x' }, local), (e: unknown) => isEscape(e) && (e as Error).message.startsWith(key));
  }
});

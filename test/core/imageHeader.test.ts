import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { OcrAlError } from '../../src/core/errors';
import { imageSizeFromHeader, readImageSize } from '../../src/core/imageHeader';

const REAL = path.resolve(__dirname, '../..', '..', 'shared/fixtures/real/textract');

function png(width: number, height: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

function jpeg(width: number, height: number, exifBytes = 0): Buffer {
  const app1 = Buffer.alloc(4 + exifBytes);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(2 + exifBytes, 2);
  const sof = Buffer.from([0xff, 0xc2, 0x00, 0x11, 0x08, height >> 8, height & 255, width >> 8, width & 255, 0x03]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app1, sof, Buffer.alloc(20)]);
}

test('PNG and JPEG (progressive, behind an APP1 block) sizes are read from the header', () => {
  assert.deepEqual(imageSizeFromHeader(png(1226, 1514)), { width: 1226, height: 1514 });
  assert.deepEqual(imageSizeFromHeader(jpeg(640, 480, 300)), { width: 640, height: 480 });
  assert.equal(imageSizeFromHeader(png(1, 1).subarray(0, 12)), 'need-more');
  assert.equal(imageSizeFromHeader(Buffer.from('GIF89a........')), undefined);
});

test('readImageSize reads more of the file when EXIF pushes the frame header back', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-img-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(path.join(dir, 'big-exif.jpg'), jpeg(3000, 2000, 60_000));
  assert.deepEqual(await readImageSize(fs, path.join(dir, 'big-exif.jpg')), { width: 3000, height: 2000 });
  await fs.writeFile(path.join(dir, 'x.txt'), 'hello, not an image at all');
  await assert.rejects(readImageSize(fs, path.join(dir, 'x.txt')), (e: unknown) => OcrAlError.is(e, 'Malformed'));
  await assert.rejects(readImageSize(fs, path.join(dir, 'none.png')), (e: unknown) => OcrAlError.is(e, 'NotFound'));
});

test('real PNGs report their documented sizes', async (t) => {
  try {
    await fs.access(REAL);
  } catch {
    t.skip(`real fixtures not found at ${REAL}`);
    return;
  }
  assert.deepEqual(await readImageSize(fs, path.join(REAL, 'analyze-id__fake-id.png')), { width: 848, height: 544 });
  assert.deepEqual(await readImageSize(fs, path.join(REAL, 'console-export__multicol-2.png')), { width: 422, height: 271 });
});

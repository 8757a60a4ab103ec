/**
 * A small demo workspace: two batch folders, each a synthetic `manifest.jsonl` (mixed
 * statuses, a few malformed lines; scripts/genManifest.ts) plus a PNG thumbnail per entry
 * whose dark bars sit where the entry's Textract WORD boxes are, so boxes drawn over the image
 * line up with something. Used by `npm start` and the e2e journeys.
 *
 * From a shell: `node --import tsx scripts/demoWorkspace.ts [DIR] [--fresh]`
 * (default DIR demo-workspace/; an existing demo is kept unless --fresh).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { syntheticManifestLines, type SyntheticOptions } from './genManifest';

/** One batch folder of the demo. */
export interface DemoBatch {
  /** Folder name (the batch's name in the sidebar). */
  readonly name: string;
  /** Manifest options (lines, seed, status weights, malformed rate, ...). */
  readonly manifest: SyntheticOptions;
}

/** The two default batches: a larger one (pages past 200 entries) and a small one. */
export const DEMO_BATCHES: readonly DemoBatch[] = [
  {
    name: 'passports-2026-11-a',
    manifest: { lines: 450, words: 20, seed: 11, statusWeights: { new: 4, extracted: 1, predicted: 3, labeled: 1 }, malformedRate: 0.01 },
  },
  {
    name: 'passports-2026-11-b',
    manifest: { lines: 60, words: 20, seed: 22, statusWeights: { predicted: 3, labeled: 1 }, malformedRate: 0.05 },
  },
];

/** What {@link writeDemoWorkspace} wrote for one batch. */
export interface WrittenBatch {
  readonly name: string;
  readonly dir: string;
  readonly manifestPath: string;
  /** The manifest's lines (without '\n'), as written. */
  readonly lines: readonly string[];
  readonly thumbnails: number;
}

const MARKER = '.ocr-al-demo.json';

// ---- a minimal PNG encoder (8-bit grayscale), enough for thumbnails -------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A box in normalized page coordinates (Textract's BoundingBox). */
export interface NormalizedBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Encodes a light page with dark filled `boxes` as an 8-bit grayscale PNG. */
export function thumbnailPng(width: number, height: number, boxes: readonly NormalizedBox[]): Buffer {
  const stride = width + 1; // each row starts with its filter byte (0 = none)
  const raw = Buffer.alloc(stride * height, 246);
  for (let y = 0; y < height; y++) raw[y * stride] = 0;
  const fill = (x0: number, y0: number, x1: number, y1: number, value: number): void => {
    for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) raw[y * stride + 1 + x] = value;
    }
  };
  // A thin frame so the page edge is visible on light themes.
  fill(0, 0, width, 1, 180);
  fill(0, height - 1, width, height, 180);
  fill(0, 0, 1, height, 180);
  fill(width - 1, 0, width, height, 180);
  for (const b of boxes) {
    fill(Math.round(b.left * width), Math.round(b.top * height), Math.round((b.left + b.width) * width), Math.max(Math.round((b.top + b.height) * height), Math.round(b.top * height) + 1), 70);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface ParsedLine {
  readonly 'source-ref'?: unknown;
  readonly textract?: { readonly Blocks?: readonly { BlockType?: string; Geometry?: { BoundingBox?: { Left: number; Top: number; Width: number; Height: number } } }[] };
}

/** WORD boxes of a manifest line, or evenly spaced text bars for entries without Textract. */
function boxesOf(entry: ParsedLine, index: number): NormalizedBox[] {
  const words = (entry.textract?.Blocks ?? []).filter((b) => b.BlockType === 'WORD' && b.Geometry?.BoundingBox);
  if (words.length > 0) {
    return words.map((w) => {
      const bb = w.Geometry!.BoundingBox!;
      return { left: bb.Left, top: bb.Top, width: bb.Width, height: bb.Height };
    });
  }
  return Array.from({ length: 8 }, (_, row) => ({ left: 0.08, top: 0.08 + row * 0.1, width: 0.3 + ((index + row) % 5) * 0.1, height: 0.025 }));
}

/**
 * Writes the demo batches under `dir` (created if needed): `<batch>/manifest.jsonl` and
 * `<batch>/thumbnails/*.png` (124 x 175, the synthetic 1240 x 1754 pages at 1/10).
 */
export async function writeDemoWorkspace(dir: string, batches: readonly DemoBatch[] = DEMO_BATCHES, options: { thumbnails?: boolean } = {}): Promise<WrittenBatch[]> {
  const written: WrittenBatch[] = [];
  for (const batch of batches) {
    const batchDir = join(dir, batch.name);
    await mkdir(join(batchDir, 'thumbnails'), { recursive: true });
    const lines = [...syntheticManifestLines(batch.manifest)];
    const manifestPath = join(batchDir, 'manifest.jsonl');
    await writeFile(manifestPath, lines.map((l) => `${l}\n`).join(''));
    let thumbnails = 0;
    if (options.thumbnails ?? true) {
      for (const [index, line] of lines.entries()) {
        let entry: ParsedLine;
        try {
          entry = JSON.parse(line) as ParsedLine;
        } catch {
          continue; // a malformed line has no image
        }
        const ref = entry['source-ref'];
        if (typeof ref !== 'string' || ref.includes('..')) continue;
        await mkdir(join(batchDir, ref, '..'), { recursive: true });
        await writeFile(join(batchDir, ref), thumbnailPng(124, 175, boxesOf(entry, index)));
        thumbnails++;
      }
    }
    written.push({ name: batch.name, dir: batchDir, manifestPath, lines, thumbnails });
  }
  await writeFile(join(dir, MARKER), JSON.stringify({ batches: written.map((b) => b.name), created: new Date().toISOString() }, null, 2) + '\n');
  return written;
}

/** True when `dir` holds a demo written by {@link writeDemoWorkspace}. */
export function isDemoWorkspace(dir: string): boolean {
  return existsSync(join(dir, MARKER));
}

if (process.argv[1] && /demoWorkspace\.ts$/.test(process.argv[1])) {
  const args = process.argv.slice(2);
  const dir = resolve(args.find((a) => !a.startsWith('--')) ?? 'demo-workspace');
  const fresh = args.includes('--fresh');
  void (async () => {
    if (isDemoWorkspace(dir) && !fresh) {
      process.stderr.write(`demo workspace kept: ${dir} (--fresh regenerates it)\n`);
      return;
    }
    if (fresh && isDemoWorkspace(dir)) await rm(dir, { recursive: true, force: true });
    const started = performance.now();
    const written = await writeDemoWorkspace(dir);
    for (const b of written) process.stderr.write(`  ${b.name}: ${b.lines.length} lines, ${b.thumbnails} thumbnails\n`);
    process.stderr.write(`demo workspace written to ${dir} in ${(performance.now() - started).toFixed(0)} ms\n`);
  })().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}

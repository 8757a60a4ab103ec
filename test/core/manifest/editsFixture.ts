/**
 * Builders for edit/compaction tests: batches in a temp folder whose entries carry inline
 * Textract WORD blocks laid out on a grid (so no two words overlap), and a reader for the
 * class a word has in an entry's labels.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { classOfWord, parseObjectDetectionMetadata, parseObjectDetectionValue } from '../../../src/core/groundtruth/objectDetection';

export const IMAGE = { width: 1000, height: 800 } as const;

/** The ratio box of the i-th word of the grid. */
export function gridBox(i: number): { left: number; top: number; width: number; height: number } {
  return { left: 0.02 + (i % 8) * 0.12, top: 0.02 + Math.floor(i / 8) * 0.09, width: 0.08, height: 0.05 };
}

/** A Textract WORD block at grid position i. */
export function wordBlock(id: string, i: number): Record<string, unknown> {
  const b = gridBox(i);
  return {
    BlockType: 'WORD',
    Id: id,
    Text: `t${i}`,
    Confidence: 99.5,
    Page: 1,
    Geometry: { BoundingBox: { Width: b.width, Height: b.height, Left: b.left, Top: b.top } },
  };
}

/** A manifest entry with inline Textract words `w0..w{n-1}` (ids prefixed by the ref). */
export function entry(ref: string, words = 4, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'source-ref': ref,
    'source-size': { ...IMAGE },
    textract: { Blocks: Array.from({ length: words }, (_, i) => wordBlock(`${ref}#w${i}`, i)) },
    ...extra,
  };
}

/** The id of word i of `ref` in {@link entry}. */
export const wordId = (ref: string, i: number) => `${ref}#w${i}`;

/** A temp batch holding `manifest.jsonl` with `content`; `cleanup` removes it. */
export async function makeBatch(content: string | Uint8Array): Promise<{ dir: string; manifest: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ocr-al-edits-'));
  const manifest = path.join(dir, 'manifest.jsonl');
  await writeFile(manifest, content);
  return { dir, manifest, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The class name word `i` of `ref` has in `value`'s label attribute, or undefined. */
export function wordClass(value: Record<string, unknown>, ref: string, i: number, attribute = 'labels'): string | undefined {
  if (value[attribute] === undefined) return undefined;
  const labels = parseObjectDetectionValue(value[attribute], attribute);
  const metadata = parseObjectDetectionMetadata(value[`${attribute}-metadata`], attribute);
  const id = classOfWord({ box: gridBox(i) }, IMAGE, labels.annotations);
  void ref;
  return id === undefined ? undefined : metadata['class-map'][String(id)];
}

/**
 * Synthetic manifests for benchmarks, the demo batch and tests: one JSON line per image with
 * inline Textract blocks (a PAGE, optionally LINE blocks, and W WORD blocks in the real response shape)
 * and soft labels over the 11 default passport classes, deterministic for a given seed.
 * Optionally mixes in statuses (new / extracted / predicted / labeled), malformed lines,
 * blank lines and unknown keys, so readers and rewriters are exercised on what real batches
 * contain.
 *
 * Use from code: `syntheticManifestLines(options)` (a generator of lines without '\n'),
 * `syntheticManifest(options)` (the whole text) or `writeSyntheticManifest(path, options)`.
 * From a shell: `node --import tsx scripts/genManifest.ts OUT.jsonl LINES [WORDS] [SEED]`.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { DEFAULT_PASSPORT_CLASSES } from '../src/core/classes';

/** The default class set (10 passport fields, then `other`). */
export const SYNTHETIC_CLASSES: readonly string[] = DEFAULT_PASSPORT_CLASSES;

export interface SyntheticOptions {
  /** Number of lines (entries plus any malformed / blank lines mixed in). */
  readonly lines: number;
  /** WORD blocks per image (default 60). */
  readonly words?: number;
  readonly seed?: number;
  /**
   * Statuses to cycle through, by weight (default: every entry `predicted`, i.e. Textract
   * plus soft labels). `labeled` entries also carry soft labels and a `labels` attribute.
   */
  readonly statusWeights?: Partial<Record<'new' | 'extracted' | 'predicted' | 'labeled', number>>;
  /** Fraction of lines that are malformed (broken JSON, missing source-ref, ...). Default 0. */
  readonly malformedRate?: number;
  /** Fraction of lines followed by a blank line. Default 0. */
  readonly blankRate?: number;
  /** Add unknown top-level and nested keys (they must survive rewrites). Default false. */
  readonly unknownKeys?: boolean;
  /** Prefix of the source-refs (default `thumbnails/`). */
  readonly refPrefix?: string;
  /** Also emit LINE blocks (5 words each); they make lines ~20% longer. Default false. */
  readonly lineBlocks?: boolean;
  /** Write the `soft-labels.classes` list (default false: readers assume the default 11). */
  readonly explicitClasses?: boolean;
}

/** A small, fast, seedable PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['PASSPORT', 'P', 'UTOPIA', 'ERIKSSON', 'ANNA', 'MARIA', 'L898902C3', 'UTO', '12', 'AUG', '1974', 'F', 'ZENITH', '16', 'APR', '2007', '15', '2012', 'Surname', 'Given', 'names', 'Nationality', 'Date', 'of', 'birth', 'Sex', 'Place', 'issue', 'expiry', 'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];

/** Textract prints float32 values widened to double, e.g. 0.30521672964096069. */
function f32(x: number): string {
  return String(Math.fround(x));
}

function uuid(r: () => number): string {
  const hex = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
    return s;
  };
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + Math.floor(r() * 4)).toString(16)}${hex(3)}-${hex(12)}`;
}

function geometry(left: number, top: number, width: number, height: number): string {
  const l = f32(left);
  const t = f32(top);
  const r = f32(left + width);
  const b = f32(top + height);
  return (
    `{"BoundingBox":{"Width":${f32(width)},"Height":${f32(height)},"Left":${l},"Top":${t}},` +
    `"Polygon":[{"X":${l},"Y":${t}},{"X":${r},"Y":${t}},{"X":${r},"Y":${b}},{"X":${l},"Y":${b}}]}`
  );
}

interface Word {
  readonly id: string;
  readonly json: string;
}

function words(r: () => number, count: number, withLines: boolean): { blocks: string; ids: string[] } {
  const perLine = 5;
  const list: Word[] = [];
  const lineBlocks: string[] = [];
  for (let w = 0; w < count; w++) {
    const row = Math.floor(w / perLine);
    const col = w % perLine;
    const left = 0.05 + col * 0.18 + r() * 0.01;
    const top = 0.05 + row * (0.9 / Math.max(1, Math.ceil(count / perLine))) + r() * 0.005;
    const text = WORDS[Math.floor(r() * WORDS.length)]!;
    const id = uuid(r);
    list.push({
      id,
      json:
        `{"BlockType":"WORD","Confidence":${String(90 + r() * 10)},"Text":${JSON.stringify(text)},"TextType":"PRINTED",` +
        `"Geometry":${geometry(left, top, 0.05 + r() * 0.1, 0.01 + r() * 0.02)},"Id":"${id}","Page":1}`,
    });
  }
  if (withLines) {
    for (let start = 0; start < list.length; start += perLine) {
      const children = list.slice(start, start + perLine);
      const text = children.map((c) => JSON.parse(c.json).Text as string).join(' ');
      lineBlocks.push(
        `{"BlockType":"LINE","Confidence":${String(90 + r() * 10)},"Text":${JSON.stringify(text)},` +
          `"Geometry":${geometry(0.05, 0.05 + (start / perLine) * 0.07, 0.9, 0.03)},"Id":"${uuid(r)}",` +
          `"Relationships":[{"Type":"CHILD","Ids":[${children.map((c) => `"${c.id}"`).join(',')}]}],"Page":1}`,
      );
    }
  }
  // The PAGE's children are the LINEs when there are any, else the WORDs directly.
  const childIds = withLines ? lineBlocks.map((l) => /"Id":"([^"]+)"/.exec(l)![1]!) : list.map((w) => w.id);
  const page =
    `{"BlockType":"PAGE","Geometry":${geometry(0, 0, 1, 1)},"Id":"${uuid(r)}",` +
    `"Relationships":[{"Type":"CHILD","Ids":[${childIds.map((id) => `"${id}"`).join(',')}]}],"Page":1}`;
  return { blocks: [page, ...lineBlocks, ...list.map((w) => w.json)].join(','), ids: list.map((w) => w.id) };
}

/** A softmax over random logits, peaked on a random class; 8 decimals like typical exports. */
function distribution(r: () => number, n: number): string {
  const top = r() < 0.5 ? n - 1 : Math.floor(r() * n);
  const sharp = 1 + r() * 6;
  const e: number[] = [];
  let sum = 0;
  for (let c = 0; c < n; c++) {
    const v = Math.exp((c === top ? sharp : 0) + r());
    e.push(v);
    sum += v;
  }
  return '[' + e.map((v) => (v / sum).toFixed(8).replace(/0+$/, '').replace(/\.$/, '')).join(',') + ']';
}

const MALFORMED = [
  (ref: string) => `{"source-ref":"${ref}","textract-ref":"textract/x.json",}`,
  (ref: string) => `{"source-ref":"${ref}","soft-labels":{"boxes":{"a":[0.5,0.5`,
  () => `{"textract-ref":"textract/orphan.json"}`,
  (ref: string) => `["${ref}"]`,
  (ref: string) => `{"source-ref":"${ref}"} trailing`,
  () => `this is not json`,
  (ref: string) => `{"source-ref":"${ref}","x":01}`,
];

/** Yields the manifest's lines (without line breaks). */
export function* syntheticManifestLines(options: SyntheticOptions): Generator<string> {
  const r = rng(options.seed ?? 1);
  const wordCount = options.words ?? 60;
  const prefix = options.refPrefix ?? 'thumbnails/';
  const weights = Object.entries(options.statusWeights ?? { predicted: 1 }).filter(([, w]) => (w ?? 0) > 0) as [string, number][];
  const totalWeight = weights.reduce((s, [, w]) => s + w, 0);
  const n = SYNTHETIC_CLASSES.length;
  for (let i = 0; i < options.lines; i++) {
    const ref = `${prefix}img-${String(i).padStart(6, '0')}.png`;
    if ((options.malformedRate ?? 0) > 0 && r() < options.malformedRate!) {
      yield MALFORMED[Math.floor(r() * MALFORMED.length)]!(ref);
      continue;
    }
    let pick = r() * totalWeight;
    let status = weights[0]![0];
    for (const [s, w] of weights) {
      if (pick < w) {
        status = s;
        break;
      }
      pick -= w;
    }
    const parts: string[] = [`"source-ref":"${ref}"`, `"source-size":{"width":1240,"height":1754}`];
    if (options.unknownKeys) parts.push(`"x-user-note":{"reviewer":"r${i % 7}","tags":["a","b"],"score":${(r() * 10).toFixed(3)}}`);
    if (status !== 'new') {
      const { blocks, ids } = words(r, wordCount, options.lineBlocks ?? false);
      parts.push(`"textract":{"DocumentMetadata":{"Pages":1},"Blocks":[${blocks}]}`);
      if (status === 'predicted' || status === 'labeled') {
        const boxes = ids.map((id) => `"${id}":${distribution(r, n)}`).join(',');
        const classes = options.explicitClasses ? `,"classes":${JSON.stringify(SYNTHETIC_CLASSES)}` : '';
        parts.push(`"soft-labels":{"model":"layoutlm-synthetic","created":"2026-01-01T00:00:00Z"${classes},"boxes":{${boxes}}}`);
      }
      if (status === 'labeled') {
        parts.push(
          `"labels":{"image_size":[{"width":1240,"height":1754,"depth":3}],"annotations":[{"class_id":0,"left":62,"top":88,"width":124,"height":35}]}`,
          `"labels-metadata":{"class-map":{"0":"surname"},"human-annotated":"yes","creation-date":"2026-01-02T00:00:00Z","job-name":"synthetic","type":"groundtruth/object-detection"}`,
        );
      }
    }
    yield `{${parts.join(',')}}`;
    if ((options.blankRate ?? 0) > 0 && r() < options.blankRate!) yield '';
  }
}

/** The whole manifest as text, each line ended by '\n'. */
export function syntheticManifest(options: SyntheticOptions): string {
  let out = '';
  for (const line of syntheticManifestLines(options)) out += line + '\n';
  return out;
}

/** Streams the manifest to `path`; returns its size in bytes and line count. */
export async function writeSyntheticManifest(path: string, options: SyntheticOptions): Promise<{ bytes: number; lines: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  let lines = 0;
  let batch = '';
  for (const line of syntheticManifestLines(options)) {
    batch += line + '\n';
    lines++;
    if (batch.length > 1 << 20) {
      bytes += Buffer.byteLength(batch);
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  bytes += Buffer.byteLength(batch);
  out.end(batch);
  await once(out, 'finish');
  return { bytes, lines };
}

if (process.argv[1] && /genManifest\.ts$/.test(process.argv[1])) {
  const [outPath, lines, words, seed] = process.argv.slice(2);
  if (!outPath || !lines) {
    process.stderr.write('usage: node --import tsx scripts/genManifest.ts OUT.jsonl LINES [WORDS] [SEED]\n');
    process.exitCode = 2;
  } else {
    void writeSyntheticManifest(outPath, { lines: Number(lines), words: words ? Number(words) : 60, seed: seed ? Number(seed) : 1 }).then(
      (r) => process.stdout.write(`${outPath}: ${r.lines} lines, ${r.bytes} bytes\n`),
    );
  }
}

/**
 * The Textract block model: a pure mapper from Textract responses (as saved by any client) to the
 * project's own readonly types. It accepts:
 *
 * - DetectDocumentText / AnalyzeDocument responses, with boto3's `ResponseMetadata`, the JS SDK
 *   v3's `$metadata`, or no envelope at all (console exports, hand-trimmed files, the manifest's
 *   inline `textract: {"Blocks": [...]}`);
 * - GetDocumentTextDetection / GetDocumentAnalysis results, one page of results or an array of
 *   them (merged in order, see {@link mergeTextractResponses}); `NextToken` is reported on the
 *   document so a caller can tell an incomplete result; `JobStatus` FAILED or IN_PROGRESS is an
 *   error carrying the `StatusMessage`;
 * - AnalyzeID responses (blocks under `IdentityDocuments[].Blocks`, page = `DocumentIndex`);
 * - a bare array of blocks.
 *
 * What real responses do and this tolerates: explicit `null` for any optional key (`Page`,
 * `Geometry`, `Relationships`, `Confidence`...), no `Page` on blocks (=> page 1, or the identity
 * document's index), no `BoundingBox` (=> the Polygon's envelope, the rotated-page case), block
 * types outside the documented enum (console exports' KEY/VALUE, LAYOUT_*), integer confidences.
 * A block that cannot be used (no Id, a WORD without any geometry) is skipped and listed in
 * `problems`, so one bad block does not hide a page.
 */
import { OcrAlError } from './errors';
import {
  type RatioBox,
  type RatioPoint,
  clampRatioBox,
  polygonToRatioBox,
  textractConfidenceToUnit,
} from './coordinates';

/** A block of any type, normalized. */
export interface TextractBlock {
  readonly id: string;
  /** Textract's BlockType as given (open-ended: WORD, LINE, PAGE, LAYOUT_TEXT, KEY, ...). */
  readonly type: string;
  /** 1-based page number. */
  readonly page: number;
  /** Text of WORD / LINE / QUERY_RESULT blocks; undefined elsewhere. */
  readonly text: string | undefined;
  /** 0..1 (converted from Textract's 0..100); undefined when the block has none (PAGE, QUERY). */
  readonly confidence: number | undefined;
  /** Axis-aligned box in page ratios; undefined when the block has no geometry (QUERY). */
  readonly box: RatioBox | undefined;
  /** Polygon in page ratios (may be rotated; not clamped); empty when absent. */
  readonly polygon: readonly RatioPoint[];
  /** Ids of CHILD relationships, in order. */
  readonly childIds: readonly string[];
  /** All relationships by type (CHILD, VALUE, ANSWER, ...). */
  readonly relationships: ReadonlyMap<string, readonly string[]>;
  /** PRINTED or HANDWRITING on WORD blocks. */
  readonly textType: string | undefined;
}

/** A WORD block: what the editor shows and people label. */
export interface TextractWord {
  readonly id: string;
  readonly text: string;
  /** 0..1; undefined when the response has none. */
  readonly confidence: number | undefined;
  readonly page: number;
  readonly box: RatioBox;
  readonly polygon: readonly RatioPoint[];
  /** The LINE holding this word, when one lists it as a CHILD. */
  readonly lineId: string | undefined;
  readonly textType: string | undefined;
}

/** A LINE block with its words' ids in reading order. */
export interface TextractLine {
  readonly id: string;
  readonly text: string;
  readonly confidence: number | undefined;
  readonly page: number;
  readonly box: RatioBox | undefined;
  readonly polygon: readonly RatioPoint[];
  readonly wordIds: readonly string[];
}

/** One page of a document. */
export interface TextractPage {
  /** 1-based. */
  readonly page: number;
  /** Id of the PAGE block, when the response has one for this page. */
  readonly id: string | undefined;
  readonly wordIds: readonly string[];
  readonly lineIds: readonly string[];
}

/** A block that was skipped, and why. */
export interface TextractProblem {
  /** Block index in the (merged) Blocks array. */
  readonly index: number;
  readonly id: string | undefined;
  readonly message: string;
}

/** A parsed Textract document. */
export interface TextractDocument {
  readonly blocks: ReadonlyMap<string, TextractBlock>;
  /** WORD blocks in response order (Textract's reading order within a line). */
  readonly words: readonly TextractWord[];
  readonly lines: readonly TextractLine[];
  /** Every page that has a PAGE block or a word/line, in page order. */
  readonly pages: readonly TextractPage[];
  /** `DocumentMetadata.Pages`, or the highest page seen when that is absent/smaller. */
  readonly pageCount: number;
  /** `NextToken` of the last response: set means more results exist that were not merged. */
  readonly nextToken: string | undefined;
  /** `JobStatus` for Get* results (SUCCEEDED, PARTIAL_SUCCESS); undefined for sync responses. */
  readonly jobStatus: string | undefined;
  /** `Warnings[].ErrorCode` and `StatusMessage` of PARTIAL_SUCCESS results. */
  readonly warnings: readonly string[];
  readonly problems: readonly TextractProblem[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Parses a Textract response (JSON text or parsed value; see the module comment for accepted
 * forms). `source` names the input in error messages.
 *
 * Throws OcrAlError: 'Malformed' for text that is not JSON, a value that is no Textract
 * response, or `JobStatus: FAILED` (message includes `StatusMessage`); 'NotFound' for
 * `JobStatus: IN_PROGRESS` (the result does not exist yet).
 */
export function parseTextract(input: unknown, source = 'Textract response'): TextractDocument {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new OcrAlError('Malformed', `${source}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
  }
  if (Array.isArray(value) && value.length > 0 && value.every((v) => isObject(v) && !('BlockType' in v))) {
    value = mergeTextractResponses(value, source);
  }
  const { blocks, documentIndexes, response } = collectBlocks(value, source);
  return buildDocument(blocks, documentIndexes, response);
}

/**
 * Merges the pages of a paginated GetDocumentAnalysis / GetDocumentTextDetection result (the
 * responses for each NextToken, in order) into one response: Blocks concatenated, Warnings
 * concatenated, other keys from the first response, and `NextToken` from the last (so a
 * still-incomplete merge is visible). Throws like {@link parseTextract} for a FAILED or
 * IN_PROGRESS page and 'Malformed' when a page is not a Textract response.
 */
export function mergeTextractResponses(responses: readonly unknown[], source = 'Textract responses'): Json {
  if (responses.length === 0) throw new OcrAlError('Malformed', `${source}: no responses to merge`);
  const blocks: unknown[] = [];
  const warnings: unknown[] = [];
  responses.forEach((r, i) => {
    if (!isObject(r)) throw new OcrAlError('Malformed', `${source}[${i}]: not a Textract response object`);
    checkJobStatus(r, `${source}[${i}]`);
    if (r['Blocks'] !== undefined && r['Blocks'] !== null) {
      if (!Array.isArray(r['Blocks'])) throw new OcrAlError('Malformed', `${source}[${i}]: Blocks is not an array`);
      blocks.push(...(r['Blocks'] as unknown[]));
    }
    if (Array.isArray(r['Warnings'])) warnings.push(...(r['Warnings'] as unknown[]));
  });
  const first = responses[0] as Json;
  const last = responses[responses.length - 1] as Json;
  const merged: Json = { ...first, Blocks: blocks, NextToken: last['NextToken'] ?? null };
  if (warnings.length > 0) merged['Warnings'] = warnings;
  return merged;
}

function checkJobStatus(response: Json, source: string): void {
  const status = response['JobStatus'];
  if (status === undefined || status === null) return;
  const message = typeof response['StatusMessage'] === 'string' && response['StatusMessage'] !== '' ? `: ${response['StatusMessage']}` : '';
  if (status === 'FAILED') throw new OcrAlError('Malformed', `${source}: Textract job FAILED${message}`);
  if (status === 'IN_PROGRESS') {
    throw new OcrAlError('NotFound', `${source}: Textract job is still IN_PROGRESS${message}; fetch the result once it has SUCCEEDED`);
  }
}

function collectBlocks(value: unknown, source: string): { blocks: unknown[]; documentIndexes: (number | undefined)[]; response: Json } {
  if (Array.isArray(value)) {
    return { blocks: value, documentIndexes: [], response: {} };
  }
  if (!isObject(value)) throw new OcrAlError('Malformed', `${source}: expected a Textract response object`);
  checkJobStatus(value, source);
  const top = value['Blocks'];
  if (top !== undefined && top !== null) {
    if (!Array.isArray(top)) throw new OcrAlError('Malformed', `${source}: Blocks is not an array`);
    return { blocks: top, documentIndexes: [], response: value };
  }
  const ids = value['IdentityDocuments'];
  if (Array.isArray(ids)) {
    // AnalyzeID: one entry per document (front/back); older responses carry no Blocks at all.
    const blocks: unknown[] = [];
    const documentIndexes: (number | undefined)[] = [];
    ids.forEach((doc, i) => {
      if (!isObject(doc) || !Array.isArray(doc['Blocks'])) return;
      const index = isFiniteNumber(doc['DocumentIndex']) && doc['DocumentIndex'] >= 1 ? doc['DocumentIndex'] : i + 1;
      for (const b of doc['Blocks'] as unknown[]) {
        blocks.push(b);
        documentIndexes.push(index);
      }
    });
    return { blocks, documentIndexes, response: value };
  }
  if ('JobStatus' in value || 'DocumentMetadata' in value) {
    // A Get* page with no Blocks key (e.g. an empty last page): a document without blocks.
    return { blocks: [], documentIndexes: [], response: value };
  }
  throw new OcrAlError('Malformed', `${source}: no Blocks (expected a Textract response, {"Blocks": [...]} or AnalyzeID IdentityDocuments)`);
}

function buildDocument(rawBlocks: readonly unknown[], documentIndexes: readonly (number | undefined)[], response: Json): TextractDocument {
  const blocks = new Map<string, TextractBlock>();
  const problems: TextractProblem[] = [];
  rawBlocks.forEach((raw, index) => {
    const result = normalizeBlock(raw, documentIndexes[index] ?? 1);
    if (typeof result === 'string') {
      problems.push({ index, id: isObject(raw) && typeof raw['Id'] === 'string' ? raw['Id'] : undefined, message: result });
      return;
    }
    if (blocks.has(result.id)) {
      problems.push({ index, id: result.id, message: `duplicate block Id ${result.id}; the first one is kept` });
      return;
    }
    blocks.set(result.id, result);
  });

  const lineOfWord = new Map<string, string>();
  const lines: TextractLine[] = [];
  for (const b of blocks.values()) {
    if (b.type !== 'LINE') continue;
    const wordIds = b.childIds.filter((id) => blocks.get(id)?.type === 'WORD');
    for (const id of wordIds) if (!lineOfWord.has(id)) lineOfWord.set(id, b.id);
    lines.push({ id: b.id, text: b.text ?? '', confidence: b.confidence, page: b.page, box: b.box, polygon: b.polygon, wordIds });
  }

  const words: TextractWord[] = [];
  for (const b of blocks.values()) {
    if (b.type !== 'WORD') continue;
    if (!b.box) {
      problems.push({ index: rawBlocks.findIndex((r) => isObject(r) && r['Id'] === b.id), id: b.id, message: 'WORD block has no usable Geometry' });
      continue;
    }
    words.push({
      id: b.id,
      text: b.text ?? '',
      confidence: b.confidence,
      page: b.page,
      box: b.box,
      polygon: b.polygon,
      lineId: lineOfWord.get(b.id),
      textType: b.textType,
    });
  }

  const pageMap = new Map<number, { id: string | undefined; wordIds: string[]; lineIds: string[] }>();
  const pageEntry = (n: number) => {
    let p = pageMap.get(n);
    if (!p) pageMap.set(n, (p = { id: undefined, wordIds: [], lineIds: [] }));
    return p;
  };
  for (const b of blocks.values()) if (b.type === 'PAGE' && pageEntry(b.page).id === undefined) pageEntry(b.page).id = b.id;
  for (const w of words) pageEntry(w.page).wordIds.push(w.id);
  for (const l of lines) pageEntry(l.page).lineIds.push(l.id);
  const pages: TextractPage[] = [...pageMap.entries()].sort((a, b) => a[0] - b[0]).map(([page, p]) => ({ page, ...p }));

  const metadata = response['DocumentMetadata'];
  const declared = isObject(metadata) && isFiniteNumber(metadata['Pages']) ? metadata['Pages'] : 0;
  const pageCount = Math.max(declared, pages.length === 0 ? 0 : pages[pages.length - 1]!.page);

  const warnings: string[] = [];
  if (Array.isArray(response['Warnings'])) {
    for (const w of response['Warnings'] as unknown[]) {
      if (isObject(w)) warnings.push(`${String(w['ErrorCode'] ?? 'Warning')}${Array.isArray(w['Pages']) ? ` (pages ${(w['Pages'] as unknown[]).join(', ')})` : ''}`);
    }
  }
  const jobStatus = typeof response['JobStatus'] === 'string' ? response['JobStatus'] : undefined;
  if (jobStatus === 'PARTIAL_SUCCESS' && typeof response['StatusMessage'] === 'string') warnings.push(response['StatusMessage']);
  const nextToken = typeof response['NextToken'] === 'string' && response['NextToken'] !== '' ? response['NextToken'] : undefined;

  return { blocks, words, lines, pages, pageCount, nextToken, jobStatus, warnings, problems };
}

/** Normalizes one raw block, or returns why it cannot be used. */
function normalizeBlock(raw: unknown, defaultPage: number): TextractBlock | string {
  if (!isObject(raw)) return 'block is not an object';
  const id = raw['Id'];
  if (typeof id !== 'string' || id === '') return 'block has no Id';
  const type = raw['BlockType'];
  if (typeof type !== 'string' || type === '') return `block ${id} has no BlockType`;
  const pageValue = raw['Page'];
  const page = isFiniteNumber(pageValue) && Number.isInteger(pageValue) && pageValue >= 1 ? pageValue : defaultPage;
  const text = typeof raw['Text'] === 'string' ? raw['Text'] : undefined;
  const confidence = isFiniteNumber(raw['Confidence']) ? textractConfidenceToUnit(raw['Confidence']) : undefined;

  let box: RatioBox | undefined;
  let polygon: RatioPoint[] = [];
  const geometry = raw['Geometry'];
  if (isObject(geometry)) {
    const poly = geometry['Polygon'];
    if (Array.isArray(poly)) {
      polygon = poly.filter((p): p is Json => isObject(p) && isFiniteNumber(p['X']) && isFiniteNumber(p['Y'])).map((p) => ({ x: p['X'] as number, y: p['Y'] as number }));
    }
    const bb = geometry['BoundingBox'];
    if (isObject(bb) && isFiniteNumber(bb['Left']) && isFiniteNumber(bb['Top']) && isFiniteNumber(bb['Width']) && isFiniteNumber(bb['Height'])) {
      box = clampRatioBox({ left: bb['Left'], top: bb['Top'], width: bb['Width'], height: bb['Height'] });
    } else {
      // Rotated pages may come without a BoundingBox: Textract's own box is the polygon's envelope.
      box = polygonToRatioBox(polygon);
    }
  }

  const relationships = new Map<string, string[]>();
  const rels = raw['Relationships'];
  if (Array.isArray(rels)) {
    for (const r of rels as unknown[]) {
      if (!isObject(r) || typeof r['Type'] !== 'string' || !Array.isArray(r['Ids'])) continue;
      const ids = (r['Ids'] as unknown[]).filter((x): x is string => typeof x === 'string');
      const existing = relationships.get(r['Type']);
      if (existing) existing.push(...ids);
      else relationships.set(r['Type'], ids);
    }
  }
  const textType = typeof raw['TextType'] === 'string' ? raw['TextType'] : undefined;
  return { id, type, page, text, confidence, box, polygon, childIds: relationships.get('CHILD') ?? [], relationships, textType };
}

/** The words on one page (1-based), in response order. */
export function wordsOnPage(doc: TextractDocument, page: number): TextractWord[] {
  return doc.words.filter((w) => w.page === page);
}

/** The lines on one page (1-based), in response order. */
export function linesOnPage(doc: TextractDocument, page: number): TextractLine[] {
  return doc.lines.filter((l) => l.page === page);
}

/** Any block by Id, or undefined. */
export function findBlock(doc: TextractDocument, id: string): TextractBlock | undefined {
  return doc.blocks.get(id);
}

// Lookup maps built on first use per document (documents are immutable, so they never go stale).
const wordIndexes = new WeakMap<TextractDocument, Map<string, TextractWord>>();
const lineIndexes = new WeakMap<TextractDocument, Map<string, TextractLine>>();

function wordIndex(doc: TextractDocument): Map<string, TextractWord> {
  let index = wordIndexes.get(doc);
  if (!index) wordIndexes.set(doc, (index = new Map(doc.words.map((w) => [w.id, w] as const))));
  return index;
}

/** A word by Id (undefined for other block types and skipped words). */
export function findWord(doc: TextractDocument, id: string): TextractWord | undefined {
  return wordIndex(doc).get(id);
}

/** The words of a line (by line or line Id), in the line's CHILD order. */
export function wordsInLine(doc: TextractDocument, line: TextractLine | string): TextractWord[] {
  let l: TextractLine | undefined;
  if (typeof line === 'string') {
    let lines = lineIndexes.get(doc);
    if (!lines) lineIndexes.set(doc, (lines = new Map(doc.lines.map((x) => [x.id, x] as const))));
    l = lines.get(line);
  } else {
    l = line;
  }
  if (!l) return [];
  const byId = wordIndex(doc);
  return l.wordIds.map((id) => byId.get(id)).filter((w): w is TextractWord => w !== undefined);
}

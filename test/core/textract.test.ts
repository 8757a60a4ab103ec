import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { OcrAlError } from '../../src/core/errors';
import {
  findBlock,
  findWord,
  linesOnPage,
  mergeTextractResponses,
  parseTextract,
  wordsInLine,
  wordsOnPage,
  type TextractDocument,
} from '../../src/core/textract';

const REAL = path.resolve(__dirname, '../../..', 'shared/fixtures/real/textract');
const has = existsSync(REAL);
const skip = `real fixtures absent: ${REAL}`;
const read = (name: string): unknown => JSON.parse(readFileSync(path.join(REAL, name), 'utf8'));
const load = (name: string): TextractDocument => parseTextract(readFileSync(path.join(REAL, name), 'utf8'), name);

/** Facts read off each real file (see SOURCES.md there): words, lines, pages, first word. */
const FACTS: Record<string, { words: number; lines: number; pages: number; first?: string; firstLine?: string } | 'FAILED' | 'IN_PROGRESS'> = {
  'analyze-document-forms-tables-layout__form.json': { words: 499, lines: 129, pages: 1, first: 'DIVISION', firstLine: 'DIVISION OF WELFARE AND SUPPORTIVE SERVICES' },
  'analyze-document-queries__single-page-1.json': { words: 51, lines: 24, pages: 1, first: 'Textractor', firstLine: 'Textractor Test' },
  'analyze-document-sdkv3__test-response.json': { words: 71, lines: 31, pages: 1, first: 'Employment', firstLine: 'Employment Application' },
  'analyze-document-tables-forms__single-page-1.json': { words: 51, lines: 24, pages: 1, first: 'Textractor', firstLine: 'Textractor Test' },
  'analyze-document__rotated-25deg.json': { words: 121, lines: 59, pages: 1, first: 'Name:', firstLine: 'Name: SomeName' },
  'analyze-id__fake-id.json': { words: 52, lines: 31, pages: 1, first: 'MASSACHUSETTS', firstLine: 'MASSACHUSETTS' },
  'analyze-id__passport-console.json': { words: 0, lines: 0, pages: 1 },
  'console-export__multicol-2.json': { words: 82, lines: 20, pages: 1, first: 'HEADING', firstLine: 'HEADING OF THE PAGE GOES HERE' },
  'detect-document-text__single-page-1.json': { words: 51, lines: 24, pages: 1, first: 'Textractor', firstLine: 'Textractor Test' },
  'get-document-analysis__explicit-nulls.json': { words: 24, lines: 12, pages: 1, first: 'Schichtdicke', firstLine: 'Schichtdicke' },
  'get-document-analysis__failed.json': 'FAILED',
  'get-document-analysis__in-progress.json': 'IN_PROGRESS',
  'get-document-analysis__with-nexttoken.json': { words: 131, lines: 66, pages: 1, first: 'Date:', firstLine: 'Date: 2020-03-27' },
  'get-document-text-detection__multipage-2p.json': { words: 106, lines: 50, pages: 2, first: 'Textractor', firstLine: 'Textractor Test' },
};

test('every real Textract file parses to the words, lines and pages it holds', (t) => {
  if (!has) return t.skip(skip);
  const files = readdirSync(REAL).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 14);
  for (const file of files) {
    const fact = FACTS[file];
    assert.ok(fact, `no facts recorded for new fixture ${file}`);
    if (fact === 'FAILED' || fact === 'IN_PROGRESS') continue;
    const doc = load(file);
    assert.equal(doc.words.length, fact.words, `${file} words`);
    assert.equal(doc.pageCount, fact.pages, `${file} pages`);
    assert.deepEqual(doc.problems, [], `${file} problems`);
    if (fact.first !== undefined) assert.equal(doc.words[0]!.text, fact.first, `${file} first word`);
    assert.equal(doc.lines.length, fact.lines, `${file} lines`);
    if (fact.firstLine !== undefined && doc.lines.length > 0) {
      assert.equal(doc.lines[0]!.text, fact.firstLine, `${file} first line`);
      // A line's text is its words' texts joined by spaces.
      assert.equal(wordsInLine(doc, doc.lines[0]!).map((w) => w.text).join(' '), fact.firstLine, `${file} words of the first line`);
    }
    for (const w of doc.words) {
      assert.ok(w.confidence !== undefined && w.confidence >= 0 && w.confidence <= 1, `${file} ${w.id} confidence ${w.confidence}`);
      assert.ok(w.box.left >= 0 && w.box.top >= 0 && w.box.left + w.box.width <= 1 + 1e-12 && w.box.top + w.box.height <= 1 + 1e-12);
      assert.ok(w.page >= 1 && w.page <= doc.pageCount);
      assert.equal(w.polygon.length, 4);
    }
  }
});

test('missing Page means page 1; envelope ($metadata / ResponseMetadata / none) does not matter', (t) => {
  if (!has) return t.skip(skip);
  const sync = load('detect-document-text__single-page-1.json');
  assert.deepEqual(
    sync.pages.map((p) => p.page),
    [1],
  );
  assert.equal(wordsOnPage(sync, 1).length, 51);
  assert.equal(sync.jobStatus, undefined);
  const raw = read('detect-document-text__single-page-1.json') as Record<string, unknown>;
  const bare = parseTextract({ Blocks: raw['Blocks'] }); // the manifest's inline `textract` form
  assert.deepEqual(
    bare.words.map((w) => w.text),
    sync.words.map((w) => w.text),
  );
  assert.equal(parseTextract(raw['Blocks']).words.length, 51); // a bare array of blocks
  const v3 = load('analyze-document-sdkv3__test-response.json');
  assert.equal(v3.words.filter((w) => w.textType === 'HANDWRITING').length, 21);
});

test('the multipage result keeps its pages apart', (t) => {
  if (!has) return t.skip(skip);
  const doc = load('get-document-text-detection__multipage-2p.json');
  assert.equal(doc.jobStatus, 'SUCCEEDED');
  assert.equal(doc.nextToken, undefined);
  assert.deepEqual(
    doc.pages.map((p) => [p.page, p.wordIds.length]),
    [
      [1, 53],
      [2, 53],
    ],
  );
  assert.deepEqual(
    linesOnPage(doc, 2)
      .slice(0, 3)
      .map((l) => l.text),
    ['Textractor Test', 'Document', 'Page (2)'],
  );
  assert.ok(wordsOnPage(doc, 2).some((w) => w.text === '(2)'));
  assert.ok(!wordsOnPage(doc, 1).some((w) => w.text === '(2)'));
  assert.equal(wordsOnPage(doc, 3).length, 0);
  assert.equal(findBlock(doc, doc.pages[1]!.id!)?.type, 'PAGE');
});

test('FAILED and IN_PROGRESS jobs are errors carrying the StatusMessage', (t) => {
  if (!has) return t.skip(skip);
  assert.throws(
    () => load('get-document-analysis__failed.json'),
    (e: unknown) => OcrAlError.is(e, 'Malformed') && /FAILED: Dummy Status Message/.test(e.message),
  );
  assert.throws(
    () => load('get-document-analysis__in-progress.json'),
    (e: unknown) => OcrAlError.is(e, 'NotFound') && /IN_PROGRESS: Dummy still in progress message/.test(e.message),
  );
});

test('NextToken is surfaced; merging paginated results concatenates blocks and keeps the last token', (t) => {
  if (!has) return t.skip(skip);
  const page = read('get-document-analysis__with-nexttoken.json') as Record<string, unknown>;
  const doc = parseTextract(page);
  assert.ok(doc.nextToken?.startsWith('OJQgPDJLZcJpwsujYY3LALPKtIdx80Dk'));
  // Simulate the continuation: the second page is the multipage file's page-2 blocks.
  const more = read('get-document-text-detection__multipage-2p.json') as { Blocks: { Page: number }[] };
  const second = { JobStatus: 'SUCCEEDED', DocumentMetadata: { Pages: 2 }, Blocks: more.Blocks.filter((b) => b.Page === 2), NextToken: null };
  const merged = parseTextract([page, second]);
  assert.equal(merged.nextToken, undefined);
  assert.equal(merged.words.length, 131 + 53);
  assert.equal(merged.pageCount, 2);
  assert.equal(wordsOnPage(merged, 1).length, 131);
  const raw = mergeTextractResponses([page, second]);
  assert.equal((raw['Blocks'] as unknown[]).length, (page['Blocks'] as unknown[]).length + second.Blocks.length);
  assert.equal(raw['NextToken'], null);
  assert.equal(parseTextract([second, page]).nextToken, doc.nextToken);
  assert.throws(() => mergeTextractResponses([page, read('get-document-analysis__failed.json')]), /\[1\]: Textract job FAILED/);
});

test('explicit nulls everywhere are tolerated', (t) => {
  if (!has) return t.skip(skip);
  const doc = load('get-document-analysis__explicit-nulls.json');
  const w = doc.words[0]!;
  assert.equal(w.text, 'Schichtdicke');
  assert.ok(Math.abs(w.confidence! - 0.895896224975586) < 1e-12);
  assert.equal(w.lineId, doc.lines[0]!.id);
  assert.deepEqual(
    wordsInLine(doc, doc.lines[0]!.id).map((x) => x.text),
    ['Schichtdicke'],
  );
  assert.deepEqual(wordsInLine(doc, 'no-such-line'), []);
  assert.equal(findWord(doc, doc.lines[0]!.id), undefined); // a LINE is not a word
  const pageBlock = findBlock(doc, doc.pages[0]!.id!)!;
  assert.equal(pageBlock.confidence, undefined);
  // Nulls for keys that are usually arrays / objects.
  const synthetic = parseTextract({
    Blocks: [{ BlockType: 'WORD', Id: 'w', Text: 'x', Confidence: null, Page: null, Relationships: null, EntityTypes: null, Geometry: { BoundingBox: null, Polygon: [{ X: 0.1, Y: 0.1 }, { X: 0.2, Y: 0.2 }] } }],
    NextToken: null,
    ResponseMetadata: null,
  });
  assert.deepEqual(synthetic.words[0]!.box, { left: 0.1, top: 0.1, width: 0.1, height: 0.1 });
  assert.equal(synthetic.words[0]!.confidence, undefined);
  assert.equal(synthetic.words[0]!.page, 1);
});

test('rotated page: boxes derived from polygons match Textract\'s envelopes', (t) => {
  if (!has) return t.skip(skip);
  const raw = read('analyze-document__rotated-25deg.json') as { Blocks: { Geometry?: { BoundingBox?: unknown } }[] };
  const withBoxes = parseTextract(raw);
  const stripped = structuredClone(raw);
  for (const b of stripped.Blocks) if (b.Geometry) delete b.Geometry.BoundingBox;
  const derived = parseTextract(stripped);
  assert.equal(derived.words.length, 121);
  let rotated = 0;
  derived.words.forEach((w, i) => {
    const expected = withBoxes.words[i]!.box;
    for (const k of ['left', 'top', 'width', 'height'] as const) assert.ok(Math.abs(w.box[k] - expected[k]) < 1e-6, `${w.text} ${k}`);
    // Polygons really are rotated: the first two corners differ in y.
    if (Math.abs(w.polygon[0]!.y - w.polygon[1]!.y) > 0.005) rotated++;
  });
  assert.ok(rotated > 100, `rotated polygons: ${rotated}`);
  assert.equal(findWord(derived, derived.words[0]!.id)?.text, 'Name:');
});

test('AnalyzeID: blocks under IdentityDocuments; the older passport response has none', (t) => {
  if (!has) return t.skip(skip);
  const id = load('analyze-id__fake-id.json');
  assert.ok(id.words.some((w) => w.text === 'MASSACHUSETTS'));
  assert.ok(id.words.every((w) => w.page === 1)); // Page 0 / missing -> DocumentIndex 1
  const passport = load('analyze-id__passport-console.json');
  assert.equal(passport.words.length, 0);
  assert.equal(passport.pageCount, 1);
});

test('console export: KEY/VALUE block types and integer confidences are kept', (t) => {
  if (!has) return t.skip(skip);
  const doc = load('console-export__multicol-2.json');
  const keys = [...doc.blocks.values()].filter((b) => b.type === 'KEY');
  assert.equal(keys.length, 2);
  assert.ok(keys.some((k) => k.confidence === 0.36));
  assert.equal(keys[0]!.relationships.get('VALUE')?.length, 1);
});

test('bad input: clear errors, and unusable blocks are listed, not fatal', () => {
  assert.throws(() => parseTextract('{"Blocks": ['), (e: unknown) => OcrAlError.is(e, 'Malformed') && /not valid JSON/.test(e.message));
  assert.throws(() => parseTextract({ foo: 1 }, 'a.json'), (e: unknown) => OcrAlError.is(e, 'Malformed') && /a\.json: no Blocks/.test(e.message));
  assert.throws(() => parseTextract({ Blocks: {} }), /Blocks is not an array/);
  assert.throws(() => parseTextract(42), /expected a Textract response object/);
  const doc = parseTextract({
    Blocks: [
      { BlockType: 'WORD', Text: 'no id' },
      { BlockType: 'WORD', Id: 'g', Text: 'no geometry', Geometry: null },
      { BlockType: 'WORD', Id: 'ok', Text: 'fine', Confidence: 50, Geometry: { BoundingBox: { Left: 0, Top: 0, Width: 0.1, Height: 0.1 } } },
      { BlockType: 'WORD', Id: 'ok', Text: 'dup', Geometry: { BoundingBox: { Left: 0, Top: 0, Width: 0.1, Height: 0.1 } } },
      'junk',
    ],
  });
  assert.deepEqual(
    doc.words.map((w) => [w.id, w.text, w.confidence]),
    [['ok', 'fine', 0.5]],
  );
  assert.deepEqual(
    doc.problems.map((p) => [p.index, p.message]),
    [
      [0, 'block has no Id'],
      [3, 'duplicate block Id ok; the first one is kept'],
      [4, 'block is not an object'],
      [1, 'WORD block has no usable Geometry'],
    ],
  );
});

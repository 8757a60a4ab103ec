import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { createClassSet, defaultClassSet } from '../../../src/core/classes';
import { type RatioBox, pixelsToRatio } from '../../../src/core/coordinates';
import { OcrAlError } from '../../../src/core/errors';
import {
  MIN_WORD_COVERAGE,
  annotationForWord,
  classNameOf,
  classNamesOfWords,
  classOfWord,
  formatCreationDate,
  imageSizeOf,
  parseObjectDetectionMetadata,
  parseObjectDetectionValue,
  serializeObjectDetection,
  setWordLabel,
  type GtAnnotation,
} from '../../../src/core/groundtruth/objectDetection';

const REAL = path.resolve(__dirname, '../../../..', 'shared/fixtures/real/groundtruth');
const BIRDS = path.join(REAL, 'output__bbox__sagemaker-examples-yolov5-birds.jsonl');
const AUG1 = path.join(REAL, 'output__bbox-adjustment-custom__textract-transformer-aug1.jsonl');
const DOCS = path.join(REAL, 'docs-examples/output__all-types__sagemaker-dev-guide-examples.jsonl');

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const now = new Date('2026-11-29T04:30:00.123Z');
const image = { width: 1000, height: 500 };
const word = (left: number, top: number, width: number, height: number): { box: RatioBox } => ({ box: { left, top, width, height } });

test('real bounding-box job output (float boxes, consolidated confidences) parses', (t) => {
  if (!existsSync(BIRDS)) return t.skip(`real fixtures absent: ${BIRDS}`);
  const rows = lines(BIRDS);
  assert.equal(rows.length, 100);
  let boxes = 0;
  let floats = 0;
  for (const row of rows) {
    const value = parseObjectDetectionValue(row['category'], 'category');
    const meta = parseObjectDetectionMetadata(row['category-metadata'], 'category');
    assert.equal(meta.type, 'groundtruth/object-detection');
    assert.equal(meta['job-name'], 'labeling-job/ground-truth-od-demo-1662974840');
    assert.equal(meta.objects?.length, value.annotations.length);
    boxes += value.annotations.length;
    for (const a of value.annotations) {
      if (!Number.isInteger(a.left) || !Number.isInteger(a.top) || !Number.isInteger(a.width) || !Number.isInteger(a.height)) floats++;
      assert.equal(classNameOf(meta, a.class_id), 'Bird');
    }
  }
  assert.ok(boxes > 100, `boxes ${boxes}`);
  assert.ok(floats > 0);
  const first = parseObjectDetectionValue(rows[0]!['category']);
  assert.deepEqual(imageSizeOf(first), { width: 680, height: 1024 });
  assert.equal(first.annotations[0]!.top, 164.60000000000002);
});

test('real custom-UI output: sparse class-map, empty images and adjustment-status survive a relabel', (t) => {
  if (!existsSync(AUG1)) return t.skip(`real fixtures absent: ${AUG1}`);
  const rows = lines(AUG1);
  assert.equal(rows.length, 50);
  let empty = 0;
  let sparse = 0;
  for (const row of rows) {
    const value = parseObjectDetectionValue(row['augmentation-1']);
    const meta = parseObjectDetectionMetadata(row['augmentation-1-metadata']);
    if (value.annotations.length === 0) empty++;
    if (Object.keys(meta['class-map']).some((k) => Number(k) >= Object.keys(meta['class-map']).length)) sparse++;
    assert.ok(meta['adjustment-status'] === 'adjusted' || meta['adjustment-status'] === 'unadjusted');
  }
  assert.ok(empty > 0 && sparse > 0);

  // Relabel one word on the first line with a class set that has its class names.
  const row = rows[0]!;
  const value = parseObjectDetectionValue(row['augmentation-1']);
  const meta = parseObjectDetectionMetadata(row['augmentation-1-metadata']);
  assert.deepEqual(meta['class-map'], { '16': 'Provider Name', '17': 'Min Payment Calculation' });
  const size = imageSizeOf(value);
  const classes = createClassSet(['Agreement Effective Date', 'Provider Name', 'Min Payment Calculation', 'Other']);
  // The first annotation (Provider Name) as a word.
  const a0 = value.annotations[0]!;
  const w = { box: pixelsToRatio(a0, size) };
  assert.equal(classOfWord(w, size, value.annotations), 16);
  const out = setWordLabel(value, meta, w, size, 'Other', classes, { now });
  // Other annotations keep their boxes and are renumbered to the class set's ids.
  assert.equal(out.value.annotations.length, value.annotations.length);
  assert.deepEqual(
    out.value.annotations.map((a) => a.class_id),
    [1, 1, 1, 2, 2, 3],
  );
  assert.deepEqual(out.metadata['class-map'], { '0': 'Agreement Effective Date', '1': 'Provider Name', '2': 'Min Payment Calculation', '3': 'Other' });
  assert.equal(out.metadata['adjustment-status'], 'adjusted'); // unknown keys kept
  assert.equal(out.metadata.objects?.length, out.value.annotations.length);
  assert.equal(classOfWord(w, size, out.value.annotations), 3);
  assert.equal(out.metadata['job-name'], 'labeling-job/DUMMY-JOB-NAME');
});

test('docs example (object-detection) parses; non object-detection metadata is refused', (t) => {
  if (!existsSync(DOCS)) return t.skip(`real fixtures absent: ${DOCS}`);
  const rows = lines(DOCS);
  const od = rows.find((r) => (r['bounding-box-attribute-name-metadata'] as { type?: string } | undefined)?.type === 'groundtruth/object-detection');
  assert.ok(od);
  const meta = parseObjectDetectionMetadata(od['bounding-box-attribute-name-metadata']);
  assert.equal(classNameOf(meta, 5), 'bone');
  assert.equal(classNameOf(meta, 1), undefined);
  const other = rows.find((r) => Object.entries(r).some(([k, v]) => k.endsWith('-metadata') && (v as { type?: string }).type === 'groundtruth/image-classification'));
  assert.ok(other);
  const key = Object.keys(other).find((k) => k.endsWith('-metadata'))!;
  assert.throws(() => parseObjectDetectionMetadata(other[key], key.replace(/-metadata$/, '')), (e: unknown) => OcrAlError.is(e, 'Malformed') && /type must be/.test(e.message));
});

test('malformed values are reported with the path of the bad field', () => {
  const bad = (v: unknown, re: RegExp) =>
    assert.throws(() => parseObjectDetectionValue(v, 'labels'), (e: unknown) => OcrAlError.is(e, 'Malformed') && re.test(e.message));
  bad({ annotations: [] }, /labels\.image_size/);
  bad({ image_size: [], annotations: [] }, /labels\.image_size/);
  bad({ image_size: [{ width: 10, height: 10 }], annotations: [{ class_id: -1, left: 0, top: 0, width: 1, height: 1 }] }, /annotations\[0\]\.class_id/);
  bad({ image_size: [{ width: 10, height: 10 }], annotations: [{ class_id: 0, left: 0, top: 0, width: -1, height: 1 }] }, /annotations\[0\]\.width/);
  assert.throws(() => parseObjectDetectionMetadata({ 'class-map': { x: 'a' } }), /class-map key "x"/);
  // depth defaults to 3 when a hand-made value leaves it out
  assert.equal(parseObjectDetectionValue({ image_size: [{ width: 10, height: 10 }], annotations: [] }).image_size[0]!.depth, 3);
});

test('annotationForWord is the word box in integer pixels', () => {
  assert.deepEqual(annotationForWord(word(0.1, 0.2, 0.30033, 0.0201), image, 4), { class_id: 4, left: 100, top: 100, width: 300, height: 10 });
});

test('classOfWord picks the annotation covering most of the word, above the threshold', () => {
  const annotations: GtAnnotation[] = [
    { class_id: 0, left: 0, top: 0, width: 120, height: 50 }, // covers 20% of the word
    { class_id: 1, left: 120, top: 0, width: 400, height: 50 }, // covers 80%
  ];
  const w = word(0.1, 0.02, 0.1, 0.04); // pixels 100..200 x 10..30
  assert.equal(classOfWord(w, image, annotations), 1);
  assert.equal(classOfWord(w, image, annotations.slice(0, 1)), undefined); // 20% < threshold
  assert.equal(MIN_WORD_COVERAGE, 0.5);
  // exactly half counts; ties go to the later (newer) annotation
  const halves: GtAnnotation[] = [
    { class_id: 2, left: 100, top: 0, width: 50, height: 50 },
    { class_id: 3, left: 150, top: 0, width: 50, height: 50 },
  ];
  assert.equal(classOfWord(w, image, halves), 3);
  assert.equal(classOfWord(w, image, []), undefined);
});

test('setWordLabel on an unlabeled image creates the attribute and metadata', () => {
  const classes = defaultClassSet();
  const out = setWordLabel(undefined, undefined, word(0.1, 0.1, 0.2, 0.02), image, 'surname', classes, { now, jobName: 'editor' });
  assert.deepEqual(out.value, {
    image_size: [{ width: 1000, height: 500, depth: 3 }],
    annotations: [{ class_id: 0, left: 100, top: 50, width: 200, height: 10 }],
  });
  assert.equal(out.metadata['human-annotated'], 'yes');
  assert.equal(out.metadata.type, 'groundtruth/object-detection');
  assert.equal(out.metadata['creation-date'], '2026-11-29T04:30:00.123000');
  assert.equal(out.metadata['job-name'], 'editor');
  assert.equal(out.metadata['class-map']['10'], 'other');
  assert.deepEqual(out.metadata.objects, [{ confidence: 1 }]);
  const json = serializeObjectDetection(out.value, out.metadata);
  assert.equal(JSON.parse(JSON.stringify(json.value)).annotations[0].class_id, 0);
});

test('relabeling a word replaces the annotation covering it and keeps the others', () => {
  const classes = defaultClassSet();
  let state = setWordLabel(undefined, undefined, word(0.1, 0.1, 0.2, 0.02), image, 'surname', classes, { now });
  state = setWordLabel(state.value, state.metadata, word(0.5, 0.5, 0.1, 0.02), image, 'sex', classes, { now });
  // A Ground Truth box around the same word, slightly off (IoU >= 0.5), is the same word.
  const shifted = word(0.102, 0.1, 0.2, 0.021);
  state = setWordLabel(state.value, state.metadata, shifted, image, 'given_names', classes, { now });
  assert.deepEqual(
    state.value.annotations.map((a) => a.class_id),
    [5, 1],
  );
  assert.equal(state.metadata.objects?.length, 2);
  assert.equal(classOfWord(word(0.1, 0.1, 0.2, 0.02), image, state.value.annotations), 1);
});

test('setWordLabel is idempotent (journal replay) and refuses bad input', () => {
  const classes = defaultClassSet();
  const first = setWordLabel(undefined, { 'class-map': {}, custom: 'kept' }, word(0.1, 0.1, 0.2, 0.02), image, 'mrz', classes, { now });
  const second = setWordLabel(first.value, first.metadata, word(0.1, 0.1, 0.2, 0.02), image, 'mrz', classes, { now });
  assert.equal(JSON.stringify(second), JSON.stringify(first));
  assert.equal(first.metadata['custom'], 'kept');
  assert.throws(() => setWordLabel(undefined, undefined, word(0, 0, 0.1, 0.1), image, 'nope', classes, { now }), (e: unknown) => OcrAlError.is(e, 'NotFound'));
  assert.throws(
    () => setWordLabel(first.value, first.metadata, word(0, 0, 0.1, 0.1), { width: 10, height: 10 }, 'mrz', classes, { now }),
    (e: unknown) => OcrAlError.is(e, 'Conflict') && /1000x500/.test(e.message),
  );
  assert.throws(() => formatCreationDate(new Date('nope')), (e: unknown) => OcrAlError.is(e, 'BadInput'));
});

test('property: labeling a sequence of words, then replaying it, gives the same value; each word reads back its class', () => {
  const classes = defaultClassSet();
  const cell = fc.record({ col: fc.integer({ min: 0, max: 4 }), row: fc.integer({ min: 0, max: 9 }), cls: fc.integer({ min: 0, max: 10 }) });
  fc.assert(
    fc.property(fc.array(cell, { maxLength: 25 }), (edits) => {
      // Words on a grid with gaps, so distinct words never overlap.
      const wordAt = (c: { col: number; row: number }) => word(c.col * 0.2 + 0.01, c.row * 0.1 + 0.01, 0.15, 0.05);
      const apply = (list: typeof edits) => {
        let s: ReturnType<typeof setWordLabel> | undefined;
        for (const e of list) s = setWordLabel(s?.value, s?.metadata, wordAt(e), image, classes.names[e.cls]!, classes, { now });
        return s;
      };
      const once = apply(edits);
      const twice = apply([...edits, ...edits]);
      assert.equal(JSON.stringify(twice), JSON.stringify(once));
      const last = new Map(edits.map((e) => [`${e.col},${e.row}`, e.cls]));
      assert.equal(once?.value.annotations.length ?? 0, last.size);
      for (const [key, cls] of last) {
        const [col, row] = key.split(',').map(Number) as [number, number];
        assert.equal(classOfWord(wordAt({ col, row }), image, once!.value.annotations), cls);
      }
    }),
    { numRuns: 200 },
  );
});

test('classNamesOfWords names each labeled word through the class-map', () => {
  const classes = defaultClassSet();
  const words = [
    { id: 'a', box: { left: 0.1, top: 0.1, width: 0.2, height: 0.02 } },
    { id: 'b', box: { left: 0.5, top: 0.5, width: 0.1, height: 0.02 } },
    { id: 'c', box: { left: 0.8, top: 0.8, width: 0.1, height: 0.02 } },
  ];
  let s = setWordLabel(undefined, undefined, words[0]!, image, 'surname', classes, { now });
  s = setWordLabel(s.value, s.metadata, words[1]!, image, 'date_of_birth', classes, { now });
  assert.deepEqual(
    [...classNamesOfWords(words, image, s.value, s.metadata)],
    [
      ['a', 'surname'],
      ['b', 'date_of_birth'],
    ],
  );
  assert.equal(classNamesOfWords(words, image, undefined, undefined).size, 0);
});

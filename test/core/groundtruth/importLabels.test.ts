import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createClassSet, defaultClassSet } from '../../../src/core/classes';
import { normalizeRef, planImport, type ImportTarget } from '../../../src/core/groundtruth/importLabels';
import { parseOutputManifest } from '../../../src/core/groundtruth/outputManifest';

const real = path.resolve(__dirname, '../../../..', 'shared/fixtures/real/groundtruth');
const readReal = (name: string): string | undefined => {
  const file = path.join(real, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
};

const target = (refs: (string | undefined)[], labeled: number[] = [], classes = defaultClassSet()): ImportTarget => ({
  count: refs.length,
  refs,
  isLabeled: (i) => labeled.includes(i),
  labelAttribute: 'labels',
  classes,
});

function line(ref: string, annotations: object[], classMap: Record<string, string>, meta: Record<string, unknown> = {}, attr = 'job'): string {
  return JSON.stringify({
    'source-ref': ref,
    [attr]: { image_size: [{ width: 200, height: 100, depth: 3 }], annotations },
    [`${attr}-metadata`]: {
      objects: annotations.map(() => ({ confidence: 0.5 })),
      'class-map': classMap,
      type: 'groundtruth/object-detection',
      'human-annotated': 'yes',
      'creation-date': '2024-01-02T03:04:05.000000',
      'job-name': 'labeling-job/passports',
      ...meta,
    },
  });
}

test('imports a bounding-box label: classes renumbered by name (sparse class-map), floats kept, two set edits', () => {
  // Output numbers mrz as 0 and surname as 7; the class set has surname=0, mrz=9.
  const out = parseOutputManifest(
    line('s3://b/a.png', [{ class_id: 7, left: 1.25, top: 2.5, width: 30, height: 10 }, { class_id: 0, left: 5, top: 80, width: 190, height: 15 }], { '0': 'mrz', '7': 'surname' }),
  );
  const plan = planImport(out, target(['s3://b/z.png', 's3://b/a.png']));
  assert.equal(plan.imported.length, 1);
  assert.deepEqual(plan.imported[0], { line: 1, ref: 's3://b/a.png', annotations: 2, adjustmentStatus: undefined, replaced: false });
  assert.equal(plan.edits.length, 2);
  const [value, metadata] = plan.edits;
  assert.equal(value!.key, 'labels');
  assert.equal(metadata!.key, 'labels-metadata');
  const v = value!.value as { annotations: { class_id: number; left: number; top: number }[] };
  assert.deepEqual(
    v.annotations.map((a) => [a.class_id, a.left, a.top]),
    [
      [0, 1.25, 2.5],
      [9, 5, 80],
    ],
  );
  const m = metadata!.value as Record<string, unknown>;
  assert.equal((m['class-map'] as Record<string, string>)['9'], 'mrz');
  assert.equal(m.type, 'groundtruth/object-detection');
  assert.equal(m['job-name'], 'labeling-job/passports');
  assert.equal(m['creation-date'], '2024-01-02T03:04:05.000000');
  assert.deepEqual(m.objects, [{ confidence: 0.5 }, { confidence: 0.5 }]);
});

test('adjustment-status is kept and reported; existing labels are marked replaced', () => {
  const out = parseOutputManifest(line('a', [], {}, { 'adjustment-status': 'unadjusted' }));
  const plan = planImport(out, target(['a'], [0]));
  assert.equal(plan.imported[0]!.adjustmentStatus, 'unadjusted');
  assert.equal(plan.imported[0]!.replaced, true);
  assert.equal((plan.edits[1]!.value as Record<string, unknown>)['adjustment-status'], 'unadjusted');
});

test('unknown class names are reported and the line is not imported', () => {
  const out = parseOutputManifest(
    [
      line('a', [{ class_id: 1, left: 0, top: 0, width: 1, height: 1 }, { class_id: 2, left: 0, top: 0, width: 1, height: 1 }], { '1': 'signature', '2': 'surname' }),
      line('b', [{ class_id: 4, left: 0, top: 0, width: 1, height: 1 }], { '1': 'surname' }),
    ].join('\n'),
  );
  const plan = planImport(out, target(['a', 'b']));
  assert.equal(plan.edits.length, 0);
  assert.deepEqual(plan.unknownClasses, [
    { line: 1, ref: 'a', classes: ['signature'] },
    { line: 2, ref: 'b', classes: ["class_id 4 (not in the line's class-map)"] },
  ]);
});

test('failed items are reported, not imported; unmatched refs are reported', () => {
  const failed = JSON.stringify({ 'source-ref': 'a', 'job-metadata': { 'retry-count': 1, 'failure-reason': 'ClientError: expired', 'human-annotated': 'true' } });
  const plan = planImport(parseOutputManifest(`${failed}\n${line('nope', [], {})}\n`), target(['a']));
  assert.deepEqual(plan.failed, [{ line: 1, ref: 'a', reason: 'ClientError: expired' }]);
  assert.deepEqual(plan.unmatched, [{ line: 2, ref: 'nope', message: 'no manifest entry has this source-ref' }]);
  assert.equal(plan.edits.length, 0);
});

test('S3 keys with spaces and non-ASCII match exactly, URL-encoded, or in another Unicode form', () => {
  const refs = ['s3://b/Commerce Bank/Reçu n°1.png', 's3://b/Zoë/x.png', 's3://b/100%.png'];
  const out = parseOutputManifest(
    [
      line('s3://b/Commerce Bank/Reçu n°1.png', [], {}), // exact
      line('s3://b/Commerce%20Bank/Re%C3%A7u%20n%C2%B01.png', [], {}), // percent-encoded
      line('s3://b/Zoe\u0308/x.png', [], {}), // NFD
      line('s3://b/100%.png', [], {}), // a literal '%' that is not an escape
    ].join('\n'),
  );
  const plan = planImport(out, target(refs));
  assert.deepEqual(
    plan.imported.map((i) => [i.line, i.ref]),
    [
      [2, refs[0]],
      [3, refs[1]],
      [4, refs[2]],
    ],
  );
  assert.deepEqual(
    plan.skipped.map((s) => [s.line, s.message]),
    [[1, 'superseded by line 2 for the same image']],
  );
  // Edits are still one pair per image, the later line's.
  assert.equal(plan.edits.length, 6);
  assert.equal(normalizeRef('a%2Fb'), 'a/b');
});

test('two entries with the same decoded ref make a non-exact match ambiguous', () => {
  // Both entries read 's3://b/Zoë.png' once decoded and NFC-normalized; the output's NFD form
  // matches neither exactly.
  const plan = planImport(parseOutputManifest(line('s3://b/Zoe\u0308.png', [], {})), target(['s3://b/Zo\u00eb.png', 's3://b/Zo%C3%AB.png']));
  assert.equal(plan.imported.length, 0);
  assert.match(plan.unmatched[0]!.message, /several manifest entries/);
});

test('custom jobs: object-detection shaped values import (job_name spelling), others are skipped', () => {
  const customOd = JSON.stringify({
    'source-ref': 'a',
    review: { image_size: [{ width: 10, height: 10, depth: 3 }], annotations: [{ class_id: 0, left: 1, top: 1, width: 2, height: 2 }] },
    'review-metadata': { type: 'groundtruth/custom', job_name: 'my-custom-job', 'class-map': { '0': 'sex' }, 'human-annotated': 'yes' },
  });
  const customRef = JSON.stringify({
    'source-ref': 'b',
    ner: { 'annotation-ref': 's3://b/ann.json' },
    'ner-metadata': { type: 'groundtruth/custom', 'job-name': 'ner', 'human-annotated': 'yes' },
  });
  const classification = JSON.stringify({ 'source-ref': 'c', species: '0', 'species-metadata': { 'class-name': 'dog', type: 'groundtruth/image-classification', 'job-name': 'x' } });
  const plan = planImport(parseOutputManifest([customOd, customRef, classification].join('\n')), target(['a', 'b', 'c']));
  assert.deepEqual(
    plan.imported.map((i) => i.ref),
    ['a'],
  );
  const m = plan.edits[1]!.value as Record<string, unknown>;
  assert.equal(m['job-name'], 'my-custom-job');
  assert.equal(m.type, 'groundtruth/object-detection');
  assert.equal((plan.edits[0]!.value as { annotations: { class_id: number }[] }).annotations[0]!.class_id, 5);
  assert.deepEqual(
    plan.skipped.map((s) => s.ref),
    ['b', 'c'],
  );
  assert.match(plan.skipped[0]!.message, /custom label is not in object-detection form/);
  assert.match(plan.skipped[1]!.message, /image-classification.*not object detection/);
});

test('real: built-in bounding boxes (float coordinates) import into a class set with Bird', (t) => {
  const text = readReal('output__bbox__sagemaker-examples-yolov5-birds.jsonl');
  if (text === undefined) return t.skip('../shared/fixtures/real is absent');
  const out = parseOutputManifest(text);
  const refs = out.items.map((i) => i.ref);
  const plan = planImport(out, target(refs, [], createClassSet(['other', 'Bird'])));
  assert.equal(plan.imported.length, 100);
  const first = plan.edits[0]!.value as { annotations: { class_id: number; top: number }[] };
  assert.equal(first.annotations[0]!.class_id, 1);
  assert.equal(first.annotations[0]!.top, 164.60000000000002, 'float boxes are kept exactly');
  // With the passport classes, Bird is unknown on every line.
  const passport = planImport(out, target(refs));
  assert.equal(passport.imported.length, 0);
  assert.equal(passport.unknownClasses.length, 100);
  assert.deepEqual(passport.unknownClasses[0]!.classes, ['Bird']);
});

test('real: bounding-box adjustment job with sparse class-maps and S3 keys with spaces', (t) => {
  const text = readReal('output__bbox-adjustment-custom__textract-transformer-aug1.jsonl');
  if (text === undefined) return t.skip('../shared/fixtures/real is absent');
  const out = parseOutputManifest(text);
  const names = new Set<string>();
  for (const i of out.items) if (i.kind === 'label') for (const n of Object.values(i.metadata['class-map'] as Record<string, string>)) names.add(n);
  const classes = createClassSet([...names].sort());
  const refs = out.items.map((i) => i.ref);
  const plan = planImport(out, target(refs, [], classes));
  assert.equal(plan.imported.length, 50);
  assert.ok(refs.some((r) => r?.includes(' ')));
  const statuses = plan.imported.map((i) => i.adjustmentStatus);
  assert.equal(statuses.filter((s) => s === 'adjusted').length, 20);
  assert.equal(statuses.filter((s) => s === 'unadjusted').length, 30);
  // Every annotation's class keeps its name through the renumbering.
  out.items.forEach((item, k) => {
    if (item.kind !== 'label') return;
    const source = item.value as { annotations: { class_id: number }[] };
    const imported = plan.edits[2 * k]!.value as { annotations: { class_id: number }[] };
    const map = item.metadata['class-map'] as Record<string, string>;
    assert.deepEqual(
      imported.annotations.map((a) => classes.names[a.class_id]),
      source.annotations.map((a) => map[String(a.class_id)]),
    );
  });
});

test('real: custom output with failed items and no trailing newline', (t) => {
  const text = readReal('output__custom-with-failures__comprehend-ssie.jsonl');
  if (text === undefined) return t.skip('../shared/fixtures/real is absent');
  const out = parseOutputManifest(text);
  const plan = planImport(out, target(out.items.map((i) => i.ref)));
  assert.equal(plan.imported.length, 0);
  assert.deepEqual(
    plan.failed.map((f) => [f.line, f.ref]),
    [
      [2, 's3://bucket/documents/file2.pdf'],
      [3, 's3://bucket/documents/file3.pdf'],
    ],
  );
  assert.equal(plan.skipped.length, 1, 'the annotation-ref custom label is reported');
});

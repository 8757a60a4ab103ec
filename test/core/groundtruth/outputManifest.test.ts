import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { labelAttributesOf, parseOutputManifest, type OutputLabel } from '../../../src/core/groundtruth/outputManifest';

const real = path.resolve(__dirname, '../../../..', 'shared/fixtures/real/groundtruth');
const readReal = (name: string): string | undefined => {
  const file = path.join(real, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
};

const bbox = (ref: string, attr = 'job', extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    'source-ref': ref,
    [attr]: { image_size: [{ width: 100, height: 50, depth: 3 }], annotations: [{ class_id: 3, left: 1.5, top: 2, width: 10, height: 5 }] },
    [`${attr}-metadata`]: { objects: [{ confidence: 0.9 }], 'class-map': { '3': 'surname' }, type: 'groundtruth/object-detection', 'job-name': 'labeling-job/x', ...extra },
  });

test('reads labels, finding the attribute by its -metadata pair', () => {
  const { items, problems } = parseOutputManifest(`${bbox('s3://b/a.png')}\n${bbox('s3://b/b.png', 'other-name')}\n`);
  assert.deepEqual(problems, []);
  assert.equal(items.length, 2);
  const [a, b] = items as OutputLabel[];
  assert.equal(a!.kind, 'label');
  assert.equal(a!.attribute, 'job');
  assert.equal(a!.jobName, 'labeling-job/x');
  assert.equal(a!.type, 'groundtruth/object-detection');
  assert.equal(b!.attribute, 'other-name');
  assert.equal(b!.line, 2);
});

test('missing trailing newline, CRLF and blank lines are fine; bad lines are reported by number', () => {
  const text = `${bbox('a')}\r\n\r\nnot json\n[1,2]\n${bbox('b')}`;
  const { items, problems } = parseOutputManifest(text);
  assert.deepEqual(
    items.map((i) => [i.line, i.ref]),
    [
      [1, 'a'],
      [5, 'b'],
    ],
  );
  assert.deepEqual(
    problems.map((p) => p.line),
    [3, 4],
  );
  assert.match(problems[1]!.message, /not a JSON object/);
});

test('failed items: metadata with failure-reason and no label value', () => {
  const line = JSON.stringify({ 'source-ref': 'a', 'job-metadata': { 'retry-count': 1, 'failure-reason': 'ClientError: expired', 'human-annotated': 'true' } });
  const { items } = parseOutputManifest(line);
  assert.deepEqual(items, [{ kind: 'failed', line: 1, ref: 'a', attribute: 'job', reason: 'ClientError: expired' }]);
});

test('job_name spelling is read as the job name', () => {
  const line = JSON.stringify({ 'source-ref': 'a', job: { x: 1 }, 'job-metadata': { type: 'groundtruth/custom', job_name: 'custom-1' } });
  const [item] = parseOutputManifest(line).items as OutputLabel[];
  assert.equal(item!.jobName, 'custom-1');
});

test('input keys ending in -metadata are not label attributes', () => {
  assert.deepEqual(labelAttributesOf({ 'source-ref': 'a', annotator: 'x', 'annotator-metadata': { Info: 'Annotate' }, metadata: { pages: '1' } }), []);
  const { items } = parseOutputManifest(JSON.stringify({ 'source-ref': 'a', 'annotator-metadata': { Info: 'x' } }));
  assert.equal(items[0]!.kind, 'unlabeled');
});

test('adjustment output with both attributes picks the adjustment; a named attribute wins', () => {
  const entry = {
    'source-ref': 'a',
    boxes: { image_size: [{ width: 1, height: 1, depth: 3 }], annotations: [] },
    'boxes-metadata': { type: 'groundtruth/object-detection', 'creation-date': '2018-10-18T22:18:13.527256' },
    adjusted: { image_size: [{ width: 1, height: 1, depth: 3 }], annotations: [] },
    'adjusted-metadata': { type: 'groundtruth/object-detection', 'creation-date': '2018-11-20T22:18:13.527256', 'adjustment-status': 'adjusted' },
  };
  assert.equal((parseOutputManifest(JSON.stringify(entry)).items[0] as OutputLabel).attribute, 'adjusted');
  assert.equal((parseOutputManifest(JSON.stringify(entry), { attribute: 'boxes' }).items[0] as OutputLabel).attribute, 'boxes');
  const undecided = { ...entry, 'adjusted-metadata': { type: 'groundtruth/object-detection' }, 'boxes-metadata': { type: 'groundtruth/object-detection' } };
  const item = parseOutputManifest(JSON.stringify(undecided)).items[0]!;
  assert.equal(item.kind, 'unlabeled');
  assert.match((item as { message: string }).message, /several label attributes.*--job-attribute/);
});

test('real: built-in bounding-box output (100 lines, float boxes)', (t) => {
  const text = readReal('output__bbox__sagemaker-examples-yolov5-birds.jsonl');
  if (text === undefined) return t.skip('../shared/fixtures/real is absent');
  const { items, problems } = parseOutputManifest(text);
  assert.equal(problems.length, 0);
  assert.equal(items.length, 100);
  assert.ok(items.every((i) => i.kind === 'label' && i.attribute === 'category' && i.jobName === 'labeling-job/ground-truth-od-demo-1662974840'));
});

test('real: custom output with failures and no trailing newline', (t) => {
  const text = readReal('output__custom-with-failures__comprehend-ssie.jsonl');
  if (text === undefined) return t.skip('../shared/fixtures/real is absent');
  assert.ok(!text.endsWith('\n'));
  const { items } = parseOutputManifest(text);
  assert.deepEqual(
    items.map((i) => i.kind),
    ['label', 'failed', 'failed'],
  );
  assert.equal((items[0] as OutputLabel).type, 'groundtruth/custom');
  assert.equal((items[0] as OutputLabel).jobName, 'mock_job_name');
  assert.match((items[1] as { reason: string }).reason, /^ClientError: Annotation tasks expired/);
});

test('real: custom NER output keeps annotator-metadata out of the attributes', (t) => {
  const text = readReal('output__custom-ner-pdf__legal-entity.jsonl');
  if (text === undefined) return t.skip('../shared/fixtures/real is absent');
  const { items, problems } = parseOutputManifest(text);
  assert.equal(problems.length, 0);
  assert.ok(items.length > 200);
  assert.ok(items.every((i) => i.kind === 'label' && i.attribute === 'legal-entity-label-job-labeling-job-20220104T172242'));
});

test('real: documentation examples of every task type parse', (t) => {
  const text = readReal('docs-examples/output__all-types__sagemaker-dev-guide-examples.jsonl');
  if (text === undefined) return t.skip('../shared/fixtures/real is absent');
  const { items, problems } = parseOutputManifest(text);
  assert.equal(problems.length, 0);
  assert.equal(items.length, 12);
  const adjusted = items.find((i) => i.kind === 'label' && i.attribute === 'adjusted-bounding-box');
  assert.ok(adjusted, 'the adjustment example resolves to its adjusted attribute');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createClassSet, defaultClassSet } from '../../src/core/classes';
import { OcrAlError } from '../../src/core/errors';
import {
  createSoftLabels,
  parseSoftLabels,
  serializeSoftLabels,
  topClass,
  topClasses,
  validateDistribution,
} from '../../src/core/softLabels';

const classes = createClassSet(['surname', 'given_names', 'other']);

test('parses a value, renormalizes sums and names the top class per box', () => {
  const soft = parseSoftLabels(
    {
      model: 'layoutlmv2',
      created: '2026-11-29T04:00:00Z',
      classes: ['surname', 'given_names', 'other'],
      boxes: { 'w-1': [0.7, 0.2, 0.1], 'w-2': [0.1, 0.801, 0.1] },
    },
    { classes },
  );
  assert.equal(soft.classCount, 3);
  assert.deepEqual(soft.problems, []);
  const w2 = soft.boxes.get('w-2')!;
  assert.ok(Math.abs(w2.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.deepEqual(
    [...topClasses(soft).entries()].map(([id, t]) => [id, t.index, t.name]),
    [
      ['w-1', 0, 'surname'],
      ['w-2', 1, 'given_names'],
    ],
  );
});

test('unusable distributions are reported by BlockId and kept verbatim on rewrite', () => {
  const value = {
    model: 'm',
    created: '2026-11-29T04:00:00Z',
    boxes: {
      short: [0.5, 0.5],
      nan: [0.5, null, 0.5],
      negative: [1.2, -0.2, 0],
      unnormalized: [2, 1, 1],
      zeros: [0, 0, 0],
      notArray: 'x',
      good: [0.2, 0.3, 0.5],
    },
    'x-extra': { kept: true },
  };
  const soft = parseSoftLabels(value, { classes });
  assert.deepEqual([...soft.boxes.keys()], ['unnormalized', 'good']);
  assert.deepEqual(soft.boxes.get('unnormalized'), [0.5, 0.25, 0.25]); // renormalized, as sampling does
  assert.deepEqual(
    soft.problems.map((p) => p.blockId),
    ['short', 'nan', 'negative', 'zeros', 'notArray'],
  );
  assert.match(soft.problems[0]!.message, /has 2 probabilities, expected 3/);
  assert.match(soft.problems[1]!.message, /p\[1\] is not a finite number/);
  assert.match(soft.problems[2]!.message, /p\[1\] is negative/);
  assert.match(soft.problems[3]!.message, /sums to 0/);
  const out = serializeSoftLabels(soft);
  assert.deepEqual(out, value); // nothing lost, order kept
  assert.deepEqual(Object.keys(out['boxes'] as object), Object.keys(value.boxes));
});

test('class count comes from the value or the class set; shape errors are Malformed', () => {
  const base = { model: 'm', created: 't', boxes: { a: [0.5, 0.5] } };
  assert.throws(() => parseSoftLabels(base), (e: unknown) => OcrAlError.is(e, 'Malformed') && /no "classes" and no class set/.test(e.message));
  assert.equal(parseSoftLabels(base, { classes: createClassSet(['x', 'y']) }).boxes.size, 1);
  assert.equal(parseSoftLabels(base, { classes: defaultClassSet() }).problems.length, 1); // 2 != 11
  assert.throws(() => parseSoftLabels({ ...base, model: '' }), /soft-labels\.model: model must be a non-empty string/);
  assert.throws(() => parseSoftLabels({ created: 't', boxes: {} }), (e: unknown) => OcrAlError.is(e, 'Malformed') && /soft-labels\.model/.test(e.message));
  assert.throws(() => parseSoftLabels({ ...base, boxes: [] }), /soft-labels\.boxes/);
  assert.throws(() => parseSoftLabels([1]), /expected an object/);
  assert.throws(() => parseSoftLabels({ ...base, classes: ['a', 'a'] }), /duplicate class names/);
  assert.throws(
    () => parseSoftLabels({ ...base, classes: ['x', 'z'] }, { classes: createClassSet(['x', 'y']), requireClasses: true }),
    (e: unknown) => OcrAlError.is(e, 'Conflict'),
  );
});

test('createSoftLabels validates what a model writes; serialize round-trips through parse', () => {
  const soft = createSoftLabels({ model: 'local', created: new Date('2026-11-29T04:00:00Z'), classes: classes.names, boxes: { b: [0.1, 0.1, 0.8] } });
  const json = serializeSoftLabels(soft);
  assert.deepEqual(json, { model: 'local', created: '2026-11-29T04:00:00.000Z', classes: ['surname', 'given_names', 'other'], boxes: { b: [0.1, 0.1, 0.8] } });
  const again = parseSoftLabels(JSON.parse(JSON.stringify(json)));
  assert.deepEqual(serializeSoftLabels(again), json);
  assert.throws(
    () => createSoftLabels({ model: 'm', created: 't', classCount: 3, boxes: new Map([['bad', [0, 0, 0]]]) }),
    (e: unknown) => OcrAlError.is(e, 'BadInput') && /box bad sums to 0/.test(e.message),
  );
});

test('topClass picks the largest probability, lowest index on ties', () => {
  assert.deepEqual(topClass([0.2, 0.5, 0.3]), { index: 1, p: 0.5 });
  assert.deepEqual(topClass([0.4, 0.4, 0.2]), { index: 0, p: 0.4 });
});

test('property: any non-negative distribution with a positive sum is accepted and sums to 1 afterwards', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 12 }).filter((a) => a.some((x) => x > 0)),
      fc.double({ min: 0.001, max: 1000, noNaN: true }),
      (raw, target) => {
        const s = raw.reduce((a, b) => a + b, 0);
        const dist = raw.map((x) => (x / s) * target);
        const out = validateDistribution(dist, dist.length);
        assert.ok(Array.isArray(out));
        assert.ok(Math.abs(out.reduce((a, b) => a + b, 0) - 1) < 1e-9);
        assert.equal(topClass(out).index, topClass(dist).index);
      },
    ),
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PASSPORT_CLASSES,
  classMapOf,
  classSetFromClassMap,
  createClassSet,
  defaultClassSet,
  parseLabelCategoryConfig,
  readClassMap,
  serializeLabelCategoryConfig,
} from '../../src/core/classes';
import { OcrAlError } from '../../src/core/errors';

const malformed = (re: RegExp) => (e: unknown) => OcrAlError.is(e, 'Malformed') && re.test(e.message);

test('the built-in class set is the 11 passport classes in order', () => {
  const set = defaultClassSet();
  assert.deepEqual(set.names, [
    'surname',
    'given_names',
    'passport_number',
    'nationality',
    'date_of_birth',
    'sex',
    'place_of_birth',
    'date_of_issue',
    'date_of_expiry',
    'mrz',
    'other',
  ]);
  assert.equal(set.indexOf('mrz'), 9);
  assert.equal(set.indexOf('Surname'), -1);
  assert.ok(set.has('other') && !set.has('signature'));
  assert.throws(() => (DEFAULT_PASSPORT_CLASSES as string[]).push('x'));
});

test('a Ground Truth label-category config parses, keeping extra keys through a rewrite', () => {
  const text = JSON.stringify({
    'document-version': '2018-11-28',
    categoryGlobalAttributes: [{ name: 'quality', type: 'string', enum: ['good', 'bad'] }],
    labels: [{ label: 'surname', attributes: [{ name: 'script', type: 'string' }] }, { label: 'other' }],
  });
  const { config, classes } = parseLabelCategoryConfig(text, 'classes.json');
  assert.deepEqual(classes.names, ['surname', 'other']);
  const out = JSON.parse(serializeLabelCategoryConfig(classes, config));
  assert.deepEqual(out, JSON.parse(text));
  // A changed set keeps the surviving labels' attributes and adds plain new ones.
  const grown = JSON.parse(serializeLabelCategoryConfig(createClassSet(['surname', 'mrz']), config));
  assert.deepEqual(grown.labels, [{ label: 'surname', attributes: [{ name: 'script', type: 'string' }] }, { label: 'mrz' }]);
  assert.equal(grown['document-version'], '2018-11-28');
});

test('serializing the default set writes the Ground Truth file format', () => {
  const text = serializeLabelCategoryConfig(defaultClassSet());
  assert.ok(text.endsWith('}\n'));
  const json = JSON.parse(text);
  assert.equal(json['document-version'], '2018-11-28');
  assert.deepEqual(json.labels[0], { label: 'surname' });
  assert.equal(json.labels.length, 11);
  assert.deepEqual(parseLabelCategoryConfig(text).classes.names, DEFAULT_PASSPORT_CLASSES);
});

test('bad config files are Malformed with a message saying what is wrong', () => {
  assert.throws(() => parseLabelCategoryConfig('{', 'c.json'), malformed(/c\.json: not valid JSON/));
  assert.throws(() => parseLabelCategoryConfig('[]'), malformed(/expected a JSON object with a "labels" array/));
  assert.throws(() => parseLabelCategoryConfig('{"labels": {"label": "a"}}'), malformed(/"labels" must be an array/));
  assert.throws(() => parseLabelCategoryConfig('{}'), malformed(/"labels" must be an array/));
  assert.throws(() => parseLabelCategoryConfig('{"labels": [{"name": "a"}]}'), malformed(/labels\[0\]\.label/));
  assert.throws(() => parseLabelCategoryConfig('{"labels": []}'), malformed(/no labels/));
  assert.throws(() => parseLabelCategoryConfig('{"labels": [{"label": "a"}, {"label": " "}]}'), malformed(/labels\[1\] is empty/));
  assert.throws(
    () => parseLabelCategoryConfig('{"labels": [{"label": "a"}, {"label": "b"}, {"label": "a"}]}'),
    malformed(/duplicate label "a" \(labels\[0\] and labels\[2\]\)/),
  );
});

test('class-map: dense from a class set, sparse keys accepted when reading', () => {
  const map = classMapOf(defaultClassSet());
  assert.equal(map['0'], 'surname');
  assert.equal(map['10'], 'other');
  assert.equal(Object.keys(map).length, 11);
  assert.deepEqual(classSetFromClassMap(map)?.names, DEFAULT_PASSPORT_CLASSES);
  // Real output lists only the classes on the line.
  assert.deepEqual(readClassMap({ '17': 'Min Payment Calculation', '16': 'Provider Name' }), [
    { id: 16, name: 'Provider Name' },
    { id: 17, name: 'Min Payment Calculation' },
  ]);
  assert.equal(classSetFromClassMap({ '16': 'Provider Name' }), undefined);
  assert.equal(classSetFromClassMap({}), undefined);
  assert.throws(() => readClassMap({ '01': 'a' }), malformed(/class-map key "01"/));
  assert.throws(() => readClassMap({ '0': 3 }), malformed(/class-map\["0"\]/));
  assert.throws(() => readClassMap([]), malformed(/must be an object/));
});

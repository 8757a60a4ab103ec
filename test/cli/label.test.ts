import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { journalPathFor, readJournal } from '../../src/core/manifest/journal';
import { readEffectiveEntry } from '../../src/core/manifest/effectiveManifest';
import { entry, makeBatch, wordClass, wordId } from '../core/manifest/editsFixture';
import { runCli } from './cliHarness';

const REAL = path.resolve(__dirname, '../..', '..', 'shared/fixtures/real/textract');

async function batch(extraLines: string[] = []) {
  const lines = [JSON.stringify(entry('a.png', 3, { 'user-field': 'kept' })), 'not json at all', ...extraLines];
  return makeBatch(lines.join('\n') + '\n');
}

const oneLine = (text: string) => text.trim().split('\n').length === 1;

test('label appends a durable edit, exits 0, and show sees it', async () => {
  const b = await batch();
  try {
    const run = await runCli(['label', b.manifest, '--ref', 'a.png', '--box', wordId('a.png', 1), '--class', 'passport_number', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(out.durable, true);
    assert.equal(out.seq, 1);
    assert.equal(out.class, 'passport_number');
    const journal = await readJournal(fs, b.manifest);
    assert.equal(journal.entries.length, 1);
    const effective = await readEffectiveEntry(fs, b.manifest, 'a.png');
    assert.equal(wordClass(effective!.value, 'a.png', 1), 'passport_number');
    assert.equal(effective!.value['user-field'], 'kept');
    const text = await runCli(['label', 'manifest.jsonl', '--ref', 'a.png', '--box', wordId('a.png', 2), '--class', 'sex'], b.dir);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^labeled box a\.png#w2 of a\.png as sex \(journal record 2, durable\)\n$/);
  } finally {
    await b.cleanup();
  }
});

test('unknown ref, box or class exits 2 with one line naming it, and writes nothing', async () => {
  const b = await batch([JSON.stringify({ 'source-ref': 'l.png', 'source-size': { width: 10, height: 10 }, textract: { Blocks: [{ BlockType: 'LINE', Id: 'L1', Geometry: { BoundingBox: { Left: 0, Top: 0, Width: 1, Height: 1 } } }] } })]);
  try {
    const cases: [string[], RegExp][] = [
      [['--ref', 'nope.png', '--box', wordId('a.png', 0), '--class', 'sex'], /no entry with source-ref "nope\.png"/],
      [['--ref', 'a.png', '--box', 'missing-id', '--class', 'sex'], /box missing-id not found in the Textract result of a\.png/],
      [['--ref', 'a.png', '--box', wordId('a.png', 0), '--class', 'eye_colour'], /unknown class "eye_colour" \(classes: surname, given_names, .*, mrz, other\)/],
      [['--ref', 'l.png', '--box', 'L1', '--class', 'sex'], /block L1 of l\.png is a LINE, not a WORD/],
      [['--ref', 'a.png', '--box', wordId('a.png', 0)], /--class is required/],
      [['--ref', 'a.png', '--box', wordId('a.png', 0), '--class', 'sex', '--bogus'], /bogus/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(['label', b.manifest, ...args]);
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.stderr, message);
      assert.ok(oneLine(run.stderr), run.stderr);
      assert.equal(run.stdout, '');
    }
    await assert.rejects(fs.stat(journalPathFor(b.manifest)), /ENOENT/);
  } finally {
    await b.cleanup();
  }
});

test('a missing manifest exits 2', async () => {
  const run = await runCli(['label', '/nonexistent/manifest.jsonl', '--ref', 'a', '--box', 'b', '--class', 'sex']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^ocr-al label: cannot open/);
});

test('the batch classes.json replaces the default class set', async () => {
  const b = await batch();
  try {
    await fs.writeFile(path.join(b.dir, 'classes.json'), JSON.stringify({ 'document-version': '2018-11-28', labels: [{ label: 'name' }, { label: 'number' }] }));
    const bad = await runCli(['label', b.manifest, '--ref', 'a.png', '--box', wordId('a.png', 0), '--class', 'surname']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown class "surname" \(classes: name, number\)/);
    const ok = await runCli(['label', b.manifest, '--ref', 'a.png', '--box', wordId('a.png', 0), '--class', 'number']);
    assert.equal(ok.code, 0, ok.stderr);
    const value = (await readEffectiveEntry(fs, b.manifest, 'a.png'))!.value;
    assert.deepEqual((value['labels-metadata'] as { 'class-map': unknown })['class-map'], { '0': 'name', '1': 'number' });
  } finally {
    await b.cleanup();
  }
});

test('--label-attribute writes under that key', async () => {
  const b = await batch();
  try {
    const run = await runCli(['label', b.manifest, '--ref', 'a.png', '--box', wordId('a.png', 0), '--class', 'mrz', '--label-attribute', 'review']);
    assert.equal(run.code, 0, run.stderr);
    const value = (await readEffectiveEntry(fs, b.manifest, 'a.png'))!.value;
    assert.equal(value['labels'], undefined);
    assert.equal(wordClass(value, 'a.png', 0, 'review'), 'mrz');
    assert.equal((value['review-metadata'] as Record<string, unknown>)['human-annotated'], 'yes');
  } finally {
    await b.cleanup();
  }
});

test('a textract-ref or source-ref outside the batch is refused with exit 2', async () => {
  const b = await batch([
    JSON.stringify({ 'source-ref': 'x.png', 'source-size': { width: 10, height: 10 }, 'textract-ref': '../../etc/passwd' }),
    JSON.stringify({ 'source-ref': '../outside.png', textract: entry('o', 1).textract }),
  ]);
  try {
    const run = await runCli(['label', b.manifest, '--ref', 'x.png', '--box', 'w', '--class', 'sex']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /textract-ref "..\/..\/etc\/passwd" resolves outside the batch folder; refused/);
    const run2 = await runCli(['label', b.manifest, '--ref', '../outside.png', '--box', wordId('o', 0), '--class', 'sex']);
    assert.equal(run2.code, 2);
    assert.match(run2.stderr, /source-ref "..\/outside.png" resolves outside the batch folder; refused/);
  } finally {
    await b.cleanup();
  }
});

test('real Textract response by textract-ref, image size read from the PNG header', async (t) => {
  try {
    await fs.access(REAL);
  } catch {
    t.skip(`real fixtures not found at ${REAL}`);
    return;
  }
  const b = await makeBatch(JSON.stringify({ 'source-ref': 'page.png', 'textract-ref': 'textract/page.json', 'page-num': 1 }) + '\n');
  try {
    await fs.mkdir(path.join(b.dir, 'textract'));
    // Symlinks into the fixtures would be refused (they point outside the batch): copy into the temp batch.
    await fs.copyFile(path.join(REAL, 'analyze-document-tables-forms__single-page-1.png'), path.join(b.dir, 'page.png'));
    await fs.copyFile(path.join(REAL, 'detect-document-text__single-page-1.json'), path.join(b.dir, 'textract', 'page.json'));
    const response = JSON.parse(await fs.readFile(path.join(REAL, 'detect-document-text__single-page-1.json'), 'utf8')) as {
      Blocks: { Id: string; BlockType: string; Geometry: { BoundingBox: { Left: number; Top: number; Width: number; Height: number } } }[];
    };
    const word = response.Blocks.find((x) => x.BlockType === 'WORD')!;
    const run = await runCli(['show', b.manifest, '--ref', 'page.png', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const labeled = await runCli(['label', b.manifest, '--ref', 'page.png', '--box', word.Id, '--class', 'surname']);
    assert.equal(labeled.code, 0, labeled.stderr);
    const value = (await readEffectiveEntry(fs, b.manifest, 'page.png'))!.value;
    const labels = value['labels'] as { image_size: { width: number; height: number }[]; annotations: { left: number; width: number }[] };
    assert.deepEqual([labels.image_size[0]!.width, labels.image_size[0]!.height], [1226, 1514]);
    const bb = word.Geometry.BoundingBox;
    assert.ok(Math.abs(labels.annotations[0]!.left - bb.Left * 1226) <= 1);
    assert.ok(Math.abs(labels.annotations[0]!.width - bb.Width * 1226) <= 2);
  } finally {
    await b.cleanup();
  }
});

test('--label-attribute must be a plain key, not a ref, a metadata key or __proto__', async () => {
  const b = await batch();
  try {
    for (const attr of ['source-ref', 'textract-ref', 'labels-metadata', '__proto__', '', 'a b']) {
      const run = await runCli(['label', b.manifest, '--ref', 'a.png', '--box', wordId('a.png', 0), '--class', 'sex', '--label-attribute', attr]);
      assert.equal(run.code, 2, attr);
      assert.match(run.stderr, /cannot hold labels/);
    }
  } finally {
    await b.cleanup();
  }
});

test('page-num picks the page of a multi-page Textract result (real async response)', async (t) => {
  const file = path.join(REAL, 'get-document-text-detection__multipage-2p.json');
  try {
    await fs.access(file);
  } catch {
    t.skip(`real fixture not found: ${file}`);
    return;
  }
  const response = JSON.parse(await fs.readFile(file, 'utf8')) as { Blocks: { Id: string; BlockType: string; Page: number }[] };
  const onPage2 = response.Blocks.find((x) => x.BlockType === 'WORD' && x.Page === 2)!;
  const size = { width: 1700, height: 2200 };
  const b = await makeBatch(
    [
      JSON.stringify({ 'source-ref': 'doc-1.png', 'source-size': size, 'textract-ref': 'doc.json', 'page-num': 1 }),
      JSON.stringify({ 'source-ref': 'doc-2.png', 'source-size': size, 'textract-ref': 'doc.json', 'page-num': 2 }),
    ].join('\n') + '\n',
  );
  try {
    await fs.copyFile(file, path.join(b.dir, 'doc.json'));
    const wrongPage = await runCli(['label', b.manifest, '--ref', 'doc-1.png', '--box', onPage2.Id, '--class', 'mrz']);
    assert.equal(wrongPage.code, 2);
    assert.match(wrongPage.stderr, /is on page 2, not on page-num 1 of doc-1\.png/);
    const rightPage = await runCli(['label', b.manifest, '--ref', 'doc-2.png', '--box', onPage2.Id, '--class', 'mrz']);
    assert.equal(rightPage.code, 0, rightPage.stderr);
  } finally {
    await b.cleanup();
  }
});

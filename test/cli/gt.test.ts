import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PASSPORT_CLASSES } from '../../src/core/classes';
import { readJournal } from '../../src/core/manifest/journal';
import { runCli } from './cliHarness';

const real = path.resolve(__dirname, '../../..', 'shared/fixtures/real/groundtruth');

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-gt-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

test('gt export --default writes the 11 passport classes as a label-category config', async (t) => {
  const dir = await tempDir(t);
  const out = path.join(dir, 'labels.json');
  const run = await runCli(['gt', 'export', '--default', '--out', out, '--json']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { out, labels: [...DEFAULT_PASSPORT_CLASSES] });
  const config = JSON.parse(await fs.readFile(out, 'utf8'));
  assert.equal(config['document-version'], '2018-11-28');
  assert.deepEqual(
    config.labels.map((l: { label: string }) => l.label),
    DEFAULT_PASSPORT_CLASSES,
  );
});

test('gt export --classes FILE keeps extra keys; exactly one of --classes/--default', async (t) => {
  const dir = await tempDir(t);
  const classes = path.join(dir, 'classes.json');
  await fs.writeFile(classes, JSON.stringify({ labels: [{ label: 'a', attributes: [{ name: 'x' }] }, { label: 'b' }], categoryGlobalAttributes: [] }));
  const run = await runCli(['gt', 'export', '--classes', 'classes.json', '--out', 'out.json'], dir);
  assert.equal(run.code, 0, run.stderr);
  const config = JSON.parse(await fs.readFile(path.join(dir, 'out.json'), 'utf8'));
  assert.deepEqual(config, { labels: [{ label: 'a', attributes: [{ name: 'x' }] }, { label: 'b' }], categoryGlobalAttributes: [], 'document-version': '2018-11-28' });
  for (const args of [['--out', 'x.json'], ['--default', '--classes', 'classes.json', '--out', 'x.json'], ['--default']]) {
    const bad = await runCli(['gt', 'export', ...args], dir);
    assert.equal(bad.code, 2, args.join(' '));
  }
  await fs.writeFile(classes, '{"labels": [{"label": "a"}, {"label": "a"}]}');
  const dup = await runCli(['gt', 'export', '--classes', classes, '--out', path.join(dir, 'y.json')]);
  assert.equal(dup.code, 2);
  assert.match(dup.stderr, /duplicate label "a"/);
  assert.ok(!existsSync(path.join(dir, 'y.json')));
});

test('gt import: a real adjustment job output lands in the journal (one set pair per image); sample then skips them', async (t) => {
  const output = path.join(real, 'output__bbox-adjustment-custom__textract-transformer-aug1.jsonl');
  if (!existsSync(output)) return t.skip('../shared/fixtures/real is absent');
  const dir = await tempDir(t);
  const lines = (await fs.readFile(output, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const names = [...new Set(parsed.flatMap((p) => Object.values((p['augmentation-1-metadata'] as { 'class-map': Record<string, string> })['class-map'])))].sort();
  await fs.writeFile(path.join(dir, 'classes.json'), JSON.stringify({ labels: ['other', ...names].map((label) => ({ label })) }));
  // The batch's manifest: the input lines (source-ref, textract-ref, page-num), plus soft labels
  // so sampling has something to rank.
  const soft = { model: 'm', boxes: { w: [0.5, 0.5] }, classes: ['other', 'x'] };
  const manifest = path.join(dir, 'manifest.jsonl');
  await fs.writeFile(manifest, parsed.map((p) => JSON.stringify({ 'source-ref': p['source-ref'], 'textract-ref': p['textract-ref'], 'page-num': p['page-num'], 'soft-labels': soft })).join('\n') + '\n');

  const dry = await runCli(['gt', 'import', manifest, '--output', output, '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(JSON.parse(dry.stdout).imported, 50);
  assert.ok(!existsSync(`${manifest}.edits`), 'a dry run writes nothing');

  const run = await runCli(['gt', 'import', manifest, '--output', output, '--label-attribute', 'labels', '--job-attribute', 'augmentation-1', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.imported, 50);
  assert.equal(report.items.filter((i: { adjustmentStatus: string }) => i.adjustmentStatus === 'adjusted').length, 20);
  assert.deepEqual([report.failed, report.unmatched, report.unknownClasses, report.skipped, report.problems], [[], [], [], [], []]);

  const journal = await readJournal(fs, manifest);
  assert.equal(journal.entries.length, 100);
  const first = journal.entries[1]!.record as { op: string; ref: string; key: string; value: Record<string, unknown> };
  assert.equal(first.op, 'set');
  assert.equal(first.ref, parsed[0]!['source-ref']);
  assert.equal(first.key, 'labels-metadata');
  assert.equal(first.value['adjustment-status'], 'adjusted');

  const sample = await runCli(['sample', manifest, '--strategy', 'margin', '--budget', '5', '--json']);
  assert.equal(sample.code, 0, sample.stderr);
  const sampled = JSON.parse(sample.stdout);
  assert.equal(sampled.skipped.labeled, 50);
  assert.deepEqual(sampled.selected, []);
});

test('gt import: failed items and unknown classes are reported, nothing imported, exit 0', async (t) => {
  const output = path.join(real, 'output__custom-with-failures__comprehend-ssie.jsonl');
  if (!existsSync(output)) return t.skip('../shared/fixtures/real is absent');
  const dir = await tempDir(t);
  const manifest = path.join(dir, 'manifest.jsonl');
  await fs.writeFile(manifest, ['file1', 'file2', 'file3'].map((f) => JSON.stringify({ 'source-ref': `s3://bucket/documents/${f}.pdf` })).join('\n'));
  const run = await runCli(['gt', 'import', manifest, '--output', output]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^imported 0 labeled images/);
  assert.match(run.stdout, /line 2: failed item, not imported: s3:\/\/bucket\/documents\/file2\.pdf: ClientError: Annotation tasks expired/);
  assert.match(run.stdout, /line 1: .*custom label is not in object-detection form/);
  assert.ok(!existsSync(`${manifest}.edits`));
});

test('gt import: bad input exits 2 with one line', async (t) => {
  const dir = await tempDir(t);
  const manifest = path.join(dir, 'manifest.jsonl');
  await fs.writeFile(manifest, '{"source-ref":"a"}\n');
  for (const argv of [
    ['gt', 'import', manifest],
    ['gt', 'import', manifest, '--output', path.join(dir, 'missing.jsonl')],
    ['gt', 'import', manifest, '--output', manifest, '--label-attribute', 'labels-metadata'],
    ['gt', 'frobnicate'],
  ]) {
    const run = await runCli(argv);
    assert.equal(run.code, 2, argv.join(' '));
    assert.equal(run.stderr.trim().split('\n').length, 1);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { encodeRecord, journalPathFor } from '../../src/core/manifest/journal';
import { entry, makeBatch, wordClass, wordId } from '../core/manifest/editsFixture';
import { runCli } from './cliHarness';
import { indexLocator } from '../../src/cli/entryLocator';
import { readEffectiveEntry } from '../../src/core/manifest/effectiveManifest';

test('show prints the base entry when there are no edits, and base + journal after label', async () => {
  const base = entry('a.png', 2, { extra: 1.5 });
  const b = await makeBatch(JSON.stringify(base) + '\n{oops\n');
  try {
    const plain = await runCli(['show', b.manifest, '--ref', 'a.png']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(JSON.parse(plain.stdout), base);

    assert.equal((await runCli(['label', b.manifest, '--ref', 'a.png', '--box', wordId('a.png', 0), '--class', 'nationality'])).code, 0);
    const json = await runCli(['show', b.manifest, '--ref', 'a.png', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as { line: number; pendingEdits: { seq: number; op: string; class: string }[]; entry: Record<string, unknown> };
    assert.equal(out.line, 1);
    assert.deepEqual(out.pendingEdits.map((e) => [e.seq, e.op, e.class]), [[1, 'label', 'nationality']]);
    assert.equal(wordClass(out.entry, 'a.png', 0), 'nationality');
    assert.equal(out.entry['extra'], 1.5);

    // After compaction the same entry comes from the base alone.
    assert.equal((await runCli(['compact', b.manifest])).code, 0);
    const after = JSON.parse((await runCli(['show', b.manifest, '--ref', 'a.png', '--json'])).stdout) as typeof out;
    assert.deepEqual(after.pendingEdits, []);
    assert.deepEqual(after.entry, out.entry);
  } finally {
    await b.cleanup();
  }
});

test('show: unknown ref or missing --ref exits 2 with one line', async () => {
  const b = await makeBatch(JSON.stringify(entry('a.png')) + '\n');
  try {
    const unknown = await runCli(['show', b.manifest, '--ref', 'zz.png']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, `ocr-al show: no entry with source-ref "zz.png" in ${b.manifest}\n`);
    const missing = await runCli(['show', b.manifest]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'ocr-al show: --ref is required\n');
  } finally {
    await b.cleanup();
  }
});

test('show warns about a corrupt journal line but still shows the other edits', async () => {
  const b = await makeBatch(JSON.stringify(entry('a.png', 3)) + '\n');
  try {
    const label = (seq: number, i: number, cls: string) =>
      encodeRecord(seq, { op: 'label', ref: 'a.png', box: wordId('a.png', i), class: cls, attribute: 'labels', at: '2026-01-01T00:00:00.000Z' });
    await fs.writeFile(journalPathFor(b.manifest), label(1, 0, 'sex').replace('"sex"', '"sez"') + label(2, 1, 'mrz'));
    const run = await runCli(['show', b.manifest, '--ref', 'a.png', '--json']);
    assert.equal(run.code, 0);
    assert.match(run.stderr, /warning: journal line 1: checksum mismatch/);
    const out = JSON.parse(run.stdout) as { entry: Record<string, unknown>; journalProblems: string[] };
    assert.equal(wordClass(out.entry, 'a.png', 1), 'mrz');
    assert.equal(wordClass(out.entry, 'a.png', 0), undefined);
    assert.equal(out.journalProblems.length, 1);
  } finally {
    await b.cleanup();
  }
});

test('entries are found through the manifest index for large files, and a wrong hint falls back to a scan', async () => {
  const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify(entry(`p${i}.png`, 2)));
  const b = await makeBatch(lines.join('\n') + '\n');
  try {
    const locate = (await indexLocator(fs, b.manifest, 0))!;
    assert.ok(locate);
    const location = await locate('p37.png');
    assert.equal(location?.line, 38);
    const viaIndex = await readEffectiveEntry(fs, b.manifest, 'p37.png', undefined, locate);
    assert.equal(viaIndex?.line, 38);
    assert.equal(viaIndex?.value['source-ref'], 'p37.png');
    const wrongHint = await readEffectiveEntry(fs, b.manifest, 'p37.png', undefined, async () => ({ line: 1, offset: 0, length: 10 }));
    assert.equal(wrongHint?.line, 38);
    assert.equal(await indexLocator(fs, b.manifest), undefined, 'small manifests are scanned');
  } finally {
    await b.cleanup();
  }
});

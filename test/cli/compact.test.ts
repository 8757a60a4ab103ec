import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { encodeRecord, journalPathFor } from '../../src/core/manifest/journal';
import { entry, makeBatch, wordClass, wordId } from '../core/manifest/editsFixture';
import { runCli } from './cliHarness';

test('compact merges the journal, keeps untouched and malformed lines, and reports what it did', async () => {
  const lines = [JSON.stringify(entry('a.png', 2)), '{"bad": ', JSON.stringify(entry('b.png', 2)), ''];
  const text = lines.join('\n');
  const b = await makeBatch(text);
  try {
    for (const [ref, i, cls] of [['a.png', 0, 'sex'], ['a.png', 1, 'mrz']] as const) {
      assert.equal((await runCli(['label', b.manifest, '--ref', ref, '--box', wordId(ref, i), '--class', cls])).code, 0);
    }
    const run = await runCli(['compact', b.manifest, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { edits: 2, entries: 1, lines: 3, bytes: (await fs.stat(b.manifest)).size, rewritten: true });
    const out = (await fs.readFile(b.manifest, 'utf8')).split('\n');
    assert.equal(out[1], lines[1]);
    assert.equal(out[2], lines[2]);
    const a = JSON.parse(out[0]!) as Record<string, unknown>;
    assert.equal(wordClass(a, 'a.png', 0), 'sex');
    assert.equal(wordClass(a, 'a.png', 1), 'mrz');
    assert.equal((await fs.stat(journalPathFor(b.manifest))).size, 0);

    const again = await runCli(['compact', b.manifest]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^nothing to compact in /);
  } finally {
    await b.cleanup();
  }
});

test('compact refuses a journal with a corrupt middle line: exit 2, nothing changed', async () => {
  const text = JSON.stringify(entry('a.png', 2)) + '\n';
  const b = await makeBatch(text);
  try {
    const label = (seq: number, i: number) =>
      encodeRecord(seq, { op: 'label', ref: 'a.png', box: wordId('a.png', i), class: 'sex', attribute: 'labels', at: '2026-01-01T00:00:00.000Z' });
    await fs.writeFile(journalPathFor(b.manifest), label(1, 0).replace('"sex"', '"sey"') + label(2, 1));
    const run = await runCli(['compact', b.manifest]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^ocr-al compact: journal line 1: checksum mismatch; nothing compacted/);
    assert.equal(await fs.readFile(b.manifest, 'utf8'), text);
  } finally {
    await b.cleanup();
  }
});

test('compact of a missing manifest exits 2', async () => {
  const run = await runCli(['compact', '/nonexistent/m.jsonl']);
  assert.equal(run.code, 2);
  assert.equal(run.stderr.trim().split('\n').length, 1);
});

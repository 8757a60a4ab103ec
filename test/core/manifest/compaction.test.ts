import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { OcrAlError } from '../../../src/core/errors';
import { scanTopLevel } from '../../../src/core/manifest/jsonScan';
import { compactManifest, compactionTempPathFor, spliceTopLevel } from '../../../src/core/manifest/compaction';
import { appendEdits, encodeRecord, journalPathFor, readJournal, type CrashHook, type LabelEdit } from '../../../src/core/manifest/journal';
import { readEffectiveEntry } from '../../../src/core/manifest/effectiveManifest';
import { entry, makeBatch, wordClass, wordId } from './editsFixture';

function splice(line: string, after: Record<string, unknown>): string {
  const bytes = Buffer.from(line);
  const scan = scanTopLevel(bytes, 0, bytes.length);
  assert.ok(scan.ok);
  return Buffer.from(spliceTopLevel(bytes, scan.members, JSON.parse(line) as Record<string, unknown>, after)).toString();
}

test('splice replaces only changed values and keeps every other byte', () => {
  const line = '{ "a" : 1.0, "b":[1,2 ,3],  "c": "\\u0041" , "n": 1E2 }';
  assert.equal(splice(line, { a: 1, b: [1, 2, 3], c: 'A', n: 100 }), line);
  assert.equal(splice(line, { a: 1, b: [4], c: 'A', n: 100 }), '{ "a" : 1.0, "b":[4],  "c": "\\u0041" , "n": 1E2 }');
});

test('splice appends new keys in the line\'s own spacing and removes deleted keys with their separator', () => {
  assert.equal(splice('{"a": 1, "b": 2}', { a: 1, b: 2, c: { x: 1 } }), '{"a": 1, "b": 2, "c": {"x":1}}');
  assert.equal(splice('{"a":1}', { a: 1, c: 2 }), '{"a":1,"c":2}');
  assert.equal(splice('{"a": 1, "b": 2, "c": 3}', { b: 2, c: 3 }), '{"b": 2, "c": 3}');
  assert.equal(splice('{"a": 1, "b": 2, "c": 3}', { a: 1, c: 3 }), '{"a": 1, "c": 3}');
  assert.equal(splice('{"a": 1, "b": 2, "c": 3}', { a: 1, b: 2 }), '{"a": 1, "b": 2}');
  assert.equal(splice('{"a": 1, "b": 2}', { a: 1, d: 4 }), '{"a": 1, "d": 4}');
  assert.equal(splice(' {"a": 1} ', {}), ' {} ');
  assert.equal(splice('{}', { a: 1 }), '{"a":1}');
});

test('splice edits the last of duplicate keys (the one JSON.parse reads)', () => {
  const out = splice('{"a": 1, "a": 2}', { a: 3 });
  assert.equal(out, '{"a": 1, "a": 3}');
  assert.deepEqual(JSON.parse(out), { a: 3 });
});

const label = (ref: string, i: number, cls: string): LabelEdit => ({
  op: 'label',
  ref,
  box: wordId(ref, i),
  class: cls,
  attribute: 'labels',
  at: '2026-03-04T05:06:07.000Z',
});

function manifestText(): string {
  return [
    JSON.stringify(entry('a.png', 4, { 'unknown-key': { keep: [1.5, 'x'] } })),
    '{"source-ref": "broken.png", ',
    '',
    JSON.stringify(entry('b.png', 4)).replace('"source-size"', ' "odd" : 1.50e+1 , "source-size"'),
    JSON.stringify(entry('c.png', 2)),
  ].join('\r\n') + '\n' + JSON.stringify(entry('d.png', 2));
}

test('compaction merges edits, copies other lines and malformed lines byte for byte, keeps CRLF and a missing final newline', async () => {
  const text = manifestText();
  const b = await makeBatch(text);
  try {
    await appendEdits(fs, b.manifest, [label('a.png', 1, 'surname'), label('b.png', 0, 'mrz'), label('a.png', 1, 'given_names')]);
    const beforeA = (await readEffectiveEntry(fs, b.manifest, 'a.png'))!.value;
    const result = await compactManifest(fs, b.manifest);
    assert.deepEqual({ edits: result.edits, entries: result.entries, lines: result.lines }, { edits: 3, entries: 2, lines: 6 });
    const out = await fs.readFile(b.manifest, 'utf8');
    const oldLines = text.split('\n');
    const newLines = out.split('\n');
    assert.equal(newLines.length, oldLines.length);
    for (const i of [1, 2, 4, 5]) assert.equal(newLines[i], oldLines[i], `line ${i + 1} unchanged`);
    assert.ok(newLines[0]!.endsWith('\r') && newLines[3]!.endsWith('\r'));
    assert.ok(!out.endsWith('\n'));
    assert.ok(newLines[3]!.includes(' "odd" : 1.50e+1 , '));
    const a = JSON.parse(newLines[0]!) as Record<string, unknown>;
    assert.deepEqual(a['unknown-key'], { keep: [1.5, 'x'] });
    assert.equal(wordClass(a, 'a.png', 1), 'given_names');
    assert.deepEqual(a, beforeA);
    assert.equal(wordClass(JSON.parse(newLines[3]!) as Record<string, unknown>, 'b.png', 0), 'mrz');
    assert.equal((await fs.stat(journalPathFor(b.manifest))).size, 0);
    assert.equal((await compactManifest(fs, b.manifest)).rewritten, false);
    assert.equal(await fs.readFile(b.manifest, 'utf8'), out);
  } finally {
    await b.cleanup();
  }
});

class Crash extends Error {}
const crashAt = (point: string): CrashHook => ({
  wants: (p) => p === point,
  crash: (p) => {
    throw new Crash(p);
  },
});

for (const point of ['compact:temp-partial', 'compact:temp-synced', 'compact:torn', 'compact:written', 'compact:synced', 'compact:renamed', 'compact:dir-synced', 'compact:cleared']) {
  test(`interrupted at ${point}, the effective manifest is unchanged and the next compaction finishes without double-applying`, async () => {
    const b = await makeBatch(manifestText());
    try {
      await appendEdits(fs, b.manifest, [label('a.png', 0, 'surname'), label('c.png', 1, 'sex')]);
      const expectedA = (await readEffectiveEntry(fs, b.manifest, 'a.png'))!.value;
      await assert.rejects(compactManifest(fs, b.manifest, { crash: crashAt(point) }), Crash);
      assert.deepEqual((await readEffectiveEntry(fs, b.manifest, 'a.png'))!.value, expectedA);
      // An edit made between the crash and the next compaction survives too.
      await appendEdits(fs, b.manifest, [label('a.png', 2, 'other')]);
      await compactManifest(fs, b.manifest);
      const a = (await readEffectiveEntry(fs, b.manifest, 'a.png'))!;
      assert.deepEqual(a.edits, []);
      assert.equal(wordClass(a.value, 'a.png', 0), 'surname');
      assert.equal(wordClass(a.value, 'a.png', 2), 'other');
      const labels = a.value['labels'] as { annotations: unknown[] };
      assert.equal(labels.annotations.length, 2, 'no annotation applied twice');
      assert.equal(wordClass((await readEffectiveEntry(fs, b.manifest, 'c.png'))!.value, 'c.png', 1), 'sex');
      await assert.rejects(fs.stat(compactionTempPathFor(b.manifest)), /ENOENT/);
      assert.equal((await readJournal(fs, b.manifest)).size, 0);
    } finally {
      await b.cleanup();
    }
  });
}

test('compaction refuses a journal with a corrupt middle line and changes nothing', async () => {
  const text = manifestText();
  const b = await makeBatch(text);
  try {
    await appendEdits(fs, b.manifest, [label('a.png', 0, 'surname')]);
    const journal = await fs.readFile(journalPathFor(b.manifest), 'utf8');
    // Line 1 damaged after the fact; line 2 good: line 1 cannot be a torn append.
    await fs.writeFile(journalPathFor(b.manifest), journal.replace('surname', 'surnamX'));
    await fs.appendFile(journalPathFor(b.manifest), encodeRecord(2, label('a.png', 1, 'sex')));
    await assert.rejects(compactManifest(fs, b.manifest), (e: unknown) => OcrAlError.is(e, 'Malformed') && /journal line 1/.test((e as Error).message));
    assert.equal(await fs.readFile(b.manifest, 'utf8'), text);
  } finally {
    await b.cleanup();
  }
});

test('compaction refuses edits for a ref the manifest no longer has, and changes nothing', async () => {
  const text = manifestText();
  const b = await makeBatch(text);
  try {
    await appendEdits(fs, b.manifest, [label('gone.png', 0, 'surname')]);
    await assert.rejects(compactManifest(fs, b.manifest), (e: unknown) => OcrAlError.is(e, 'NotFound') && /gone\.png/.test((e as Error).message));
    assert.equal(await fs.readFile(b.manifest, 'utf8'), text);
    assert.equal((await readJournal(fs, b.manifest)).entries.length, 1);
    await assert.rejects(fs.stat(compactionTempPathFor(b.manifest)), /ENOENT/);
  } finally {
    await b.cleanup();
  }
});

test('set edits change, add and delete top-level keys', async () => {
  const b = await makeBatch('{"source-ref":"a.png", "keep": 1.0, "gone": true, "x": 1}\n');
  try {
    await appendEdits(fs, b.manifest, [
      { op: 'set', ref: 'a.png', key: 'gone', value: null, at: 't' },
      { op: 'set', ref: 'a.png', key: 'x', value: [2], at: 't' },
      { op: 'set', ref: 'a.png', key: 'new', value: { y: 'z' }, at: 't' },
    ]);
    await compactManifest(fs, b.manifest);
    assert.equal(await fs.readFile(b.manifest, 'utf8'), '{"source-ref":"a.png", "keep": 1.0, "x": [2], "new":{"y":"z"}}\n');
  } finally {
    await b.cleanup();
  }
});

test('compaction keeps the manifest\'s permission bits', async () => {
  const b = await makeBatch(JSON.stringify(entry('a.png')) + '\n');
  try {
    await fs.chmod(b.manifest, 0o600);
    await appendEdits(fs, b.manifest, [label('a.png', 0, 'sex')]);
    await compactManifest(fs, b.manifest);
    assert.equal((await fs.stat(b.manifest)).mode & 0o777, 0o600);
  } finally {
    await b.cleanup();
  }
});

const REAL_GT = path.resolve(__dirname, '../../../..', 'shared/fixtures/real/groundtruth');

test('real Ground Truth output manifests: a set edit changes only its own bytes, every other byte survives', async (t) => {
  let files: string[];
  try {
    files = (await fs.readdir(REAL_GT)).filter((f) => f.endsWith('.jsonl'));
  } catch {
    t.skip(`real fixtures not found at ${REAL_GT}`);
    return;
  }
  assert.ok(files.length > 0);
  for (const file of files) {
    const original = await fs.readFile(path.join(REAL_GT, file));
    const lines = original.toString('utf8').split('\n');
    const refs = lines.map((l) => {
      try {
        return (JSON.parse(l) as Record<string, unknown>)['source-ref'];
      } catch {
        return undefined;
      }
    });
    const target = refs.findIndex((r, i) => typeof r === 'string' && refs.indexOf(r) === i && refs.lastIndexOf(r) === i);
    if (target < 0) continue;
    const ref = refs[target] as string;
    const b = await makeBatch(original);
    try {
      await appendEdits(fs, b.manifest, [{ op: 'set', ref, key: 'review-note', value: 'checked', at: 't' }]);
      await compactManifest(fs, b.manifest);
      const out = (await fs.readFile(b.manifest)).toString('utf8').split('\n');
      assert.equal(out.length, lines.length, file);
      out.forEach((l, i) => {
        if (i !== target) assert.equal(l, lines[i], `${file} line ${i + 1}`);
      });
      const edited = out[target]!;
      const inserted = /(,\s*"review-note"\s*:\s*"checked")\}\s*$/.exec(edited);
      assert.ok(inserted, `${file}: appended member`);
      assert.equal(edited.replace(inserted[1]!, ''), lines[target], `${file}: the rest of the line is byte for byte`);
    } finally {
      await b.cleanup();
    }
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { OcrAlError } from '../../../src/core/errors';
import {
  type LabelEdit,
  appendEdits,
  decodeRecord,
  encodeRecord,
  journalPathFor,
  parseJournal,
  pendingEdits,
  readJournal,
  readJournalTail,
} from '../../../src/core/manifest/journal';
import { acquireManifestLock, lockPathFor, withManifestLock } from '../../../src/core/manifest/manifestLock';
import { fileIdentity, writeFileAtomic } from '../../../src/core/manifest/atomicWrite';
import { makeBatch } from './editsFixture';

const edit = (box: string, cls = 'surname'): LabelEdit => ({ op: 'label', ref: 'a.png', box, class: cls, attribute: 'labels', at: '2026-01-02T03:04:05.000Z' });

test('records round-trip and carry a checksum that catches any changed byte', () => {
  const line = encodeRecord(7, edit('b1'));
  assert.ok(line.endsWith('\n'));
  const decoded = decodeRecord(line.slice(0, -1));
  assert.deepEqual(decoded, { ok: true, seq: 7, record: edit('b1') });
  const flipped = line.replace('surname', 'surnamf');
  assert.deepEqual(decodeRecord(flipped.slice(0, -1)), { ok: false, message: 'checksum mismatch' });
  assert.equal(decodeRecord('{"op":"label"}').ok, false);
});

test('set records keep any JSON value, null included (null deletes)', () => {
  const rec = { op: 'set', ref: 'a.png', key: 'adjustment-status', value: null, at: 'x' } as const;
  assert.deepEqual(decodeRecord(encodeRecord(1, rec).slice(0, -1)), { ok: true, seq: 1, record: rec });
});

test('a torn last record is ignored, not reported, and cut by the next append', async () => {
  const b = await makeBatch('{"source-ref":"a.png"}\n');
  try {
    await appendEdits(fs, b.manifest, [edit('b1')]);
    const full = encodeRecord(2, edit('b2'));
    await fs.appendFile(journalPathFor(b.manifest), full.slice(0, 30));
    const torn = await readJournal(fs, b.manifest);
    assert.equal(torn.entries.length, 1);
    assert.deepEqual(torn.problems, []);
    assert.deepEqual(torn.tornTail, { line: 2, bytes: 30 });

    const seqs = await appendEdits(fs, b.manifest, [edit('b3')]);
    assert.deepEqual(seqs, [2]);
    const after = await readJournal(fs, b.manifest);
    assert.deepEqual(after.entries.map((e) => (e.record as LabelEdit).box), ['b1', 'b3']);
    assert.equal(after.tornTail, undefined);
    assert.equal(after.size, after.validEnd);
  } finally {
    await b.cleanup();
  }
});

test('a complete record without its newline counts as torn (it was never acknowledged)', () => {
  const bytes = Buffer.from(encodeRecord(1, edit('b1')) + encodeRecord(2, edit('b2')).slice(0, -1));
  const j = parseJournal(bytes);
  assert.equal(j.entries.length, 1);
  assert.ok(j.tornTail);
});

test('a tail of zero bytes (file extended but data lost) is torn, not corrupt', () => {
  const bytes = Buffer.concat([Buffer.from(encodeRecord(1, edit('b1'))), Buffer.alloc(100)]);
  const j = parseJournal(bytes);
  assert.equal(j.entries.length, 1);
  assert.deepEqual(j.problems, []);
  assert.equal(j.tornTail?.bytes, 100);
});

test('a corrupt record in the middle is reported with its line, and the rest still applies', () => {
  const good1 = encodeRecord(1, edit('b1'));
  const bad = encodeRecord(2, edit('b2')).replace('b2', 'XX');
  const good3 = encodeRecord(3, edit('b3'));
  const j = parseJournal(Buffer.from(good1 + bad + good3));
  assert.deepEqual(j.entries.map((e) => e.seq), [1, 3]);
  assert.equal(j.problems.length, 2);
  assert.match(j.problems[0]!.message, /journal line 2: checksum mismatch/);
  assert.match(j.problems[1]!.message, /journal line 3: sequence number 3 after 1; records are missing/);
  assert.equal(j.tornTail, undefined);
});

test('a repeated sequence number is reported and skipped', () => {
  const j = parseJournal(Buffer.from(encodeRecord(1, edit('b1')) + encodeRecord(1, edit('b1'))));
  assert.equal(j.entries.length, 1);
  assert.match(j.problems[0]!.message, /repeat/);
});

test('pendingEdits skips what a compaction marker says is already in this very manifest file', async () => {
  const b = await makeBatch('{"source-ref":"a.png"}\n');
  try {
    const identity = (await fileIdentity(fs, b.manifest))!;
    const other = { ...identity, mtimeMs: identity.mtimeMs + 1 };
    const text = (marker: typeof identity) =>
      encodeRecord(1, edit('b1')) + encodeRecord(2, { op: 'compacted', manifest: marker, at: 'x' }) + encodeRecord(3, edit('b3'));
    const matched = pendingEdits(parseJournal(Buffer.from(text(identity))), identity);
    assert.deepEqual(matched.map((e) => e.seq), [3]);
    const stale = pendingEdits(parseJournal(Buffer.from(text(other))), identity);
    assert.deepEqual(stale.map((e) => e.seq), [1, 3]);
  } finally {
    await b.cleanup();
  }
});

test('concurrent appends are serialized by the lock and numbered in order', async () => {
  const b = await makeBatch('{"source-ref":"a.png"}\n');
  try {
    await Promise.all(Array.from({ length: 20 }, (_, i) => appendEdits(fs, b.manifest, [edit(`b${i}`)])));
    const j = await readJournal(fs, b.manifest);
    assert.deepEqual(j.entries.map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(new Set(j.entries.map((e) => (e.record as LabelEdit).box)).size, 20);
    await assert.rejects(fs.stat(lockPathFor(b.manifest)), /ENOENT/);
  } finally {
    await b.cleanup();
  }
});

test('a lock held by a live process makes others wait, then fail with Conflict', async () => {
  const b = await makeBatch('');
  try {
    const release = await acquireManifestLock(fs, b.manifest, { pid: 111, isAlive: () => true });
    await assert.rejects(
      withManifestLock(fs, b.manifest, async () => 1, { pid: 222, isAlive: () => true, timeoutMs: 50 }),
      (e: unknown) => OcrAlError.is(e, 'Conflict') && /locked by pid 111/.test(e.message),
    );
    await release();
    assert.equal(await withManifestLock(fs, b.manifest, async () => 1, { pid: 222 }), 1);
  } finally {
    await b.cleanup();
  }
});

test('a stale lock (dead owner, or empty and old) is broken', async () => {
  const b = await makeBatch('');
  try {
    await fs.writeFile(lockPathFor(b.manifest), '999999\n');
    assert.equal(await withManifestLock(fs, b.manifest, async () => 'ran', { isAlive: () => false, timeoutMs: 1000 }), 'ran');
    await fs.writeFile(lockPathFor(b.manifest), '');
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lockPathFor(b.manifest), old, old);
    assert.equal(await withManifestLock(fs, b.manifest, async () => 'ran', { timeoutMs: 1000 }), 'ran');
    const left = await fs.readdir(b.dir);
    assert.deepEqual(left.filter((n) => n.includes('.lock')), []);
  } finally {
    await b.cleanup();
  }
});

test('a lock set aside by a breaker killed before its unlink is swept; a live one set aside is kept', async () => {
  const b = await makeBatch('');
  try {
    const lock = lockPathFor(b.manifest);
    await fs.writeFile(`${lock}.stale-0123456789ab`, '999999\n'); // dead owner: left by a killed breaker
    await fs.writeFile(`${lock}.stale-ba9876543210`, '424242\n'); // live owner: about to be put back
    const isAlive = (pid: number) => pid === 424242;
    assert.equal(await withManifestLock(fs, b.manifest, async () => 'ran', { isAlive, timeoutMs: 1000 }), 'ran');
    const left = (await fs.readdir(b.dir)).filter((n) => n.includes('.lock'));
    assert.deepEqual(left, [`${path.basename(lock)}.stale-ba9876543210`]);
  } finally {
    await b.cleanup();
  }
});

test('writeFileAtomic replaces the file and leaves no temp file behind', async () => {
  const b = await makeBatch('old\n');
  try {
    await writeFileAtomic(fs, b.manifest, 'new\n');
    assert.equal(await fs.readFile(b.manifest, 'utf8'), 'new\n');
    assert.deepEqual(await fs.readdir(b.dir), [path.basename(b.manifest)]);
  } finally {
    await b.cleanup();
  }
});

test('the tail read used by appends agrees with the full read, whatever the journal size and tail', async () => {
  const b = await makeBatch('');
  try {
    for (const [records, tail] of [[0, ''], [1, ''], [3, '{"sum":"12'], [900, ''], [900, 'x'.repeat(70_000)], [5, '\0'.repeat(200_000)]] as const) {
      const text = Array.from({ length: records }, (_, i) => encodeRecord(i + 1, edit(`box-${i}`))).join('') + tail;
      await fs.writeFile(journalPathFor(b.manifest), text);
      const full = await readJournal(fs, b.manifest);
      const t = await readJournalTail(fs, b.manifest);
      assert.deepEqual([t.validEnd, t.lastSeq, t.size], [full.validEnd, full.lastSeq, full.size], `${records} records + ${tail.length} tail bytes`);
      assert.deepEqual(t.last, full.entries.at(-1)?.record);
    }
  } finally {
    await b.cleanup();
  }
});

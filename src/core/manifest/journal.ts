/**
 * The edits journal: an append-only JSON-lines file beside the manifest (`<manifest>.edits`)
 * holding per-box edits until compaction merges them into the manifest. See docs/edits.md.
 *
 * Each line is `{"sum":"<16 hex>","rec":{...}}` where `sum` is the first 64 bits of the SHA-256
 * of the exact bytes of the `rec` value, and `rec` carries a sequence number. An edit is
 * appended with one write followed by fdatasync and only then acknowledged. A crash during the
 * write leaves a torn last line: it fails its checksum (or lacks its '\n'), is ignored when
 * the journal is read, and is cut off by the next append. A bad line followed by good ones was
 * not torn by a crash (appends cut torn tails first), so it is reported, never dropped.
 */
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { FileHandle, FileSystem } from '../fileSystem';
import { OcrAlError } from '../errors';
import type { LineProblem } from './types';
import { errnoCode, fileIdentity, fsyncDirectory, sameIdentity, writeAll, type FileIdentity } from './atomicWrite';
import { withManifestLock, type LockOptions } from './manifestLock';

/** The journal's file name is the manifest's plus this suffix: `manifest.jsonl.edits`. */
export const JOURNAL_SUFFIX = '.edits';

/** The journal beside a manifest. */
export function journalPathFor(manifestPath: string): string {
  return `${manifestPath}${JOURNAL_SUFFIX}`;
}

/** A JSON value, as `set` records carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Label one Textract WORD of the entry `ref` with `class` under the label attribute. */
export interface LabelEdit {
  readonly op: 'label';
  /** The entry's `source-ref`. */
  readonly ref: string;
  /** The Textract Block Id of the WORD. */
  readonly box: string;
  readonly class: string;
  /** The label attribute (default `labels`). */
  readonly attribute: string;
  /** ISO-8601 time of the edit; becomes the label's `creation-date`, so replay is deterministic. */
  readonly at: string;
}

/** Set one top-level key of the entry `ref` (`value: null` deletes the key). */
export interface SetEdit {
  readonly op: 'set';
  readonly ref: string;
  readonly key: string;
  readonly value: JsonValue;
  readonly at: string;
}

/**
 * Written by compaction just before it renames the new manifest into place: the identity of
 * that new file. When the manifest on disk has this identity, every record before the marker
 * is already in it (the crash came after the rename, before the journal was cleared).
 */
export interface CompactedMarker {
  readonly op: 'compacted';
  readonly manifest: FileIdentity;
  readonly at: string;
}

/** An edit of an entry. */
export type EditRecord = LabelEdit | SetEdit;
/** Anything a journal line holds. */
export type JournalRecord = EditRecord | CompactedMarker;

/** One good journal line. */
export interface JournalEntry {
  readonly seq: number;
  /** 1-based line number in the journal. */
  readonly line: number;
  readonly record: JournalRecord;
}

/** A journal as read from disk. */
export interface JournalState {
  readonly entries: readonly JournalEntry[];
  /** Bad lines that are followed by good ones (and sequence problems): reported, not dropped. */
  readonly problems: readonly LineProblem[];
  /** Byte length of the journal up to and including the last good line. */
  readonly validEnd: number;
  /** Total byte length; more than `validEnd` when a torn tail is present. */
  readonly size: number;
  /** A torn last record (crash mid-append): ignored; the next append cuts it off. */
  readonly tornTail: { readonly line: number; readonly bytes: number } | undefined;
  readonly lastSeq: number;
}

/**
 * Named points where a test hook may kill the process (see `OCR_AL_CRASH_AT` in the CLI):
 * the crash test uses them to stop an append or a compaction at every interesting state.
 */
export interface CrashHook {
  wants(point: string): boolean;
  crash(point: string): void;
}

/** Calls the hook's crash when it wants `point`. */
export function crashPoint(hook: CrashHook | undefined, point: string): void {
  if (hook?.wants(point)) hook.crash(point);
}

const SUM_HEX = 16;
const PREFIX = '{"sum":"';
const MIDDLE = '","rec":';

function checksum(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, SUM_HEX);
}

/** The journal line (with its '\n') for a record with sequence number `seq`. */
export function encodeRecord(seq: number, record: JournalRecord): string {
  const rec = JSON.stringify({ seq, ...record });
  return `${PREFIX}${checksum(rec)}${MIDDLE}${rec}}\n`;
}

/** Decodes one journal line (without its '\n'), checking its checksum and shape. */
export function decodeRecord(line: string): { ok: true; seq: number; record: JournalRecord } | { ok: false; message: string } {
  if (!line.startsWith(PREFIX) || line.length < PREFIX.length + SUM_HEX + MIDDLE.length + 3 || !line.endsWith('}')) {
    return { ok: false, message: 'not a journal record' };
  }
  const sum = line.slice(PREFIX.length, PREFIX.length + SUM_HEX);
  if (line.slice(PREFIX.length + SUM_HEX, PREFIX.length + SUM_HEX + MIDDLE.length) !== MIDDLE) {
    return { ok: false, message: 'not a journal record' };
  }
  const rec = line.slice(PREFIX.length + SUM_HEX + MIDDLE.length, -1);
  if (checksum(rec) !== sum) return { ok: false, message: 'checksum mismatch' };
  let value: unknown;
  try {
    value = JSON.parse(rec);
  } catch {
    return { ok: false, message: 'record is not JSON' };
  }
  return validateRecord(value);
}

const isString = (v: unknown): v is string => typeof v === 'string';

function validateRecord(value: unknown): { ok: true; seq: number; record: JournalRecord } | { ok: false; message: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'record is not an object' };
  const v = value as Record<string, unknown>;
  const seq = v.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { ok: false, message: 'record has no sequence number' };
  switch (v.op) {
    case 'label':
      if (isString(v.ref) && isString(v.box) && isString(v.class) && isString(v.attribute) && isString(v.at)) {
        return { ok: true, seq, record: { op: 'label', ref: v.ref, box: v.box, class: v.class, attribute: v.attribute, at: v.at } };
      }
      return { ok: false, message: 'label record lacks ref, box, class, attribute or at' };
    case 'set':
      if (isString(v.ref) && isString(v.key) && 'value' in v && isString(v.at)) {
        return { ok: true, seq, record: { op: 'set', ref: v.ref, key: v.key, value: v.value as JsonValue, at: v.at } };
      }
      return { ok: false, message: 'set record lacks ref, key, value or at' };
    case 'compacted': {
      const m = v.manifest as Record<string, unknown> | null | undefined;
      if (m && typeof m.ino === 'number' && typeof m.size === 'number' && typeof m.mtimeMs === 'number' && isString(v.at)) {
        return { ok: true, seq, record: { op: 'compacted', manifest: { ino: m.ino, size: m.size, mtimeMs: m.mtimeMs }, at: v.at } };
      }
      return { ok: false, message: 'compacted record lacks its manifest identity' };
    }
    default:
      return { ok: false, message: `unknown record op ${JSON.stringify(v.op)}` };
  }
}

/** Parses journal bytes (see {@link JournalState}). */
export function parseJournal(bytes: Uint8Array): JournalState {
  const entries: JournalEntry[] = [];
  const problems: LineProblem[] = [];
  let bad: { line: number; message: string }[] = [];
  let validEnd = 0;
  let lastSeq = 0;
  let line = 0;
  let start = 0;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  while (start < bytes.length) {
    line++;
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) {
      // No '\n': a record is complete only with its newline, so this is a torn append.
      bad.push({ line, message: 'incomplete record' });
      break;
    }
    const text = decoder.decode(bytes.subarray(start, nl));
    const decoded = decodeRecord(text);
    if (decoded.ok) {
      // Bad lines before a good one were not torn by a crash: report them.
      for (const b of bad) problems.push({ line: b.line, message: `journal line ${b.line}: ${b.message}` });
      bad = [];
      if (decoded.seq <= lastSeq) {
        problems.push({ line, message: `journal line ${line}: sequence number ${decoded.seq} after ${lastSeq}; record skipped as a repeat` });
      } else {
        if (decoded.seq !== lastSeq + 1 && lastSeq !== 0) {
          problems.push({ line, message: `journal line ${line}: sequence number ${decoded.seq} after ${lastSeq}; records are missing` });
        }
        entries.push({ seq: decoded.seq, line, record: decoded.record });
        lastSeq = decoded.seq;
      }
      validEnd = nl + 1;
    } else {
      bad.push({ line, message: decoded.message });
    }
    start = nl + 1;
  }
  const tornTail = bad.length > 0 ? { line: bad[0]!.line, bytes: bytes.length - validEnd } : undefined;
  return { entries, problems, validEnd, size: bytes.length, tornTail, lastSeq };
}

/** Reads the journal of a manifest; a missing journal is an empty one. */
export async function readJournal(fs: FileSystem, manifestPath: string): Promise<JournalState> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(journalPathFor(manifestPath));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') bytes = new Uint8Array(0);
    else throw new OcrAlError('Io', `cannot read ${journalPathFor(manifestPath)}: ${(error as Error).message}`, { cause: error });
  }
  return parseJournal(bytes);
}

/** An edit still to apply, with where it came from. */
export interface PendingEdit {
  readonly seq: number;
  readonly line: number;
  readonly record: EditRecord;
}

/**
 * The edits that are not yet in the manifest whose identity is `manifest`: all edits, unless
 * the journal's last `compacted` marker names this very file, in which case only the edits
 * after the marker (a compaction renamed the file into place and crashed before clearing the
 * journal). Only the last marker counts: a compaction applies every edit before its marker.
 */
export function pendingEdits(journal: JournalState, manifest: FileIdentity | undefined): PendingEdit[] {
  let from = 0;
  for (let i = journal.entries.length - 1; i >= 0; i--) {
    const r = journal.entries[i]!.record;
    if (r.op === 'compacted') {
      if (manifest && sameIdentity(r.manifest, manifest)) from = i + 1;
      break;
    }
  }
  const out: PendingEdit[] = [];
  for (const e of journal.entries.slice(from)) {
    if (e.record.op !== 'compacted') out.push({ seq: e.seq, line: e.line, record: e.record });
  }
  return out;
}

/** Options of {@link appendEdits}. */
export interface AppendOptions {
  readonly lock?: LockOptions;
  readonly crash?: CrashHook;
}

/** The end of a journal, as an append needs it (see {@link readJournalTail}). */
export interface JournalTail {
  readonly size: number;
  /** End of the last good line: an append writes here, cutting any torn tail. */
  readonly validEnd: number;
  /** Highest sequence number among the good lines read. */
  readonly lastSeq: number;
  readonly last: JournalRecord | undefined;
}

/**
 * Reads only the end of the journal: the last good record and where it ends. Appends use it so
 * their cost does not grow with the journal (the full read checks every record instead).
 */
export async function readJournalTail(fs: FileSystem, manifestPath: string): Promise<JournalTail> {
  let handle: FileHandle;
  try {
    handle = await fs.open(journalPathFor(manifestPath), 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { size: 0, validEnd: 0, lastSeq: 0, last: undefined };
    throw OcrAlError.from(error, 'Io');
  }
  try {
    const { size } = await handle.stat();
    const decoder = new TextDecoder('utf-8', { fatal: false });
    for (let window = 64 * 1024; ; window *= 4) {
      const start = Math.max(0, size - window);
      const bytes = Buffer.alloc(size - start);
      await handle.read(bytes, 0, bytes.length, start);
      let end = bytes.lastIndexOf(0x0a);
      let found: { validEnd: number; seq: number; record: JournalRecord } | undefined;
      let lastSeq = 0;
      while (end >= 0) {
        const prev = end === 0 ? -1 : bytes.lastIndexOf(0x0a, end - 1);
        // The first line of a window that does not start the file may be partial: skip it.
        if (prev < 0 && start > 0) break;
        const decoded = decodeRecord(decoder.decode(bytes.subarray(prev + 1, end)));
        if (decoded.ok) {
          found ??= { validEnd: start + end + 1, seq: decoded.seq, record: decoded.record };
          lastSeq = Math.max(lastSeq, decoded.seq);
          // A few records back is enough to see a repeated number; stop there.
          if (found.validEnd - (start + prev + 1) > 4096) break;
        }
        end = prev;
      }
      if (found) return { size, validEnd: found.validEnd, lastSeq, last: found.record };
      if (start === 0) return { size, validEnd: 0, lastSeq: 0, last: undefined };
    }
  } finally {
    await handle.close();
  }
}

/**
 * Appends edits durably: under the manifest lock, cuts a torn tail, writes all records with
 * one write, fdatasyncs (and fsyncs the directory when the journal was just created). When it
 * returns, the edits survive a crash. Returns the records' sequence numbers.
 */
export async function appendEdits(fs: FileSystem, manifestPath: string, edits: readonly EditRecord[], options: AppendOptions = {}): Promise<number[]> {
  for (const e of edits) {
    // Edits find their entry by source-ref, so an edit must not change it.
    if (e.op === 'set' && e.key === 'source-ref') throw new OcrAlError('BadInput', 'a set edit cannot change source-ref');
  }
  return withManifestLock(
    fs,
    manifestPath,
    async () => {
      crashPoint(options.crash, 'label:locked');
      const tail = await readJournalTail(fs, manifestPath);
      let start = tail.validEnd;
      let firstSeq = tail.lastSeq + 1;
      // A journal fully covered by a finished compaction (crash before it was cleared) restarts
      // empty, so it does not grow with stale records.
      if (tail.last?.op === 'compacted') {
        const identity = await fileIdentity(fs, manifestPath);
        if (identity && sameIdentity(tail.last.manifest, identity)) {
          start = 0;
          firstSeq = 1;
        }
      }
      const bytes = Buffer.from(edits.map((e, i) => encodeRecord(firstSeq + i, e)).join(''), 'utf8');
      await writeJournalAt(fs, manifestPath, start, bytes, options.crash, 'label');
      return edits.map((_, i) => firstSeq + i);
    },
    options.lock,
  );
}

/**
 * Writes `bytes` at `offset` of the journal (cutting whatever follows) and makes it durable.
 * The caller holds the lock. Used for appends and for compaction's marker.
 */
export async function writeJournalAt(
  fs: FileSystem,
  manifestPath: string,
  offset: number,
  bytes: Uint8Array,
  crash: CrashHook | undefined,
  phase: 'label' | 'compact',
): Promise<void> {
  const journalPath = journalPathFor(manifestPath);
  let handle: FileHandle;
  let created = false;
  try {
    handle = await fs.open(journalPath, 'r+');
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw new OcrAlError('Io', `cannot open ${journalPath}: ${(error as Error).message}`, { cause: error });
    handle = await fs.open(journalPath, 'w+', 0o644);
    created = true;
  }
  try {
    const { size } = await handle.stat();
    if (size !== offset) await handle.truncate(offset);
    if (crash?.wants(`${phase}:torn`)) {
      // Test hook: a crash in the middle of the write leaves half a record on disk.
      await writeAll(handle, bytes.subarray(0, Math.max(1, bytes.length >> 1)), offset);
      await handle.datasync();
      crash.crash(`${phase}:torn`);
    }
    await writeAll(handle, bytes, offset);
    crashPoint(crash, `${phase}:written`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  if (created) await fsyncDirectory(fs, path.dirname(journalPath));
  crashPoint(crash, `${phase}:synced`);
}

/**
 * Empties the journal durably (after a compaction, under the lock). Truncation is atomic for
 * our purpose: a crash leaves either the old journal (whose marker then matches the new
 * manifest) or an empty one.
 */
export async function clearJournal(fs: FileSystem, manifestPath: string): Promise<void> {
  const journalPath = journalPathFor(manifestPath);
  let handle: FileHandle;
  try {
    handle = await fs.open(journalPath, 'r+');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw OcrAlError.from(error, 'Io');
  }
  try {
    await handle.truncate(0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Compaction: merges the edits journal into the manifest. Under the manifest lock it streams
 * the base into a temp file beside it (lines without edits copied byte for byte, malformed
 * lines too; an edited line gets only its changed top-level values spliced into its original
 * text), fsyncs it, appends a `compacted` marker naming the temp file to the journal, renames
 * the temp file over the manifest, fsyncs the directory and clears the journal. A crash at any
 * point leaves a state that reads the same and that the next compaction finishes; see
 * docs/edits.md for the case analysis.
 */
import * as path from 'node:path';
import type { FileSystem } from '../fileSystem';
import { OcrAlError } from '../errors';
import { scanTopLevel, skipStringBody, type TopLevelMember } from './jsonScan';
import { errnoCode, fileIdentity, fsyncDirectory, openAtomicWriter } from './atomicWrite';
import { type CrashHook, type PendingEdit, clearJournal, crashPoint, encodeRecord, pendingEdits, readJournal, writeJournalAt } from './journal';
import { type LockOptions, withManifestLock } from './manifestLock';
import { EditResolver } from './effectiveManifest';
import { readManifestLines, sourceRefOf } from './manifestLines';

/** The fixed temp name compaction writes; a leftover from a crash is replaced next time. */
export function compactionTempPathFor(manifestPath: string): string {
  return `${manifestPath}.compacting`;
}

/** Options of {@link compactManifest}. */
export interface CompactOptions {
  readonly resolver?: EditResolver;
  readonly lock?: LockOptions;
  readonly crash?: CrashHook;
  /** Time recorded in the marker (default now). */
  readonly now?: () => Date;
}

/** What a compaction did. */
export interface CompactResult {
  /** Edits merged into the manifest. */
  readonly edits: number;
  /** Entries whose line changed. */
  readonly entries: number;
  readonly lines: number;
  readonly bytes: number;
  /** False when there was nothing to merge (the journal may still have been tidied). */
  readonly rewritten: boolean;
}

const utf8 = new TextDecoder('utf-8');

/**
 * Merges the journal into the manifest atomically. Refuses ('Malformed') when the journal has
 * corrupt lines in the middle, and ('NotFound', or the edit's own error) when an edit cannot be
 * applied; in both cases nothing is changed.
 */
export async function compactManifest(fs: FileSystem, manifestPath: string, options: CompactOptions = {}): Promise<CompactResult> {
  const resolver = options.resolver ?? new EditResolver(fs, manifestPath);
  const crash = options.crash;
  if (!(await fileIdentity(fs, manifestPath))) throw new OcrAlError('NotFound', `${manifestPath} does not exist`);
  return withManifestLock(
    fs,
    manifestPath,
    async () => {
      crashPoint(crash, 'compact:locked');
      const journal = await readJournal(fs, manifestPath);
      const badLine = journal.problems[0];
      if (badLine) throw new OcrAlError('Malformed', `${badLine.message}; nothing compacted (fix or remove that line of ${manifestPath}.edits)`);
      const identity = await fileIdentity(fs, manifestPath);
      if (!identity) throw new OcrAlError('NotFound', `${manifestPath} does not exist`);
      const pending = pendingEdits(journal, identity);
      const tempPath = compactionTempPathFor(manifestPath);
      await fs.unlink(tempPath).catch((error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw OcrAlError.from(error, 'Io');
      });
      if (pending.length === 0) {
        // Everything is in the base already (or the journal only holds a torn tail / markers).
        if (journal.size > 0) await clearJournal(fs, manifestPath);
        return { edits: 0, entries: 0, lines: 0, bytes: identity.size, rewritten: false };
      }

      const byRef = new Map<string, PendingEdit[]>();
      for (const e of pending) {
        const list = byRef.get(e.record.ref);
        if (list) list.push(e);
        else byRef.set(e.record.ref, [e]);
      }

      const mode = (await fs.stat(manifestPath)).mode & 0o7777;
      const writer = await openAtomicWriter(fs, manifestPath, { tempPath, mode });
      let lines = 0;
      let entries = 0;
      let bytes = 0;
      try {
        const halfway = identity.size / 2;
        let crashedHalfway = false;
        for await (const l of readManifestLines(fs, manifestPath)) {
          lines++;
          let out: Uint8Array = l.bytes;
          const edits = byRef.size > 0 ? editsFor(l.bytes, byRef) : undefined;
          if (edits) {
            out = await spliceEdits(l.bytes, edits, resolver);
            entries++;
          }
          await writer.write(Buffer.from(out));
          if (l.terminator) await writer.write(l.terminator === '\n' ? NL : CRLF);
          bytes += out.length + l.terminator.length;
          if (!crashedHalfway && l.offset >= halfway && crash?.wants('compact:temp-partial')) {
            crashedHalfway = true;
            await writer.finish();
            crashPoint(crash, 'compact:temp-partial');
          }
        }
        const missing = [...byRef.keys()];
        if (missing.length > 0) {
          throw new OcrAlError('NotFound', `journal has edits for source-ref ${JSON.stringify(missing[0])}, which no manifest entry has; nothing compacted`);
        }
        const tempIdentity = await writer.finish();
        crashPoint(crash, 'compact:temp-synced');
        const marker = encodeRecord(journal.lastSeq + 1, { op: 'compacted', manifest: tempIdentity, at: (options.now?.() ?? new Date()).toISOString() });
        await writeJournalAt(fs, manifestPath, journal.validEnd, Buffer.from(marker, 'utf8'), crash, 'compact');
        await fs.rename(tempPath, manifestPath);
        crashPoint(crash, 'compact:renamed');
        await fsyncDirectory(fs, path.dirname(manifestPath));
        crashPoint(crash, 'compact:dir-synced');
      } catch (error) {
        await writer.abort();
        throw error;
      }
      await clearJournal(fs, manifestPath);
      crashPoint(crash, 'compact:cleared');
      return { edits: pending.length, entries, lines, bytes, rewritten: true };
    },
    options.lock,
  );
}

const NL = Buffer.from('\n');
const CRLF = Buffer.from('\r\n');

/** The edits for this line's source-ref, taken out of `byRef` (only the first entry with a ref gets them). */
function editsFor(bytes: Uint8Array, byRef: Map<string, PendingEdit[]>): PendingEdit[] | undefined {
  const ref = sourceRefOf(bytes);
  if (ref === undefined) return undefined;
  const edits = byRef.get(ref);
  if (edits) byRef.delete(ref);
  return edits;
}

async function spliceEdits(bytes: Uint8Array, edits: readonly PendingEdit[], resolver: EditResolver): Promise<Uint8Array> {
  const scan = scanTopLevel(bytes, 0, bytes.length);
  if (!scan.ok) throw new OcrAlError('Internal', 'edited line does not parse');
  const before = JSON.parse(utf8.decode(bytes)) as Record<string, unknown>;
  const after = await resolver.applyAll(before, edits);
  return spliceTopLevel(bytes, scan.members, before, after);
}

/**
 * Rewrites a JSON-object line from `before` to `after` touching only what changed: values of
 * changed keys are replaced in place, removed keys are cut with their separator, new keys are
 * appended before the closing brace in the line's own `": "`/`, "` spacing. Everything else
 * (unchanged values with their number formats and escapes, whitespace, key order, unknown
 * keys, duplicate keys) keeps its bytes. With a duplicate key, the last occurrence (the one
 * JSON.parse uses) is the one edited.
 */
export function spliceTopLevel(
  bytes: Uint8Array,
  members: readonly TopLevelMember[],
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): Uint8Array {
  const has = (o: Readonly<Record<string, unknown>>, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const lastIndex = new Map<string, number>();
  members.forEach((m, i) => lastIndex.set(m.key, i));
  const text = (start: number, end: number) => Buffer.from(bytes.subarray(start, end));
  const parts: Buffer[] = [];

  if (members.length === 0) {
    // `{}` (with any whitespace): rebuild the object between its braces.
    const open = bytes.indexOf(0x7b);
    const close = bytes.lastIndexOf(0x7d);
    parts.push(text(0, open), Buffer.from(JSON.stringify(after)), text(close + 1, bytes.length));
    return Buffer.concat(parts);
  }

  // Spacing to copy for appended keys: the first member's key-to-value gap and the first separator.
  const first = members[0]!;
  const colon = utf8.decode(bytes.subarray(skipStringBody(bytes, first.keyStart + 1, bytes.length), first.valueStart));
  const separator = members.length > 1 ? utf8.decode(bytes.subarray(members[0]!.valueEnd, members[1]!.keyStart)) : ',';

  parts.push(text(0, first.keyStart));
  let wroteMember = false;
  members.forEach((m, i) => {
    const isLast = lastIndex.get(m.key) === i;
    // A deleted key goes with every duplicate of it; other duplicates stay as they were.
    if (!has(after, m.key) && has(before, m.key)) return;
    if (wroteMember) parts.push(text(members[i - 1]!.valueEnd, m.keyStart));
    const changed = isLast && JSON.stringify(before[m.key]) !== JSON.stringify(after[m.key]);
    if (changed) {
      parts.push(text(m.keyStart, m.valueStart), Buffer.from(JSON.stringify(after[m.key])));
    } else {
      parts.push(text(m.keyStart, m.valueEnd));
    }
    wroteMember = true;
  });
  for (const key of Object.keys(after)) {
    if (has(before, key)) continue;
    parts.push(Buffer.from(`${wroteMember ? separator : ''}${JSON.stringify(key)}${colon}${JSON.stringify(after[key])}`));
    wroteMember = true;
  }
  parts.push(text(members[members.length - 1]!.valueEnd, bytes.length));
  return Buffer.concat(parts);
}

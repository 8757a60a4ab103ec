/**
 * The effective manifest: the manifest on disk (the base) plus the edits journal. This module
 * turns journal records into new entry values (resolving a `label` edit's Textract word, image
 * size and class), and reads one effective entry consistently while other processes append or
 * compact. See docs/edits.md.
 */
import * as path from 'node:path';
import type { FileHandle, FileSystem } from '../fileSystem';
import { OcrAlError } from '../errors';
import type { ImageSize } from '../coordinates';
import { type ClassSet, defaultClassSet, parseLabelCategoryConfig } from '../classes';
import { type TextractDocument, type TextractWord, findBlock, findWord, parseTextract } from '../textract';
import {
  parseObjectDetectionMetadata,
  parseObjectDetectionValue,
  serializeObjectDetection,
  setWordLabel,
} from '../groundtruth/objectDetection';
import { readImageSize } from '../imageHeader';
import { errnoCode, sameIdentity, type FileIdentity } from './atomicWrite';
import { type EditRecord, type JournalState, type LabelEdit, type PendingEdit, pendingEdits, readJournal } from './journal';
import { type BatchLocation, resolveRefOnDisk } from './refs';
import { findLineByRef, openManifest, sourceRefOf } from './manifestLines';

/** The per-batch class set file (a Ground Truth label-category config). */
export const CLASS_SET_FILE = 'classes.json';

/** Options of {@link EditResolver}. */
export interface EditResolverOptions {
  /** Follows symlinks when checking refs (pass `fs.realpath`); without it only paths are checked. */
  readonly realpath?: (p: string) => Promise<string>;
  /** The batch the manifest belongs to (default: the manifest's folder). */
  readonly batch?: BatchLocation;
  /** A class set to use instead of `<batch>/classes.json` or the default. */
  readonly classes?: ClassSet;
}

type Entry = Record<string, unknown>;

/**
 * Applies journal records to entry values. Caches what it reads (class set, Textract files,
 * image sizes) so replaying many edits of one entry reads each file once.
 */
export class EditResolver {
  readonly batch: BatchLocation;
  private classesPromise: Promise<ClassSet> | undefined;
  private readonly textract = new Map<string, Promise<TextractDocument>>();

  constructor(
    private readonly fs: FileSystem,
    readonly manifestPath: string,
    private readonly options: EditResolverOptions = {},
  ) {
    this.batch = options.batch ?? { kind: 'local', dir: path.dirname(path.resolve(manifestPath)) };
    if (options.classes) this.classesPromise = Promise.resolve(options.classes);
  }

  /** The class set: `<batch>/classes.json` when present, else the 11 passport classes. */
  classSet(): Promise<ClassSet> {
    this.classesPromise ??= (async () => {
      if (this.batch.kind !== 'local') return defaultClassSet();
      const file = path.join(this.batch.dir, CLASS_SET_FILE);
      let text: string;
      try {
        text = await this.fs.readFile(file, 'utf8');
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return defaultClassSet();
        throw OcrAlError.from(error, 'Io');
      }
      return parseLabelCategoryConfig(text, file).classes;
    })();
    return this.classesPromise;
  }

  /** The entry's Textract document: inline `textract`, or the `textract-ref` file. */
  async textractOf(entry: Entry, ref: string): Promise<TextractDocument> {
    if (entry['textract'] !== undefined && entry['textract'] !== null) return parseTextract(entry['textract'], `textract of ${ref}`);
    const textractRef = entry['textract-ref'];
    if (typeof textractRef !== 'string') throw new OcrAlError('NotFound', `entry ${ref} has no Textract result (textract or textract-ref)`);
    let doc = this.textract.get(textractRef);
    if (!doc) {
      doc = (async () => {
        const resolved = await resolveRefOnDisk(this.batch, textractRef, 'textract-ref', this.options.realpath);
        if (resolved.kind !== 'local') throw new OcrAlError('BadInput', `textract-ref ${textractRef} is on S3; download the batch to label from the CLI`);
        let text: string;
        try {
          text = await this.fs.readFile(resolved.path, 'utf8');
        } catch (error) {
          throw new OcrAlError(errnoCode(error) === 'ENOENT' ? 'NotFound' : 'Io', `cannot read textract-ref ${textractRef}: ${(error as Error).message}`, { cause: error });
        }
        return parseTextract(text, textractRef);
      })();
      this.textract.set(textractRef, doc);
      doc.catch(() => this.textract.delete(textractRef));
    }
    return doc;
  }

  /** The WORD `box` of the entry (on its `page-num` page when set); 'NotFound' naming what is missing. */
  async wordOf(entry: Entry, ref: string, box: string): Promise<TextractWord> {
    const doc = await this.textractOf(entry, ref);
    const word = findWord(doc, box);
    if (!word) {
      const block = findBlock(doc, box);
      throw new OcrAlError('NotFound', block ? `block ${box} of ${ref} is a ${block.type}, not a WORD` : `box ${box} not found in the Textract result of ${ref}`);
    }
    const page = entry['page-num'];
    if (typeof page === 'number' && doc.pageCount > 1 && word.page !== page) {
      throw new OcrAlError('NotFound', `box ${box} is on page ${word.page}, not on page-num ${page} of ${ref}`);
    }
    return word;
  }

  /** The image size: `source-size`, else read from the source image's header. */
  async imageSizeOf(entry: Entry, ref: string): Promise<ImageSize> {
    const size = entry['source-size'] as { width?: unknown; height?: unknown } | undefined;
    if (size && typeof size === 'object' && typeof size.width === 'number' && typeof size.height === 'number' && size.width > 0 && size.height > 0) {
      return { width: size.width, height: size.height };
    }
    const resolved = await resolveRefOnDisk(this.batch, ref, 'source-ref', this.options.realpath);
    if (resolved.kind !== 'local') throw new OcrAlError('BadInput', `entry ${ref} has no source-size and its image is on S3`);
    return readImageSize(this.fs, resolved.path);
  }

  /** Checks that a label edit can be applied to `entry` (the CLI calls it before appending). */
  async checkLabel(entry: Entry, edit: Pick<LabelEdit, 'ref' | 'box' | 'class'>): Promise<void> {
    const classes = await this.classSet();
    if (!classes.has(edit.class)) throw new OcrAlError('NotFound', `unknown class "${edit.class}" (classes: ${classes.names.join(', ')})`);
    await this.wordOf(entry, edit.ref, edit.box);
    await this.imageSizeOf(entry, edit.ref);
  }

  /** The entry with one edit applied (a new object; `entry` is not changed). */
  async apply(entry: Entry, edit: EditRecord): Promise<Entry> {
    if (edit.op === 'set') {
      return withKeys(entry, { [edit.key]: edit.value === null ? undefined : edit.value });
    }
    const classes = await this.classSet();
    if (!classes.has(edit.class)) throw new OcrAlError('NotFound', `unknown class "${edit.class}" (classes: ${classes.names.join(', ')})`);
    const word = await this.wordOf(entry, edit.ref, edit.box);
    const size = await this.imageSizeOf(entry, edit.ref);
    const attr = edit.attribute;
    const rawValue = entry[attr];
    const rawMeta = entry[`${attr}-metadata`];
    const value = rawValue === undefined || rawValue === null ? undefined : parseObjectDetectionValue(rawValue, attr);
    const metadata = rawMeta === undefined || rawMeta === null ? undefined : parseObjectDetectionMetadata(rawMeta, attr);
    const labeled = setWordLabel(value, metadata, word, size, edit.class, classes, { now: new Date(edit.at) });
    const out = serializeObjectDetection(labeled.value, labeled.metadata);
    return withKeys(entry, { [attr]: out.value, [`${attr}-metadata`]: out.metadata });
  }

  /** The entry with all `edits` applied in order; errors name the journal line. */
  async applyAll(entry: Entry, edits: readonly PendingEdit[]): Promise<Entry> {
    let value = entry;
    for (const e of edits) {
      try {
        value = await this.apply(value, e.record);
      } catch (error) {
        const wrapped = OcrAlError.from(error);
        throw new OcrAlError(wrapped.code, `journal line ${e.line}: ${wrapped.message}`, { cause: error });
      }
    }
    return value;
  }
}

/**
 * A copy of `entry` with `changes` applied: existing keys keep their position, new keys go at
 * the end, `undefined` deletes. Uses defineProperty so a key like `__proto__` stays data.
 */
export function withKeys(entry: Entry, changes: Readonly<Record<string, unknown>>): Entry {
  const out: Entry = {};
  const define = (key: string, value: unknown) => Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  for (const key of Object.keys(entry)) {
    if (Object.prototype.hasOwnProperty.call(changes, key)) {
      const v = changes[key];
      if (v !== undefined) define(key, v);
    } else {
      define(key, entry[key]);
    }
  }
  for (const key of Object.keys(changes)) {
    if (!Object.prototype.hasOwnProperty.call(entry, key) && changes[key] !== undefined) define(key, changes[key]);
  }
  return out;
}

/** A consistent view of the base file and the journal (see {@link openSnapshot}). */
export interface ManifestSnapshot {
  /** Open handle on the base version the journal was read against; close it when done. */
  readonly handle: FileHandle;
  readonly identity: FileIdentity;
  readonly journal: JournalState;
  /** Edits not yet in this base. */
  readonly pending: readonly PendingEdit[];
}

/**
 * Opens the base and reads the journal so the two agree even while another process compacts:
 * stat the path, read the journal, open the path and check it is still the same file (retry
 * otherwise). Compaction clears the journal only after the rename, so a journal read while the
 * old base was current still holds every edit that base lacks.
 */
export async function openSnapshot(fs: FileSystem, manifestPath: string): Promise<ManifestSnapshot> {
  for (let attempt = 0; ; attempt++) {
    const before = await fs.stat(manifestPath).catch((error: unknown) => {
      throw new OcrAlError(errnoCode(error) === 'ENOENT' ? 'NotFound' : 'Io', `cannot open ${manifestPath}: ${(error as Error).message}`, { cause: error });
    });
    const journal = await readJournal(fs, manifestPath);
    const handle = await openManifest(fs, manifestPath);
    const s = await handle.stat();
    const identity = { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
    if (sameIdentity(identity, { ino: before.ino, size: before.size, mtimeMs: before.mtimeMs }) || attempt >= 20) {
      return { handle, identity, journal, pending: pendingEdits(journal, identity) };
    }
    await handle.close();
  }
}

/** One entry as it is effectively: base line plus pending edits. */
export interface EffectiveEntry {
  /** 1-based line in the base file. */
  readonly line: number;
  /** The base line's text and value. */
  readonly baseText: string;
  readonly base: Entry;
  /** The edits applied on top (journal order). */
  readonly edits: readonly PendingEdit[];
  readonly value: Entry;
  /** Journal problems (corrupt lines, sequence gaps); they do not stop the read. */
  readonly journalProblems: readonly string[];
}

/** Where an entry's line is in the manifest. */
export interface EntryLocation {
  /** 1-based line number. */
  readonly line: number;
  readonly offset: number;
  readonly length: number;
}

/**
 * Finds the line of the first entry with a source-ref, e.g. from the manifest index, so a
 * lookup in a large manifest does not scan it. A hint only: the line is read back from the
 * snapshot and checked, and a wrong or missing answer falls back to a linear pass.
 */
export type RefLocator = (ref: string) => Promise<EntryLocation | undefined>;

const utf8 = new TextDecoder('utf-8');

async function lineAt(handle: FileHandle, location: EntryLocation, ref: string): Promise<{ line: number; text: string; value: Entry } | undefined> {
  const bytes = Buffer.alloc(location.length);
  const { bytesRead } = await handle.read(bytes, 0, location.length, location.offset);
  if (bytesRead !== location.length || sourceRefOf(bytes) !== ref) return undefined;
  const text = utf8.decode(bytes);
  return { line: location.line, text, value: JSON.parse(text) as Entry };
}

/**
 * The effective entry for `ref` (the first line whose `source-ref` is `ref`), or undefined
 * when no entry has that ref.
 */
export async function readEffectiveEntry(
  fs: FileSystem,
  manifestPath: string,
  ref: string,
  resolver: EditResolver = new EditResolver(fs, manifestPath),
  locate?: RefLocator,
): Promise<EffectiveEntry | undefined> {
  const snapshot = await openSnapshot(fs, manifestPath);
  try {
    let found: { line: number; text: string; value: Entry } | undefined;
    if (locate) {
      const location = await locate(ref).catch(() => undefined);
      if (location) found = await lineAt(snapshot.handle, location, ref);
    }
    found ??= await findLineByRef(fs, snapshot.handle, ref);
    if (!found) return undefined;
    const edits = snapshot.pending.filter((e) => e.record.ref === ref);
    const value = await resolver.applyAll(found.value, edits);
    return {
      line: found.line,
      baseText: found.text,
      base: found.value,
      edits,
      value,
      journalProblems: snapshot.journal.problems.map((p) => p.message),
    };
  } finally {
    await snapshot.handle.close();
  }
}

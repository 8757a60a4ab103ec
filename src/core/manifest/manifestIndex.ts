/**
 * The line index of a manifest: where each entry's line is (byte offset and length), its
 * status, `source-ref`, per-image uncertainty, and what is wrong with it. Built by streaming
 * over a ByteSource in large chunks, so the first entries are available long before a
 * gigabyte file is read to the end, and memory grows with the number of lines (a few dozen
 * bytes each, in typed arrays) rather than with the file. Entries themselves are read back
 * lazily, one line at a time (`readEntry`).
 *
 * Lines are numbered from 1; blank (whitespace-only) lines are not entries but stay in the
 * file and in the numbering. A line's length excludes its '\n' and a '\r' before it; a UTF-8
 * byte-order mark at the start of the file is not part of the first entry.
 */
import { OcrAlError } from '../errors';
import { DEFAULT_PASSPORT_CLASSES } from '../classes';
import { AGGREGATES, STRATEGIES, type Aggregate, type Strategy } from '../sampling/scores';
import type { ByteSource } from './byteSource';
import { entryProblem } from './entrySchema';
import { STRING_STOP, decodeStringBody, scanTopLevel, skipStringBody, skipValue, skipWs, type MemberScanner } from './jsonScan';
import {
  DEFAULT_LABEL_ATTRIBUTE,
  KNOWN_KEY_TYPES,
  SOFT_LABELS,
  SOURCE_REF,
  STATUS_CODE,
  STATUS_CODES,
  TEXTRACT,
  TEXTRACT_REF,
  deriveStatus,
  kindOfFirstByte,
} from './status';
import type { EntryStatus, EntrySummary, ImageUncertainty, LineProblem, StatusCounts } from './types';

// ---------------------------------------------------------------------------------------------
// Per-image score layout

export type { Aggregate };

// Module-level copies of imported bindings: under a CommonJS transform (tsx in tests and
// benchmarks) every use of an imported name is a property read through a getter, which
// shows up in per-line loops.
const skipValueFn = skipValue;
const scanTopLevelFn = scanTopLevel;

/** Floats kept per image: 4 strategies x 3 aggregates x {all boxes, fields only}. */
export const IMAGE_SCORE_SLOTS = STRATEGIES.length * AGGREGATES.length * 2;

/**
 * The position of one image score in the Float32Array of `imageScores(i)`. "Fields only"
 * ignores the boxes whose most likely class is `other` (the background class), so images are
 * ranked by how unsure the model is about the fields that matter. Over zero boxes every
 * aggregate is 0.
 */
export function scoreSlot(strategy: Strategy, aggregate: Aggregate, fieldsOnly: boolean): number {
  return (STRATEGY_INDEX[strategy] * AGGREGATES.length + AGGREGATE_INDEX[aggregate]) * 2 + (fieldsOnly ? 1 : 0);
}

const STRATEGY_INDEX: Record<Strategy, number> = { least: 0, margin: 1, ratio: 2, entropy: 3 };
const AGGREGATE_INDEX: Record<Aggregate, number> = { max: 0, mean: 1, sum: 2 };

/** Classes assumed when `soft-labels.classes` is absent: the default passport class set. */
const OTHER_CLASS = 'other';
const DEFAULT_CLASS_COUNT = DEFAULT_PASSPORT_CLASSES.length;
const DEFAULT_OTHER_INDEX = DEFAULT_PASSPORT_CLASSES.indexOf(OTHER_CLASS);

// ---------------------------------------------------------------------------------------------
// Public types

/** Options of `ManifestIndex.build`. */
export interface BuildOptions {
  /** Manifest key of human labels (default `labels`). */
  readonly labelAttribute?: string;
  /** Bytes per read (default 4 MiB). Tests use tiny chunks to exercise boundaries. */
  readonly chunkSize?: number;
  readonly signal?: AbortSignal;
  /** Called after each chunk. */
  readonly onProgress?: (progress: BuildProgress) => void;
}

export interface BuildProgress {
  readonly bytesRead: number;
  readonly totalBytes: number;
  readonly entries: number;
}

/** A build in progress. */
export interface IndexBuild {
  /**
   * The first `count` entries (fewer at EOF), as soon as they are indexed — typically after
   * the first chunk, long before `done`. Rejects when the build fails.
   */
  firstPage(count: number): Promise<EntrySummary[]>;
  /** The complete index. Rejects with OcrAlError ('Cancelled' when aborted). */
  readonly done: Promise<ManifestIndex>;
}

/** Sort orders of `page`. */
export type PageSort = 'line' | 'name' | 'uncertainty';

export interface PageOptions {
  /** Default `line` (file order). `name` sorts by source-ref; `uncertainty` most uncertain first. */
  readonly sort?: PageSort;
  /** Only entries of this status. */
  readonly status?: EntryStatus;
  /** For `uncertainty`: which score (default least / max / all boxes). */
  readonly strategy?: Strategy;
  readonly aggregate?: Aggregate;
  readonly fieldsOnly?: boolean;
}

/** One entry read back from the manifest. */
export interface ReadEntry {
  readonly summary: EntrySummary;
  /** The line as it is in the file (without its line break). */
  readonly text: string;
  /** The parsed object; undefined when the line is malformed. */
  readonly value: Record<string, unknown> | undefined;
}

/** The raw arrays of an index (for the cache). Arrays may be longer than `entryCount`. */
export interface IndexParts {
  readonly sourceName: string;
  readonly labelAttribute: string;
  readonly bytes: number;
  readonly lineCount: number;
  readonly entryCount: number;
  readonly offsets: Float64Array;
  readonly lengths: Uint32Array;
  readonly lines: Uint32Array;
  readonly statuses: Uint8Array;
  /** IMAGE_SCORE_SLOTS per entry; NaN in slot 0 = no usable soft labels. */
  readonly scores: Float32Array;
  /** Entry index -> source-ref (an array, or a table that decodes refs on demand). */
  readonly refs: RefTable;
  /** Entry index -> why it is malformed. */
  readonly problems: ReadonlyMap<number, string>;
  /** Entry index -> why its soft labels are unusable (the entry is not malformed). */
  readonly softLabelProblems: ReadonlyMap<number, string>;
}

/**
 * The index of the lines that START in bytes [start, end) of a source (see
 * `ManifestIndex.buildRange`): the parts a whole build produces, with line numbers counted
 * from the range's first line (1) and entry indices from its first entry (0); offsets are
 * file offsets. Plain data (typed arrays, an array, Maps), so it can be posted between
 * threads; `ManifestIndex.merge` joins consecutive ranges into one index.
 */
export interface RangeParts extends IndexParts {
  readonly start: number;
  /** Infinity: to the end of the source. */
  readonly end: number;
  readonly refs: readonly (string | undefined)[];
}

/** A range build in progress (see IndexBuild; `firstPage` numbers lines from the range's start). */
export interface RangeBuild {
  firstPage(count: number): Promise<EntrySummary[]>;
  readonly done: Promise<RangeParts>;
}

/** Random access to the source-refs of the entries; arrays satisfy it. */
export interface RefTable {
  at(i: number): string | undefined;
}

// ---------------------------------------------------------------------------------------------
// The index

/** A built (or cache-loaded) index. Immutable. */
export class ManifestIndex {
  readonly sourceName: string;
  readonly labelAttribute: string;
  /** File size in bytes when indexed. */
  readonly bytes: number;
  /** Lines in the file, blank ones included (a final line without '\n' counts). */
  readonly lineCount: number;
  readonly entryCount: number;
  readonly counts: StatusCounts;
  private readonly _parts: IndexParts;
  private _byRef: Map<string, number> | undefined;
  private readonly _orders = new Map<string, Uint32Array>();

  constructor(
    parts: IndexParts,
    private readonly _source: ByteSource | undefined,
  ) {
    this._parts = parts;
    this.sourceName = parts.sourceName;
    this.labelAttribute = parts.labelAttribute;
    this.bytes = parts.bytes;
    this.lineCount = parts.lineCount;
    this.entryCount = parts.entryCount;
    const counts: StatusCounts = { new: 0, extracted: 0, predicted: 0, labeled: 0, malformed: 0 };
    for (let i = 0; i < parts.entryCount; i++) counts[STATUS_CODES[parts.statuses[i]!]!]++;
    this.counts = counts;
  }

  /** Streams over `source` and builds its index; see IndexBuild. */
  static build(source: ByteSource, options: BuildOptions = {}): IndexBuild {
    return startBuild(source, options, 0, Infinity, (builder, bytes) => new ManifestIndex(builder.parts(source.name, bytes), source));
  }

  /**
   * Indexes the lines that start in bytes [start, end) of `source` (`end` Infinity: to its
   * end). A line starting in the range is read to its end even past `end`; a range starting
   * mid-line begins after the next '\n'. Ranges that tile [0, Infinity), built separately
   * (e.g. on several threads) and joined with `merge`, give exactly the index of `build`.
   * Progress counts the bytes this range has read.
   */
  static buildRange(source: ByteSource, start: number, end: number, options: BuildOptions = {}): RangeBuild {
    if (!(start >= 0 && Number.isInteger(start)) || !(end >= start)) throw new OcrAlError('Internal', `bad byte range [${start}, ${end})`);
    return startBuild(source, options, start, end, (builder, bytes): RangeParts => ({ ...builder.parts(source.name, bytes), start, end, refs: builder.refs }));
  }

  /**
   * Joins the results of `buildRange` over consecutive ranges (the first starting at 0, each
   * starting where the previous one ended) into one index: line numbers and entry indices of
   * each range are offset by the lines and entries before it. `bytes` is the last range's.
   */
  static merge(ranges: readonly RangeParts[], source: ByteSource | undefined): ManifestIndex {
    const first = ranges[0];
    if (!first || first.start !== 0) throw new OcrAlError('Internal', 'merge needs ranges starting at byte 0');
    let entryCount = 0;
    let lineCount = 0;
    for (let k = 0; k < ranges.length; k++) {
      const r = ranges[k]!;
      if (k > 0 && r.start !== ranges[k - 1]!.end) throw new OcrAlError('Internal', `ranges are not consecutive: ${ranges[k - 1]!.end} then ${r.start}`);
      if (r.labelAttribute !== first.labelAttribute) throw new OcrAlError('Internal', 'ranges were indexed with different label attributes');
      entryCount += r.entryCount;
      lineCount += r.lineCount;
    }
    const offsets = new Float64Array(entryCount);
    const lengths = new Uint32Array(entryCount);
    const lines = new Uint32Array(entryCount);
    const statuses = new Uint8Array(entryCount);
    const scores = new Float32Array(entryCount * IMAGE_SCORE_SLOTS);
    const refs: (string | undefined)[] = new Array<string | undefined>(entryCount);
    const problems = new Map<number, string>();
    const softLabelProblems = new Map<number, string>();
    let e = 0;
    let l = 0;
    for (const r of ranges) {
      const n = r.entryCount;
      offsets.set(r.offsets.subarray(0, n), e);
      lengths.set(r.lengths.subarray(0, n), e);
      statuses.set(r.statuses.subarray(0, n), e);
      scores.set(r.scores.subarray(0, n * IMAGE_SCORE_SLOTS), e * IMAGE_SCORE_SLOTS);
      for (let i = 0; i < n; i++) {
        lines[e + i] = r.lines[i]! + l;
        refs[e + i] = r.refs[i];
      }
      for (const [i, message] of r.problems) problems.set(i + e, message);
      for (const [i, message] of r.softLabelProblems) softLabelProblems.set(i + e, message);
      e += n;
      l += r.lineCount;
    }
    const last = ranges[ranges.length - 1]!;
    return new ManifestIndex(
      { sourceName: first.sourceName, labelAttribute: first.labelAttribute, bytes: last.bytes, lineCount, entryCount, offsets, lengths, lines, statuses, scores, refs, problems, softLabelProblems },
      source,
    );
  }

  /** The raw arrays (for the cache). */
  get parts(): IndexParts {
    return this._parts;
  }

  /** Malformed lines, in file order: line number and message. */
  get problems(): LineProblem[] {
    return problemList(this._parts.problems, this._parts.lines);
  }

  /** Entries whose soft labels are unusable (not malformed), in file order. */
  get softLabelProblems(): LineProblem[] {
    return problemList(this._parts.softLabelProblems, this._parts.lines);
  }

  /** The summary of entry i (0-based). */
  summary(i: number): EntrySummary {
    this.check(i);
    return summaryOf(this._parts, i);
  }

  /** The 1-based line number of entry i. */
  lineOf(i: number): number {
    this.check(i);
    return this._parts.lines[i]!;
  }

  /** The status of entry i, without building a summary object. */
  statusOf(i: number): EntryStatus {
    this.check(i);
    return STATUS_CODES[this._parts.statuses[i]!]!;
  }

  /** The source-ref of entry i, when it has one. */
  refOf(i: number): string | undefined {
    this.check(i);
    return this._parts.refs.at(i);
  }

  /**
   * The IMAGE_SCORE_SLOTS image scores of entry i (index with `scoreSlot`), or undefined when
   * the entry has no usable soft labels. A view into the index: do not modify.
   */
  imageScores(i: number): Float32Array | undefined {
    this.check(i);
    const base = i * IMAGE_SCORE_SLOTS;
    if (Number.isNaN(this._parts.scores[base]!)) return undefined;
    return this._parts.scores.subarray(base, base + IMAGE_SCORE_SLOTS);
  }

  /** Why entry i's soft labels are unusable, if they are. */
  softLabelProblem(i: number): string | undefined {
    this.check(i);
    return this._parts.softLabelProblems.get(i);
  }

  /** The first entry whose source-ref is `ref` (exact match), or undefined. */
  findByRef(ref: string): number | undefined {
    if (!this._byRef) {
      const map = new Map<string, number>();
      const refs = this._parts.refs;
      for (let i = 0; i < this.entryCount; i++) {
        const r = refs.at(i);
        if (r !== undefined && !map.has(r)) map.set(r, i);
      }
      this._byRef = map;
    }
    return this._byRef.get(ref);
  }

  /** Number of entries a `page` call with these options can return in total. */
  pageTotal(options: PageOptions = {}): number {
    return this.order(options).length;
  }

  /** `count` summaries from position `start` of the order `options` selects. */
  page(start: number, count: number, options: PageOptions = {}): EntrySummary[] {
    const order = this.order(options);
    const out: EntrySummary[] = [];
    for (let k = Math.max(0, start), end = Math.min(order.length, start + count); k < end; k++) {
      out.push(summaryOf(this._parts, order[k]!));
    }
    return out;
  }

  /**
   * Reads entry i's line back from the source and checks it with the entry schema. When the
   * line no longer parses (the file changed underneath), the summary says `malformed`.
   */
  async readEntry(i: number): Promise<ReadEntry> {
    this.check(i);
    if (!this._source) throw new OcrAlError('Internal', 'this index has no source to read entries from');
    const offset = this._parts.offsets[i]!;
    const length = this._parts.lengths[i]!;
    const bytes = await this._source.read(offset, length);
    if (bytes.length !== length) {
      throw new OcrAlError('Conflict', `${this._source.name} changed since it was indexed (line ${this._parts.lines[i]} is cut short)`);
    }
    const text = utf8.decode(bytes);
    const summary = summaryOf(this._parts, i);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const message = summary.problem ?? (error instanceof Error ? error.message : String(error));
      return { summary: { ...summary, status: 'malformed', problem: message, sourceRef: undefined, uncertainty: undefined }, text, value: undefined };
    }
    const problem = entryProblem(parsed, this.labelAttribute);
    if (problem !== undefined) {
      return { summary: { ...summary, status: 'malformed', problem, sourceRef: undefined, uncertainty: undefined }, text, value: undefined };
    }
    return { summary, text, value: parsed as Record<string, unknown> };
  }

  private check(i: number): void {
    if (!(i >= 0 && i < this.entryCount && Number.isInteger(i))) {
      throw new OcrAlError('BadInput', `no entry ${i} (the index has ${this.entryCount})`);
    }
  }

  private order(options: PageOptions): Uint32Array {
    const sort = options.sort ?? 'line';
    const slot = scoreSlot(options.strategy ?? 'least', options.aggregate ?? 'max', options.fieldsOnly ?? false);
    const key = `${sort}|${options.status ?? ''}|${sort === 'uncertainty' ? slot : ''}`;
    const cached = this._orders.get(key);
    if (cached) return cached;
    const { statuses, refs, scores, lines } = this._parts;
    const wanted = options.status === undefined ? -1 : STATUS_CODE[options.status];
    const picked: number[] = [];
    for (let i = 0; i < this.entryCount; i++) if (wanted < 0 || statuses[i] === wanted) picked.push(i);
    const byRef = (a: number, b: number): number => {
      const ra = refs.at(a);
      const rb = refs.at(b);
      if (ra !== rb) {
        if (ra === undefined) return 1;
        if (rb === undefined) return -1;
        return ra < rb ? -1 : 1;
      }
      return lines[a]! - lines[b]!;
    };
    if (sort === 'name') picked.sort(byRef);
    if (sort === 'uncertainty') {
      picked.sort((a, b) => {
        const sa = Number.isNaN(scores[a * IMAGE_SCORE_SLOTS]!) ? -1 : scores[a * IMAGE_SCORE_SLOTS + slot]!;
        const sb = Number.isNaN(scores[b * IMAGE_SCORE_SLOTS]!) ? -1 : scores[b * IMAGE_SCORE_SLOTS + slot]!;
        return sa !== sb ? sb - sa : byRef(a, b);
      });
    }
    const order = Uint32Array.from(picked);
    this._orders.set(key, order);
    return order;
  }
}

const utf8 = new TextDecoder();

function problemList(map: ReadonlyMap<number, string>, lines: Uint32Array): LineProblem[] {
  return [...map.keys()].sort((a, b) => a - b).map((i) => ({ line: lines[i]!, message: map.get(i)! }));
}

function summaryOf(parts: IndexParts, i: number): EntrySummary {
  const base = i * IMAGE_SCORE_SLOTS;
  const scores = parts.scores;
  let uncertainty: ImageUncertainty | undefined;
  if (!Number.isNaN(scores[base]!)) {
    uncertainty = {
      least: scores[base + scoreSlot('least', 'max', false)]!,
      margin: scores[base + scoreSlot('margin', 'max', false)]!,
      ratio: scores[base + scoreSlot('ratio', 'max', false)]!,
      entropy: scores[base + scoreSlot('entropy', 'max', false)]!,
    };
  }
  return {
    index: i,
    line: parts.lines[i]!,
    offset: parts.offsets[i]!,
    length: parts.lengths[i]!,
    status: STATUS_CODES[parts.statuses[i]!]!,
    sourceRef: parts.refs.at(i),
    uncertainty,
    problem: parts.problems.get(i),
  };
}

// ---------------------------------------------------------------------------------------------
// Building

/** Grows typed arrays as entries arrive; shared by the streaming build and the cache. */
class IndexBuilder {
  entryCount = 0;
  lineCount = 0;
  offsets = new Float64Array(1024);
  lengths = new Uint32Array(1024);
  lines = new Uint32Array(1024);
  statuses = new Uint8Array(1024);
  scores = new Float32Array(1024 * IMAGE_SCORE_SLOTS);
  readonly refs: (string | undefined)[] = [];
  readonly problems = new Map<number, string>();
  readonly softLabelProblems = new Map<number, string>();
  private readonly soft = new SoftLabelScanner();

  constructor(readonly labelAttribute: string) {}

  private grow(): void {
    const cap = this.offsets.length * 2;
    const g = <T extends Float64Array | Uint32Array | Uint8Array | Float32Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.offsets = g(this.offsets, cap);
    this.lengths = g(this.lengths, cap);
    this.lines = g(this.lines, cap);
    this.statuses = g(this.statuses, cap);
    this.scores = g(this.scores, cap * IMAGE_SCORE_SLOTS);
  }

  /**
   * Indexes one line: bytes [start, end) of `b` (no '\n'; a trailing '\r' is dropped here),
   * found at `fileOffset` in the source, with 1-based number `line`. b[end] must exist and be
   * '\n' (a sentinel the soft-label fast path relies on).
   */
  addLine(b: Uint8Array, start: number, end: number, fileOffset: number, line: number): void {
    this.lineCount = line;
    if (end > start && b[end - 1] === 0x0d) end--;
    if (fileOffset === 0 && end - start >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) {
      start += 3;
      fileOffset += 3;
    }
    let s = start;
    while (s < end) {
      const c = b[s]!;
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
      s++;
    }
    if (s === end) return; // blank: not an entry
    const i = this.entryCount;
    if (i === this.offsets.length) this.grow();
    this.entryCount = i + 1;
    this.offsets[i] = fileOffset;
    this.lengths[i] = end - start;
    this.lines[i] = line;
    this.scores[i * IMAGE_SCORE_SLOTS] = Number.NaN;
    const soft = this.soft;
    soft.out = this.scores;
    soft.base = i * IMAGE_SCORE_SLOTS;
    soft.fastAt = -1;
    const scan = scanTopLevelFn(b, start, end, soft);
    if (!scan.ok) {
      this.malformed(i, `${scan.message} at column ${scan.column}`);
      return;
    }
    let ref: string | undefined;
    let hasRef = false;
    let hasLabels = false;
    let hasTextract = false;
    let softStart = -1;
    let softEnd = -1;
    const labelAttribute = this.labelAttribute;
    // Duplicate keys: like JSON.parse, the last occurrence wins.
    for (const m of scan.members) {
      const key = m.key;
      const kind = kindOfFirstByte(b[m.valueStart]!);
      const expected = key === labelAttribute ? 'object' : KNOWN_KEY_TYPES[key];
      if (expected === undefined) continue;
      if (kind === 'null') {
        if (key === SOURCE_REF) hasRef = false;
        else if (key === labelAttribute) hasLabels = false;
        else if (key === SOFT_LABELS) softStart = -1;
        else if (key === TEXTRACT || key === TEXTRACT_REF) hasTextract = false;
        continue;
      }
      if (kind !== expected) {
        this.malformed(i, `${key} must be ${expected === 'object' ? 'an object' : `a ${expected}`}`);
        return;
      }
      if (key === SOURCE_REF) {
        hasRef = true;
        ref = decodeStringBody(b, m.valueStart + 1, m.valueEnd - 1);
      } else if (key === labelAttribute) {
        hasLabels = true;
      } else if (key === SOFT_LABELS) {
        softStart = m.valueStart;
        softEnd = m.valueEnd;
      } else if (key === TEXTRACT || key === TEXTRACT_REF) {
        hasTextract = true;
      }
    }
    if (softStart < 0) this.scores[i * IMAGE_SCORE_SLOTS] = Number.NaN; // an earlier duplicate may have scored
    if (!hasRef) {
      this.malformed(i, `missing ${SOURCE_REF}`);
      return;
    }
    if (ref === '') {
      this.malformed(i, `${SOURCE_REF} must not be empty`);
      return;
    }
    this.refs[i] = ref;
    this.statuses[i] = STATUS_CODE[deriveStatus({ hasLabels, hasSoftLabels: softStart >= 0, hasTextract })];
    if (softStart >= 0) {
      const problem = soft.fastAt === softStart ? soft.fastProblem : soft.score(b, softStart, softEnd, this.scores, i * IMAGE_SCORE_SLOTS);
      if (problem !== undefined) {
        this.scores[i * IMAGE_SCORE_SLOTS] = Number.NaN;
        this.softLabelProblems.set(i, problem);
      }
    }
  }

  private malformed(i: number, message: string): void {
    this.scores[i * IMAGE_SCORE_SLOTS] = Number.NaN; // the soft-label fast path may have run
    this.statuses[i] = STATUS_CODE.malformed;
    this.refs[i] = undefined;
    this.problems.set(i, message);
  }

  parts(sourceName: string, bytes: number): IndexParts {
    return {
      sourceName,
      labelAttribute: this.labelAttribute,
      bytes,
      lineCount: this.lineCount,
      entryCount: this.entryCount,
      offsets: this.offsets,
      lengths: this.lengths,
      lines: this.lines,
      statuses: this.statuses,
      scores: this.scores,
      refs: this.refs,
      problems: this.problems,
      softLabelProblems: this.softLabelProblems,
    };
  }
}

function startBuild<T>(
  source: ByteSource,
  options: BuildOptions,
  start: number,
  end: number,
  finish: (builder: IndexBuilder, bytes: number) => T,
): { firstPage(count: number): Promise<EntrySummary[]>; readonly done: Promise<T> } {
  const builder = new IndexBuilder(options.labelAttribute ?? DEFAULT_LABEL_ATTRIBUTE);
  const chunkSize = Math.max(1, options.chunkSize ?? 4 * 1024 * 1024);
  const waiters: { count: number; resolve: (page: EntrySummary[]) => void; reject: (e: unknown) => void }[] = [];
  let finished = false;
  let failure: unknown;
  let totalBytes = 0;

  const partial = (): IndexParts => builder.parts(source.name, totalBytes);
  const firstOf = (count: number): EntrySummary[] => {
    const parts = partial();
    const out: EntrySummary[] = [];
    for (let i = 0; i < Math.min(count, builder.entryCount); i++) out.push(summaryOf(parts, i));
    return out;
  };
  const wake = (): void => {
    for (let k = waiters.length - 1; k >= 0; k--) {
      const w = waiters[k]!;
      if (failure !== undefined) w.reject(failure);
      else if (finished || builder.entryCount >= w.count) w.resolve(firstOf(w.count));
      else continue;
      waiters.splice(k, 1);
    }
  };

  const done = (async (): Promise<T> => {
    try {
      totalBytes = await source.size();
      await streamLines(source, totalBytes, chunkSize, builder, options, wake, start, end);
      finished = true;
      wake();
      return finish(builder, totalBytes);
    } catch (error) {
      failure = OcrAlError.from(error, 'Io');
      wake();
      throw failure;
    }
  })();
  // The caller may only use firstPage; a rejection is delivered there too.
  done.catch(() => undefined);

  return {
    done,
    firstPage(count: number) {
      if (failure !== undefined) return Promise.reject(failure);
      if (finished || builder.entryCount >= count) return Promise.resolve(firstOf(count));
      return new Promise((resolve, reject) => waiters.push({ count, resolve, reject }));
    },
  };
}

/**
 * Reads the source chunk by chunk (next read in flight while this one is scanned) and indexes
 * the lines that start in [start, end).
 */
async function streamLines(
  source: ByteSource,
  totalBytes: number,
  chunkSize: number,
  builder: IndexBuilder,
  options: BuildOptions,
  afterChunk: () => void,
  start: number,
  end: number,
): Promise<void> {
  const signal = options.signal;
  const buffers = [new Uint8Array(chunkSize), new Uint8Array(chunkSize)];
  let which = 0;
  const readChunk = async (offset: number): Promise<Uint8Array> => {
    const length = Math.min(chunkSize, totalBytes - offset);
    if (length <= 0) return new Uint8Array(0);
    if (source.readInto) {
      const target = buffers[which]!;
      which ^= 1;
      const n = await source.readInto(target, 0, offset, length);
      return target.subarray(0, n);
    }
    return source.read(offset, length);
  };

  // A line that straddles chunks is assembled here (only those lines are copied).
  let pending = new Uint8Array(64 * 1024);
  let pendingLength = 0;
  let pendingOffset = 0;
  let line = 0;
  // A range that does not start the file begins with the line after the first '\n' at or
  // after start - 1 (a line starting exactly at `start` is this range's: its '\n' is at start - 1).
  let offset = start > 0 ? Math.min(start - 1, totalBytes) : 0;
  const readFrom = offset;
  let skipping = start > 0;
  let stop = false;
  let next = readChunk(offset);
  while (offset < totalBytes && !stop) {
    if (signal?.aborted) throw new OcrAlError('Cancelled', 'indexing was cancelled');
    const chunk = await next;
    if (chunk.length === 0) break; // the file shrank while we read it
    const base = offset;
    offset += chunk.length;
    next = readChunk(offset);
    const n = chunk.length;
    let pos = 0;
    if (skipping) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        afterChunk();
        continue;
      }
      skipping = false;
      pos = nl + 1;
    }
    if (pendingLength > 0) {
      const nl = chunk.indexOf(0x0a);
      const take = nl < 0 ? n : nl;
      if (pendingLength + take + 1 > pending.length) {
        let cap = pending.length * 2;
        while (cap < pendingLength + take + 1) cap *= 2;
        const grown = new Uint8Array(cap);
        grown.set(pending.subarray(0, pendingLength));
        pending = grown;
      }
      pending.set(chunk.subarray(0, take), pendingLength);
      pendingLength += take;
      if (nl < 0) {
        afterChunk();
        continue;
      }
      pending[pendingLength] = 0x0a;
      builder.addLine(pending, 0, pendingLength, pendingOffset, ++line);
      pendingLength = 0;
      pos = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl < 0) break;
      if (base + pos >= end) {
        stop = true; // this line and all after it belong to the next range
        break;
      }
      builder.addLine(chunk, pos, nl, base + pos, ++line);
      pos = nl + 1;
    }
    if (!stop && pos < n && base + pos >= end) stop = true;
    if (!stop && pos < n) {
      if (n - pos + 1 > pending.length) {
        let cap = pending.length * 2;
        while (cap < n - pos + 1) cap *= 2;
        pending = new Uint8Array(cap);
      }
      pending.set(chunk.subarray(pos, n), 0);
      pendingLength = n - pos;
      pendingOffset = base + pos;
    }
    options.onProgress?.({ bytesRead: offset - readFrom, totalBytes, entries: builder.entryCount });
    afterChunk();
  }
  await next.catch(() => undefined);
  if (pendingLength > 0) {
    pending[pendingLength] = 0x0a; // the file's last line has no '\n': give it the sentinel
    builder.addLine(pending, 0, pendingLength, pendingOffset, ++line);
  }
  if (signal?.aborted) throw new OcrAlError('Cancelled', 'indexing was cancelled');
}

// ---------------------------------------------------------------------------------------------
// Soft labels -> image scores

/**
 * Reads `soft-labels` ({model, created, classes?, boxes: {BlockId: [p...]}}) straight from the
 * bytes of an already-validated value and writes the IMAGE_SCORE_SLOTS image scores. Numbers
 * are parsed by hand (exact for the usual <= 15-digit decimals), never through JSON.parse.
 */
class SoftLabelScanner implements MemberScanner {
  readonly key = SOFT_LABELS;
  private probs = new Float64Array(4096);
  private used = 0;
  private readonly boxStarts: number[] = [];
  private readonly boxLengths: number[] = [];
  private readonly boxKeys: number[] = [];
  /** Where the fast path writes scores: set by the builder before each line. */
  out = new Float32Array(IMAGE_SCORE_SLOTS);
  base = 0;
  /** Offset of the value the fast path last handled (-1: none), and its verdict. */
  fastAt = -1;
  fastProblem: string | undefined;

  private reset(): void {
    this.used = 0;
    this.boxStarts.length = 0;
    this.boxLengths.length = 0;
    this.boxKeys.length = 0;
  }

  private push(v: number): void {
    if (this.used === this.probs.length) {
      const grown = new Float64Array(this.used * 2);
      grown.set(this.probs);
      this.probs = grown;
    }
    this.probs[this.used++] = v;
  }

  /**
   * MemberScanner: validates and parses the usual shape in one pass. Returns -1 on anything
   * unusual (the generic validator then decides, and `score` reads it the slow way).
   * Relies on b[end] being a line-break byte (the builder guarantees it), so token checks
   * need no bounds test: they fail on that byte, and only whitespace skips are bounded.
   */
  scan(b: Uint8Array, start: number, end: number): number {
    this.fastAt = -1;
    if (b[start] !== 0x7b) return -1;
    this.reset();
    let classes: string[] | undefined;
    let classesProblem = false;
    let boxesSeen = false;
    let i = skipWs(b, start + 1, end);
    if (b[i] === 0x7d) {
      i++;
    } else {
      for (;;) {
        if (b[i] !== 0x22) return -1;
        const keyStart = i + 1;
        i = skipStringBody(b, keyStart, end);
        if (i < 0) return -1;
        const keyLength = i - 1 - keyStart;
        i = skipWs(b, i, end);
        if (b[i] !== 0x3a) return -1;
        i = skipWs(b, i + 1, end);
        if (keyLength === 5 && bytesEqual(b, keyStart, 'boxes')) {
          if (b[i] !== 0x7b || boxesSeen) return -1; // unusual: let the slow path explain
          boxesSeen = true;
          i = this.scanBoxes(b, i, end);
          if (i < 0) return -1;
        } else if (keyLength === 7 && bytesEqual(b, keyStart, 'classes')) {
          const valueStart = i;
          i = skipValueFn(b, i, end);
          if (i < 0) return -1;
          if (b[valueStart] === 0x6e) {
            classes = undefined;
          } else {
            classes = parseStringArray(b, valueStart, i);
            classesProblem = classes === undefined;
          }
        } else {
          i = skipValueFn(b, i, end);
          if (i < 0) return -1;
        }
        if (b[i]! <= 0x20) i = skipWs(b, i, end);
        if (b[i] === 0x2c) {
          i = skipWs(b, i + 1, end);
          continue;
        }
        if (b[i] !== 0x7d) return -1;
        i++;
        break;
      }
    }
    if (i > end) return -1;
    this.fastAt = start;
    this.fastProblem = classesProblem
      ? 'soft-labels.classes must be an array of strings'
      : !boxesSeen
        ? 'soft-labels has no boxes'
        : this.finish(b, classes, this.out, this.base);
    return i;
  }

  /** Parses `{"id": [numbers], ...}` strictly; -1 on anything else. */
  private scanBoxes(b: Uint8Array, i: number, end: number): number {
    i = skipWs(b, i + 1, end);
    if (b[i] === 0x7d) return i + 1;
    const stop = STRING_STOP;
    for (;;) {
      if (b[i] !== 0x22) return -1;
      const keyQuote = i;
      i++;
      while (stop[b[i]!] === 0) i++;
      if (b[i] === 0x22) i++;
      else {
        i = skipStringBody(b, i, end);
        if (i < 0) return -1;
      }
      if (b[i] !== 0x3a) {
        i = skipWs(b, i, end);
        if (b[i] !== 0x3a) return -1;
      }
      i++;
      if (b[i] !== 0x5b) {
        i = skipWs(b, i, end);
        if (b[i] !== 0x5b) return -1;
      }
      i++;
      const boxStart = this.used;
      if (b[i]! <= 0x20) i = skipWs(b, i, end);
      if (b[i] !== 0x5d) {
        for (;;) {
          i = this.scanNumber(b, i);
          if (i < 0) return -1;
          let c = b[i]!;
          if (c <= 0x20) {
            i = skipWs(b, i, end);
            c = b[i]!;
          }
          if (c === 0x2c) {
            i++;
            if (b[i]! <= 0x20) i = skipWs(b, i, end);
            continue;
          }
          if (c === 0x5d) break;
          return -1;
        }
      }
      i++; // ']'
      this.boxStarts.push(boxStart);
      this.boxLengths.push(this.used - boxStart);
      this.boxKeys.push(keyQuote);
      if (b[i]! <= 0x20) i = skipWs(b, i, end);
      if (b[i] === 0x2c) {
        i++;
        if (b[i]! <= 0x20) i = skipWs(b, i, end);
        continue;
      }
      if (b[i] === 0x7d) return i + 1;
      return -1;
    }
  }

  /**
   * Validates (JSON grammar) and parses one number at i; returns the offset past it or -1.
   * Up to 15 significant digits and |exponent| <= 22, mantissa / 10^k is a single correctly
   * rounded operation, so the value equals JSON.parse's. Longer mantissas (float32 printed
   * with 17 digits) are within a few ulps, far below the float32 precision of the scores.
   */
  private scanNumber(b: Uint8Array, i: number): number {
    const start = i;
    let neg = false;
    let c = b[i]!;
    if (c === 0x2d) {
      neg = true;
      c = b[++i]!;
    }
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    if (c === 0x30) {
      c = b[++i]!;
    } else if (c > 0x30 && c <= 0x39) {
      do {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        c = b[++i]!;
      } while (c >= 0x30 && c <= 0x39);
    } else {
      return -1;
    }
    if (c === 0x2e) {
      c = b[++i]!;
      if (!(c >= 0x30 && c <= 0x39)) return -1;
      do {
        mantissa = mantissa * 10 + (c - 0x30);
        if (mantissa !== 0) digits++;
        scale++;
        c = b[++i]!;
      } while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      c = b[++i]!;
      let expNeg = false;
      if (c === 0x2b || c === 0x2d) {
        expNeg = c === 0x2d;
        c = b[++i]!;
      }
      if (!(c >= 0x30 && c <= 0x39)) return -1;
      let exp = 0;
      do {
        if (exp < 100000) exp = exp * 10 + (c - 0x30);
        c = b[++i]!;
      } while (c >= 0x30 && c <= 0x39);
      scale += expNeg ? exp : -exp;
    }
    let v: number;
    if (digits <= 308 && scale >= 0 && scale <= 22) v = mantissa / POW10[scale]!;
    else if (digits <= 308 && scale < 0 && scale >= -22) v = mantissa * POW10[-scale]!;
    else v = Number(String.fromCharCode.apply(null, b.subarray(start, i) as unknown as number[]));
    this.push(neg ? -v : v);
    return i;
  }

  /**
   * The slow path, for soft labels the fast path declined: reads an already-validated value
   * leniently and explains what is unusable. Returns a problem, or undefined when the scores
   * were written.
   */
  score(b: Uint8Array, start: number, end: number, out: Float32Array, base: number): string | undefined {
    this.reset();
    let i = skipWs(b, start + 1, end); // past '{'
    let classes: string[] | undefined;
    let boxesStart = -1;
    let boxesEnd = -1;
    while (b[i] !== 0x7d) {
      const keyStart = i + 1;
      i = skipStringBody(b, keyStart, end);
      const keyEnd = i - 1;
      i = skipWs(b, i, end) + 1; // ':'
      i = skipWs(b, i, end);
      const valueStart = i;
      i = skipValueFn(b, i, end);
      if (keyEnd - keyStart === 5 && bytesEqual(b, keyStart, 'boxes')) {
        boxesStart = valueStart;
        boxesEnd = i;
      } else if (keyEnd - keyStart === 7 && bytesEqual(b, keyStart, 'classes')) {
        if (b[valueStart] === 0x6e) {
          classes = undefined;
        } else {
          classes = parseStringArray(b, valueStart, i);
          if (classes === undefined) return 'soft-labels.classes must be an array of strings';
        }
      }
      i = skipWs(b, i, end);
      if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
    }
    if (boxesStart < 0) return 'soft-labels has no boxes';
    if (b[boxesStart] !== 0x7b) return 'soft-labels.boxes must be an object';
    i = skipWs(b, boxesStart + 1, boxesEnd);
    while (b[i] !== 0x7d) {
      const keyStart = i;
      i = skipStringBody(b, i + 1, boxesEnd);
      i = skipWs(b, i, boxesEnd) + 1;
      i = skipWs(b, i, boxesEnd);
      if (b[i] !== 0x5b) return `soft-labels.boxes.${boxKeyOf(b, keyStart)} must be an array of probabilities`;
      const boxStart = this.used;
      i = skipWs(b, i + 1, boxesEnd);
      if (b[i] !== 0x5d) {
        for (;;) {
          const c = b[i]!;
          if (c !== 0x2d && (c < 0x30 || c > 0x39)) return `soft-labels.boxes.${boxKeyOf(b, keyStart)} must be an array of probabilities`;
          i = this.scanNumber(b, i);
          i = skipWs(b, i, boxesEnd);
          if (b[i] === 0x5d) break;
          i = skipWs(b, i + 1, boxesEnd); // ','
        }
      }
      i++; // ']'
      this.boxStarts.push(boxStart);
      this.boxLengths.push(this.used - boxStart);
      this.boxKeys.push(keyStart);
      i = skipWs(b, i, boxesEnd);
      if (b[i] === 0x2c) i = skipWs(b, i + 1, boxesEnd);
    }
    return this.finish(b, classes, out, base);
  }

  /** Checks the parsed boxes against the class count and writes the image scores. */
  private finish(b: Uint8Array, classes: string[] | undefined, out: Float32Array, base: number): string | undefined {
    const n = classes ? classes.length : DEFAULT_CLASS_COUNT;
    const other = classes ? classes.indexOf(OTHER_CLASS) : DEFAULT_OTHER_INDEX;
    if (n < 2) return 'soft-labels.classes must name at least 2 classes';
    const count = this.boxStarts.length;
    for (let k = 0; k < count; k++) {
      if (this.boxLengths[k] !== n) {
        return `soft-labels.boxes.${boxKeyOf(b, this.boxKeys[k]!)} has ${this.boxLengths[k]} probabilities, expected ${n}`;
      }
    }
    const acc = this.acc;
    acc.fill(0);
    let fieldBoxes = 0;
    const p = this.probs;
    const logN = Math.log(n);
    const box = this.boxScores;
    for (let k = 0; k < count; k++) {
      // The four scores of src/core/sampling/scores.ts (same formulas, same operation order),
      // fused into one pass for the top two and one for the entropy instead of four calls.
      const off = this.boxStarts[k]!;
      let sum = 0;
      let p1 = -1;
      let p2 = -1;
      let top = 0;
      let usable = true;
      for (let c = 0; c < n; c++) {
        const v = p[off + c]!;
        if (!(v >= 0) || v === Infinity) usable = false;
        sum += v;
        if (v > p1) {
          p2 = p1;
          p1 = v;
          top = c;
        } else if (v > p2) {
          p2 = v;
        }
      }
      if (!usable || !(sum > 0)) {
        return `soft-labels.boxes.${boxKeyOf(b, this.boxKeys[k]!)} has unusable probabilities (negative or all zero)`;
      }
      let h = 0;
      for (let c = 0; c < n; c++) {
        const q = p[off + c]! / sum;
        if (q > 0) h -= q * Math.log(q);
      }
      box[0] = clamp01(((1 - p1 / sum) * n) / (n - 1));
      box[1] = clamp01(1 - (p1 - p2) / sum);
      box[2] = clamp01(p2 / p1);
      box[3] = clamp01(h / logN);
      const isField = top !== other;
      if (isField) fieldBoxes++;
      for (let s = 0; s < 4; s++) {
        const v = box[s]!;
        const slotMax = s * 6;
        const slotSum = s * 6 + 4;
        if (v > acc[slotMax]!) acc[slotMax] = v;
        acc[slotSum] += v;
        if (isField) {
          if (v > acc[slotMax + 1]!) acc[slotMax + 1] = v;
          acc[slotSum + 1] += v;
        }
      }
    }
    for (let s = 0; s < 4; s++) {
      const slotMax = s * 6;
      const slotMean = s * 6 + 2;
      const slotSum = s * 6 + 4;
      out[base + slotMax] = acc[slotMax]!;
      out[base + slotMax + 1] = acc[slotMax + 1]!;
      out[base + slotSum] = acc[slotSum]!;
      out[base + slotSum + 1] = acc[slotSum + 1]!;
      out[base + slotMean] = count > 0 ? acc[slotSum]! / count : 0;
      out[base + slotMean + 1] = fieldBoxes > 0 ? acc[slotSum + 1]! / fieldBoxes : 0;
    }
    return undefined;
  }

  private readonly acc = new Float64Array(IMAGE_SCORE_SLOTS);
  private readonly boxScores = new Float64Array(4);
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function bytesEqual(b: Uint8Array, at: number, ascii: string): boolean {
  for (let k = 0; k < ascii.length; k++) if (b[at + k] !== ascii.charCodeAt(k)) return false;
  return true;
}

function boxKeyOf(b: Uint8Array, quote: number): string {
  const end = skipStringBody(b, quote + 1, b.length);
  return decodeStringBody(b, quote + 1, end - 1);
}

/** Parses a validated array value; undefined when an element is not a string. */
function parseStringArray(b: Uint8Array, start: number, end: number): string[] | undefined {
  if (b[start] !== 0x5b) return undefined;
  const out: string[] = [];
  let i = skipWs(b, start + 1, end);
  while (b[i] !== 0x5d) {
    if (b[i] !== 0x22) return undefined;
    const s = i + 1;
    i = skipStringBody(b, s, end);
    out.push(decodeStringBody(b, s, i - 1));
    i = skipWs(b, i, end);
    if (b[i] === 0x2c) i = skipWs(b, i + 1, end);
  }
  return out;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

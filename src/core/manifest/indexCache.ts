/**
 * Persists a built ManifestIndex so reopening an unchanged manifest costs a stat, two 64 KiB
 * reads and one small file read instead of a scan of the whole manifest.
 *
 * Where: `<dir of manifest>/.ocr-al/` by default (`defaultCacheDir`), or any directory the
 * caller passes (e.g. the extension's global storage for S3 batches). One file per manifest
 * and label attribute: `<manifest name>.<hash>.idx`.
 *
 * Key: the source identity (size + mtime locally, ETag on S3), a content fingerprint
 * (SHA-1 of the size and the first and last 64 KiB: catches a rewrite that kept size and
 * mtime), the label attribute and the format version. Any mismatch, a truncated or corrupt
 * file (checked with a CRC-32 of the body) means a rebuild; the cache is never trusted over the
 * manifest. Writes are atomic (temp file + rename) so a crash leaves the old cache or none.
 *
 * Format: "OCRALIDX" | u32 header length | JSON header | padding to 8 | sections, each
 * 8-aligned: offsets f64[n], lengths u32[n], lines u32[n], statuses u8[n],
 * scores f32[n * IMAGE_SCORE_SLOTS], ref lengths u32[n] (UTF-8 bytes, 0xffffffff = none),
 * a JSON blob of problems, and the refs concatenated as UTF-8 (decoded lazily).
 */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import * as path from 'node:path';
import { OcrAlError } from '../errors';
import type { FileSystem } from '../fileSystem';
import { readWholeFile, type ByteSource } from './byteSource';
import { IMAGE_SCORE_SLOTS, ManifestIndex, type BuildOptions, type IndexBuild, type IndexParts } from './manifestIndex';
import { DEFAULT_LABEL_ATTRIBUTE } from './status';
import type { EntrySummary } from './types';

/** Bumped whenever the layout or the meaning of any stored field changes. */
export const INDEX_FORMAT_VERSION = 4;
const MAGIC = 'OCRALIDX';
const FINGERPRINT_SPAN = 64 * 1024;

/** The default cache directory of a local manifest: `.ocr-al` beside it. */
export function defaultCacheDir(manifestPath: string): string {
  return path.join(path.dirname(manifestPath), '.ocr-al');
}

/** The cache file of a source in `cacheDir`. */
export function cacheFileFor(cacheDir: string, sourceName: string, labelAttribute: string): string {
  const hash = createHash('sha1').update(sourceName).update('\0').update(labelAttribute).digest('hex').slice(0, 12);
  return path.join(cacheDir, `${path.basename(sourceName)}.${hash}.idx`);
}

/** What identifies one version of a manifest's content. */
export interface CacheKey {
  readonly identity: string;
  readonly fingerprint: string;
  readonly labelAttribute: string;
  readonly version: number;
}

/** SHA-1 over the size and the first and last 64 KiB of the source. */
export async function fingerprintOf(source: ByteSource, size?: number): Promise<string> {
  const total = size ?? (await source.size());
  const hash = createHash('sha1').update(String(total)).update('\0');
  const tailStart = Math.max(FINGERPRINT_SPAN, total - FINGERPRINT_SPAN);
  const [head, tail] = await Promise.all([
    source.read(0, Math.min(FINGERPRINT_SPAN, total)),
    total > FINGERPRINT_SPAN ? source.read(tailStart, total - tailStart) : Promise.resolve(new Uint8Array(0)),
  ]);
  return hash.update(head).update(tail).digest('hex');
}

/** The cache key of the source as it is now. */
export async function cacheKeyOf(source: ByteSource, labelAttribute: string): Promise<CacheKey> {
  const identity = await source.identity();
  const size = Number(identity.split(':')[0]);
  const fingerprint = await fingerprintOf(source, Number.isFinite(size) && /^\d+:/.test(identity) ? size : undefined);
  return { identity, fingerprint, labelAttribute, version: INDEX_FORMAT_VERSION };
}

interface Header {
  readonly key: CacheKey;
  readonly sourceName: string;
  readonly bytes: number;
  readonly lineCount: number;
  readonly entryCount: number;
  readonly slots: number;
  readonly bodyLength: number;
  readonly bodyChecksum: string;
  /** Byte length of each body section, in order (each starts 8-aligned). */
  readonly sectionLengths: number[];
}

interface ProblemsBlob {
  readonly problems: [number, string][];
  readonly softLabelProblems: [number, string][];
}

/** Marks an entry without a source-ref in the ref-length section. */
const NO_REF = 0xffffffff;

const align8 = (n: number): number => (n + 7) & ~7;

/** Serializes an index with its key. */
export function encodeIndex(index: ManifestIndex, key: CacheKey): Uint8Array {
  const p = index.parts;
  const n = p.entryCount;
  // Refs: one UTF-8 byte length per entry plus all refs concatenated, so a warm open needs
  // no per-ref work at all: refs are decoded when first asked for (LazyRefs).
  const refLengths = new Uint32Array(n);
  const refParts: Uint8Array[] = [];
  let refBytes = 0;
  const encoder = new TextEncoder();
  for (let i = 0; i < n; i++) {
    const r = p.refs.at(i);
    if (r === undefined) {
      refLengths[i] = NO_REF;
    } else {
      const bytes = encoder.encode(r);
      refLengths[i] = bytes.length;
      refParts.push(bytes);
      refBytes += bytes.length;
    }
  }
  const refText = new Uint8Array(refBytes);
  for (let i = 0, at = 0; i < refParts.length; at += refParts[i]!.length, i++) refText.set(refParts[i]!, at);
  const problems: ProblemsBlob = { problems: [...p.problems], softLabelProblems: [...p.softLabelProblems] };
  const sections: Uint8Array[] = [
    bytesOf(p.offsets.subarray(0, n)),
    bytesOf(p.lengths.subarray(0, n)),
    bytesOf(p.lines.subarray(0, n)),
    p.statuses.subarray(0, n),
    bytesOf(p.scores.subarray(0, n * IMAGE_SCORE_SLOTS)),
    bytesOf(refLengths),
    new TextEncoder().encode(JSON.stringify(problems)),
    refText,
  ];
  const sectionLengths = sections.map((x) => x.length);
  let bodyLength = 0;
  for (const s of sections) bodyLength = align8(bodyLength) + s.length;
  const body = new Uint8Array(bodyLength);
  let at = 0;
  for (const s of sections) {
    at = align8(at);
    body.set(s, at);
    at += s.length;
  }
  const header: Header = {
    key,
    sourceName: p.sourceName,
    bytes: p.bytes,
    lineCount: p.lineCount,
    entryCount: n,
    slots: IMAGE_SCORE_SLOTS,
    bodyLength,
    bodyChecksum: bodyChecksum(body),
    sectionLengths,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const bodyStart = align8(12 + headerBytes.length);
  const out = new Uint8Array(bodyStart + bodyLength);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  out.set(body, bodyStart);
  return out;
}

/**
 * Parses a cache file; returns undefined when it is corrupt or its key differs from
 * `expected` (any field). `source` becomes the index's source for `readEntry`.
 */
export function decodeIndex(data: Uint8Array, expected: CacheKey, source: ByteSource | undefined): ManifestIndex | undefined {
  try {
    if (data.length < 12 || new TextDecoder().decode(data.subarray(0, 8)) !== MAGIC) return undefined;
    const headerLength = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(8, true);
    if (12 + headerLength > data.length) return undefined;
    const header = JSON.parse(new TextDecoder().decode(data.subarray(12, 12 + headerLength))) as Header;
    const k = header.key;
    if (
      !k ||
      k.identity !== expected.identity ||
      k.fingerprint !== expected.fingerprint ||
      k.labelAttribute !== expected.labelAttribute ||
      k.version !== expected.version ||
      header.slots !== IMAGE_SCORE_SLOTS
    ) {
      return undefined;
    }
    const bodyStart = align8(12 + headerLength);
    if (data.length !== bodyStart + header.bodyLength) return undefined;
    let body = data.subarray(bodyStart);
    if (bodyChecksum(body) !== header.bodyChecksum) return undefined;
    // Typed-array views need aligned offsets; copy once if the buffer is not 8-aligned.
    if (body.byteOffset % 8 !== 0) body = body.slice();
    const n = header.entryCount;
    let at = 0;
    const take = <T>(bytesPerItem: number, count: number, make: (buffer: ArrayBufferLike, offset: number, length: number) => T): T => {
      at = align8(at);
      const view = make(body.buffer, body.byteOffset + at, count);
      at += bytesPerItem * count;
      return view;
    };
    const offsets = take(8, n, (b, o, l) => new Float64Array(b, o, l));
    const lengths = take(4, n, (b, o, l) => new Uint32Array(b, o, l));
    const lines = take(4, n, (b, o, l) => new Uint32Array(b, o, l));
    const statuses = take(1, n, (b, o, l) => new Uint8Array(b, o, l));
    const scores = take(4, n * IMAGE_SCORE_SLOTS, (b, o, l) => new Float32Array(b, o, l));
    const refLengths = take(4, n, (b, o, l) => new Uint32Array(b, o, l));
    at = align8(at);
    const problemsLength = header.sectionLengths[6]!;
    const problems = JSON.parse(new TextDecoder().decode(body.subarray(at, at + problemsLength))) as ProblemsBlob;
    at = align8(at + problemsLength);
    const refText = body.subarray(at, at + header.sectionLengths[7]!);
    const refs = LazyRefs.from(refLengths, refText);
    if (!refs) return undefined;
    const parts: IndexParts = {
      sourceName: header.sourceName,
      labelAttribute: k.labelAttribute,
      bytes: header.bytes,
      lineCount: header.lineCount,
      entryCount: n,
      offsets,
      lengths,
      lines,
      statuses,
      scores,
      refs,
      problems: new Map(problems.problems),
      softLabelProblems: new Map(problems.softLabelProblems),
    };
    for (let i = 0; i < n; i++) if (statuses[i]! > 4) return undefined;
    return new ManifestIndex(parts, source);
  } catch {
    return undefined; // corrupt: rebuild
  }
}

/**
 * The body's checksum: CRC-32, native in node:zlib (Node >= 20.15), made for catching damaged
 * data and several times cheaper than a cryptographic hash over the few MB of a large index
 * (this is most of a warm open's work). Older Node versions fall back to SHA-256.
 */
function bodyChecksum(bytes: Uint8Array): string {
  const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  return crc32 ? `crc32:${crc32(bytes).toString(16)}` : `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Source-refs of a cached index, decoded from the UTF-8 blob on first use (one at a time, or
 * all at once when a caller walks them all, e.g. to sort by name or to find a ref).
 */
class LazyRefs {
  private readonly decoded: (string | undefined)[];
  private decodedAll = false;

  private constructor(
    private readonly starts: Float64Array,
    private readonly lengths: Uint32Array,
    private readonly text: Uint8Array,
  ) {
    this.decoded = new Array<string | undefined>(lengths.length);
  }

  /** Undefined when the lengths do not add up to the blob (a damaged cache). */
  static from(lengths: Uint32Array, text: Uint8Array): LazyRefs | undefined {
    const starts = new Float64Array(lengths.length);
    let at = 0;
    for (let i = 0; i < lengths.length; i++) {
      starts[i] = at;
      const length = lengths[i]!;
      if (length !== NO_REF) at += length;
    }
    return at === text.length ? new LazyRefs(starts, lengths, text) : undefined;
  }

  private lookups = 0;

  at(i: number): string | undefined {
    const length = this.lengths[i];
    if (length === undefined || length === NO_REF) return undefined;
    const known = this.decoded[i];
    if (known !== undefined) return known;
    // Many single lookups: decode everything once (one TextDecoder call instead of 40k).
    if (!this.decodedAll && ++this.lookups > 256) this.decodeAll();
    const value = this.decoded[i] ?? utf8.decode(this.text.subarray(this.starts[i], this.starts[i]! + length));
    this.decoded[i] = value;
    return value;
  }

  private decodeAll(): void {
    this.decodedAll = true;
    // Byte offsets equal string offsets only for ASCII; otherwise decode ref by ref.
    for (let k = 0; k < this.text.length; k++) {
      if (this.text[k]! >= 0x80) {
        for (let i = 0; i < this.lengths.length; i++) {
          const length = this.lengths[i]!;
          if (length !== NO_REF) this.decoded[i] = utf8.decode(this.text.subarray(this.starts[i], this.starts[i]! + length));
        }
        return;
      }
    }
    const all = utf8.decode(this.text);
    for (let i = 0; i < this.lengths.length; i++) {
      const length = this.lengths[i]!;
      if (length !== NO_REF) this.decoded[i] = all.slice(this.starts[i], this.starts[i]! + length);
    }
  }
}

const utf8 = new TextDecoder();

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Options of `openManifestIndex`. */
export interface OpenOptions extends BuildOptions {
  /** Where the cache lives; `false` disables it. Default: `defaultCacheDir(source.name)`. */
  readonly cacheDir?: string | false;
  /** Told about a cache that could not be written (the index itself is still fine). */
  readonly onCacheWarning?: (message: string) => void;
  /**
   * Builds the index when the cache cannot serve it (default `ManifestIndex.build`). Callers
   * outside the core inject e.g. a multi-threaded builder for local files.
   */
  readonly builder?: (source: ByteSource, options: BuildOptions) => IndexBuild;
}

/** An index being opened: like IndexBuild, plus whether it came from the cache. */
export interface IndexOpen extends IndexBuild {
  /** True when the cache was valid and no scan was needed. */
  readonly fromCache: Promise<boolean>;
  /** Settles once the cache has been written after a build (or was not needed / failed). */
  readonly cacheSettled: Promise<void>;
}

/** Reads the cache for `source` if it is valid for its current content. */
export async function loadCachedIndex(
  fs: FileSystem,
  source: ByteSource,
  cacheDir: string,
  key: CacheKey,
): Promise<ManifestIndex | undefined> {
  const data = await readCacheFile(fs, cacheDir, source.name, key.labelAttribute);
  return data === undefined ? undefined : decodeIndex(data, key, source);
}

async function readCacheFile(fs: FileSystem, cacheDir: string, sourceName: string, labelAttribute: string): Promise<Uint8Array | undefined> {
  return readWholeFile(fs, cacheFileFor(cacheDir, sourceName, labelAttribute));
}

/** Writes the cache atomically (temp file + rename). Throws OcrAlError('Io') on failure. */
export async function saveIndexCache(fs: FileSystem, index: ManifestIndex, cacheDir: string, key: CacheKey): Promise<void> {
  const file = cacheFileFor(cacheDir, index.sourceName, key.labelAttribute);
  const temp = `${file}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    await fs.mkdir(cacheDir, { recursive: true });
    await fs.writeFile(temp, encodeIndex(index, key));
    await fs.rename(temp, file);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw new OcrAlError('Io', `cannot write the index cache ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * Opens the index of `source`: from the cache when it is valid for the current content,
 * otherwise by building it (then saving the cache, unless the source changed meanwhile).
 */
export function openManifestIndex(fs: FileSystem, source: ByteSource, options: OpenOptions = {}): IndexOpen {
  const labelAttribute = options.labelAttribute ?? DEFAULT_LABEL_ATTRIBUTE;
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir(source.name) : options.cacheDir;
  let resolveFromCache!: (value: boolean) => void;
  const fromCache = new Promise<boolean>((resolve) => (resolveFromCache = resolve));
  let settle!: () => void;
  const cacheSettled = new Promise<void>((resolve) => (settle = resolve));
  let build: IndexBuild | undefined;
  const started = (async (): Promise<{ index?: ManifestIndex; build?: IndexBuild }> => {
    if (cacheDir === false) {
      resolveFromCache(false);
      settle();
      return { build: (options.builder ?? ManifestIndex.build)(source, options) };
    }
    // The cache file is read while the key (stat + fingerprint reads) is being computed.
    const [key, data] = await Promise.all([cacheKeyOf(source, labelAttribute), readCacheFile(fs, cacheDir, source.name, labelAttribute)]);
    const cached = data === undefined ? undefined : decodeIndex(data, key, source);
    if (cached) {
      resolveFromCache(true);
      settle();
      return { index: cached };
    }
    resolveFromCache(false);
    build = (options.builder ?? ManifestIndex.build)(source, options);
    void build.done.then(async (index) => {
      try {
        if ((await source.identity()) !== key.identity) return; // changed while we read it
        await saveIndexCache(fs, index, cacheDir, key);
      } catch (error) {
        options.onCacheWarning?.(OcrAlError.from(error).message);
      } finally {
        settle();
      }
    }, settle);
    return { build };
  })();
  started.catch(() => {
    resolveFromCache(false);
    settle();
  });
  const done = started.then((s) => s.index ?? s.build!.done);
  done.catch(() => undefined);
  return {
    fromCache,
    cacheSettled,
    done,
    async firstPage(count: number): Promise<EntrySummary[]> {
      const s = await started;
      if (s.index) return s.index.page(0, count);
      return s.build!.firstPage(count);
    },
  };
}

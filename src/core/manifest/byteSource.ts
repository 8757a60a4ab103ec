/**
 * Random access to the bytes of a manifest, wherever it lives. The index streams through a
 * source in large reads and later reads single lines back; a local file implements it with
 * positional reads, S3 with ranged GETs (src/sources). `identity()` is the cheap "has it
 * changed?" key the index cache checks first (size + mtime here, size + ETag on S3).
 */
import { OcrAlError } from '../errors';
import type { FileHandle, FileSystem } from '../fileSystem';

export interface ByteSource {
  /** For messages and cache keys: a path or an `s3://` URI. */
  readonly name: string;
  /** Current size in bytes. */
  size(): Promise<number>;
  /**
   * Reads up to `length` bytes at `offset`; returns fewer only at the end of the source
   * (an empty array past it).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional zero-copy variant of `read` into a caller's buffer; returns the byte count.
   * The index uses it when present so streaming a large file allocates nothing per chunk.
   */
  readInto?(target: Uint8Array, targetOffset: number, offset: number, length: number): Promise<number>;
  /** A string that changes whenever the content may have changed (e.g. `size:mtimeMs`, S3 ETag). */
  identity(): Promise<string>;
}

/**
 * A local file as a ByteSource. No handle is held between reads (the manifest can be renamed
 * over by compaction at any time): reads open the file, and the last concurrent one closes it.
 */
export function fileByteSource(fs: FileSystem, path: string): ByteSource {
  // Concurrent reads share one handle (opened on demand, closed when the last read ends): on
  // a busy machine each open/close is a thread-pool round trip worth avoiding.
  let shared: Promise<FileHandle> | undefined;
  let users = 0;
  async function withHandle<T>(run: (handle: FileHandle) => Promise<T>): Promise<T> {
    users++;
    const opening = (shared ??= fs.open(path, 'r'));
    let handle: FileHandle;
    try {
      handle = await opening;
    } catch (error) {
      if (--users === 0) shared = undefined;
      throw ioError(path, error);
    }
    try {
      return await run(handle);
    } catch (error) {
      throw ioError(path, error);
    } finally {
      if (--users === 0) {
        shared = undefined;
        await handle.close();
      }
    }
  }
  async function readInto(target: Uint8Array, targetOffset: number, offset: number, length: number): Promise<number> {
    return withHandle(async (handle) => {
      let total = 0;
      // A positional read may return short before EOF (pipes, network file systems): loop.
      while (total < length) {
        const { bytesRead } = await handle.read(target, targetOffset + total, length - total, offset + total);
        if (bytesRead === 0) break;
        total += bytesRead;
      }
      return total;
    });
  }
  return {
    name: path,
    async size() {
      return (await statOf(fs, path)).size;
    },
    async read(offset, length) {
      const target = new Uint8Array(length);
      const n = await readInto(target, 0, offset, length);
      return n === length ? target : target.subarray(0, n);
    },
    readInto,
    async identity() {
      const stats = await statOf(fs, path);
      return `${stats.size}:${stats.mtimeMs}`;
    },
  };
}

/**
 * Reads a whole (small) file with one open, one fstat and one read: `fs.readFile` reads in
 * 512 KiB pieces, each a thread-pool round trip. Undefined when it does not exist.
 */
export async function readWholeFile(fs: FileSystem, path: string): Promise<Uint8Array | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await handle.stat();
    const target = new Uint8Array(size);
    let total = 0;
    while (total < size) {
      const { bytesRead } = await handle.read(target, total, size - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return total === size ? target : target.subarray(0, total);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

async function statOf(fs: FileSystem, path: string) {
  try {
    return await fs.stat(path);
  } catch (error) {
    throw ioError(path, error);
  }
}

function ioError(path: string, error: unknown): OcrAlError {
  if (OcrAlError.is(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return new OcrAlError('NotFound', `no such file: ${path}`, { cause: error });
  if (code === 'EISDIR') return new OcrAlError('BadInput', `is a directory, not a manifest: ${path}`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new OcrAlError('AccessDenied', `cannot read ${path}`, { cause: error });
  return new OcrAlError('Io', `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** An in-memory ByteSource (tests, demo data, and small manifests fetched whole). */
export function memoryByteSource(bytes: Uint8Array, name = 'memory', identity = `${bytes.length}`): ByteSource {
  return {
    name,
    async size() {
      return bytes.length;
    },
    async read(offset, length) {
      return bytes.slice(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
    },
    async readInto(target, targetOffset, offset, length) {
      const part = bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
      target.set(part, targetOffset);
      return part.length;
    },
    async identity() {
      return identity;
    },
  };
}

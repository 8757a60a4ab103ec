/**
 * Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over
 * the target, fsync the directory. A reader (or a process restarted after a crash) sees either
 * the old file or the complete new one, never a mix. The directory fsync is what makes the
 * rename itself durable: without it a power loss can bring the old name back after we said
 * "done".
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FileHandle, FileSystem } from '../fileSystem';
import { OcrAlError } from '../errors';

/** Identity of a file on disk, as far as the manifest journal needs it (see docs/edits.md). */
export interface FileIdentity {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** True when `a` and `b` name the same file version (same inode, size and modification time). */
export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Reads the identity of `filePath`, or undefined when it does not exist. */
export async function fileIdentity(fs: FileSystem, filePath: string): Promise<FileIdentity | undefined> {
  try {
    const s = await fs.stat(filePath);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw OcrAlError.from(error, 'Io');
  }
}

/** The `code` of a Node system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Makes the directory entries of `dir` durable (new names, renames, unlinks). Platforms that
 * cannot open a directory for fsync (Windows) skip it: there, rename is the best we can do.
 */
export async function fsyncDirectory(fs: FileSystem, dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'EBADF' || code === 'ENOTSUP') return;
    throw OcrAlError.from(error, 'Io');
  } finally {
    await handle?.close();
  }
}

/** Writes all of `bytes` at the handle's position (loops over short writes). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position === undefined ? null : position + done);
    if (bytesWritten <= 0) throw new OcrAlError('Io', 'write made no progress');
    done += bytesWritten;
  }
}

/**
 * A temp file being written for an atomic replace. Call `write` any number of times, then
 * `finish` (flush + fsync + close, returns the temp file's identity), then `commit` (rename
 * over the target + directory fsync). `abort` removes the temp file; it is safe after a failure
 * at any step.
 */
export interface AtomicWriter {
  readonly tempPath: string;
  readonly targetPath: string;
  write(bytes: Uint8Array): Promise<void>;
  finish(): Promise<FileIdentity>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Options of {@link openAtomicWriter}. */
export interface AtomicWriterOptions {
  /**
   * Temp file name. Default: `<target>.<random>.tmp`. Compaction passes a fixed name so a
   * leftover from a crashed run is found and replaced instead of piling up.
   */
  readonly tempPath?: string;
  /** Buffer size before a write reaches the file (default 1 MiB). */
  readonly bufferSize?: number;
  /** Permission bits of the new file (compaction passes the manifest's own, so a 0600 file stays 0600). */
  readonly mode?: number;
}

/** Opens a temp file beside `targetPath` for an atomic replace (see {@link AtomicWriter}). */
export async function openAtomicWriter(fs: FileSystem, targetPath: string, options: AtomicWriterOptions = {}): Promise<AtomicWriter> {
  const tempPath = options.tempPath ?? `${targetPath}.${randomBytes(6).toString('hex')}.tmp`;
  const bufferSize = options.bufferSize ?? 1 << 20;
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(tempPath, 'w', options.mode ?? 0o644);
    if (options.mode !== undefined) await handle.chmod(options.mode);
  } catch (error) {
    throw new OcrAlError('Io', `cannot create ${tempPath}: ${(error as Error).message}`, { cause: error });
  }
  const open = handle;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let closed = false;
  let position = 0;

  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await writeAll(open, chunk, position);
    position += chunk.length;
  };

  return {
    tempPath,
    targetPath,
    async write(bytes) {
      if (closed) throw new OcrAlError('Internal', 'write after finish');
      if (bytes.length >= bufferSize) {
        await flush();
        await writeAll(open, bytes, position);
        position += bytes.length;
        return;
      }
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= bufferSize) await flush();
    },
    async finish() {
      await flush();
      await open.sync();
      const s = await open.stat();
      closed = true;
      await open.close();
      return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
    },
    async commit() {
      if (!closed) throw new OcrAlError('Internal', 'commit before finish');
      try {
        await fs.rename(tempPath, targetPath);
      } catch (error) {
        throw new OcrAlError('Io', `cannot replace ${targetPath}: ${(error as Error).message}`, { cause: error });
      }
      await fsyncDirectory(fs, path.dirname(targetPath));
    },
    async abort() {
      if (!closed) {
        closed = true;
        await open.close().catch(() => undefined);
      }
      await fs.unlink(tempPath).catch(() => undefined);
    },
  };
}

/** Replaces `targetPath` with `data` atomically (temp + fsync + rename + directory fsync). */
export async function writeFileAtomic(fs: FileSystem, targetPath: string, data: Uint8Array | string): Promise<void> {
  const writer = await openAtomicWriter(fs, targetPath);
  try {
    await writer.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    await writer.finish();
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw OcrAlError.from(error, 'Io');
  }
}

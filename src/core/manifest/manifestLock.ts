/**
 * An exclusive lock per manifest, held while the edits journal is appended to or the manifest
 * is compacted, so two `ocr-al` processes (or the extension and a terminal) cannot interleave
 * a truncate-and-append with a compaction. The lock is a file `<manifest>.lock` created with
 * O_EXCL holding the owner's pid. A lock whose owner is dead (a crash, kill -9) is stale and
 * is broken by the next process; readers never take it (the journal format lets them ignore a
 * record that is being written).
 */
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { FileSystem } from '../fileSystem';
import { OcrAlError } from '../errors';
import { errnoCode } from './atomicWrite';

/** The lock file of a manifest. */
export function lockPathFor(manifestPath: string): string {
  return `${manifestPath}.lock`;
}

/** Options of {@link withManifestLock}. */
export interface LockOptions {
  /** Our pid, written into the lock (default `process.pid`). */
  readonly pid?: number;
  /** Whether a pid is alive (default: `process.kill(pid, 0)` succeeds or fails with EPERM). */
  readonly isAlive?: (pid: number) => boolean;
  /** How long to wait for a live owner before failing with 'Conflict' (default 10 s). */
  readonly timeoutMs?: number;
  /**
   * An unparseable (empty) lock older than this is stale: its owner died between creating the
   * file and writing its pid, a window of microseconds (default 2 s).
   */
  readonly emptyLockStaleMs?: number;
}

function defaultIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` holding the manifest's lock; the lock is released however `fn` ends. */
export async function withManifestLock<T>(fs: FileSystem, manifestPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await acquireManifestLock(fs, manifestPath, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Takes the manifest's lock, waiting for a live owner; returns the release function. */
export async function acquireManifestLock(fs: FileSystem, manifestPath: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const lockPath = lockPathFor(manifestPath);
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? defaultIsAlive;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const emptyStaleMs = options.emptyLockStaleMs ?? 2_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx', 0o644);
      try {
        await handle.write(`${pid}\n`);
      } finally {
        await handle.close();
      }
      await sweepBrokenLocks(fs, lockPath, (owner) =>
        owner.pid === undefined ? Date.now() - owner.mtimeMs > emptyStaleMs : owner.pid !== pid && !isAlive(owner.pid),
      );
      return async () => {
        await fs.unlink(lockPath).catch(() => undefined);
      };
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') {
        throw new OcrAlError('Io', `cannot create lock ${lockPath}: ${(error as Error).message}`, { cause: error });
      }
    }
    const owner = await readOwner(fs, lockPath);
    if (owner !== 'gone') {
      const stale =
        owner.pid === undefined ? Date.now() - owner.mtimeMs > emptyStaleMs : owner.pid !== pid && !isAlive(owner.pid);
      if (stale) {
        await breakStaleLock(fs, lockPath, owner.ino);
        continue;
      }
      if (Date.now() > deadline) {
        throw new OcrAlError(
          'Conflict',
          `${manifestPath} is locked by ${owner.pid === undefined ? 'another process' : `pid ${owner.pid}`}; remove ${lockPath} if no ocr-al is running`,
        );
      }
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

async function readOwner(fs: FileSystem, lockPath: string): Promise<'gone' | { pid: number | undefined; mtimeMs: number; ino: number }> {
  try {
    const [text, s] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    const match = /^(\d+)\n/.exec(text);
    return { pid: match ? Number(match[1]) : undefined, mtimeMs: s.mtimeMs, ino: s.ino };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 'gone';
    throw OcrAlError.from(error, 'Io');
  }
}

/**
 * Removes a stale lock. It is first renamed to a unique name (only one breaker can win that
 * rename); if what we renamed is not the stale file we inspected (another process broke it and
 * took the lock meanwhile), it is put back.
 */
async function breakStaleLock(fs: FileSystem, lockPath: string, staleIno: number): Promise<void> {
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw OcrAlError.from(error, 'Io');
  }
  const s = await fs.stat(aside).catch(() => undefined);
  if (s && s.ino !== staleIno) {
    await fs.rename(aside, lockPath).catch(() => undefined);
    return;
  }
  await fs.unlink(aside).catch(() => undefined);
}

/**
 * Removes `<lock>.stale-*` files left by a breaker that was killed between its rename and its
 * unlink (kill -9 lands anywhere). Runs while we hold the lock. Only files whose owner is dead
 * go: an aside file whose owner is alive is a live lock that its breaker is about to put back.
 */
async function sweepBrokenLocks(
  fs: FileSystem,
  lockPath: string,
  isStale: (owner: { pid: number | undefined; mtimeMs: number }) => boolean,
): Promise<void> {
  const prefix = `${basename(lockPath)}.stale-`;
  let names: string[];
  try {
    names = (await fs.readdir(dirname(lockPath))).filter((n) => n.startsWith(prefix));
  } catch {
    return; // Sweeping is housekeeping; never fail the edit over it.
  }
  for (const name of names) {
    const aside = join(dirname(lockPath), name);
    const owner = await readOwner(fs, aside).catch(() => 'gone' as const);
    if (owner !== 'gone' && isStale(owner)) await fs.unlink(aside).catch(() => undefined);
  }
}

/**
 * Indexes a large local manifest on two threads. The index scanner is single-threaded and
 * CPU-bound (a few hundred MB/s), so a big file is cut in two byte ranges: the calling thread
 * indexes the first (so `firstPage` streams as with `ManifestIndex.build`), one worker thread
 * (indexWorker.ts) the rest, and `ManifestIndex.merge` joins them into exactly the index a
 * single build gives. The worker's typed arrays come back transferred, not copied.
 *
 * The worker is `indexWorker.js` beside this bundle (dist/ for the extension and the CLI);
 * run from source (tsx: tests, benches) it is indexWorker.ts behind a tsx bootstrap. When it
 * cannot run, the build goes on single-threaded and says so through `log`.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OcrAlError, type ErrorCode } from '../core/errors';
import type { ByteSource } from '../core/manifest/byteSource';
import { ManifestIndex, type BuildOptions, type IndexBuild, type RangeParts } from '../core/manifest/manifestIndex';
import type { EntrySummary } from '../core/manifest/types';

/** Local manifests at least this large are indexed on two threads. */
export const PARALLEL_INDEX_MIN_BYTES = 64 * 1024 * 1024;

/**
 * Share of the bytes the calling thread indexes. The worker starts a few hundred ms later but
 * the calling thread also serves `firstPage` and progress; on the index bench (1.67 GB) one
 * half each made both threads finish within 100 ms of each other.
 */
export const DEFAULT_HEAD_SHARE = 0.5;

/** What the calling thread posts to the worker (as workerData). */
export interface IndexWorkerJob {
  readonly path: string;
  readonly start: number;
  readonly labelAttribute: string | undefined;
  readonly chunkSize: number | undefined;
}

/** What the worker posts back. */
export type IndexWorkerMessage =
  | { readonly kind: 'progress'; readonly bytesRead: number; readonly entries: number }
  | { readonly kind: 'done'; readonly parts: RangeParts }
  | { readonly kind: 'error'; readonly code: ErrorCode; readonly message: string };

/** A function that builds an index (the shape `openManifestIndex`'s `builder` option takes). */
export type IndexBuilderFn = (source: ByteSource, options: BuildOptions) => IndexBuild;

/** Settings of `parallelIndexBuilder`. */
export interface ParallelIndexSettings {
  /** Smaller files are indexed on the calling thread alone (default PARALLEL_INDEX_MIN_BYTES). */
  readonly minBytes?: number;
  /** Share of the bytes indexed on the calling thread (default DEFAULT_HEAD_SHARE). */
  readonly headShare?: number;
  /** Told when the worker could not run and the build continued on one thread. */
  readonly log?: (message: string) => void;
  /** The worker script (default: indexWorker.js beside this file, or indexWorker.ts under tsx). */
  readonly workerFile?: string;
  /** Threads available (default `os.availableParallelism()`); one means no worker. */
  readonly parallelism?: number;
  /** Called with the worker once it is started (tests, diagnostics). */
  readonly onWorkerStart?: (worker: Worker) => void;
}

/**
 * A builder for the local file `filePath` (the path the ByteSource passed to it reads):
 * files of at least `minBytes` on a machine with more than one core are indexed by the
 * calling thread and one worker thread; anything else by `ManifestIndex.build`.
 */
export function parallelIndexBuilder(filePath: string, settings: ParallelIndexSettings = {}): IndexBuilderFn {
  return (source, options) => buildInParallel(filePath, source, options, settings);
}

function buildInParallel(filePath: string, source: ByteSource, options: BuildOptions, settings: ParallelIndexSettings): IndexBuild {
  const started = (async (): Promise<IndexBuild> => {
    const size = await source.size();
    const threads = settings.parallelism ?? availableParallelism();
    if (size < (settings.minBytes ?? PARALLEL_INDEX_MIN_BYTES) || threads < 2) return ManifestIndex.build(source, options);
    const split = Math.floor(size * Math.min(1, Math.max(0, settings.headShare ?? DEFAULT_HEAD_SHARE)));
    return twoThreadBuild(filePath, source, options, settings, size, split);
  })();
  const done = started.then((b) => b.done);
  done.catch(() => undefined);
  return { done, firstPage: (count) => started.then((b) => b.firstPage(count)) };
}

function twoThreadBuild(filePath: string, source: ByteSource, options: BuildOptions, settings: ParallelIndexSettings, size: number, split: number): IndexBuild {
  const onProgress = options.onProgress;
  // Progress of both threads, reported as one build.
  const progress = { headBytes: 0, headEntries: 0, tailBytes: 0, tailEntries: 0 };
  const report = (): void => {
    // Each range reads a little past its start or end (the line across the split): clamp.
    const bytesRead = Math.min(size, progress.headBytes + progress.tailBytes);
    onProgress?.({ bytesRead, totalBytes: size, entries: progress.headEntries + progress.tailEntries });
  };
  const rangeOptions = (which: 'head' | 'tail'): BuildOptions => ({
    ...options,
    onProgress: onProgress
      ? (p) => {
          progress[which === 'head' ? 'headBytes' : 'tailBytes'] = p.bytesRead;
          progress[which === 'head' ? 'headEntries' : 'tailEntries'] = p.entries;
          report();
        }
      : undefined,
  });

  const head = ManifestIndex.buildRange(source, 0, split, rangeOptions('head'));
  const worker = runWorker(filePath, split, options, settings, (bytesRead, entries) => {
    progress.tailBytes = bytesRead;
    progress.tailEntries = entries;
    if (onProgress) report();
  });
  const tail = worker.result.catch((error: unknown) => {
    if (!(error instanceof WorkerUnavailable)) throw error;
    settings.log?.(`indexing ${filePath} on one thread: ${error.message}`);
    progress.tailBytes = 0;
    progress.tailEntries = 0;
    return ManifestIndex.buildRange(source, split, Infinity, rangeOptions('tail')).done;
  });
  tail.catch(() => undefined);
  const done = (async (): Promise<ManifestIndex> => {
    try {
      const [h, t] = await Promise.all([head.done, tail]);
      return ManifestIndex.merge([h, t], source);
    } catch (error) {
      worker.stop();
      throw OcrAlError.from(error, 'Io');
    }
  })();
  done.catch(() => undefined);
  return {
    done,
    async firstPage(count: number): Promise<EntrySummary[]> {
      // The head holds the first entries; only when it has fewer than asked does the page
      // wait for the whole index.
      const page = await head.firstPage(count);
      return page.length >= count ? page : (await done).page(0, count);
    },
  };
}

/** The worker could not start or died: the range is indexed on the calling thread instead. */
class WorkerUnavailable extends Error {}

/** Runs indexWorker over [start, EOF) of the file; `stop` terminates it. */
function runWorker(
  filePath: string,
  start: number,
  options: BuildOptions,
  settings: ParallelIndexSettings,
  onProgress: (bytesRead: number, entries: number) => void,
): { result: Promise<RangeParts>; stop: () => void } {
  const signal = options.signal;
  let worker: Worker | undefined;
  const stop = (): void => {
    void worker?.terminate();
  };
  const result = new Promise<RangeParts>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new OcrAlError('Cancelled', 'indexing was cancelled'));
      return;
    }
    const job: IndexWorkerJob = { path: filePath, start, labelAttribute: options.labelAttribute, chunkSize: options.chunkSize };
    try {
      worker = startWorker(settings.workerFile, job);
    } catch (error) {
      reject(new WorkerUnavailable(error instanceof Error ? error.message : String(error)));
      return;
    }
    const w = worker;
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void => {
      void w.terminate();
      finish(() => reject(new OcrAlError('Cancelled', 'indexing was cancelled')));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    w.on('message', (m: IndexWorkerMessage) => {
      if (m.kind === 'progress') onProgress(m.bytesRead, m.entries);
      else if (m.kind === 'done') finish(() => resolve(m.parts));
      else finish(() => reject(new OcrAlError(m.code, m.message)));
      if (m.kind !== 'progress') void w.terminate();
    });
    w.on('error', (error: Error) => finish(() => reject(new WorkerUnavailable(`index worker failed: ${error.message}`))));
    w.on('exit', (code) => finish(() => reject(new WorkerUnavailable(`index worker exited (code ${code})`))));
    settings.onWorkerStart?.(w);
  });
  result.catch(() => undefined);
  return { result, stop };
}

/**
 * The worker thread. Bundled, indexWorker.js sits beside the bundle (both dist/extension.js
 * and dist/cli.js have __dirname dist/). From source, TypeScript loader hooks do not reach
 * worker threads on Node 20, so a one-line bootstrap registers tsx's require hook first.
 */
function startWorker(workerFile: string | undefined, job: IndexWorkerJob): Worker {
  const file = workerFile ?? defaultWorkerFile();
  if (!file.endsWith('.ts')) return new Worker(file, { workerData: job });
  const bootstrap = `require('tsx/cjs'); require(${JSON.stringify(file)});`;
  return new Worker(bootstrap, { eval: true, workerData: job });
}

function defaultWorkerFile(): string {
  const js = path.join(__dirname, 'indexWorker.js');
  if (existsSync(js)) return js;
  const ts = path.join(__dirname, 'indexWorker.ts');
  if (__filename.endsWith('.ts') && existsSync(ts)) return ts;
  throw new OcrAlError('Internal', `${js} is missing`);
}

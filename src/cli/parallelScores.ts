/**
 * Runs the sampling kernel (scoreImageRange in src/core/sampling/scores.ts) on several threads.
 * The kernel is pure and scores any sub-range of images into a table it is handed, so the images
 * are cut into contiguous slices: the calling thread scores the first one, worker threads the
 * others, all reading the same soft labels and writing one table in shared memory (nothing is
 * copied). Workers start once and wait for work, so a batch pays no thread start.
 *
 * The worker runs this same file (see the bottom): it must be loaded as its own module (tsx, or
 * compiled file by file), not from inside a bundle.
 */
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { OcrAlError } from '../core/errors';
import { type ImageScoreTable, type ScoreImagesOptions, scoreImageRange } from '../core/sampling/scores';

/** What the calling thread posts to a worker: one slice of one batch. */
interface SliceJob {
  readonly p: Float32Array;
  readonly n: number;
  readonly boxStart: Int32Array;
  readonly options: ScoreImagesOptions;
  readonly from: number;
  readonly to: number;
  readonly scores: Float64Array;
  readonly unusableBoxes: Uint32Array;
}

/** A worker's answer: done, or the kernel's error message. */
type SliceDone = { readonly ok: true } | { readonly ok: false; readonly message: string };

const WORKER_TAG = 'ocr-al-scoring-worker';

/** A pool of threads scoring one batch at a time; {@link ParallelScorer.start} makes one. */
export class ParallelScorer {
  private constructor(
    private readonly workers: readonly Worker[],
    private pending: Promise<unknown> = Promise.resolve(),
  ) {}

  /**
   * Starts `threads - 1` workers (the calling thread is the last one) and waits until each one
   * has loaded the kernel. `threads` defaults to the machine's available parallelism.
   */
  static async start(threads = availableParallelism()): Promise<ParallelScorer> {
    if (!Number.isInteger(threads) || threads < 1) throw new OcrAlError('BadInput', `threads must be a positive integer, got ${threads}`);
    const workers = Array.from({ length: threads - 1 }, () => startWorker());
    try {
      await Promise.all(workers.map((w) => nextMessage(w)));
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    return new ParallelScorer(workers);
  }

  /** Threads that score a batch: the workers plus the calling thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * The result of scoreImages(p, n, boxStart, options), computed by all threads. `p` and
   * `boxStart` must live in a SharedArrayBuffer (workers read them in place); the returned
   * table does too. Batches are scored one after another.
   */
  score(p: Float32Array, n: number, boxStart: Int32Array, options: ScoreImagesOptions): Promise<ImageScoreTable> {
    const run = this.pending.then(() => this.scoreNow(p, n, boxStart, options));
    this.pending = run.catch(() => undefined);
    return run;
  }

  private async scoreNow(p: Float32Array, n: number, boxStart: Int32Array, options: ScoreImagesOptions): Promise<ImageScoreTable> {
    if (this.workers.length > 0 && (!(p.buffer instanceof SharedArrayBuffer) || !(boxStart.buffer instanceof SharedArrayBuffer))) {
      throw new OcrAlError('BadInput', 'ParallelScorer.score needs p and boxStart in a SharedArrayBuffer');
    }
    const images = Math.max(0, boxStart.length - 1);
    const table: ImageScoreTable = {
      scores: new Float64Array(new SharedArrayBuffer(images * 4 * Float64Array.BYTES_PER_ELEMENT)),
      unusableBoxes: new Uint32Array(new SharedArrayBuffer(images * Uint32Array.BYTES_PER_ELEMENT)),
    };
    // Slices of equal box counts (images may hold different numbers of boxes).
    const cuts = [0];
    const totalBoxes = images > 0 ? boxStart[images]! - boxStart[0]! : 0;
    for (let t = 1; t < this.threads; t++) {
      const target = boxStart[0]! + (totalBoxes * t) / this.threads;
      let lo = cuts[t - 1]!;
      let hi = images;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (boxStart[mid]! < target) lo = mid + 1;
        else hi = mid;
      }
      cuts.push(lo);
    }
    cuts.push(images);
    const done = this.workers.map((w, i) => {
      const job: SliceJob = { p, n, boxStart, options, from: cuts[i + 1]!, to: cuts[i + 2]!, ...table };
      const answer = nextMessage(w);
      w.postMessage(job);
      return answer;
    });
    // The calling thread takes the first slice meanwhile; a failure there still waits for the
    // workers, so the next batch never overlaps this one.
    let failure: unknown;
    try {
      scoreImageRange(p, n, boxStart, options, 0, cuts[1]!, table);
    } catch (error) {
      failure = error;
    }
    const answers = await Promise.all(done);
    if (failure !== undefined) throw failure;
    const bad = answers.find((a): a is SliceDone & { ok: false } => !a.ok);
    if (bad) throw new OcrAlError('Internal', `scoring worker failed: ${bad.message}`);
    return table;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.pending;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * A worker running this file. Compiled, it is plain JavaScript. Run from source (tsx: tests,
 * benches), TypeScript loader hooks do not reach worker threads on Node 20, so a one-line
 * bootstrap registers tsx's require hook in the worker first.
 */
function startWorker(): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(__filename, { workerData: WORKER_TAG });
  const bootstrap = `require('tsx/cjs'); require(${JSON.stringify(__filename)});`;
  return new Worker(bootstrap, { eval: true, workerData: WORKER_TAG });
}

/** The worker's next message (its ready signal or a slice's answer), or its error/exit. */
function nextMessage(worker: Worker): Promise<SliceDone> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: SliceDone) => {
      cleanup();
      resolve(m);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new OcrAlError('Internal', `scoring worker failed: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new OcrAlError('Internal', `scoring worker exited (code ${code})`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

// Worker side: score each slice posted, answer when done.
if (!isMainThread && workerData === WORKER_TAG && parentPort) {
  const port = parentPort;
  port.on('message', (job: SliceJob) => {
    try {
      scoreImageRange(job.p, job.n, job.boxStart, job.options, job.from, job.to, job);
      port.postMessage({ ok: true } satisfies SliceDone);
    } catch (error) {
      port.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) } satisfies SliceDone);
    }
  });
  port.postMessage({ ok: true } satisfies SliceDone);
}

/**
 * The worker thread of parallelIndex.ts: indexes the lines of a local manifest that start at
 * or after `start` (to the end of the file), posts progress per chunk, and posts the range's
 * parts back with its typed arrays in the transfer list (moved, not copied). Built by
 * esbuild as dist/indexWorker.js; it imports only the core index and Node's fs.
 */
import * as fs from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { OcrAlError } from '../core/errors';
import { fileByteSource } from '../core/manifest/byteSource';
import { ManifestIndex } from '../core/manifest/manifestIndex';
import type { IndexWorkerJob, IndexWorkerMessage } from './parallelIndex';

const port = parentPort;
if (port) {
  const job = workerData as IndexWorkerJob;
  const post = (message: IndexWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  ManifestIndex.buildRange(fileByteSource(fs, job.path), job.start, Infinity, {
    labelAttribute: job.labelAttribute,
    chunkSize: job.chunkSize,
    onProgress: (p) => post({ kind: 'progress', bytesRead: p.bytesRead, entries: p.entries }),
  }).done.then(
    (parts) => post({ kind: 'done', parts }, [parts.offsets.buffer, parts.lengths.buffer, parts.lines.buffer, parts.statuses.buffer, parts.scores.buffer] as ArrayBuffer[]),
    (error: unknown) => {
      const e = OcrAlError.from(error, 'Io');
      post({ kind: 'error', code: e.code, message: e.message });
    },
  );
}

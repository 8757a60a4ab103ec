/**
 * Batches under S3 prefixes the user added (`ocrActiveLearning.s3Locations`). Each location
 * is listed with pagination to find `manifest.jsonl` objects; a manifest is read with ranged
 * GETs pinned to the ETag seen when it was opened, so the index can show its first page after
 * the first chunk arrives instead of after the whole object.
 *
 * The S3 store is obtained lazily (`store()`), so a workspace without S3 locations never
 * loads the AWS SDK.
 */
import { OcrAlError } from '../core/errors';
import type { ByteSource } from '../core/manifest/byteSource';
import type { S3Store } from '../aws/s3Store';
import { type Batch, type BatchListing, type BatchSource, Listeners, MANIFEST_NAME, type ResolvedRef, type SourceProblem, type Unsubscribe } from './batchSource';
import { resolveRef } from '../core/manifest/refs';
import { formatS3Uri, keyBasename, keyDirname, normalizeS3Location, parseS3Uri } from '../core/s3Uri';

/** Options of `S3Source`. */
export interface S3SourceOptions {
  /** The configured locations (`s3://bucket/prefix/`), read on each listing. */
  readonly locations: () => readonly string[];
  /** The store to use; called only when there is S3 work to do. */
  readonly store: () => Promise<S3Store>;
  /** Stop listing a location after this many keys (default 100,000) and say so. */
  readonly maxKeysPerLocation?: number;
  /** Keys per ListObjectsV2 page (S3's maximum, 1000, by default; tests use less). */
  readonly pageSize?: number;
}

/** The batch of a manifest object `s3://bucket/key`. */
export function s3Batch(bucket: string, key: string): Batch {
  const prefix = keyDirname(key);
  return {
    id: formatS3Uri(bucket, key),
    kind: 's3',
    name: prefix ? keyBasename(prefix) : bucket,
    location: formatS3Uri(bucket, prefix),
    manifest: formatS3Uri(bucket, key),
    boundary: { kind: 's3', bucket, prefix },
  };
}

/**
 * A manifest object as a ByteSource, pinned to the ETag and size from `head`: every ranged
 * GET checks the ETag, so an object replaced mid-read fails with `Conflict` instead of mixing
 * two versions. `identity()` is `etag:size`.
 */
export function s3ByteSource(store: S3Store, bucket: string, key: string, head: { size: number; etag: string }, signal?: AbortSignal): ByteSource {
  const name = formatS3Uri(bucket, key);
  return {
    name,
    async size() {
      return head.size;
    },
    async read(offset, length) {
      const end = Math.min(offset + length, head.size);
      if (end <= offset) return new Uint8Array(0);
      return store.read(bucket, key, offset, end - offset, { etag: head.etag, signal });
    },
    async identity() {
      return `${head.etag}:${head.size}`;
    },
  };
}

/** Batches under S3 prefixes. */
export class S3Source implements BatchSource {
  readonly kind = 's3' as const;
  private readonly listeners = new Listeners();

  constructor(private readonly options: S3SourceOptions) {}

  async listBatches(signal?: AbortSignal): Promise<BatchListing> {
    const locations = this.options.locations();
    if (!locations.length) return { batches: [], problems: [] };
    const batches: Batch[] = [];
    const problems: SourceProblem[] = [];
    let store: S3Store;
    try {
      store = await this.options.store();
    } catch (error) {
      const e = OcrAlError.from(error);
      if (e.code === 'Cancelled') throw e;
      return { batches, problems: locations.map((location) => ({ location, error: e })) };
    }
    const seen = new Set<string>();
    const limit = this.options.maxKeysPerLocation ?? 100_000;
    for (const raw of locations) {
      let location = raw;
      try {
        location = normalizeS3Location(raw);
        const { bucket, key: prefix } = parseS3Uri(location);
        let keys = 0;
        for await (const object of store.list(bucket, prefix, { signal, pageSize: this.options.pageSize })) {
          if (++keys > limit) {
            problems.push({
              location,
              error: new OcrAlError('BadInput', `Stopped listing ${location} after ${limit.toLocaleString('en-US')} keys; add a narrower prefix to find its batches.`),
            });
            break;
          }
          if (keyBasename(object.key) !== MANIFEST_NAME || object.key.endsWith('/')) continue;
          const batch = s3Batch(bucket, object.key);
          if (seen.has(batch.id)) continue; // overlapping locations
          seen.add(batch.id);
          batches.push(batch);
        }
      } catch (error) {
        const e = OcrAlError.from(error);
        if (e.code === 'Cancelled') throw e;
        problems.push({ location, error: e });
      }
    }
    batches.sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
    return { batches, problems };
  }

  async openManifest(batch: Batch, signal?: AbortSignal): Promise<ByteSource> {
    const { bucket, key } = parseS3Uri(batch.manifest);
    const store = await this.options.store();
    const head = await store.head(bucket, key, signal);
    return s3ByteSource(store, bucket, key, head, signal);
  }

  resolveRef(batch: Batch, ref: string): ResolvedRef {
    return resolveRef(batch.boundary, ref, 'source-ref');
  }

  async imageUrl(batch: Batch, ref: string): Promise<string | undefined> {
    const resolved = this.resolveRef(batch, ref);
    if (resolved.kind !== 's3') return undefined;
    const store = await this.options.store();
    return store.presign(resolved.bucket, resolved.key);
  }

  /** The host calls this when the locations setting changes. */
  notifyChanged(): void {
    this.listeners.fire();
  }

  onDidChange(listener: () => void): Unsubscribe {
    return this.listeners.add(listener);
  }

  dispose(): void {
    this.listeners.clear();
  }
}

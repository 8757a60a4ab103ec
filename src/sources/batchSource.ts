/**
 * Where batches live. A batch is a folder or an S3 prefix holding `manifest.jsonl`; a
 * `BatchSource` finds batches, opens their manifest as a `ByteSource` for the index, and
 * resolves the `*-ref` values of their entries (refusing refs that leave the batch's root).
 * Local folders (localSource.ts) and S3 prefixes (s3Source.ts) implement the same interface,
 * so the tree, the CLI and the relabel view never ask which kind they hold.
 */
import type { OcrAlError } from '../core/errors';
import type { ByteSource } from '../core/manifest/byteSource';
import type { BatchLocation, ResolvedRef } from '../core/manifest/refs';

export type { ResolvedRef } from '../core/manifest/refs';

/** The kinds of batch location. */
export type BatchKind = 'local' | 's3';

/** The manifest file name that makes a folder or prefix a batch. */
export const MANIFEST_NAME = 'manifest.jsonl';

/** One batch. Plain data: safe to keep in tree nodes and to compare by `id`. */
export interface Batch {
  /** Unique across sources: the manifest's absolute path (local) or `s3://` URI. */
  readonly id: string;
  readonly kind: BatchKind;
  /** The batch folder's name (the last segment of its folder or prefix). */
  readonly name: string;
  /** Where the batch is, for people: the folder path, or `s3://bucket/prefix/`. */
  readonly location: string;
  /** The manifest: an absolute path, or an `s3://` URI. */
  readonly manifest: string;
  /** The batch folder or prefix as the core's ref checks take it (refs must stay inside). */
  readonly boundary: BatchLocation;
}

/** A location that could not be searched, with why (shown in the tree, not as a pop-up). */
export interface SourceProblem {
  /** The folder or `s3://` location that failed. */
  readonly location: string;
  readonly error: OcrAlError;
}

/** The result of a search for batches: what was found, and what could not be searched. */
export interface BatchListing {
  readonly batches: readonly Batch[];
  readonly problems: readonly SourceProblem[];
}

/** A listener registration. */
export interface Unsubscribe {
  dispose(): void;
}

/** Finds batches in one kind of location and gives access to their files. */
export interface BatchSource {
  readonly kind: BatchKind;
  /** Searches every configured location. Never rejects for one bad location: see `problems`. */
  listBatches(signal?: AbortSignal): Promise<BatchListing>;
  /** Opens the batch's manifest for reading (a snapshot: S3 reads are pinned to one ETag). */
  openManifest(batch: Batch, signal?: AbortSignal): Promise<ByteSource>;
  /**
   * Resolves a `source-ref` / `raw-ref` / `textract-ref` with the core's rules
   * (src/core/manifest/refs.ts); throws `PathEscape` when it leaves the batch folder or prefix.
   */
  resolveRef(batch: Batch, ref: string): ResolvedRef;
  /**
   * A URL an image can be loaded from: `file://` for local files, a presigned https URL for
   * S3 objects of an S3 batch; undefined when this source cannot show it.
   */
  imageUrl(batch: Batch, ref: string): Promise<string | undefined>;
  /** Called when the set of batches (or a manifest) may have changed. */
  onDidChange(listener: () => void): Unsubscribe;
  dispose(): void;
}

/** A minimal event emitter for vscode-free code (vscode.EventEmitter lives in the host). */
export class Listeners {
  private readonly set = new Set<() => void>();

  add(listener: () => void): Unsubscribe {
    this.set.add(listener);
    return { dispose: () => this.set.delete(listener) };
  }

  fire(): void {
    for (const listener of [...this.set]) listener();
  }

  clear(): void {
    this.set.clear();
  }
}

/**
 * Batches in local folders: every folder holding `manifest.jsonl` under the workspace folders.
 * Finding the manifests is injected (`ManifestFinder`): the extension uses
 * `vscode.workspace.findFiles` with the glob setting and a file watcher (src/host), the CLI
 * and tests use `walkManifests` below. Everything else here is plain Node.
 */
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OcrAlError } from '../core/errors';
import type { FileSystem } from '../core/fileSystem';
import { type ByteSource, fileByteSource } from '../core/manifest/byteSource';
import { type Batch, type BatchListing, type BatchSource, Listeners, MANIFEST_NAME, type ResolvedRef, type Unsubscribe } from './batchSource';
import { resolveRef } from '../core/manifest/refs';

/** A manifest found on disk and the workspace folder (root) it was found under. */
export interface FoundManifest {
  /** Absolute path of the manifest file. */
  readonly manifest: string;
  /** Absolute path of the workspace folder it was found under. */
  readonly root: string;
}

/** Finds manifests; the host passes one built on `workspace.findFiles`. */
export type ManifestFinder = (signal?: AbortSignal) => Promise<readonly FoundManifest[]>;

/** The batch of a manifest file. */
export function localBatch(found: FoundManifest): Batch {
  const manifest = resolve(found.manifest);
  const folder = dirname(manifest);
  return { id: manifest, kind: 'local', name: basename(folder), location: folder, manifest, boundary: { kind: 'local', dir: folder } };
}

/** Options of `LocalSource`. */
export interface LocalSourceOptions {
  readonly find: ManifestFinder;
  /** Defaults to `node:fs/promises`. */
  readonly fs?: FileSystem;
}

/** Batches in local folders. */
export class LocalSource implements BatchSource {
  readonly kind = 'local' as const;
  private readonly listeners = new Listeners();
  private readonly fs: FileSystem;

  constructor(private readonly options: LocalSourceOptions) {
    this.fs = options.fs ?? nodeFs;
  }

  async listBatches(signal?: AbortSignal): Promise<BatchListing> {
    const found = await this.options.find(signal);
    const byId = new Map<string, Batch>();
    for (const f of found) {
      const batch = localBatch(f);
      if (!byId.has(batch.id)) byId.set(batch.id, batch);
    }
    const batches = [...byId.values()].sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
    return { batches, problems: [] };
  }

  async openManifest(batch: Batch): Promise<ByteSource> {
    return fileByteSource(this.fs, batch.manifest);
  }

  resolveRef(batch: Batch, ref: string): ResolvedRef {
    return resolveRef(batch.boundary, ref, 'source-ref');
  }

  async imageUrl(batch: Batch, ref: string): Promise<string | undefined> {
    const resolved = this.resolveRef(batch, ref);
    return resolved.kind === 'local' ? pathToFileURL(resolved.path).href : undefined;
  }

  /** The host calls this when its file watcher sees a manifest change. */
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

/** Folders never searched: dependency and VCS trees. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.hg', '.svn']);

/**
 * A `ManifestFinder` over the real file system for the CLI and tests: walks each root
 * breadth-first (skipping node_modules and VCS folders, not following symlinks) and returns
 * every `manifest.jsonl`. `limit` bounds the number of folders visited.
 */
export function walkManifests(roots: readonly string[], options: { limit?: number } = {}): ManifestFinder {
  return async (signal) => {
    const out: FoundManifest[] = [];
    let visited = 0;
    const limit = options.limit ?? 100_000;
    for (const rawRoot of roots) {
      const root = resolve(rawRoot);
      const queue = [root];
      while (queue.length && visited < limit) {
        if (signal?.aborted) throw new OcrAlError('Cancelled', 'Cancelled.');
        const dir = queue.shift()!;
        visited++;
        let entries;
        try {
          entries = await nodeFs.readdir(dir, { withFileTypes: true });
        } catch {
          continue; // unreadable folder: nothing to find there
        }
        for (const entry of entries) {
          if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) queue.push(join(dir, entry.name));
          else if (entry.isFile() && entry.name === MANIFEST_NAME) out.push({ manifest: join(dir, entry.name), root });
        }
      }
    }
    return out;
  };
}

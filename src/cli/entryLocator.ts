/**
 * Finding an entry by source-ref for `label` and `show` in a large manifest through the
 * manifest index (warm from its cache in well under a second, instead of a pass over
 * gigabytes). Small manifests are scanned directly: cheaper than opening an index, and no
 * cache file appears next to a tiny batch.
 */
import type { FileSystem } from '../core/fileSystem';
import type { RefLocator } from '../core/manifest/effectiveManifest';
import { fileByteSource } from '../core/manifest/byteSource';
import { openManifestIndex } from '../core/manifest/indexCache';
import { parallelIndexBuilder } from '../sources/parallelIndex';

/** Manifests at least this large are looked up through the index. */
export const INDEX_LOOKUP_MIN_BYTES = 32 * 1024 * 1024;

/** A locator backed by the manifest index, or undefined for small manifests. */
export async function indexLocator(fs: FileSystem, manifestPath: string, minBytes = INDEX_LOOKUP_MIN_BYTES): Promise<RefLocator | undefined> {
  const size = (await fs.stat(manifestPath).catch(() => undefined))?.size;
  if (size === undefined || size < minBytes) return undefined;
  return async (ref) => {
    const open = openManifestIndex(fs, fileByteSource(fs, manifestPath), { builder: parallelIndexBuilder(manifestPath) });
    const index = await open.done;
    await open.cacheSettled;
    const i = index.findByRef(ref);
    if (i === undefined) return undefined;
    const parts = index.parts;
    return { line: parts.lines[i]!, offset: parts.offsets[i]!, length: parts.lengths[i]! };
  };
}

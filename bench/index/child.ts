/**
 * One measured indexing run, in its own process so its peak RSS is the index's alone.
 * Usage: node --import tsx bench/index/child.ts cold|cold2|warm MANIFEST CACHE_DIR
 * (cold2: the two-thread builder of src/sources/parallelIndex.ts).
 * Prints one JSON line: {ms, cpuMs, firstPageMs, entries, fromCache, maxRssMb}.
 */
import * as fs from 'node:fs/promises';
import { fileByteSource } from '../../src/core/manifest/byteSource';
import { openManifestIndex } from '../../src/core/manifest/indexCache';
import { parallelIndexBuilder } from '../../src/sources/parallelIndex';

async function run(): Promise<void> {
  const [mode, manifest, cacheDir] = process.argv.slice(2);
  if (!manifest || !cacheDir || (mode !== 'cold' && mode !== 'cold2' && mode !== 'warm')) throw new Error('usage: child.ts cold|cold2|warm MANIFEST CACHE_DIR');
  const source = fileByteSource(fs, manifest);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const builder = mode === 'cold2' ? parallelIndexBuilder(manifest, { log: (message) => process.stderr.write(`${message}\n`) }) : undefined;
  const open = openManifestIndex(fs, source, { cacheDir, builder });
  let firstPageMs = 0;
  void open.firstPage(50).then(() => (firstPageMs = performance.now() - t0));
  const index = await open.done;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await open.cacheSettled;
  const fromCache = await open.fromCache;
  const result = { ms, cpuMs, firstPageMs, entries: index.entryCount, fromCache, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(result) + '\n');
}

run().catch((error: unknown) => {
  process.stderr.write(String(error) + '\n');
  process.exitCode = 1;
});

/**
 * Batches view benchmark (issue 4): time from expanding a 100k-entry batch to its first page
 * of tree items, through the real tree provider (src/host/batchesTree.ts) on a fake `vscode`
 * (test/host/fakeVscode.ts), so what is measured is getChildren + getTreeItem exactly as VS
 * Code calls them, minus VS Code's rendering.
 *
 * Scenarios, each timed several times (median and max printed):
 * - cold: no index cache; time to the first page (file order, while indexing) and to the
 *   sorted page once the index is built;
 * - warm (disk): the index cache exists, a fresh view (as after a window reload) expands the
 *   batch: cache load + sort by uncertainty + 200 tree items;
 * - warm (memory): the index is loaded; re-expanding after a sort or filter change, and
 *   "Load more".
 *
 * The manifest is generated once into bench/.data/ (gitignored). Env: BENCH_TREE_LINES
 * (default 100000), BENCH_TREE_WORDS (default 4).
 */
import * as fs from 'node:fs/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSyntheticManifest } from '../../scripts/genManifest';
import { createFakeVscode, installFakeVscode } from '../../test/host/fakeVscode';

const LINES = Number(process.env.BENCH_TREE_LINES ?? 100_000);
const WORDS = Number(process.env.BENCH_TREE_WORDS ?? 4);
const RUNS = 7;
const root = path.resolve(__dirname, '..', '..');
const dataDir = path.join(root, 'bench', '.data');
const batchDir = path.join(dataDir, `tree-${LINES}x${WORDS}`);
const manifest = path.join(batchDir, 'manifest.jsonl');

async function ensureManifest(): Promise<number> {
  if (!existsSync(manifest)) {
    await fs.mkdir(batchDir, { recursive: true });
    process.stdout.write(`generating ${manifest} (once) ...\n`);
    await writeSyntheticManifest(`${manifest}.tmp`, {
      lines: LINES,
      words: WORDS,
      seed: 11,
      statusWeights: { new: 2, extracted: 1, predicted: 6, labeled: 1 },
      malformedRate: 0.001,
    });
    await fs.rename(`${manifest}.tmp`, manifest);
  }
  return (await fs.stat(manifest)).size;
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms (${samples.length} runs)`;
}

async function main(): Promise<void> {
  const bytes = await ensureManifest();
  const { vscode } = createFakeVscode();
  installFakeVscode(vscode);
  // Imported after the fake is installed: these modules require('vscode') when they load.
  const { BatchesTree } = await import('../../src/host/batchesTree');
  const { LocalSource } = await import('../../src/sources/localSource');
  type Tree = InstanceType<typeof BatchesTree>;
  type Node = Awaited<ReturnType<Tree['getChildren']>>[number];

  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'ocr-al-bench-tree-'));
  const makeTree = (): Tree =>
    new BatchesTree({
      sources: [new LocalSource({ find: async () => [{ manifest, root: dataDir }] })],
      fs,
      cacheDirFor: () => cacheDir,
      labelAttribute: () => 'labels',
      eagerLocal: false,
    });

  /** Expands the batch like VS Code: getChildren(batch), then getTreeItem for each child. */
  async function expand(tree: Tree, batch: Node, untilSorted: boolean): Promise<{ ms: number; items: number; progress: boolean }> {
    const t0 = performance.now();
    for (;;) {
      const children = await tree.getChildren(batch);
      const items = children.map((c) => tree.getTreeItem(c));
      const progress = children.some((c) => c.type === 'message' && c.kind === 'progress');
      if (!progress || !untilSorted) return { ms: performance.now() - t0, items: items.length, progress };
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  process.stdout.write(`manifest: ${LINES.toLocaleString('en-US')} lines, ${(bytes / 2 ** 20).toFixed(0)} MiB (${manifest})\n`);
  try {
    // Cold: first page during indexing, then the sorted page.
    {
      const tree = makeTree();
      const [batch] = await tree.getChildren();
      const first = await expand(tree, batch!, false);
      const t0 = performance.now();
      const sorted = await expand(tree, batch!, true);
      process.stdout.write(`cold  first page while indexing: ${first.ms.toFixed(1)} ms (${first.items} items${first.progress ? ', file order' : ''})\n`);
      process.stdout.write(`cold  sorted page after indexing: +${(performance.now() - t0).toFixed(1)} ms (${sorted.items} items)\n`);
      // Let the cache write finish before the warm runs.
      await new Promise((r) => setTimeout(r, 500));
      tree.dispose();
    }
    const cacheFiles = await fs.readdir(cacheDir);
    if (!cacheFiles.length) throw new Error('the index cache was not written');
    const cacheBytes = (await fs.stat(path.join(cacheDir, cacheFiles[0]!))).size;

    // Warm from the disk cache: a fresh view, as after reloading the window, expanded at
    // once (cache load + sort + items) or after the background load and sort are done.
    const disk: number[] = [];
    const settled: number[] = [];
    const readCache: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await fs.readFile(path.join(cacheDir, cacheFiles[0]!));
      readCache.push(performance.now() - t0);
      const tree = makeTree();
      const [batch] = await tree.getChildren();
      const r = await expand(tree, batch!, true);
      if (r.items !== 201) throw new Error(`expected 200 entries + "Load more", got ${r.items}`);
      disk.push(r.ms);
      tree.dispose();
      const background = makeTree();
      const [b2] = await background.getChildren();
      void background.getChildren(b2!); // starts loading, as the eager indexing of local batches does
      while (!background.model.indexOf(b2 as never)) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20)); // the background sort
      settled.push((await expand(background, b2!, true)).ms);
      background.dispose();
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    process.stdout.write(`baseline: fs.readFile of the ${(cacheBytes / 2 ** 20).toFixed(1)} MiB index cache: ${stats(readCache)}\n`);
    process.stdout.write(`warm (disk cache) expand at once -> sorted first page: ${stats(disk)} (${(median(disk) / median(readCache)).toFixed(1)}x the plain read)\n`);
    process.stdout.write(`warm (cache loaded in background) expand -> first page: ${stats(settled)}\n`);

    // Warm in memory: the index is loaded; sort/filter changes recompute the order.
    const tree = makeTree();
    const [batch] = await tree.getChildren();
    await expand(tree, batch!, true);
    const again: number[] = [];
    const resort: number[] = [];
    const filter: number[] = [];
    const more: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      again.push((await expand(tree, batch!, true)).ms);
      tree.model.setOptions({ sort: i % 2 ? 'uncertainty' : 'name', status: undefined });
      resort.push((await expand(tree, batch!, true)).ms);
      tree.model.setOptions({ status: i % 2 ? 'labeled' : 'predicted' });
      filter.push((await expand(tree, batch!, true)).ms);
      tree.model.setOptions({ status: undefined });
      tree.model.loadMore(batch as never);
      more.push((await expand(tree, batch!, true)).ms);
    }
    process.stdout.write(`warm (memory) re-expand: ${stats(again)}\n`);
    // The first change of each kind computes that order (the max); later ones reuse it.
    process.stdout.write(`warm (memory) after a sort change: ${stats(resort)} (max = first sort by name)\n`);
    process.stdout.write(`warm (memory) after a status filter change: ${stats(filter)} (max = first filter)\n`);
    process.stdout.write(`warm (memory) "Load more" (400 entries): ${stats(more)}\n`);
    tree.dispose();
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

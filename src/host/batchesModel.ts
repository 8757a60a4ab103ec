/**
 * The state behind the Batches view, without `vscode`: which batches exist, each batch's
 * index (opened from the cache or built while the first page is already shown), how many
 * entries are shown, and the view's sort and status filter. It hands out plain node objects
 * and the strings the tree shows; src/host/batchesTree.ts turns them into TreeItems. Keeping
 * this part free of `vscode` lets unit tests and bench/tree/run.ts drive the same code path
 * the tree uses.
 *
 * The index and soft-label modules (and zod under them) are imported on first use, not at
 * activation: the extension bundle then only pre-parses them when VS Code loads it.
 */
import { OcrAlError } from '../core/errors';
import type { FileSystem } from '../core/fileSystem';
import type { IndexOpen } from '../core/manifest/indexCache';
import type { ManifestIndex, PageOptions } from '../core/manifest/manifestIndex';
import { ENTRY_STATUSES, type EntryStatus, type EntrySummary, type StatusCounts } from '../core/manifest/types';
import type { Strategy } from '../core/sampling/scores';
import type { Batch, BatchSource, SourceProblem } from '../sources/batchSource';

/** Entries added per "Load more…". */
export const PAGE_SIZE = 200;

/** Entry order in the view. */
export type SortOrder = 'uncertainty' | 'name';

/** The view-wide sort and filter. */
export interface ViewOptions {
  readonly sort: SortOrder;
  /** Only entries of this status; undefined = all. */
  readonly status: EntryStatus | undefined;
}

/** A batch in the tree. One object per batch id, kept across refreshes. */
export interface BatchNode {
  readonly type: 'batch';
  batch: Batch;
  source: BatchSource;
}

/** An entry of a batch. */
export interface EntryNode {
  readonly type: 'entry';
  readonly parent: BatchNode;
  readonly summary: EntrySummary;
}

/** "Load more…" at the end of a batch's entries. */
export interface MoreNode {
  readonly type: 'more';
  readonly parent: BatchNode;
  readonly shown: number;
  readonly total: number;
}

/** A line of text: progress, an empty result, or an error (of a batch, or of a location). */
export interface MessageNode {
  readonly type: 'message';
  readonly parent: BatchNode | undefined;
  readonly kind: 'progress' | 'empty' | 'error';
  readonly text: string;
  readonly detail: string | undefined;
  /** For a location that could not be listed: the location (for "Remove S3 Batch Location"). */
  readonly location: string | undefined;
  readonly sourceKind: Batch['kind'] | undefined;
}

export type TreeNode = BatchNode | EntryNode | MoreNode | MessageNode;

/** What the model needs from the host. */
export interface BatchesModelDeps {
  readonly sources: readonly BatchSource[];
  readonly fs: FileSystem;
  /** Where a batch's index cache lives (`false`: no cache; undefined: the core's default, beside the manifest). */
  readonly cacheDirFor: (batch: Batch) => string | false | undefined;
  readonly labelAttribute: () => string;
  /** Tells the tree that `node`'s item and children changed (undefined: the whole tree). */
  readonly onDidChange: (node: BatchNode | undefined) => void;
  /** Reports problems nobody asked for (cache not writable, background indexing failed). */
  readonly log?: (message: string) => void;
  /** Index local batches in the background after listing, so their counts show unexpanded (default true). */
  readonly eagerLocal?: boolean;
}

type Phase =
  | { readonly name: 'idle' }
  | { readonly name: 'indexing'; readonly open: IndexOpen; readonly abort: AbortController; entries: number; bytes: number; total: number }
  | { readonly name: 'ready'; readonly index: ManifestIndex }
  | { readonly name: 'failed'; readonly error: OcrAlError };

interface BatchState {
  phase: Phase;
  shown: number;
}

/** The score the uncertainty order uses (the index's default: least confidence, max over boxes). */
export const SORT_STRATEGY: Strategy = 'least';

/** Counts by status as the batch node shows them: `412 new · 88 predicted · 2 malformed` (zeros left out). */
export function formatCounts(counts: StatusCounts): string {
  const parts = ENTRY_STATUSES.filter((s) => counts[s] > 0).map((s) => `${counts[s].toLocaleString('en-US')} ${s}`);
  return parts.length ? parts.join(' · ') : 'no entries';
}

/** The last path segment of a ref (`thumbnails/p 1.png` -> `p 1.png`). */
export function refBasename(ref: string): string {
  const trimmed = ref.replace(/[/\\]+$/, '');
  return trimmed.slice(Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\')) + 1) || ref;
}

const MAX_LABEL = 120;

function clip(text: string, max = MAX_LABEL): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** Entry label: the image file name; for a malformed line, `line N: message`. */
export function entryLabel(summary: EntrySummary): string {
  if (summary.status === 'malformed') return clip(`line ${summary.line}: ${summary.problem ?? 'malformed'}`);
  return summary.sourceRef ? refBasename(summary.sourceRef) : `line ${summary.line}`;
}

/** Entry description: status and, when the model scored it, its uncertainty (`predicted · 0.83`). */
export function entryDescription(summary: EntrySummary): string {
  const score = summary.uncertainty?.[SORT_STRATEGY];
  return score === undefined ? summary.status : `${summary.status} · ${score.toFixed(2)}`;
}

/** The view's description line: the current order and filter (`by uncertainty · predicted only`). */
export function viewDescription(options: ViewOptions): string {
  const sort = options.sort === 'uncertainty' ? 'by uncertainty' : 'by name';
  return options.status ? `${sort} · ${options.status} only` : sort;
}

/** Escapes text for Markdown (file names may hold `*`, `_`, `[`...). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

/** The state and nodes of the Batches view. */
export class BatchesModel {
  private listing: Promise<readonly TreeNode[]> | undefined;
  private readonly nodes = new Map<string, BatchNode>();
  private readonly states = new Map<string, BatchState>();
  private eagerQueue: Promise<void> = Promise.resolve();
  private generation = 0;
  private _options: ViewOptions = { sort: 'uncertainty', status: undefined };

  constructor(private readonly deps: BatchesModelDeps) {}

  get options(): ViewOptions {
    return this._options;
  }

  /** Changes the sort and/or filter; every batch goes back to its first page. */
  setOptions(options: Partial<ViewOptions>): void {
    this._options = { ...this._options, ...options };
    for (const state of this.states.values()) state.shown = PAGE_SIZE;
    this.deps.onDidChange(undefined);
  }

  /** Forgets the listing and every index (they are reopened, from the cache where valid). */
  refresh(): void {
    this.generation++;
    this.listing = undefined;
    for (const state of this.states.values()) abortPhase(state.phase);
    this.states.clear();
    this.deps.onDidChange(undefined);
  }

  /** Forgets the listing and the indexes of one kind of batch (e.g. S3, after the AWS profile changed). */
  refreshKind(kind: Batch['kind']): void {
    for (const [id, node] of this.nodes) {
      if (node.batch.kind !== kind) continue;
      const state = this.states.get(id);
      if (state) abortPhase(state.phase);
      this.states.delete(id);
    }
    this.relist();
  }

  /** Forgets the listing only (batches appeared or disappeared); indexes stay. */
  relist(): void {
    this.listing = undefined;
    this.deps.onDidChange(undefined);
  }

  /** Forgets one batch's index (its manifest changed). */
  invalidateBatch(batchId: string): void {
    const state = this.states.get(batchId);
    if (!state) return;
    abortPhase(state.phase);
    this.states.delete(batchId);
    const node = this.nodes.get(batchId);
    if (node) this.deps.onDidChange(node);
    if (node?.batch.kind === 'local' && this.deps.eagerLocal !== false) this.queueEager([node]);
  }

  /** The batch node with this id, if listed. */
  batchNode(batchId: string): BatchNode | undefined {
    return this.nodes.get(batchId);
  }

  /** Every listed batch node. */
  batchNodes(): BatchNode[] {
    return [...this.nodes.values()];
  }

  /** The index of a batch once it is ready. */
  indexOf(node: BatchNode): ManifestIndex | undefined {
    const phase = this.states.get(node.batch.id)?.phase;
    return phase?.name === 'ready' ? phase.index : undefined;
  }

  /** The top-level nodes: batches of every source, then locations that could not be listed. */
  roots(): Promise<readonly TreeNode[]> {
    this.listing ??= this.list();
    return this.listing;
  }

  private async list(): Promise<readonly TreeNode[]> {
    const generation = this.generation;
    const results = await Promise.all(
      this.deps.sources.map(async (source) => {
        try {
          return { source, listing: await source.listBatches() };
        } catch (error) {
          const e = OcrAlError.from(error);
          return { source, listing: { batches: [], problems: e.code === 'Cancelled' ? [] : [{ location: source.kind === 'local' ? 'workspace folders' : 'S3 locations', error: e }] } };
        }
      }),
    );
    const out: TreeNode[] = [];
    const problems: { problem: SourceProblem; kind: Batch['kind'] }[] = [];
    const seen = new Set<string>();
    for (const { source, listing } of results) {
      for (const batch of listing.batches) {
        seen.add(batch.id);
        let node = this.nodes.get(batch.id);
        if (node) {
          node.batch = batch;
          node.source = source;
        } else {
          node = { type: 'batch', batch, source };
          this.nodes.set(batch.id, node);
        }
        out.push(node);
      }
      for (const problem of listing.problems) problems.push({ problem, kind: source.kind });
    }
    for (const id of [...this.nodes.keys()]) {
      if (seen.has(id)) continue;
      this.nodes.delete(id);
      const state = this.states.get(id);
      if (state) abortPhase(state.phase);
      this.states.delete(id);
    }
    for (const { problem, kind } of problems) {
      out.push({ type: 'message', parent: undefined, kind: 'error', text: problem.location, detail: problem.error.message, location: problem.location, sourceKind: kind });
    }
    if (this.deps.eagerLocal !== false && generation === this.generation) {
      this.queueEager(out.filter((n): n is BatchNode => n.type === 'batch' && n.batch.kind === 'local'));
    }
    return out;
  }

  /** Indexes local batches one after another in the background, so counts appear unexpanded. */
  private queueEager(nodes: readonly BatchNode[]): void {
    for (const node of nodes) {
      this.eagerQueue = this.eagerQueue.then(async () => {
        if (this.nodes.get(node.batch.id) !== node) return;
        const phase = this.start(node).phase;
        if (phase.name === 'indexing') await phase.open.done.catch(() => undefined);
      });
    }
  }

  /** The state of a batch, starting to open its index if nothing has yet. */
  private start(node: BatchNode): BatchState {
    let state = this.states.get(node.batch.id);
    if (state && state.phase.name !== 'idle') return state;
    state ??= { phase: { name: 'idle' }, shown: PAGE_SIZE };
    this.states.set(node.batch.id, state);
    const abort = new AbortController();
    const current = state;
    const open = this.open(node, abort.signal);
    const phase: Phase = { name: 'indexing', open, abort, entries: 0, bytes: 0, total: 0 };
    current.phase = phase;
    open.done.then(
      (index) => {
        if (current.phase !== phase) return;
        current.phase = { name: 'ready', index };
        this.deps.onDidChange(node);
        // Sort the entries now, in the background, so that expanding the batch later only
        // slices a cached order (sorting 100k entries takes tens of milliseconds).
        setTimeout(() => {
          if (current.phase.name === 'ready' && current.phase.index === index) index.pageTotal(this.pageOptions());
        }, 0);
      },
      (error: unknown) => {
        if (current.phase !== phase) return;
        const e = OcrAlError.from(error);
        current.phase = e.code === 'Cancelled' ? { name: 'idle' } : { name: 'failed', error: e };
        if (e.code !== 'Cancelled') this.deps.log?.(`${node.batch.manifest}: ${e.message}`);
        this.deps.onDidChange(node);
      },
    );
    return current;
  }

  /** Opens a batch's manifest and its index; the returned object is usable at once. */
  private open(node: BatchNode, signal: AbortSignal): IndexOpen {
    const bytes = node.source.openManifest(node.batch, signal);
    // The IndexOpen contract is synchronous; chain the async manifest open into it.
    const opened = Promise.all([bytes, import('../core/manifest/indexCache'), import('../sources/parallelIndex')]).then(([source, { openManifestIndex }, { parallelIndexBuilder }]) =>
      openManifestIndex(this.deps.fs, source, {
        // A large local manifest is indexed on two threads: the scan is CPU-bound.
        builder: node.batch.kind === 'local' ? parallelIndexBuilder(node.batch.manifest, { log: (message) => this.deps.log?.(message) }) : undefined,
        cacheDir: this.deps.cacheDirFor(node.batch),
        labelAttribute: this.deps.labelAttribute(),
        signal,
        onCacheWarning: (message) => this.deps.log?.(message),
        onProgress: (p) => {
          const phase = this.states.get(node.batch.id)?.phase;
          if (phase?.name === 'indexing') {
            phase.entries = p.entries;
            phase.bytes = p.bytesRead;
            phase.total = p.totalBytes;
          }
        },
      }),
    );
    const done = opened.then((o) => o.done);
    done.catch(() => undefined);
    const fromCache = opened.then((o) => o.fromCache, () => false);
    const cacheSettled = opened.then((o) => o.cacheSettled, () => undefined);
    return { done, fromCache, cacheSettled, firstPage: (count) => opened.then((o) => o.firstPage(count)) };
  }

  /** The children of a node: a batch's entries (paged), or nothing. */
  async children(node: TreeNode | undefined): Promise<readonly TreeNode[]> {
    if (!node) return this.roots();
    if (node.type !== 'batch') return [];
    const state = this.start(node);
    const phase = state.phase;
    if (phase.name === 'ready') return this.page(node, phase.index, state.shown);
    if (phase.name === 'failed') return [this.message(node, 'error', `Could not read the manifest: ${phase.error.message}`, phase.error.message)];
    if (phase.name === 'indexing') {
      // Show the first page in file order as soon as it is indexed; the full, sorted list
      // replaces it when the index is done (onDidChange fires then).
      const first = await Promise.race([phase.open.firstPage(PAGE_SIZE).then((entries) => ({ entries })), phase.open.done.then(() => undefined)]).catch(
        (error: unknown) => ({ error: OcrAlError.from(error) }),
      );
      const now = state.phase;
      if (now.name === 'ready') return this.page(node, now.index, state.shown);
      if (first && 'error' in first) {
        return first.error.code === 'Cancelled' ? [] : [this.message(node, 'error', `Could not read the manifest: ${first.error.message}`, first.error.message)];
      }
      const entries = (first?.entries ?? []).filter((s) => !this._options.status || s.status === this._options.status);
      const pct = now.name === 'indexing' && now.total > 0 ? ` ${Math.floor((100 * now.bytes) / now.total)}%` : '';
      return [
        ...entries.map((summary): EntryNode => ({ type: 'entry', parent: node, summary })),
        this.message(node, 'progress', `Indexing…${pct}`, 'Showing the first entries in file order; the sorted list follows when indexing is done.'),
      ];
    }
    return [];
  }

  private pageOptions(): PageOptions {
    return { sort: this._options.sort, status: this._options.status, strategy: SORT_STRATEGY };
  }

  private page(node: BatchNode, index: ManifestIndex, shown: number): TreeNode[] {
    const options = this.pageOptions();
    const total = index.pageTotal(options);
    if (total === 0) {
      const text = this._options.status ? `No ${this._options.status} entries` : 'No entries';
      return [this.message(node, 'empty', text, undefined)];
    }
    const out: TreeNode[] = index.page(0, shown, options).map((summary): EntryNode => ({ type: 'entry', parent: node, summary }));
    if (total > shown) out.push({ type: 'more', parent: node, shown, total });
    return out;
  }

  private message(parent: BatchNode, kind: MessageNode['kind'], text: string, detail: string | undefined): MessageNode {
    return { type: 'message', parent, kind, text, detail, location: undefined, sourceKind: parent.batch.kind };
  }

  /** Shows PAGE_SIZE more entries of a batch. */
  loadMore(node: BatchNode): void {
    const state = this.states.get(node.batch.id);
    if (!state) return;
    state.shown += PAGE_SIZE;
    this.deps.onDidChange(node);
  }

  /** The batch node's description: its counts once indexed. */
  batchDescription(node: BatchNode): string {
    const phase = this.states.get(node.batch.id)?.phase;
    switch (phase?.name) {
      case 'ready':
        return formatCounts(phase.index.counts);
      case 'indexing':
        return phase.total > 0 ? `indexing… ${Math.floor((100 * phase.bytes) / phase.total)}%` : 'indexing…';
      case 'failed':
        return 'cannot read manifest';
      default:
        return node.batch.kind === 's3' ? 'expand to index' : '';
    }
  }

  /** The batch node's tooltip, in Markdown: location, manifest, counts. */
  batchTooltip(node: BatchNode): string {
    const { batch } = node;
    const lines = [`**${escapeMarkdown(batch.name)}**`, '', `${batch.kind === 's3' ? 'S3 prefix' : 'Folder'}: \`${batch.location}\``];
    const phase = this.states.get(batch.id)?.phase;
    if (phase?.name === 'ready') {
      lines.push('', `${phase.index.entryCount.toLocaleString('en-US')} entries: ${formatCounts(phase.index.counts)}`);
      if (phase.index.counts.malformed) lines.push('', `${phase.index.counts.malformed} malformed line(s): expand and click one to open it.`);
    } else if (phase?.name === 'failed') {
      lines.push('', `Error: ${escapeMarkdown(phase.error.message)}`);
    }
    return lines.join('\n');
  }

  /**
   * The entry's tooltip in Markdown: the thumbnail (when it can be shown), the ref, status,
   * score, and the most uncertain boxes with their two most likely classes.
   */
  async entryTooltip(node: EntryNode, imageUrl: (batch: Batch, ref: string) => Promise<string | undefined>): Promise<string> {
    const { summary, parent } = node;
    const lines: string[] = [];
    if (summary.status === 'malformed') {
      lines.push(`**Line ${summary.line} is malformed**`, '', escapeMarkdown(summary.problem ?? ''), '', 'Click to open the manifest at this line.');
      return lines.join('\n');
    }
    if (summary.sourceRef) {
      try {
        const url = await imageUrl(parent.batch, summary.sourceRef);
        if (url) lines.push(`![${escapeMarkdown(refBasename(summary.sourceRef))}](${url.replace(/\)/g, '%29').replace(/ /g, '%20')}|width=240)`, '');
      } catch (error) {
        lines.push(`_${escapeMarkdown(OcrAlError.from(error).message)}_`, '');
      }
      lines.push(`\`${summary.sourceRef.replace(/`/g, "'")}\``, '');
    }
    const score = summary.uncertainty?.[SORT_STRATEGY];
    lines.push(`${summary.status} · line ${summary.line}${score === undefined ? '' : ` · uncertainty ${score.toFixed(2)} (least confidence)`}`);
    const index = this.indexOf(parent);
    if (index && summary.status !== 'new' && summary.status !== 'extracted') {
      try {
        const entry = await index.readEntry(summary.index);
        const { topSoftLabels } = await import('./softLabelSummary');
        const top = topSoftLabels(entry.value?.['soft-labels']);
        if (top.length) {
          lines.push('', '| box | top classes |', '| --- | --- |');
          for (const row of top) lines.push(`| ${escapeMarkdown(row.box)} | ${row.classes.map((c) => `${escapeMarkdown(c.name)} ${c.p.toFixed(2)}`).join(', ')} |`);
        }
      } catch (error) {
        lines.push('', `_${escapeMarkdown(OcrAlError.from(error).message)}_`);
      }
    }
    return lines.join('\n');
  }

  /** Aborts every index build. */
  dispose(): void {
    for (const state of this.states.values()) abortPhase(state.phase);
    this.states.clear();
  }
}

function abortPhase(phase: Phase): void {
  if (phase.name === 'indexing') phase.abort.abort();
}

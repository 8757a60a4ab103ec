/**
 * Picking which images go to human labelers: a pure function over plain arrays (one element
 * per manifest entry), so it can be tested and benchmarked without files. The CLI and the
 * extension feed it the index's precomputed scores.
 *
 * Rules (docs/sampling.md):
 *  - entries already labeled, malformed, or without a usable score are not candidates; each
 *    group is counted;
 *  - candidates are ranked by score descending, ties by `source-ref` ascending (UTF-16 code
 *    unit order, i.e. JavaScript `<`), so the same input always gives the same output;
 *  - `budget` keeps the first N, `threshold` keeps scores >= T (both: the first N of those);
 *  - `maxPerGroup` caps how many come from one value of a manifest key: the group of a
 *    candidate is asked lazily, in rank order, only until the budget fills, because reading a
 *    key means reading that manifest line.
 */
import { OcrAlError } from '../errors';

/**
 * Why an entry is not a candidate (codes of {@link SelectionInput.skip}). `noSoftLabels`
 * covers soft labels that give no usable score, too.
 */
export const Skip = { none: 0, labeled: 1, malformed: 2, noSoftLabels: 3 } as const;

/** Random access to the entries' `source-ref`s; arrays satisfy it (the index's lazy table too). */
export interface RefLookup {
  at(index: number): string | undefined;
}

/** The entries to choose from, as parallel arrays indexed by entry. */
export interface SelectionInput {
  /**
   * `source-ref` per entry. Read only where needed: to break score ties, and (when `skip` is
   * omitted) to refuse candidates without one.
   */
  readonly refs: RefLookup;
  /** Score per entry, higher = picked first; NaN makes a candidate `noSoftLabels`. */
  readonly scores: ArrayLike<number>;
  /** Per entry, a {@link Skip} code; omitted = every entry with a score is a candidate. */
  readonly skip?: ArrayLike<number>;
}

/** How many to pick, and the diversity cap. */
export interface SelectionOptions {
  /** Keep at most this many (top N). */
  readonly budget?: number;
  /** Keep only scores >= this. */
  readonly threshold?: number;
  /** At most this many per group (needs `groupOf`). */
  readonly maxPerGroup?: number;
  /**
   * The group of candidate `index` (the value of the `--group-by` key, as a string; undefined
   * when the entry lacks it: those form one group of their own). Called in rank order, at most
   * once per candidate, and only until the budget fills: in rounds of as many candidates as
   * there are open slots, whose calls may run concurrently.
   */
  readonly groupOf?: (index: number) => string | undefined | Promise<string | undefined>;
}

/** One picked entry. */
export interface SelectedEntry {
  readonly index: number;
  readonly score: number;
}

/** The outcome: picks in rank order, and what was left out and why. */
export interface Selection {
  /** Candidates ranked (entries minus the skipped ones). */
  readonly considered: number;
  readonly skipped: { readonly labeled: number; readonly noSoftLabels: number; readonly malformed: number };
  /** Picked entries, score descending, ties by ref ascending. */
  readonly selected: readonly SelectedEntry[];
  /** Candidates passed over because their group was full. */
  readonly groupCapped: number;
}

/** Ranks and picks; see the module comment for the rules. */
export async function selectImages(input: SelectionInput, options: SelectionOptions): Promise<Selection> {
  const { budget, threshold, maxPerGroup, groupOf } = checkOptions(options);
  const { candidates, skipped } = collectCandidates(input, threshold);
  const considered = candidates.length + skipped.belowThreshold;
  const counts = { labeled: skipped.labeled, noSoftLabels: skipped.noSoftLabels, malformed: skipped.malformed };
  const order = new RankOrder(candidates, input.scores, input.refs);

  if (maxPerGroup === undefined || !groupOf) {
    const picked = order.top(budget);
    return { considered, skipped: counts, selected: picked.map((i) => ({ index: i, score: input.scores[i]! })), groupCapped: 0 };
  }

  const perGroup = new Map<string | undefined, number>();
  const selected: SelectedEntry[] = [];
  let groupCapped = 0;
  order.heapify();
  // Groups are asked in rounds: as many next-ranked candidates as there are open slots (so no
  // line is read that a one-at-a-time loop would not read), concurrently, then taken in rank
  // order. A round is capped so a huge budget does not open thousands of reads at once.
  while (selected.length < budget) {
    const round: number[] = [];
    const want = Math.min(budget - selected.length, MAX_GROUP_LOOKUPS_AT_ONCE);
    for (let i = order.pop(); i >= 0; i = round.length < want ? order.pop() : -1) round.push(i);
    if (round.length === 0) break;
    const groups = await Promise.all(round.map((i) => groupOf(i)));
    round.forEach((i, k) => {
      const group = groups[k];
      const n = perGroup.get(group) ?? 0;
      if (n >= maxPerGroup) {
        groupCapped++;
        return;
      }
      perGroup.set(group, n + 1);
      selected.push({ index: i, score: input.scores[i]! });
    });
  }
  return { considered, skipped: counts, selected, groupCapped };
}

/** At most this many `groupOf` calls run at once. */
const MAX_GROUP_LOOKUPS_AT_ONCE = 64;

function checkOptions(options: SelectionOptions) {
  const { budget, threshold, maxPerGroup, groupOf } = options;
  if (budget === undefined && threshold === undefined) throw new OcrAlError('BadInput', 'give a budget (top N) or a threshold');
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 0)) {
    throw new OcrAlError('BadInput', `budget must be a non-negative integer, got ${budget}`);
  }
  if (threshold !== undefined && !Number.isFinite(threshold)) throw new OcrAlError('BadInput', `threshold must be a number, got ${threshold}`);
  if (maxPerGroup !== undefined && !(Number.isInteger(maxPerGroup) && maxPerGroup >= 1)) {
    throw new OcrAlError('BadInput', `max per group must be a positive integer, got ${maxPerGroup}`);
  }
  if (maxPerGroup !== undefined && !groupOf) throw new OcrAlError('BadInput', 'max per group needs a group key');
  return { budget: budget ?? Number.POSITIVE_INFINITY, threshold, maxPerGroup, groupOf };
}

function collectCandidates(input: SelectionInput, threshold: number | undefined) {
  const { scores, refs, skip } = input;
  const count = scores.length;
  if (skip && skip.length !== count) {
    throw new OcrAlError('Internal', `selection arrays differ in length (${count} scores, ${skip.length} skip codes)`);
  }
  const candidates = new Int32Array(count);
  let n = 0;
  const skipped = { labeled: 0, noSoftLabels: 0, malformed: 0, belowThreshold: 0 };
  const min = threshold ?? Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const why = skip ? skip[i]! : Skip.none;
    if (why === Skip.labeled) skipped.labeled++;
    else if (why === Skip.malformed) skipped.malformed++;
    else if (why === Skip.noSoftLabels) skipped.noSoftLabels++;
    else {
      const s = scores[i]!;
      if (Number.isNaN(s)) skipped.noSoftLabels++;
      // With skip codes, malformed entries (the only ones without a source-ref) are already
      // out: do not touch every ref.
      else if (!skip && refs.at(i) === undefined) skipped.malformed++;
      else if (s >= min) candidates[n++] = i;
      else skipped.belowThreshold++;
    }
  }
  return { candidates: candidates.subarray(0, n), skipped };
}

/**
 * Rank order over candidate indices: `before(a, b)` is true when a ranks before b (higher
 * score, or equal score and smaller ref). `top(k)` keeps a bounded heap of the best k (one
 * comparison rejects most candidates); `heapify` + `pop` yields the whole order lazily for the
 * group cap, which may need to look past the first k.
 */
class RankOrder {
  private heap: Int32Array;
  private size = 0;

  constructor(
    private readonly candidates: Int32Array,
    private readonly scores: ArrayLike<number>,
    private readonly refs: RefLookup,
  ) {
    this.heap = candidates;
  }

  before(a: number, b: number): boolean {
    const sa = this.scores[a]!;
    const sb = this.scores[b]!;
    if (sa !== sb) return sa > sb;
    const ra = this.refs.at(a) ?? '';
    const rb = this.refs.at(b) ?? '';
    return ra < rb || (ra === rb && a < b);
  }

  /** The best `k` candidates in rank order. */
  top(k: number): number[] {
    const c = this.candidates;
    const limit = Math.min(k, c.length);
    if (limit <= 0) return [];
    // Min-heap by rank (root = the worst of the kept) of size `limit`.
    const h = new Int32Array(limit);
    let size = 0;
    for (let j = 0; j < c.length; j++) {
      const i = c[j]!;
      if (size < limit) {
        h[size] = i;
        this.siftUpWorst(h, size++);
      } else if (this.before(i, h[0]!)) {
        h[0] = i;
        this.siftDownWorst(h, 0, size);
      }
    }
    const out = Array.from(h);
    out.sort((a, b) => (this.before(a, b) ? -1 : this.before(b, a) ? 1 : 0));
    return out;
  }

  /** Builds a max-heap (root = best) over all candidates, for {@link pop}. */
  heapify(): void {
    this.heap = Int32Array.from(this.candidates);
    this.size = this.heap.length;
    for (let j = (this.size >> 1) - 1; j >= 0; j--) this.siftDownBest(j);
  }

  /** The next candidate in rank order, or -1. */
  pop(): number {
    if (this.size === 0) return -1;
    const h = this.heap;
    const best = h[0]!;
    h[0] = h[--this.size]!;
    this.siftDownBest(0);
    return best;
  }

  private siftDownBest(j: number): void {
    const h = this.heap;
    const n = this.size;
    for (;;) {
      const l = 2 * j + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[c]!, h[j]!)) return;
      const t = h[c]!;
      h[c] = h[j]!;
      h[j] = t;
      j = c;
    }
  }

  private siftUpWorst(h: Int32Array, j: number): void {
    while (j > 0) {
      const parent = (j - 1) >> 1;
      if (!this.before(h[parent]!, h[j]!)) return; // parent already ranks after (is worse)
      const t = h[parent]!;
      h[parent] = h[j]!;
      h[j] = t;
      j = parent;
    }
  }

  private siftDownWorst(h: Int32Array, j: number, n: number): void {
    for (;;) {
      const l = 2 * j + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.before(h[l]!, h[r]!) ? r : l; // the worse child
      if (!this.before(h[j]!, h[c]!)) return;
      const t = h[c]!;
      h[c] = h[j]!;
      h[j] = t;
      j = c;
    }
  }
}

/**
 * The `random` baseline's score of an entry: a hash of its `source-ref` and the seed, uniform
 * in [0, 1). It depends on nothing else (not the file order, not the other entries), so the
 * same seed picks the same images even after lines are added or moved.
 */
export function randomScore(ref: string, seed: number): number {
  // FNV-1a over UTF-16 code units, seeded, then the murmur3 finalizer for avalanche.
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < ref.length; i++) {
    h ^= ref.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

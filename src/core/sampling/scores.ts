/**
 * Uncertainty scores of one box's class distribution p (n classes, p1 >= p2 the two largest),
 * normalized to [0, 1], higher = more uncertain:
 *   least confidence (1 - p1) * n / (n - 1); margin 1 - (p1 - p2); ratio p2 / p1;
 *   entropy -sum(p ln p) / ln n.
 * Functions take a flat array and an offset so callers can score a whole image (or a whole
 * batch) stored in one Float32Array/Float64Array without allocating per box.
 */
export type Strategy = 'least' | 'margin' | 'ratio' | 'entropy';
export const STRATEGIES: readonly Strategy[] = ['least', 'margin', 'ratio', 'entropy'];

export type Probabilities = ArrayLike<number>;

/**
 * Scores the distribution p[offset .. offset+n). The input is renormalized (it need not sum
 * to 1); returns NaN when it is unusable (n < 2, a negative, NaN or infinite value, or all zeros).
 */
export function scoreBox(strategy: Strategy, p: Probabilities, offset: number, n: number): number {
  if (n < 2) return Number.NaN;
  let sum = 0;
  let p1 = -1;
  let p2 = -1;
  for (let i = offset, end = offset + n; i < end; i++) {
    const v = p[i]!;
    if (!(v >= 0) || v === Infinity) return Number.NaN; // catches NaN and negatives
    sum += v;
    if (v > p1) {
      p2 = p1;
      p1 = v;
    } else if (v > p2) {
      p2 = v;
    }
  }
  if (!(sum > 0)) return Number.NaN;
  switch (strategy) {
    case 'least':
      return clamp01(((1 - p1 / sum) * n) / (n - 1));
    case 'margin':
      return clamp01(1 - (p1 - p2) / sum);
    case 'ratio':
      return clamp01(p2 / p1);
    case 'entropy': {
      let h = 0;
      for (let i = offset, end = offset + n; i < end; i++) {
        const q = p[i]! / sum;
        if (q > 0) h -= q * Math.log(q);
      }
      return clamp01(h / Math.log(n));
    }
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Column of each strategy in the 4-wide rows written by {@link scoreImages}. */
export const STRATEGY_COLUMN: Readonly<Record<Strategy, number>> = { least: 0, margin: 1, ratio: 2, entropy: 3 };

/** How an image's box scores combine into one image score. */
export type Aggregate = 'max' | 'mean' | 'sum';
export const AGGREGATES: readonly Aggregate[] = ['max', 'mean', 'sum'];

/** Options of {@link scoreImages}. */
export interface ScoreImagesOptions {
  readonly aggregate: Aggregate;
  /**
   * Ignore boxes whose top class has this index (the `other` class, for `--fields-only`), so
   * background words do not dilute the score. -1 (default) keeps every box.
   */
  readonly excludeTopClass?: number;
}

/** Per-image scores of {@link scoreImages}. */
export interface ImageScoreTable {
  /**
   * 4 scores per image (columns by {@link STRATEGY_COLUMN}). NaN for an image without one
   * usable box (no boxes with a usable distribution at all); 0 for an image whose usable
   * boxes were all excluded by `excludeTopClass` (nothing uncertain among its fields).
   */
  readonly scores: Float64Array;
  /** Per image: boxes skipped because their distribution is unusable (NaN, negative, all zero). */
  readonly unusableBoxes: Uint32Array;
}


/*
 * Entropy needs a logarithm per probability: 33M of them for 100k images x 30 boxes x 11
 * classes, which was most of the sampling time. Two things make it cheap without giving up
 * exactness (the kernel stays within 1e-9 of scoreBox; the tests check it):
 *
 * 1. Under `max` aggregation many boxes cannot raise their image's entropy (about 60% on the
 *    bench's data, more for a confident model): H(p) <= B(p1), the
 *    entropy of p1 followed by n - 1 equal shares of the rest (for a given top probability that
 *    spread is the most uncertain one; B decreases on [1/n, 1]). B is tabulated on a grid and read
 *    at the grid point just below p1 (an upper bound again, since B decreases), so a box whose
 *    bound does not beat the image's running maximum skips its logs and the max is unchanged.
 *    The box with the smallest p1 / s goes first (see scoreImageRange), so the maximum is high
 *    early; the bound is then read as a threshold on p1 / s, one multiply per box. `mean` and
 *    `sum` need every box's entropy and take every log.
 * 2. The logs that remain read a table: ln v of a float32 splits exactly into the log of the
 *    centre c of v's bucket (exponent and the top 8 mantissa bits: 2^16 buckets, indexed by the
 *    float's bits shifted right by 15) plus ln(1 + d), d = (v - c) / c, |d| <= 1/512. Three terms
 *    of the series (d - d^2/2 + d^3/3) leave |d|^4/4 < 4e-12. Only the buckets of the exponents in
 *    use are touched (a few KB for probabilities), so the table stays in cache. The bits come
 *    through an Int32Array view of the same buffer: no copy. Zero and subnormal inputs read a
 *    finite entry (about ln 2^-126) and are multiplied by v ~ 0, so they add nothing (0 ln 0 = 0)
 *    without a branch; a box whose whole distribution is that small takes exact Math.log.
 */
const LOG_SHIFT = 15; // 23 mantissa bits - 8 bucket bits
const LOG_LOW_MASK = (1 << LOG_SHIFT) - 1;
const LOG_HALF_BUCKET = 1 << (LOG_SHIFT - 1);
const LOG_OF_BUCKET = new Float64Array(1 << 16); // ln of the bucket's centre
const LOW_SCALE = new Float64Array(256); // 2^-23 / centre mantissa: low bits - half -> d
for (let i = 0; i < 256; i++) LOW_SCALE[i] = 1 / (1 << 23) / (1 + (i + 0.5) / 256);
for (let e = 0; e < 256; e++) {
  for (let i = 0; i < 256; i++) {
    LOG_OF_BUCKET[(e << 8) | i] = e === 0 ? -126 * Math.LN2 : e === 255 ? 0 : (e - 127) * Math.LN2 + Math.log(1 + (i + 0.5) / 256);
  }
}
const THIRD = 1 / 3;
/**
 * Below this sum a box's subnormal values could matter (see above): the stand-in log of a
 * subnormal v is off by ln(2^-126 / v), so v's term by at most 2^-126 / e < 5e-39, which
 * divided by s >= 1e-20 stays far below 1e-9 for any practical n.
 */
const TINY_SUM = 1e-20;
/** Above this sum, s rounded to float32 could overflow: its log is taken exactly. */
const HUGE_SUM = 1e38;
/** Float32 bits of +Infinity: bit patterns at or above it (as non-negative ints) are Infinity or NaN. */
const INFINITY_BITS = 0x7f800000;
/** Scratch view turning the kernel's bit patterns back into floats (the top two). */
const SCRATCH_FLOATS = new Float32Array(2);
const SCRATCH_BITS = new Int32Array(SCRATCH_FLOATS.buffer);

/** Grid steps of the entropy bound table (per unit of p1). */
const BOUND_STEPS = 4096;
/** Slack for the rounding of p1 / sum and of the kernel's own entropy (both ~1e-16). */
const BOUND_SLACK = 1e-12;
/** Per counted box of the current image under `max`: where it starts, its sum and its p1. */
let pendingBox = new Int32Array(64);
let pendingSum = new Float64Array(64);
let pendingTop = new Float64Array(64);
const boundTables = new Map<number, Float64Array>();

/**
 * BOUND[k] >= the normalized entropy of any n-class distribution whose top probability is at
 * least k / BOUND_STEPS (see the comment above).
 */
function entropyBoundTable(n: number): Float64Array {
  let table = boundTables.get(n);
  if (table) return table;
  table = new Float64Array(BOUND_STEPS + 1);
  const lnN = Math.log(n);
  for (let k = 0; k <= BOUND_STEPS; k++) {
    const q = Math.max(k / BOUND_STEPS, 1 / n);
    const rest = 1 - q;
    const h = -q * Math.log(q) - (rest > 0 ? rest * Math.log(rest / (n - 1)) : 0);
    table[k] = h / lnN + BOUND_SLACK;
  }
  boundTables.set(n, table);
  return table;
}

/**
 * THRESHOLD[L] = the smallest p1 / s (plus a hair for the rounding of p1 >= t * s) from which on
 * every box's entropy bound is at most L / THRESHOLD_STEPS: a box at or above it cannot raise
 * an image maximum of at least that level. Read at the level rounded down (a lower level only
 * means a higher, safe threshold), so it costs one lookup when an image's maximum rises.
 */
const THRESHOLD_STEPS = 4096;
const thresholdTables = new Map<number, Float64Array>();

function boundThresholdTable(n: number, bound: Float64Array): Float64Array {
  let table = thresholdTables.get(n);
  if (table) return table;
  table = new Float64Array(THRESHOLD_STEPS + 1);
  let k = BOUND_STEPS + 1; // smallest grid point whose bound is <= level (none yet)
  // Levels rise, thresholds fall: one sweep down the bound table.
  for (let level = 0; level <= THRESHOLD_STEPS; level++) {
    while (k > 0 && bound[k - 1]! <= level / THRESHOLD_STEPS) k--;
    table[level] = k > BOUND_STEPS ? Infinity : k / BOUND_STEPS + 1e-12;
  }
  thresholdTables.set(n, table);
  return table;
}

/**
 * Scores every image of a batch in one pass. `p` holds the class distributions of all boxes
 * back to back (`n` floats per box); image `i` owns boxes `boxStart[i] .. boxStart[i+1]`
 * (so `boxStart` has one more element than there are images). Each box gets the four scores of
 * {@link scoreBox} (renormalized, same guards) computed together, and the image combines them
 * with `aggregate`. Boxes with an unusable distribution are skipped and counted.
 */
export function scoreImages(p: Float32Array, n: number, boxStart: ArrayLike<number>, options: ScoreImagesOptions): ImageScoreTable {
  const images = Math.max(0, boxStart.length - 1);
  const table: ImageScoreTable = { scores: new Float64Array(images * 4), unusableBoxes: new Uint32Array(images) };
  scoreImageRange(p, n, boxStart, options, 0, images, table);
  return table;
}

/**
 * {@link scoreImages} for images `from .. to` only, written into `out` at those images' rows
 * (`out.scores[4 * i ..]`, `out.unusableBoxes[i]`), which may be views of shared memory: several
 * threads can score disjoint ranges of one batch into one table.
 */
export function scoreImageRange(
  p: Float32Array,
  n: number,
  boxStart: ArrayLike<number>,
  options: ScoreImagesOptions,
  from: number,
  to: number,
  out: ImageScoreTable,
): void {
  const { scores, unusableBoxes } = out;
  if (to <= from) return;
  if (n < 2) {
    scores.fill(Number.NaN, from * 4, to * 4);
    for (let i = from; i < to; i++) unusableBoxes[i] = boxStart[i + 1]! - boxStart[i]!;
    return;
  }
  if (boxStart[to]! * n > p.length) {
    throw new RangeError(`scoreImages: ${boxStart[to]} boxes of ${n} classes need ${boxStart[to]! * n} floats, got ${p.length}`);
  }
  const bits = new Int32Array(p.buffer, p.byteOffset, p.length);
  const exclude = options.excludeTopClass ?? -1;
  const mode = options.aggregate === 'max' ? 0 : options.aggregate === 'sum' ? 1 : 2;
  const thresholds = boundThresholdTable(n, entropyBoundTable(n));
  const leastScale = n / (n - 1);
  const invLogN = 1 / Math.log(n);

  for (let img = from; img < to; img++) {
    const firstBox = boxStart[img]!;
    const endBox = boxStart[img + 1]!;
    let aLeast = 0;
    let aMargin = 0;
    let aRatio = 0;
    let aEntropy = 0;
    let usable = 0;
    let counted = 0;
    let bad = 0;
    // Under max: the winning fractions so far (as numerator and denominator), see below.
    let leastTop = 1;
    let leastSum = 0;
    let marginGap = 1;
    let marginSum = 0;
    let ratioSecond = -1;
    let ratioTop = 1;
    let minAt = 0;
    if (mode === 0 && endBox - firstBox > pendingBox.length) {
      const size = Math.max(endBox - firstBox, 2 * pendingBox.length);
      pendingBox = new Int32Array(size);
      pendingSum = new Float64Array(size);
      pendingTop = new Float64Array(size);
    }
    // Locals: the module-level arrays are reloaded on every access otherwise.
    const boxAt = pendingBox;
    const sumAt = pendingSum;
    const topAt = pendingTop;
    for (let box = firstBox; box < endBox; box++) {
      const start = box * n;
      const end = start + n;
      // Two interleaved accumulators (even and odd classes) halve the dependency chains: the
      // loop is bound by add latency, not by the number of operations.
      let sumA = 0;
      let sumB = 0;
      // Bit patterns of the two largest values of each half. Non-negative floats order like
      // their bits, and int arithmetic selects by mask: a compare-and-branch would mispredict
      // several times per box (the top class sits anywhere), which cost more than the logs.
      let a1 = 0;
      let a2 = 0;
      let b1 = 0;
      let b2 = 0;
      let signs = 0; // OR of all bits: negative when some value has its sign bit set
      let k = start;
      for (; k + 1 < end; k += 2) {
        const ra = bits[k]!;
        const rb = bits[k + 1]!;
        signs |= ra | rb;
        sumA += p[k]!;
        sumB += p[k + 1]!;
        const x = ra & 0x7fffffff; // masked so the int arithmetic cannot overflow
        const y = rb & 0x7fffffff;
        const dx = a1 - x;
        const mx = dx >> 31; // -1 when x > a1
        const lx = x + (dx & mx); // min(a1, x)
        a1 -= dx & mx; // max(a1, x)
        const ex = a2 - lx;
        a2 -= ex & (ex >> 31); // max(a2, min(a1, x))
        const dy = b1 - y;
        const my = dy >> 31;
        const ly = y + (dy & my);
        b1 -= dy & my;
        const ey = b2 - ly;
        b2 -= ey & (ey >> 31);
      }
      if (k < end) {
        const ra = bits[k]!;
        signs |= ra;
        sumA += p[k]!;
        const x = ra & 0x7fffffff;
        const dx = a1 - x;
        const mx = dx >> 31;
        const lx = x + (dx & mx);
        a1 -= dx & mx;
        const ex = a2 - lx;
        a2 -= ex & (ex >> 31);
      }
      // Merge the halves: p1 = max(a1, b1), p2 = max(min(a1, b1), a2, b2).
      const d = a1 - b1;
      const m = d >> 31;
      const p1 = a1 - (d & m);
      const lo = b1 + (d & m);
      const e = a2 - b2;
      const hi2 = a2 - (e & (e >> 31));
      const f = lo - hi2;
      const p2 = lo - (f & (f >> 31));
      const sum = sumA + sumB;
      // Refuse NaN and +-Infinity (a top bit pattern at or above Infinity's), and negatives: a
      // sign bit anywhere sends the box to an exact check, where -0 (which counts as 0) passes.
      if (p1 >= INFINITY_BITS || !(sum > 0) || (signs < 0 && !signsAreZeros(bits, start, end))) {
        bad++;
        continue;
      }
      usable++;
      if (exclude >= 0) {
        // The top class is the first value equal to the max (found only when it matters).
        let top = start;
        while ((bits[top]! & 0x7fffffff) !== p1) top++;
        if (top - start === exclude) continue;
      }
      SCRATCH_BITS[0] = p1;
      SCRATCH_BITS[1] = p2;
      const v1 = SCRATCH_FLOATS[0]!;
      const v2 = SCRATCH_FLOATS[1]!;
      if (mode === 0) {
        // The image's maxima without a division per box: each score is monotone in one
        // fraction (least: p1 / s, smallest wins; margin: (p1 - p2) / s, smallest wins; ratio:
        // p2 / p1, largest wins), and fractions of positive numbers compare by cross-products.
        // The winning box's fraction is divided out once at the end, by the same formula as a
        // per-box score; clamping to [0, 1] is monotone, so it too is applied once.
        if (v1 * leastSum < leastTop * sum) {
          leastTop = v1;
          leastSum = sum;
          minAt = counted;
        }
        if ((v1 - v2) * marginSum < marginGap * sum) {
          marginGap = v1 - v2;
          marginSum = sum;
        }
        if (v2 * ratioTop > ratioSecond * v1) {
          ratioSecond = v2;
          ratioTop = v1;
        }
        boxAt[counted] = start;
        sumAt[counted] = sum;
        topAt[counted] = v1;
        counted++;
        continue;
      }
      counted++;
      const inv = 1 / sum;
      let least = (1 - v1 * inv) * leastScale;
      let margin = 1 - (v1 - v2) * inv;
      let ratio = v2 / v1;
      least = least < 0 ? 0 : least > 1 ? 1 : least;
      margin = margin < 0 ? 0 : margin > 1 ? 1 : margin;
      ratio = ratio < 0 ? 0 : ratio > 1 ? 1 : ratio;
      let entropy = boxEntropy(p, bits, start, end, sum, inv) * invLogN;
      entropy = entropy < 0 ? 0 : entropy > 1 ? 1 : entropy;
      aLeast += least;
      aMargin += margin;
      aRatio += ratio;
      aEntropy += entropy;
    }
    if (mode === 0 && counted > 0) {
      // Entropy of the box with the smallest p1 / s first (likely the most uncertain), then only
      // of the boxes that could beat the maximum so far: p1 / s below the bound's threshold.
      let s = sumAt[minAt]!;
      aEntropy = boxEntropy(p, bits, boxAt[minAt]!, boxAt[minAt]! + n, s, 1 / s) * invLogN;
      let threshold = thresholds[(aEntropy * THRESHOLD_STEPS) | 0]!;
      for (let j = 0; j < counted; j++) {
        s = sumAt[j]!;
        if (topAt[j]! >= threshold * s || j === minAt) continue;
        const entropy = boxEntropy(p, bits, boxAt[j]!, boxAt[j]! + n, s, 1 / s) * invLogN;
        if (entropy > aEntropy) {
          aEntropy = entropy;
          threshold = thresholds[(aEntropy * THRESHOLD_STEPS) | 0]!;
        }
      }
      aLeast = (1 - leastTop / leastSum) * leastScale;
      aMargin = 1 - marginGap / marginSum;
      aRatio = ratioSecond / ratioTop;
      aLeast = aLeast < 0 ? 0 : aLeast > 1 ? 1 : aLeast;
      aMargin = aMargin < 0 ? 0 : aMargin > 1 ? 1 : aMargin;
      aRatio = aRatio < 0 ? 0 : aRatio > 1 ? 1 : aRatio;
      aEntropy = aEntropy < 0 ? 0 : aEntropy > 1 ? 1 : aEntropy;
    }
    const o = img * 4;
    unusableBoxes[img] = bad;
    if (usable === 0 && endBox > firstBox) {
      scores[o] = scores[o + 1] = scores[o + 2] = scores[o + 3] = Number.NaN;
    } else if (mode === 2 && counted > 0) {
      scores[o] = aLeast / counted;
      scores[o + 1] = aMargin / counted;
      scores[o + 2] = aRatio / counted;
      scores[o + 3] = aEntropy / counted;
    } else {
      scores[o] = aLeast;
      scores[o + 1] = aMargin;
      scores[o + 2] = aRatio;
      scores[o + 3] = aEntropy;
    }
  }
}

/** True when every value of the box with its sign bit set is -0 (which counts as 0). */
function signsAreZeros(bits: Int32Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (bits[k]! < 0 && bits[k] !== -0x80000000) return false;
  return true;
}

/**
 * Entropy (natural log, not normalized) of the box p[start .. end) whose values sum to `sum`
 * (inv = 1 / sum): H(p / s) = ln s - sum(v ln v) / s, so the values need no division.
 */
function boxEntropy(p: Float32Array, bits: Int32Array, start: number, end: number, sum: number, inv: number): number {
  if (sum < TINY_SUM || sum > HUGE_SUM) return exactBoxEntropy(p, start, end, sum, inv);
  const plogp = sumVLogV(p, bits, start, end);
  // ln s the same way (s rounded to float32, then corrected to first order, exact to ~1e-15):
  // the table's error then cancels where s and a value share a mantissa (a uniform box scores
  // exactly 1).
  SCRATCH_FLOATS[0] = sum;
  const r = SCRATCH_FLOATS[0]!;
  const b = SCRATCH_BITS[0]!;
  const bucket = b >>> LOG_SHIFT;
  const d = ((b & LOG_LOW_MASK) - LOG_HALF_BUCKET) * LOW_SCALE[bucket & 255]!;
  const lnSum = LOG_OF_BUCKET[bucket]! + d * (1 - d * (0.5 - d * THIRD)) + (sum - r) * inv;
  return lnSum - plogp * inv;
}

/**
 * boxEntropy by Math.log, for sums where the table falls short: below 1e-20 subnormal values
 * (whose table entry is only a stand-in) weigh in; above 1e38, s rounded to float32 could
 * overflow. Practically never taken.
 */
function exactBoxEntropy(p: Float32Array, start: number, end: number, sum: number, inv: number): number {
  let plogp = 0;
  for (let k = start; k < end; k++) {
    const v = p[k]!;
    if (v > 0) plogp += v * Math.log(v);
  }
  return Math.log(sum) - plogp * inv;
}

/**
 * sum(v ln v) over p[start .. end) by the log table (normal values; zeros add 0). A function of
 * its own, small and without the slow path: the kernel ran about 10% faster than with the
 * fallback loop and the ln s code in the same function (measured A/B).
 */
function sumVLogV(p: Float32Array, bits: Int32Array, start: number, end: number): number {
  // The shift, mask and half are LOG_SHIFT, LOG_LOW_MASK and LOG_HALF_BUCKET, written out.
  const logOfBucket = LOG_OF_BUCKET;
  const lowScale = LOW_SCALE;
  let hA = 0;
  let hB = 0;
  let k = start;
  for (; k + 1 < end; k += 2) {
    const x = bits[k]! & 0x7fffffff; // -0 reads as +0
    const y = bits[k + 1]! & 0x7fffffff;
    const bx = x >>> 15;
    const by = y >>> 15;
    const dx = ((x & 0x7fff) - 0x4000) * lowScale[bx & 255]!;
    const dy = ((y & 0x7fff) - 0x4000) * lowScale[by & 255]!;
    hA += p[k]! * (logOfBucket[bx]! + dx * (1 - dx * (0.5 - dx * (1 / 3))));
    hB += p[k + 1]! * (logOfBucket[by]! + dy * (1 - dy * (0.5 - dy * (1 / 3))));
  }
  if (k < end) {
    const x = bits[k]! & 0x7fffffff;
    const bx = x >>> 15;
    const dx = ((x & 0x7fff) - 0x4000) * lowScale[bx & 255]!;
    hA += p[k]! * (logOfBucket[bx]! + dx * (1 - dx * (0.5 - dx * (1 / 3))));
  }
  return hA + hB;
}

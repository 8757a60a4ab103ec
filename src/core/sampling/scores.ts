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
 * classes, which is most of the sampling time. Math.log is exact but slow (~10 ns here). The
 * inputs are float32, so ln v splits exactly into the log of the centre c of v's bucket (sign,
 * exponent and the top 8 mantissa bits: 2^16 buckets, a table indexed by the float's bits
 * shifted right by 15) plus ln(1 + d), d = (v - c) / c, |d| < 1/512, where two terms of the
 * series (d - d^2/2) leave an error < 3e-9: below float32 resolution, and a short dependency
 * chain. Only the buckets of the exponents in use are touched (a few KB for probabilities),
 * so the table stays in cache. The bits come through an Int32Array view of the same buffer:
 * no copy. Zero and subnormal inputs read a finite table entry (about ln 2^-126) and are
 * multiplied by v ~ 0, so they add nothing (0 ln 0 = 0) without a branch.
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
/** Below this sum a box's subnormal values matter (see the kernel). */
const TINY_SUM = 1e-30;
/** Float32 bit pattern of -0 (as an int32). */
const NEGATIVE_ZERO_BITS = -2147483648;
/** Scratch view turning the kernel's bit patterns back into floats (top two, and the sum). */
const SCRATCH_FLOATS = new Float32Array(3);
const SCRATCH_BITS = new Int32Array(SCRATCH_FLOATS.buffer);

/** ln v for the float32 whose bits are b (b >= 0); see the table comment above. */
function lnOfBits(b: number): number {
  const bucket = b >>> LOG_SHIFT;
  const d = ((b & LOG_LOW_MASK) - LOG_HALF_BUCKET) * LOW_SCALE[bucket & 255]!;
  return LOG_OF_BUCKET[bucket]! + d * (1 - 0.5 * d);
}

/**
 * Scores every image of a batch in one pass. `p` holds the class distributions of all boxes
 * back to back (`n` floats per box); image `i` owns boxes `boxStart[i] .. boxStart[i+1]`
 * (so `boxStart` has one more element than there are images). Each box gets the four scores of
 * {@link scoreBox} (renormalized, same guards) computed together, and the image combines them
 * with `aggregate`. Boxes with an unusable distribution are skipped and counted.
 */
export function scoreImages(p: Float32Array, n: number, boxStart: ArrayLike<number>, options: ScoreImagesOptions): ImageScoreTable {
  const images = boxStart.length - 1;
  const scores = new Float64Array(Math.max(0, images) * 4);
  const unusableBoxes = new Uint32Array(Math.max(0, images));
  if (images <= 0) return { scores, unusableBoxes };
  if (n < 2) {
    scores.fill(Number.NaN);
    for (let i = 0; i < images; i++) unusableBoxes[i] = boxStart[i + 1]! - boxStart[i]!;
    return { scores, unusableBoxes };
  }
  if (boxStart[images]! * n > p.length) {
    throw new RangeError(`scoreImages: ${boxStart[images]} boxes of ${n} classes need ${boxStart[images]! * n} floats, got ${p.length}`);
  }
  const bits = new Int32Array(p.buffer, p.byteOffset, p.length);
  const exclude = options.excludeTopClass ?? -1;
  const mode = options.aggregate === 'max' ? 0 : options.aggregate === 'sum' ? 1 : 2;
  const leastScale = n / (n - 1);
  const invLogN = 1 / Math.log(n);

  for (let img = 0; img < images; img++) {
    const firstBox = boxStart[img]!;
    const endBox = boxStart[img + 1]!;
    let aLeast = 0;
    let aMargin = 0;
    let aRatio = 0;
    let aEntropy = 0;
    let usable = 0;
    let counted = 0;
    let bad = 0;
    for (let box = firstBox; box < endBox; box++) {
      const start = box * n;
      const end = start + n;
      let sum = 0;
      let plogp = 0;
      // p1, p2: bit patterns of the two largest values (see below).
      let p1 = -1;
      let p2 = -1;
      let ok = true;
      for (let k = start; k < end; k++) {
        let b = bits[k]!;
        // One unsigned compare refuses negatives (sign bit), +-Infinity and NaN (exponent 255);
        // -0 is the one value with the sign bit that counts (as 0).
        if (b >>> 0 >= 0x7f800000) {
          if (b !== NEGATIVE_ZERO_BITS) {
            ok = false;
            break;
          }
          b = 0;
        }
        const v = p[k]!;
        sum += v;
        // Top two without branches: the bit patterns of non-negative floats order like the
        // floats, and int arithmetic selects by mask. A compare-and-branch would mispredict
        // several times per box (the top class sits anywhere), which cost more than the logs.
        const d = p1 - b; // both in [-1, 2^31): no overflow
        const above = d >> 31; // -1 when v > p1
        const lower = b + (d & above); // min(p1, v)
        p1 -= d & above; // max(p1, v)
        const e = p2 - lower;
        p2 -= e & (e >> 31); // max(p2, lower)
        const bucket = b >>> LOG_SHIFT;
        const f = ((b & LOG_LOW_MASK) - LOG_HALF_BUCKET) * LOW_SCALE[bucket & 255]!;
        plogp += v * (LOG_OF_BUCKET[bucket]! + f * (1 - 0.5 * f));
      }
      if (!ok || !(sum > 0) || sum === Infinity) {
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
      counted++;
      SCRATCH_BITS[0] = p1;
      SCRATCH_BITS[1] = p2;
      SCRATCH_FLOATS[2] = sum;
      const v1 = SCRATCH_FLOATS[0]!;
      const v2 = SCRATCH_FLOATS[1]!;
      const inv = 1 / sum;
      // ln s from the table via s rounded to float32, corrected to first order (exact to ~1e-15).
      let lnSum = lnOfBits(SCRATCH_BITS[2]!) + (sum - SCRATCH_FLOATS[2]!) * inv;
      if (sum < TINY_SUM) {
        // Subnormal values (their table entry is only a stand-in) weigh in only when the whole
        // distribution is that small: then redo the logs exactly. Practically never taken.
        plogp = 0;
        for (let k = start; k < end; k++) {
          const v = p[k]!;
          if (v > 0) plogp += v * Math.log(v);
        }
        lnSum = Math.log(sum);
      }
      let least = (1 - v1 * inv) * leastScale;
      let margin = 1 - (v1 - v2) * inv;
      let ratio = v2 / v1;
      // H(p/s) = ln s - sum(v ln v) / s
      let entropy = (lnSum - plogp * inv) * invLogN;
      least = least < 0 ? 0 : least > 1 ? 1 : least;
      margin = margin < 0 ? 0 : margin > 1 ? 1 : margin;
      ratio = ratio < 0 ? 0 : ratio > 1 ? 1 : ratio;
      entropy = entropy < 0 ? 0 : entropy > 1 ? 1 : entropy;
      if (mode === 0) {
        if (least > aLeast) aLeast = least;
        if (margin > aMargin) aMargin = margin;
        if (ratio > aRatio) aRatio = ratio;
        if (entropy > aEntropy) aEntropy = entropy;
      } else {
        aLeast += least;
        aMargin += margin;
        aRatio += ratio;
        aEntropy += entropy;
      }
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
  return { scores, unusableBoxes };
}

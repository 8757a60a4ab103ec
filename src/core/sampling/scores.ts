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
 * inputs are float32, so ln v splits exactly into exponent * ln 2 plus ln of the mantissa m in
 * [1, 2): m lies in one of 256 buckets starting at m_i, and ln m = ln m_i + ln(1 + d) with
 * d = (m - m_i) / m_i < 1/256, where three terms of the series leave an error < 1e-10, far
 * below the float32 resolution of the inputs. The tables (4 KB) stay in L1, and the bits are
 * read through an Int32Array view of the same buffer, so nothing is copied.
 */
const LOG_BUCKETS = 256;
const LOG_SHIFT = 15; // 23 mantissa bits - 8 bucket bits
const LOG_LOW_MASK = (1 << LOG_SHIFT) - 1;
const MANTISSA_SCALE = 1 / (1 << 23);
const LOG_AT = new Float64Array(LOG_BUCKETS);
const INV_AT = new Float64Array(LOG_BUCKETS);
for (let i = 0; i < LOG_BUCKETS; i++) {
  LOG_AT[i] = Math.log(1 + i / LOG_BUCKETS);
  INV_AT[i] = 1 / (1 + i / LOG_BUCKETS);
}
const LN2 = Math.LN2;
const THIRD = 1 / 3;
/** Scratch view turning the kernel's top-two bit patterns back into floats. */
const TOP_FLOATS = new Float32Array(2);
const TOP_BITS = new Int32Array(TOP_FLOATS.buffer);

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
      // p1, p2: bit patterns of the two largest values (see below); top: index of the first max.
      let p1 = -1;
      let p2 = -1;
      let top = -1;
      let ok = true;
      for (let k = start; k < end; k++) {
        const v = p[k]!;
        // !(v >= 0) catches NaN and negatives.
        if (!(v >= 0) || v === Infinity) {
          ok = false;
          break;
        }
        sum += v;
        // Top two without branches: the bit patterns of non-negative floats order like the
        // floats, and int arithmetic selects by mask. A compare-and-branch would mispredict
        // several times per box (the top class sits anywhere), which cost more than the logs.
        const b = bits[k]! & 0x7fffffff; // -0 counts as 0 (negatives were refused above)
        const d = p1 - b; // both in [0, 2^31): no overflow
        const above = d >> 31; // -1 when v > p1
        const lower = b + (d & above); // min(p1, v)
        top ^= (top ^ k) & above;
        p1 -= d & above; // max(p1, v)
        const e = p2 - lower;
        p2 -= e & (e >> 31); // max(p2, lower)
        if (b > 0x007fffff) {
          // Normal float: v = 2^e * m; ln v = e ln 2 + ln m_i + ln(1 + d).
          const bucket = (b >>> LOG_SHIFT) & (LOG_BUCKETS - 1);
          const f = (b & LOG_LOW_MASK) * MANTISSA_SCALE * INV_AT[bucket]!;
          plogp += v * (((b >>> 23) - 127) * LN2 + LOG_AT[bucket]! + f * (1 - f * (0.5 - f * THIRD)));
        } else if (b > 0) {
          plogp += v * Math.log(v); // subnormal: rare, exact path
        }
      }
      if (!ok || !(sum > 0) || sum === Infinity) {
        bad++;
        continue;
      }
      usable++;
      if (top - start === exclude) continue;
      counted++;
      TOP_BITS[0] = p1;
      TOP_BITS[1] = p2;
      const v1 = TOP_FLOATS[0]!;
      const v2 = TOP_FLOATS[1]!;
      let least = (1 - v1 / sum) * leastScale;
      let margin = 1 - (v1 - v2) / sum;
      let ratio = v2 / v1;
      // H(p/s) = ln s - sum(v ln v) / s
      let entropy = (Math.log(sum) - plogp / sum) * invLogN;
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

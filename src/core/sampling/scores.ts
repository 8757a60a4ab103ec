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

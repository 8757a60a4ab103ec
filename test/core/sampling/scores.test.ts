import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { STRATEGIES, type Strategy, scoreBox, scoreImages, STRATEGY_COLUMN } from '../../../src/core/sampling/scores';

const close = (actual: number, expected: number, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected}, got ${actual}`);

function all(p: readonly number[]): Record<Strategy, number> {
  return Object.fromEntries(STRATEGIES.map((s) => [s, scoreBox(s, p, 0, p.length)])) as Record<Strategy, number>;
}

/** The four scores of one box through the fused kernel (float32 input). */
function kernel(p: readonly number[]): Record<Strategy, number> {
  const { scores } = scoreImages(Float32Array.from(p), p.length, [0, 1], { aggregate: 'max' });
  return Object.fromEntries(STRATEGIES.map((s) => [s, scores[STRATEGY_COLUMN[s]]!])) as Record<Strategy, number>;
}

// Hand-computed values: [distribution, least, margin, ratio, entropy].
const cases: [string, number[], number, number, number, number][] = [
  ['uniform over 11', Array<number>(11).fill(1 / 11), 1, 1, 1, 1],
  ['one-hot over 11', [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 0, 0, 0, 0],
  // (1 - .5) * 11/10 = .55; margin 1 - 0; ratio 1; entropy ln 2 / ln 11
  ['two-way tie over 11', [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.55, 1, 1, 0.2890648263178878],
  // n = 2: (1 - .7) * 2 = .6; 1 - .4 = .6; 3/7; H2(.7) = 0.8812908992306927
  ['n=2', [0.7, 0.3], 0.6, 0.6, 3 / 7, 0.8812908992306927],
  // n = 12: .55 * 12/11 = .6; 1 - .2 = .8; .25/.45 = 5/9; -sum p ln p / ln 12
  ['n=12', [0.45, 0.25, ...Array<number>(10).fill(0.03)], 0.6, 0.8, 5 / 9, 0.7074186963618679],
  ['uniform over 2', [0.5, 0.5], 1, 1, 1, 1],
];

for (const [name, p, least, margin, ratio, entropy] of cases) {
  test(`scoreBox: ${name}`, () => {
    const s = all(p);
    close(s.least, least, 1e-12, 'least');
    close(s.margin, margin, 1e-12, 'margin');
    close(s.ratio, ratio, 1e-12, 'ratio');
    close(s.entropy, entropy, 1e-12, 'entropy');
  });
  test(`scoreImages kernel: ${name} (float32 input)`, () => {
    const s = kernel(p);
    close(s.least, least, 1e-6, 'least');
    close(s.margin, margin, 1e-6, 'margin');
    close(s.ratio, ratio, 1e-6, 'ratio');
    close(s.entropy, entropy, 1e-6, 'entropy');
  });
}

test('distributions that do not sum to 1 are renormalized', () => {
  assert.deepEqual(all([2, 2, 0]), all([0.5, 0.5, 0]));
  const k = kernel([3, 1]);
  close(k.least, 0.5, 1e-7);
  close(k.margin, 0.5, 1e-7);
  close(k.ratio, 1 / 3, 1e-7);
});

test('unusable distributions score NaN: NaN, negative, infinite, all zero, n < 2', () => {
  for (const p of [[Number.NaN, 1], [-0.1, 1.1], [Number.POSITIVE_INFINITY, 0], [0, 0, 0], [1]]) {
    for (const s of STRATEGIES) assert.ok(Number.isNaN(scoreBox(s, p, 0, p.length)), `${s} of ${p}`);
    if (p.length >= 2) for (const s of STRATEGIES) assert.ok(Number.isNaN(kernel(p)[s]), `kernel ${s} of ${p}`);
  }
});

test('zeros inside a distribution are fine (0 ln 0 = 0) and -0 counts as 0', () => {
  const k = kernel([-0, 1, 0]);
  assert.deepEqual(k, { least: 0, margin: 0, ratio: 0, entropy: 0 });
});

test('scoreBox reads at an offset', () => {
  const flat = [9, 9, 0.7, 0.3, 9];
  close(scoreBox('least', flat, 2, 2), 0.6, 1e-12);
});

test('the kernel agrees with scoreBox on any float32 distribution (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.float({ min: 0, max: 1e3, noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 14 }),
      (values) => {
        const p = Float32Array.from(values);
        const expected = STRATEGIES.map((s) => scoreBox(s, p, 0, p.length));
        const { scores } = scoreImages(p, p.length, [0, 1], { aggregate: 'max' });
        for (let c = 0; c < 4; c++) {
          if (Number.isNaN(expected[c]!)) assert.ok(Number.isNaN(scores[c]!));
          else close(scores[c]!, expected[c]!, 1e-9, STRATEGIES[c]);
          if (!Number.isNaN(scores[c]!)) assert.ok(scores[c]! >= 0 && scores[c]! <= 1);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('aggregation over an image: max, mean, sum', () => {
  // Box margins: .6 (n=2 [.7,.3]), 0 (one-hot), 1 (tie).
  const p = Float32Array.from([0.7, 0.3, 1, 0, 0.5, 0.5]);
  const starts = [0, 3];
  const m = STRATEGY_COLUMN.margin;
  close(scoreImages(p, 2, starts, { aggregate: 'max' }).scores[m]!, 1, 1e-7);
  close(scoreImages(p, 2, starts, { aggregate: 'sum' }).scores[m]!, 1.6, 1e-6);
  close(scoreImages(p, 2, starts, { aggregate: 'mean' }).scores[m]!, 1.6 / 3, 1e-6);
});

test('images are separated by boxStart; an image without boxes scores 0', () => {
  const p = Float32Array.from([0.5, 0.5, 1, 0]);
  const { scores } = scoreImages(p, 2, [0, 1, 1, 2], { aggregate: 'max' });
  assert.deepEqual(Array.from(scores), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('unusable boxes are skipped and counted; an image with only unusable boxes is NaN', () => {
  const p = Float32Array.from([0.5, 0.5, Number.NaN, 1, 0, 0, -1, 2]);
  const { scores, unusableBoxes } = scoreImages(p, 2, [0, 2, 4], { aggregate: 'mean' });
  assert.deepEqual(Array.from(unusableBoxes), [1, 2]);
  assert.deepEqual(Array.from(scores.subarray(0, 4)), [1, 1, 1, 1]); // mean over the one usable box
  assert.ok(Number.isNaN(scores[4]!));
});

test('fields only: boxes whose top class is `other` are ignored (and an all-other image scores 0)', () => {
  // classes [surname, other]: box 1 top = other (uncertain), box 2 top = surname (sure).
  const p = Float32Array.from([0.45, 0.55, 0.9, 0.1, 0.2, 0.8]);
  const m = STRATEGY_COLUMN.margin;
  const all = scoreImages(p, 2, [0, 2, 3], { aggregate: 'max' }).scores;
  const fields = scoreImages(p, 2, [0, 2, 3], { aggregate: 'max', excludeTopClass: 1 }).scores;
  close(all[m]!, 0.9, 1e-6);
  close(fields[m]!, 0.2, 1e-6);
  assert.equal(fields[4 + m], 0);
});

test('a flat array too short for the boxes is a programming error', () => {
  assert.throws(() => scoreImages(new Float32Array(3), 2, [0, 2], { aggregate: 'max' }), RangeError);
});

test('tiny and subnormal probabilities are scored exactly (uniform of subnormals is uniform)', () => {
  const tiny = Math.fround(1.401298464324817e-45);
  for (const s of STRATEGIES) close(kernel([tiny, tiny])[s], 1, 1e-12, s);
  const mixed = kernel([0.7, 0.3, tiny]);
  const exact = all([0.7, 0.3, tiny].map((x) => Math.fround(x)));
  for (const s of STRATEGIES) close(mixed[s], exact[s], 1e-9, s);
});

test('max/mean/sum aggregation over many boxes equals aggregating scoreBox within 1e-9 (property; under max, entropy skips bounded boxes)', () => {
  const box = fc.oneof(
    // confident boxes (their entropy is skipped once a more uncertain box was seen) ...
    fc.tuple(fc.integer({ min: 0, max: 10 }), fc.float({ min: Math.fround(0.9), max: 1, noNaN: true })).map(([top, p1]) => {
      const p = Array<number>(11).fill((1 - p1) / 10);
      p[top] = p1;
      return p;
    }),
    // ... and arbitrary ones
    fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 11, maxLength: 11 }),
  );
  fc.assert(
    fc.property(fc.array(box, { minLength: 1, maxLength: 40 }), fc.constantFrom('max', 'mean', 'sum' as const), (boxes, agg) => {
      const p = Float32Array.from(boxes.flat());
      const { scores } = scoreImages(p, 11, [0, boxes.length], { aggregate: agg });
      for (const s of STRATEGIES) {
        const usable = boxes.map((_, b) => scoreBox(s, p, b * 11, 11)).filter((v) => !Number.isNaN(v));
        const total = usable.reduce((a, b) => a + b, 0);
        const expected = usable.length === 0 ? Number.NaN : agg === 'max' ? Math.max(...usable) : agg === 'sum' ? total : total / usable.length;
        if (Number.isNaN(expected)) assert.ok(Number.isNaN(scores[STRATEGY_COLUMN[s]]!));
        else close(scores[STRATEGY_COLUMN[s]]!, expected, 1e-9 * (agg === 'sum' ? usable.length : 1), `${agg} ${s}`);
      }
    }),
    { numRuns: 1000 },
  );
});

test('huge values whose sum overflows float32 are scored like scoreBox', () => {
  const big = Math.fround(3e38);
  const p = [big, big, big, Math.fround(1e38)];
  const k = kernel(p);
  const exact = all(p.map((x) => Math.fround(x)));
  for (const s of STRATEGIES) close(k[s], exact[s], 1e-9, s);
});

test('a subnormal value beside a tiny normal one is scored within 1e-9 (fast-check counterexample)', () => {
  const p = [1.0000000031710769e-30, 1.6171124408154821e-40].map((x) => Math.fround(x));
  const k = kernel(p);
  const exact = all(p);
  for (const s of STRATEGIES) close(k[s], exact[s], 1e-9, s);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Skip, randomScore, selectImages, type SelectionInput } from '../../../src/core/sampling/select';

const refsOf = (input: SelectionInput, picked: readonly { index: number }[]) => picked.map((p) => input.refs.at(p.index));

test('picks the top N by score, ties broken by source-ref ascending', async () => {
  const input: SelectionInput = {
    refs: ['c', 'a', 'b', 'd', 'e'],
    scores: [0.5, 0.5, 0.9, 0.5, 0.1],
  };
  const s = await selectImages(input, { budget: 3 });
  assert.deepEqual(refsOf(input, s.selected), ['b', 'a', 'c']);
  assert.deepEqual(
    s.selected.map((p) => p.score),
    [0.9, 0.5, 0.5],
  );
  assert.equal(s.considered, 5);
});

test('labeled, malformed and no-soft-label entries are excluded and counted', async () => {
  const input: SelectionInput = {
    refs: ['a', 'b', 'c', 'd', undefined, 'f'],
    scores: [0.9, 0.8, Number.NaN, 0.7, 0.99, 0.1],
    skip: [Skip.labeled, Skip.none, Skip.none, Skip.noSoftLabels, Skip.malformed, Skip.none],
  };
  const s = await selectImages(input, { budget: 10 });
  assert.deepEqual(refsOf(input, s.selected), ['b', 'f']);
  assert.deepEqual(s.skipped, { labeled: 1, noSoftLabels: 2, malformed: 1 });
  assert.equal(s.considered, 2);
  // Without skip codes, an entry without a source-ref cannot be picked: it counts as malformed.
  const bare = await selectImages({ refs: ['a', undefined], scores: [0.1, 0.9] }, { budget: 2 });
  assert.deepEqual(refsOf({ refs: ['a', undefined], scores: [0.1, 0.9] }, bare.selected), ['a']);
  assert.equal(bare.skipped.malformed, 1);
});

test('threshold keeps scores >= T; with a budget, the first N of those', async () => {
  const input: SelectionInput = { refs: ['a', 'b', 'c', 'd'], scores: [0.2, 0.5, 0.7, 0.5] };
  assert.deepEqual(refsOf(input, (await selectImages(input, { threshold: 0.5 })).selected), ['c', 'b', 'd']);
  assert.deepEqual(refsOf(input, (await selectImages(input, { threshold: 0.5, budget: 2 })).selected), ['c', 'b']);
  const s = await selectImages(input, { threshold: 0.9 });
  assert.equal(s.selected.length, 0);
  assert.equal(s.considered, 4);
});

test('budget 0 picks nothing; a budget larger than the candidates picks them all', async () => {
  const input: SelectionInput = { refs: ['a', 'b'], scores: [0.2, 0.5] };
  assert.equal((await selectImages(input, { budget: 0 })).selected.length, 0);
  assert.deepEqual(refsOf(input, (await selectImages(input, { budget: 9 })).selected), ['b', 'a']);
});

test('bad options are BadInput', async () => {
  const input: SelectionInput = { refs: ['a'], scores: [0.2] };
  await assert.rejects(selectImages(input, {}), { code: 'BadInput' });
  await assert.rejects(selectImages(input, { budget: -1 }), { code: 'BadInput' });
  await assert.rejects(selectImages(input, { budget: 1.5 }), { code: 'BadInput' });
  await assert.rejects(selectImages(input, { budget: 1, maxPerGroup: 1 }), { code: 'BadInput' });
  await assert.rejects(selectImages(input, { budget: 1, maxPerGroup: 0, groupOf: () => 'x' }), { code: 'BadInput' });
});

test('max per group caps each group, asking for groups lazily in rank order until the budget fills', async () => {
  const refs = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
  const groups = ['x', 'x', 'x', 'y', undefined, undefined, 'z'];
  const asked: number[] = [];
  const s = await selectImages(
    { refs, scores },
    {
      budget: 4,
      maxPerGroup: 1,
      groupOf: async (i) => {
        asked.push(i);
        return groups[i];
      },
    },
  );
  // x: a only; y: d; entries without the key form one group: e; then g.
  assert.deepEqual(refsOf({ refs, scores }, s.selected), ['a', 'd', 'e', 'g']);
  assert.deepEqual(asked, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(s.groupCapped, 3);

  asked.length = 0;
  await selectImages({ refs, scores }, { budget: 2, maxPerGroup: 2, groupOf: (i) => (asked.push(i), groups[i]) });
  assert.deepEqual(asked, [0, 1], 'stops reading lines once the budget is full');
});

test('same input, same output: selection does not depend on input order (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 45 }),
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      async (refs, budget, shuffleSeed) => {
        // Few distinct scores, so ties are common.
        const scores = refs.map((r) => (r.charCodeAt(0) % 4) / 4);
        const a = await selectImages({ refs, scores }, { budget });
        const order = refs.map((_, i) => i).sort((x, y) => randomScore(refs[x]!, shuffleSeed) - randomScore(refs[y]!, shuffleSeed));
        const shuffledRefs = order.map((i) => refs[i]!);
        const b = await selectImages({ refs: shuffledRefs, scores: order.map((i) => scores[i]!) }, { budget });
        const picked = refsOf({ refs, scores }, a.selected);
        assert.deepEqual(refsOf({ refs: shuffledRefs, scores }, b.selected), picked);
        // And it is the sorted order's prefix.
        const expected = refs
          .map((r, i) => ({ r, s: scores[i]! }))
          .sort((x, y) => y.s - x.s || (x.r < y.r ? -1 : 1))
          .slice(0, budget)
          .map((x) => x.r);
        assert.deepEqual(picked, expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('group cap through the heap equals a sort-then-filter reference (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.constantFrom('x', 'y', 'z', undefined)), { minLength: 0, maxLength: 60 }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 1, max: 3 }),
      async (rows, budget, cap) => {
        const refs = rows.map((_, i) => `r${String(i).padStart(3, '0')}`);
        const scores = rows.map(([s]) => s / 5);
        const s = await selectImages({ refs, scores }, { budget, maxPerGroup: cap, groupOf: (i) => rows[i]![1] });
        const counts = new Map<string | undefined, number>();
        const expected: string[] = [];
        for (const i of refs.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b)) {
          if (expected.length >= budget) break;
          const g = rows[i]![1];
          if ((counts.get(g) ?? 0) >= cap) continue;
          counts.set(g, (counts.get(g) ?? 0) + 1);
          expected.push(refs[i]!);
        }
        assert.deepEqual(refsOf({ refs, scores }, s.selected), expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('randomScore: deterministic per (ref, seed), in [0, 1), different across seeds', () => {
  assert.equal(randomScore('s3://b/a.png', 1), randomScore('s3://b/a.png', 1));
  const values = Array.from({ length: 1000 }, (_, i) => randomScore(`img-${i}.png`, 42));
  assert.ok(values.every((v) => v >= 0 && v < 1));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  const other = Array.from({ length: 1000 }, (_, i) => randomScore(`img-${i}.png`, 43));
  assert.ok(values.filter((v, i) => v === other[i]).length < 5);
});

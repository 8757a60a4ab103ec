import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParallelScorer } from '../../src/cli/parallelScores';
import { AGGREGATES, scoreImages } from '../../src/core/sampling/scores';
import { OcrAlError } from '../../src/core/errors';

/** 500 images of 0..9 boxes of 11 classes in shared memory, with a few unusable boxes. */
function batch(): { p: Float32Array; boxStart: Int32Array } {
  const images = 500;
  const boxStart = new Int32Array(new SharedArrayBuffer((images + 1) * 4));
  for (let i = 0; i < images; i++) boxStart[i + 1] = boxStart[i]! + ((i * 7) % 10);
  const p = new Float32Array(new SharedArrayBuffer(boxStart[images]! * 11 * 4));
  let x = 1;
  for (let k = 0; k < p.length; k++) {
    x = (x * 48271) % 2147483647;
    p[k] = (x % 1000) / 1000;
  }
  p[5 * 11 + 3] = Number.NaN;
  return { p, boxStart };
}

test('two threads give exactly the single-threaded scores, for every aggregate and fields-only', async () => {
  const { p, boxStart } = batch();
  const pool = await ParallelScorer.start(2);
  try {
    assert.equal(pool.threads, 2);
    for (const aggregate of AGGREGATES) {
      for (const excludeTopClass of [-1, 10]) {
        const options = { aggregate, excludeTopClass };
        const [a, b] = [await pool.score(p, 11, boxStart, options), scoreImages(p, 11, boxStart, options)];
        assert.ok(a.scores.every((v, i) => Object.is(v, b.scores[i])), `${aggregate} ${excludeTopClass}`);
        assert.deepEqual(Array.from(a.unusableBoxes), Array.from(b.unusableBoxes));
      }
    }
  } finally {
    await pool.close();
  }
});

test('data outside shared memory is refused with a clear error', async () => {
  const pool = await ParallelScorer.start(2);
  try {
    await assert.rejects(pool.score(new Float32Array(22), 11, Int32Array.from([0, 2]), { aggregate: 'max' }), (e: unknown) => OcrAlError.is(e, 'BadInput'));
  } finally {
    await pool.close();
  }
});

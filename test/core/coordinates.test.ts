import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  area,
  clampRatioBox,
  coverage,
  intersectionArea,
  iou,
  layoutLmToRatio,
  pixelsToLayoutLm,
  pixelsToRatio,
  polygonToRatioBox,
  ratioBoxFromTextract,
  ratioBoxToTextract,
  ratioToLayoutLm,
  ratioToPixels,
  ratioToPixelsExact,
  textractConfidenceToUnit,
  unitConfidenceToTextract,
  type RatioBox,
} from '../../src/core/coordinates';

const image = { width: 1226, height: 1514 };

test('Textract BoundingBox becomes a ratio box and back', () => {
  const bb = { Width: 0.25, Height: 0.02, Left: 0.1, Top: 0.5 };
  const box = ratioBoxFromTextract(bb);
  assert.deepEqual(box, { left: 0.1, top: 0.5, width: 0.25, height: 0.02 });
  assert.deepEqual(ratioBoxToTextract(box), bb);
});

test('float noise outside the page is clamped, keeping the part inside', () => {
  const box = ratioBoxFromTextract({ Width: 0.5, Height: 1.0000001, Left: -0.1, Top: -1.58e-16 });
  assert.equal(box.left, 0);
  assert.ok(Math.abs(box.width - 0.4) < 1e-12);
  assert.equal(box.top, 0);
  assert.equal(box.height, 1);
  assert.deepEqual(clampRatioBox({ left: Number.NaN, top: 0.2, width: 0.1, height: -1 }), { left: 0, top: 0.2, width: 0.1, height: 0 });
});

test('GT pixels round the edges, not the width, so adjacent words do not gap', () => {
  // Two words sharing an edge at x = 0.30033: rounding widths separately would leave a gap.
  const a = ratioToPixels({ left: 0.1, top: 0.1, width: 0.20033, height: 0.01 }, { width: 1000, height: 1000 });
  const b = ratioToPixels({ left: 0.30033, top: 0.1, width: 0.1004, height: 0.01 }, { width: 1000, height: 1000 });
  assert.equal(a.left + a.width, b.left);
  assert.deepEqual(a, { left: 100, top: 100, width: 200, height: 10 });
  assert.deepEqual(b, { left: 300, top: 100, width: 101, height: 10 });
  const p = ratioToPixels({ left: 0.1, top: 0.2, width: 0.3, height: 0.05 }, image);
  for (const v of Object.values(p)) assert.ok(Number.isInteger(v));
});

test('GT pixels are clamped to the image and never collapse a real word to zero', () => {
  assert.deepEqual(ratioToPixels({ left: 0.9, top: 0.95, width: 0.3, height: 0.2 }, { width: 100, height: 100 }), {
    left: 90,
    top: 95,
    width: 10,
    height: 5,
  });
  // A 0.2-pixel-wide word at the right edge is widened leftwards to one pixel.
  assert.deepEqual(ratioToPixels({ left: 0.998, top: 0.5, width: 0.002, height: 0.001 }, { width: 100, height: 100 }), {
    left: 99,
    top: 50,
    width: 1,
    height: 1,
  });
  assert.deepEqual(ratioToPixels({ left: 0.5, top: 0.5, width: 0, height: 0 }, { width: 100, height: 100 }), {
    left: 50,
    top: 50,
    width: 0,
    height: 0,
  });
});

test('pixels -> ratios is exact and accepts the floats real Ground Truth jobs write', () => {
  const r = pixelsToRatio({ left: 138.8, top: 164.60000000000002, width: 443.8, height: 859 }, { width: 680, height: 1024 });
  assert.ok(Math.abs(r.left - 138.8 / 680) < 1e-15);
  assert.ok(Math.abs(r.top + r.height - 1023.6 / 1024) < 1e-12);
  // A box sticking out of the image keeps its inside part.
  assert.ok(Math.abs(pixelsToRatio({ left: 600, top: 0, width: 200, height: 10 }, { width: 680, height: 1024 }).width - 80 / 680) < 1e-12);
  assert.deepEqual(pixelsToRatio({ left: 1, top: 1, width: 1, height: 1 }, { width: 0, height: 10 }), { left: 0, top: 0, width: 0, height: 0 });
});

test('property: ratio -> pixels -> ratio moves each edge by at most half a pixel (plus the 1px widening)', () => {
  const unit = fc.double({ min: 0, max: 1, noNaN: true });
  fc.assert(
    fc.property(unit, unit, unit, unit, fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 }), (x, y, w, h, W, H) => {
      const box = clampRatioBox({ left: x, top: y, width: w, height: h });
      const px = ratioToPixels(box, { width: W, height: H });
      assert.ok(px.left >= 0 && px.top >= 0 && px.left + px.width <= W && px.top + px.height <= H);
      assert.ok(Math.abs(px.left - box.left * W) <= 0.5 + 1e-9 || px.left + px.width === W);
      const back = pixelsToRatio(px, { width: W, height: H });
      assert.ok(Math.abs(back.left + back.width - (box.left + box.width)) <= 1.5 / W + 1e-9);
      assert.ok(Math.abs(back.top + back.height - (box.top + box.height)) <= 1.5 / H + 1e-9);
    }),
    { numRuns: 500 },
  );
});

test('LayoutLM boxes are [x0,y0,x1,y1] in 0..1000, truncated like Hugging Face normalize_box', () => {
  assert.deepEqual(ratioToLayoutLm({ left: 0.1234, top: 0.5, width: 0.2, height: 0.0209 }), [123, 500, 323, 520]);
  // 0.57 * 1000 is 569.999... in floating point: still 570.
  assert.deepEqual(ratioToLayoutLm({ left: 0.57, top: 0, width: 0.43, height: 1 }), [570, 0, 1000, 1000]);
  assert.deepEqual(ratioToLayoutLm({ left: -0.2, top: 0.9, width: 0.5, height: 0.5 }), [0, 900, 300, 1000]);
  assert.deepEqual(layoutLmToRatio([100, 200, 300, 400]), { left: 0.1, top: 0.2, width: 0.2, height: 0.2 });
  assert.deepEqual(layoutLmToRatio([300, 400, 100, 200]), { left: 0.1, top: 0.2, width: 0.2, height: 0.2 });
  assert.deepEqual(pixelsToLayoutLm({ left: 10, top: 20, width: 50, height: 10 }, { width: 100, height: 200 }), [100, 100, 600, 150]);
});

test('property: LayoutLM boxes are ordered integers within 0..1000', () => {
  const any = fc.double({ min: -2, max: 3, noNaN: true });
  fc.assert(
    fc.property(any, any, any, any, (x, y, w, h) => {
      const [x0, y0, x1, y1] = ratioToLayoutLm({ left: x, top: y, width: w, height: h });
      for (const v of [x0, y0, x1, y1]) assert.ok(Number.isInteger(v) && v >= 0 && v <= 1000);
      assert.ok(x0 <= x1 && y0 <= y1);
    }),
  );
});

test('a rotated polygon gives its axis-aligned envelope; bad polygons give undefined', () => {
  // A square rotated 45 degrees around (0.5, 0.5).
  const box = polygonToRatioBox([
    { x: 0.5, y: 0.4 },
    { x: 0.6, y: 0.5 },
    { x: 0.5, y: 0.6 },
    { x: 0.4, y: 0.5 },
  ])!;
  assert.ok(Math.abs(box.left - 0.4) < 1e-12 && Math.abs(box.width - 0.2) < 1e-12);
  assert.ok(Math.abs(box.top - 0.4) < 1e-12 && Math.abs(box.height - 0.2) < 1e-12);
  assert.equal(polygonToRatioBox([]), undefined);
  assert.equal(polygonToRatioBox([{ x: Number.NaN, y: 0 }]), undefined);
  assert.deepEqual(polygonToRatioBox([{ x: -0.1, y: 0.9 }, { x: 0.1, y: 1.2 }]), { left: 0, top: 0.9, width: 0.1, height: 0.09999999999999998 });
});

test('intersection, IoU and coverage', () => {
  const a = { left: 0, top: 0, width: 10, height: 10 };
  const b = { left: 5, top: 5, width: 10, height: 10 };
  assert.equal(area(a), 100);
  assert.equal(area({ left: 0, top: 0, width: -1, height: 5 }), 0);
  assert.equal(intersectionArea(a, b), 25);
  assert.equal(iou(a, b), 25 / 175);
  assert.equal(iou(a, a), 1);
  assert.equal(iou(a, { left: 10, top: 0, width: 5, height: 5 }), 0); // touching edges do not overlap
  assert.equal(coverage({ left: 2, top: 2, width: 2, height: 2 }, a), 1);
  assert.equal(coverage(a, b), 0.25);
  assert.equal(coverage({ left: 0, top: 0, width: 0, height: 0 }, a), 0);
});

test('property: IoU is symmetric and in [0, 1]', () => {
  const box = fc.record({
    left: fc.double({ min: 0, max: 100, noNaN: true }),
    top: fc.double({ min: 0, max: 100, noNaN: true }),
    width: fc.double({ min: 0, max: 100, noNaN: true }),
    height: fc.double({ min: 0, max: 100, noNaN: true }),
  });
  fc.assert(
    fc.property(box, box, (a: RatioBox, b: RatioBox) => {
      const v = iou(a, b);
      assert.ok(v >= 0 && v <= 1 + 1e-12);
      assert.ok(Math.abs(v - iou(b, a)) < 1e-12);
    }),
  );
});

test('exact pixels keep sub-pixel positions', () => {
  assert.deepEqual(ratioToPixelsExact({ left: 0.5, top: 0.25, width: 0.001, height: 0.5 }, { width: 1000, height: 100 }), {
    left: 500,
    top: 25,
    width: 1,
    height: 50,
  });
});

test('confidence: Textract 0-100 <-> unit 0-1, clamped, NaN for missing', () => {
  assert.equal(textractConfidenceToUnit(99.5), 0.995);
  assert.equal(textractConfidenceToUnit(12), 0.12); // console exports carry integers
  assert.equal(textractConfidenceToUnit(100.0001), 1);
  assert.ok(Number.isNaN(textractConfidenceToUnit(Number.NaN)));
  assert.equal(unitConfidenceToTextract(0.5), 50);
  assert.equal(unitConfidenceToTextract(-0.1), 0);
});

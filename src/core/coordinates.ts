/**
 * The one module for coordinate and confidence conversions between the three systems the loop
 * meets (see docs/domain.md):
 *
 * - **Textract**: ratios of the page, 0..1, `BoundingBox {Width, Height, Left, Top}` and a
 *   `Polygon` of points `{X, Y}` (rotated quadrilaterals on rotated pages).
 * - **Ground Truth**: pixels of the image, `{left, top, width, height}` (integers when we write
 *   them; floats are accepted when reading, real bounding-box jobs emit them).
 * - **LayoutLM**: `[x0, y0, x1, y1]` integers in 0..1000.
 *
 * Everything else in the project converts through these functions so a rounding rule lives in
 * exactly one place. All functions are total: out-of-range input is clamped, never thrown on,
 * because real responses carry float noise (`-1.2e-7`, `1.0000001`) that must not reject a page.
 */

/** A box in ratios of the page (0..1), the project's form of a Textract BoundingBox. */
export interface RatioBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** A point in ratios of the page (0..1), the project's form of a Textract Polygon point. */
export interface RatioPoint {
  readonly x: number;
  readonly y: number;
}

/** A box in image pixels, Ground Truth's form. Integers when produced by {@link ratioToPixels}. */
export interface PixelBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Size of an image in pixels (a manifest's `source-size`). */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** A LayoutLM box: `[x0, y0, x1, y1]`, integers in 0..1000, x0 <= x1 and y0 <= y1. */
export type LayoutLmBox = readonly [x0: number, y0: number, x1: number, y1: number];

/** Any axis-aligned box in one coordinate system (ratios or pixels): what the overlap maths needs. */
export interface AxisBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Textract's wire shape of a bounding box (ratios). */
export interface TextractBoundingBox {
  readonly Width: number;
  readonly Height: number;
  readonly Left: number;
  readonly Top: number;
}

/** Textract's wire shape of a polygon point (ratios). */
export interface TextractPoint {
  readonly X: number;
  readonly Y: number;
}

/** The LayoutLM coordinate range: boxes are scaled to 0..LAYOUTLM_SCALE. */
export const LAYOUTLM_SCALE = 1000;

// ---------------------------------------------------------------------------------------------
// Textract <-> project ratios

/** Textract `BoundingBox` -> {@link RatioBox}, clamped to the page (0..1). */
export function ratioBoxFromTextract(box: TextractBoundingBox): RatioBox {
  return clampRatioBox({ left: box.Left, top: box.Top, width: box.Width, height: box.Height });
}

/** {@link RatioBox} -> Textract `BoundingBox` (for building responses in tests and demos). */
export function ratioBoxToTextract(box: RatioBox): TextractBoundingBox {
  return { Width: box.width, Height: box.height, Left: box.left, Top: box.top };
}

/** Textract `Polygon` -> points in ratios (not clamped: a rotated word may poke past the page). */
export function ratioPointsFromTextract(points: readonly TextractPoint[]): RatioPoint[] {
  return points.map((p) => ({ x: p.X, y: p.Y }));
}

/**
 * The axis-aligned envelope of a polygon, clamped to the page. This is how a box is derived on
 * rotated pages when a block has a Polygon but no usable BoundingBox (Textract's own
 * BoundingBox is this same envelope). Returns undefined for an empty polygon or non-finite points.
 */
export function polygonToRatioBox(points: readonly RatioPoint[]): RatioBox | undefined {
  if (points.length === 0) return undefined;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return undefined;
    if (p.x < minX) minX = p.x;
    if (p.x > maxX) maxX = p.x;
    if (p.y < minY) minY = p.y;
    if (p.y > maxY) maxY = p.y;
  }
  return edgesToRatioBox(minX, minY, maxX, maxY);
}

/**
 * Clamps a ratio box to the page: edges are clamped to 0..1 separately, so a box sticking out on
 * one side keeps the part inside the page. Non-finite values become 0.
 */
export function clampRatioBox(box: RatioBox): RatioBox {
  const left = finiteOr0(box.left);
  const top = finiteOr0(box.top);
  const width = Math.max(0, finiteOr0(box.width));
  const height = Math.max(0, finiteOr0(box.height));
  // Inside the page (the usual case): return the values untouched, since recomputing the
  // extent from clamped edges would add float error (0.35 - 0.1 !== 0.25).
  if (left >= 0 && top >= 0 && left + width <= 1 && top + height <= 1) {
    return left === box.left && top === box.top && width === box.width && height === box.height ? box : { left, top, width, height };
  }
  return edgesToRatioBox(left, top, left + width, top + height);
}

function edgesToRatioBox(x0: number, y0: number, x1: number, y1: number): RatioBox {
  const left = clamp(x0, 0, 1);
  const top = clamp(y0, 0, 1);
  return { left, top, width: Math.max(0, clamp(x1, 0, 1) - left), height: Math.max(0, clamp(y1, 0, 1) - top) };
}

// ---------------------------------------------------------------------------------------------
// Ratios <-> Ground Truth pixels

/**
 * Ratio box -> integer pixel box for Ground Truth.
 *
 * Rounding rule: the two *edges* are rounded (`round(left * W)`, `round((left + width) * W)`) and
 * the width is their difference. Rounding the width on its own would let adjacent boxes gap or
 * overlap by a pixel. Edges are clamped to the image. A box that is non-empty in ratios but
 * collapses to zero pixels is widened to 1 pixel (to the right/bottom, or left/up at the image's
 * far edge), because Ground Truth and the editor cannot show a zero-sized annotation.
 */
export function ratioToPixels(box: RatioBox, size: ImageSize): PixelBox {
  const [left, width] = axisToPixels(box.left, box.width, size.width);
  const [top, height] = axisToPixels(box.top, box.height, size.height);
  return { left, top, width, height };
}

function axisToPixels(start: number, extent: number, size: number): [number, number] {
  const s = finiteOr0(start);
  const e = Math.max(0, finiteOr0(extent));
  let a = clamp(Math.round(s * size), 0, size);
  let b = clamp(Math.round((s + e) * size), 0, size);
  if (b === a && e > 0 && size >= 1) {
    if (b < size) b += 1;
    else a -= 1;
  }
  return [a, b - a];
}

/**
 * Pixel box (integers or the floats real Ground Truth jobs write) -> ratio box, clamped to the
 * page. Exact: no rounding, so a box read from Ground Truth keeps its sub-pixel position.
 */
export function pixelsToRatio(box: PixelBox, size: ImageSize): RatioBox {
  if (!(size.width > 0) || !(size.height > 0)) return { left: 0, top: 0, width: 0, height: 0 };
  return clampRatioBox({
    left: box.left / size.width,
    top: box.top / size.height,
    width: box.width / size.width,
    height: box.height / size.height,
  });
}

/**
 * Ratio box -> pixel box without rounding (floats). For overlap maths against Ground Truth
 * annotations, where rounding would only add error.
 */
export function ratioToPixelsExact(box: RatioBox, size: ImageSize): PixelBox {
  return { left: box.left * size.width, top: box.top * size.height, width: box.width * size.width, height: box.height * size.height };
}

// ---------------------------------------------------------------------------------------------
// Ratios <-> LayoutLM 0..1000

/**
 * Ratio box -> LayoutLM box. Each edge is `floor(ratio * 1000)` clamped to 0..1000: the same
 * truncation as Hugging Face's `normalize_box` (`int(1000 * x / width)`), so boxes match what
 * LayoutLM processors produce for the same words.
 */
export function ratioToLayoutLm(box: RatioBox): LayoutLmBox {
  const b = clampRatioBox(box);
  return [toLayoutLm(b.left), toLayoutLm(b.top), toLayoutLm(b.left + b.width), toLayoutLm(b.top + b.height)];
}

function toLayoutLm(ratio: number): number {
  // The nudge keeps exact decimals exact: 0.57 * 1000 is 569.999... in binary floating point.
  return clamp(Math.floor(ratio * LAYOUTLM_SCALE + 1e-9), 0, LAYOUTLM_SCALE);
}

/** LayoutLM box -> ratio box (exact division; swapped corners are put in order; clamped). */
export function layoutLmToRatio(box: LayoutLmBox): RatioBox {
  const [x0, y0, x1, y1] = box;
  return clampRatioBox({
    left: Math.min(x0, x1) / LAYOUTLM_SCALE,
    top: Math.min(y0, y1) / LAYOUTLM_SCALE,
    width: Math.abs(x1 - x0) / LAYOUTLM_SCALE,
    height: Math.abs(y1 - y0) / LAYOUTLM_SCALE,
  });
}

/** Pixel box -> LayoutLM box (through ratios, so the one truncation rule applies). */
export function pixelsToLayoutLm(box: PixelBox, size: ImageSize): LayoutLmBox {
  return ratioToLayoutLm(pixelsToRatio(box, size));
}

// ---------------------------------------------------------------------------------------------
// Overlap

/** Area of a box (0 for negative or non-finite extents). */
export function area(box: AxisBox): number {
  const w = finiteOr0(box.width);
  const h = finiteOr0(box.height);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Area of the intersection of two boxes in the same coordinate system (0 when disjoint). */
export function intersectionArea(a: AxisBox, b: AxisBox): number {
  const w = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
  const h = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Intersection over union of two boxes in the same system, in 0..1 (0 when both are empty). */
export function iou(a: AxisBox, b: AxisBox): number {
  const inter = intersectionArea(a, b);
  if (inter === 0) return 0;
  return inter / (area(a) + area(b) - inter);
}

/**
 * Fraction of `inner` covered by `outer`, in 0..1: intersection / area(inner). This is how much
 * of a word lies inside an annotation, the measure used to give a word the class of the
 * annotation it overlaps most. 0 when `inner` is empty.
 */
export function coverage(inner: AxisBox, outer: AxisBox): number {
  const a = area(inner);
  return a === 0 ? 0 : Math.min(1, intersectionArea(inner, outer) / a);
}

// ---------------------------------------------------------------------------------------------
// Confidence

/**
 * Textract confidence (0..100) -> unit confidence (0..1), clamped. Non-finite input gives NaN so
 * callers can tell "missing" from "zero".
 */
export function textractConfidenceToUnit(confidence: number): number {
  return Number.isFinite(confidence) ? clamp(confidence / 100, 0, 1) : Number.NaN;
}

/** Unit confidence (0..1, Ground Truth's and the project's scale) -> Textract's 0..100, clamped. */
export function unitConfidenceToTextract(confidence: number): number {
  return Number.isFinite(confidence) ? clamp(confidence * 100, 0, 100) : Number.NaN;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

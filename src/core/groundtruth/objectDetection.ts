/**
 * The Ground Truth object-detection label attribute, the form human labels take in a manifest:
 *
 *   "labels": {"image_size": [{"width", "height", "depth"}],
 *              "annotations": [{"class_id", "left", "top", "width", "height"}]}     (pixels)
 *   "labels-metadata": {"class-map": {"0": "surname"}, "human-annotated": "yes",
 *                       "creation-date": "...", "job-name": "...",
 *                       "type": "groundtruth/object-detection", "objects": [{"confidence"}]}
 *
 * and the mapping between Textract words and annotations the editor needs: labeling a word
 * writes an annotation whose box is the word's box in pixels; a word takes the class of the
 * annotation that covers most of it. Unknown keys (`adjustment-status`, extra per-annotation
 * keys) survive parse -> edit -> serialize.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { type ClassSet, classMapOf, readClassMap } from '../classes';
import { type ImageSize, type PixelBox, type RatioBox, coverage, iou, ratioToPixels, ratioToPixelsExact } from '../coordinates';
import { OcrAlError } from '../errors';

/** The `type` of object-detection label metadata. */
export const OBJECT_DETECTION_TYPE = 'groundtruth/object-detection';

/**
 * A word covers an annotation's class only when at least this fraction of the word's area lies
 * inside the annotation. Half: a word straddling two annotations goes to the one holding most
 * of it, and a word merely grazed by a large box (a line-level annotation touching the next
 * line) stays unlabeled.
 */
export const MIN_WORD_COVERAGE = 0.5;

/**
 * Labeling a word replaces every annotation whose IoU with the word's pixel box is at least
 * this: those annotations are "the same word" labeled before (possibly by Ground Truth with a
 * slightly different box). Lower-IoU annotations (a box around a whole line) are kept.
 */
export const SAME_WORD_IOU = 0.5;

/** One `image_size` entry. */
export interface GtImageSize {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly [key: string]: unknown;
}

/** One annotation, in pixels of the image (floats accepted when reading). */
export interface GtAnnotation {
  readonly class_id: number;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly [key: string]: unknown;
}

/** The label attribute's value. */
export interface ObjectDetectionValue {
  readonly image_size: readonly GtImageSize[];
  readonly annotations: readonly GtAnnotation[];
  readonly [key: string]: unknown;
}

/** One `objects[]` entry: the confidence (0..1) of the annotation at the same index. */
export interface GtObject {
  readonly confidence: number;
  readonly [key: string]: unknown;
}

/** The `<attr>-metadata` value of an object-detection label. */
export interface ObjectDetectionMetadata {
  readonly 'class-map': Readonly<Record<string, string>>;
  /** "yes" or "no" in normal output; failure lines carry "true", so any string is kept. */
  readonly 'human-annotated'?: string;
  /** ISO-8601; real output has no zone and 6 fractional digits, parse it leniently. */
  readonly 'creation-date'?: string;
  readonly 'job-name'?: string;
  readonly type?: typeof OBJECT_DETECTION_TYPE;
  readonly objects?: readonly GtObject[];
  readonly [key: string]: unknown;
}

// zod/mini (tree-shakable; classic zod was ~800 KB of dist/extension.js) installs no messages of
// its own. The default ones ("Invalid input: expected string, received number") reach users in
// OcrAlError texts, so install English, as classic zod does, unless a locale is already set.
// (Read it through z.config(), not z.core.globalConfig: touching the z.core namespace puts
// every locale zod ships, ~400 KB, back into the bundle.)
if (!z.config().localeError) z.config(en());

const finite = z.number().check(z.refine(Number.isFinite, 'must be a finite number'));
const nonNegative = finite.check(z.refine((n) => n >= 0, 'must be >= 0'));
const imageSizeSchema = z.looseObject({ width: nonNegative, height: nonNegative, depth: z._default(nonNegative, 3) });
const annotationSchema = z.looseObject({
  class_id: z.number().check(z.int(), z.nonnegative()),
  left: finite,
  top: finite,
  width: nonNegative,
  height: nonNegative,
});
const valueSchema = z.looseObject({
  image_size: z.array(imageSizeSchema).check(z.minLength(1, 'needs one {width, height, depth}')),
  annotations: z.array(annotationSchema),
});
const metadataSchema = z.looseObject({
  'class-map': z._default(z.record(z.string(), z.string()), {}),
  'human-annotated': z.optional(z.string()),
  'creation-date': z.optional(z.string()),
  'job-name': z.optional(z.string()),
  type: z.optional(z.literal(OBJECT_DETECTION_TYPE, { error: `type must be "${OBJECT_DETECTION_TYPE}"` })),
  objects: z.optional(z.array(z.looseObject({ confidence: finite }))),
});

/** Parses a label attribute value; throws OcrAlError 'Malformed' naming the bad field. */
export function parseObjectDetectionValue(value: unknown, attribute = 'label'): ObjectDetectionValue {
  const parsed = valueSchema.safeParse(value);
  if (!parsed.success) throw malformed(attribute, parsed.error);
  return parsed.data as ObjectDetectionValue;
}

/**
 * Parses `<attr>-metadata`; throws 'Malformed' for a non object-detection `type` or a
 * `class-map` with keys that are not class ids. Sparse class-map keys are fine.
 */
export function parseObjectDetectionMetadata(value: unknown, attribute = 'label'): ObjectDetectionMetadata {
  const parsed = metadataSchema.safeParse(value);
  if (!parsed.success) throw malformed(`${attribute}-metadata`, parsed.error);
  readClassMap(parsed.data['class-map']); // validates the keys
  return parsed.data as ObjectDetectionMetadata;
}

function malformed(where: string, error: z.core.$ZodError): OcrAlError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
  return new OcrAlError('Malformed', `${where}${path}: ${issue?.message ?? 'invalid'}`, { cause: error });
}

/** The value and metadata as the plain JSON objects a manifest line holds (key order kept). */
export function serializeObjectDetection(
  value: ObjectDetectionValue,
  metadata: ObjectDetectionMetadata,
): { value: Record<string, unknown>; metadata: Record<string, unknown> } {
  return { value: { ...value }, metadata: { ...metadata } };
}

/** The image size an annotation set is in (its first `image_size`). */
export function imageSizeOf(value: ObjectDetectionValue): ImageSize {
  const first = value.image_size[0]!;
  return { width: first.width, height: first.height };
}

/** The class name of `classId` in a metadata's class-map, if listed. */
export function classNameOf(metadata: ObjectDetectionMetadata | undefined, classId: number): string | undefined {
  return metadata?.['class-map'][String(classId)];
}

/** (a) The annotation for labeling `word` with `classId`: the word's box in integer pixels. */
export function annotationForWord(word: { readonly box: RatioBox }, imageSize: ImageSize, classId: number): GtAnnotation {
  const box: PixelBox = ratioToPixels(word.box, imageSize);
  return { class_id: classId, left: box.left, top: box.top, width: box.width, height: box.height };
}

/**
 * (b) The class id of the annotation covering most of `word` (intersection / word area, at
 * least {@link MIN_WORD_COVERAGE}), or undefined. Ties go to the later annotation, which is the
 * newer edit. Annotations are compared in exact (float) pixels.
 */
export function classOfWord(
  word: { readonly box: RatioBox },
  imageSize: ImageSize,
  annotations: readonly GtAnnotation[],
): number | undefined {
  const wordBox = ratioToPixelsExact(word.box, imageSize);
  let best: number | undefined;
  let bestCoverage = 0;
  for (const a of annotations) {
    const c = coverage(wordBox, a);
    if (c >= MIN_WORD_COVERAGE && c >= bestCoverage) {
      best = a.class_id;
      bestCoverage = c;
    }
  }
  return best;
}

/**
 * The class name of every word that has one, by word id: {@link classOfWord} for each word,
 * named through the metadata's class-map (a class id missing from the map is left out). For
 * the editor's overlay and `ocr-al show`.
 */
export function classNamesOfWords(
  words: readonly { readonly id: string; readonly box: RatioBox }[],
  imageSize: ImageSize,
  value: ObjectDetectionValue | undefined,
  metadata: ObjectDetectionMetadata | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  if (!value || value.annotations.length === 0) return out;
  for (const word of words) {
    const id = classOfWord(word, imageSize, value.annotations);
    const name = id === undefined ? undefined : classNameOf(metadata, id);
    if (name !== undefined) out.set(word.id, name);
  }
  return out;
}

/** Options of {@link setWordLabel}. */
export interface SetWordLabelOptions {
  /** `job-name` to record; the existing one is kept when omitted. */
  readonly jobName?: string;
  /** The edit's time, recorded as `creation-date`; pass the journal's timestamp on replay. */
  readonly now: Date;
  /** Confidence recorded in `objects[]` for the new annotation (default 1: a person chose it). */
  readonly confidence?: number;
}

/**
 * (c) Labels one word: returns the new label value and metadata where every annotation covering
 * the same word (IoU >= {@link SAME_WORD_IOU} with the word's pixel box) is removed and the new
 * annotation appended; other annotations keep their order, extra keys and `objects[]` entries.
 * The metadata gets the class set's `class-map` (existing annotations' ids are remapped by class
 * name when an older map numbered them differently), `human-annotated: "yes"`, the
 * `creation-date` from `now`, `type`, and `job-name` when given. Unknown metadata keys are kept.
 *
 * Idempotent: labeling the same word with the same class and `now` twice yields the same value,
 * so replaying a journal after a crash is safe.
 *
 * Throws 'NotFound' for a class not in `classes`, and 'Conflict' when the existing value's
 * `image_size` differs from `imageSize` (its pixels would not mean the same thing).
 */
export function setWordLabel(
  value: ObjectDetectionValue | undefined,
  metadata: ObjectDetectionMetadata | undefined,
  word: { readonly box: RatioBox },
  imageSize: ImageSize,
  className: string,
  classes: ClassSet,
  options: SetWordLabelOptions,
): { value: ObjectDetectionValue; metadata: ObjectDetectionMetadata } {
  const classId = classes.indexOf(className);
  if (classId < 0) throw new OcrAlError('NotFound', `unknown class "${className}" (classes: ${classes.names.join(', ')})`);
  if (!(imageSize.width > 0) || !(imageSize.height > 0)) {
    throw new OcrAlError('BadInput', `image size ${imageSize.width}x${imageSize.height} is not usable`);
  }
  if (value) {
    const existing = imageSizeOf(value);
    if (existing.width !== imageSize.width || existing.height !== imageSize.height) {
      throw new OcrAlError(
        'Conflict',
        `label image_size ${existing.width}x${existing.height} differs from the image's ${imageSize.width}x${imageSize.height}`,
      );
    }
  }

  const { remap, classMap } = reconcileClassMap(metadata?.['class-map'] ?? {}, classes);
  const added = annotationForWord(word, imageSize, classId);
  const oldAnnotations = value?.annotations ?? [];
  const oldObjects = metadata?.objects ?? [];
  const annotations: GtAnnotation[] = [];
  const objects: GtObject[] = [];
  oldAnnotations.forEach((a, i) => {
    if (sameWord(a, added)) return;
    const id = remap.get(a.class_id) ?? a.class_id;
    annotations.push(id === a.class_id ? a : { ...a, class_id: id });
    // Objects pair with annotations by index; a missing entry means "unknown" -> 0, the
    // convention of custom labeling UIs.
    objects.push(oldObjects[i] ?? { confidence: 0 });
  });
  annotations.push(added);
  objects.push({ confidence: options.confidence ?? 1 });

  const depth = value?.image_size[0]?.depth ?? 3;
  const newValue: ObjectDetectionValue = {
    ...value,
    image_size: value ? value.image_size : [{ width: imageSize.width, height: imageSize.height, depth }],
    annotations,
  };
  const jobName = options.jobName ?? metadata?.['job-name'];
  const newMetadata: ObjectDetectionMetadata = {
    ...metadata,
    objects,
    'class-map': classMap,
    type: OBJECT_DETECTION_TYPE,
    'human-annotated': 'yes',
    'creation-date': formatCreationDate(options.now),
    ...(jobName === undefined ? {} : { 'job-name': jobName }),
  };
  return { value: newValue, metadata: newMetadata };
}

/** Same word: IoU at least SAME_WORD_IOU, or the identical box (IoU is 0 for a zero-area box). */
function sameWord(a: GtAnnotation, b: GtAnnotation): boolean {
  if (a.left === b.left && a.top === b.top && a.width === b.width && a.height === b.height) return true;
  return iou(a, b) >= SAME_WORD_IOU;
}

/**
 * The class-map to write: the class set's map, plus any names of the old map that are not in
 * the class set (kept so no label loses its meaning), under their old id when free or past the
 * set's ids. `remap` maps old ids whose id changed.
 */
function reconcileClassMap(
  old: Readonly<Record<string, string>>,
  classes: ClassSet,
): { remap: Map<number, number>; classMap: Record<string, string> } {
  const classMap: Record<string, string> = { ...classMapOf(classes) };
  const remap = new Map<number, number>();
  const extra: { id: number; name: string }[] = [];
  for (const { id, name } of readClassMap(old)) {
    const idx = classes.indexOf(name);
    if (idx >= 0) {
      if (idx !== id) remap.set(id, idx);
    } else {
      extra.push({ id, name });
    }
  }
  let next = classes.names.length;
  for (const { id, name } of extra) {
    let target = id;
    if (classMap[String(id)] !== undefined) {
      while (classMap[String(next)] !== undefined) next++;
      target = next;
      remap.set(id, target);
    }
    classMap[String(target)] = name;
  }
  return { remap, classMap };
}

/**
 * `creation-date` as Ground Truth writes it: ISO-8601 UTC without a zone and with 6 fractional
 * digits (`2019-01-29T13:29:11.798000`), so the output looks like the job outputs it joins.
 */
export function formatCreationDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new OcrAlError('BadInput', 'creation date is not a valid date');
  return `${date.toISOString().slice(0, 23)}000`;
}

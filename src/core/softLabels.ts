/**
 * Soft labels: a model's class distribution per Textract box, the manifest's `soft-labels` value:
 *
 *   {"model": "layoutlmv2-2026-11-01", "created": "2026-11-29T04:00:00Z",
 *    "classes": ["surname", ...],              (optional: the class set the model used)
 *    "boxes": {"<BlockId>": [p_0, ..., p_n-1], ...}}
 *
 * Each distribution must have one value per class, finite and >= 0, with a positive sum; it is
 * renormalized to sum exactly 1, as the sampling scores do (src/core/sampling/scores.ts), so an
 * image the index can score is one this module can read. A box that fails is not
 * fatal: it is reported by BlockId and kept verbatim for the rewrite, so one bad box neither
 * hides the image's other boxes nor gets lost.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { type ClassSet } from './classes';
import { OcrAlError } from './errors';

/** One distribution that could not be used, and why. */
export interface SoftLabelProblem {
  readonly blockId: string;
  readonly message: string;
}

/** A parsed `soft-labels` value. */
export interface SoftLabels {
  readonly model: string;
  /** ISO-8601 time the labels were made, as written. */
  readonly created: string;
  /** Class names from the value itself, when present. */
  readonly classes: readonly string[] | undefined;
  /** Number of classes every distribution has. */
  readonly classCount: number;
  /** Usable distributions (renormalized), by BlockId, in file order. */
  readonly boxes: ReadonlyMap<string, readonly number[]>;
  /** Unusable distributions by BlockId. */
  readonly problems: readonly SoftLabelProblem[];
  /** BlockIds in file order (usable and unusable), for a faithful rewrite. */
  readonly order: readonly string[];
  /**
   * Values as read, for every parsed box (usable or not), so a rewrite keeps the numbers as
   * written (renormalizing is for reading, not for rewriting someone's model output).
   */
  readonly raw: ReadonlyMap<string, unknown>;
  /** Top-level keys other than model/created/classes/boxes, kept for the rewrite. */
  readonly extra: Readonly<Record<string, unknown>>;
}

// zod/mini (tree-shakable; classic zod was ~800 KB of dist/extension.js) installs no messages of
// its own. The default ones ("Invalid input: expected string, received number") reach users in
// OcrAlError texts, so install English, as classic zod does, unless a locale is already set.
// (Read it through z.config(), not z.core.globalConfig: touching the z.core namespace puts
// every locale zod ships, ~400 KB, back into the bundle.)
if (!z.config().localeError) z.config(en());

const schema = z.looseObject({
  model: z.string().check(z.minLength(1, 'model must be a non-empty string')),
  created: z.string().check(z.minLength(1, 'created must be an ISO-8601 time')),
  classes: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(2, 'classes needs at least 2 names'))),
  boxes: z.record(z.string(), z.unknown()),
});

const KNOWN = new Set(['model', 'created', 'classes', 'boxes']);

/**
 * Parses a `soft-labels` value. The class count comes from the value's own `classes` or, when
 * absent, from `options.classes` (the batch's class set). Throws OcrAlError 'Malformed' when the
 * value's shape is wrong (not an object, no model/created/boxes, duplicate class names) or no
 * class count is known; 'Conflict' when the value's `classes` differ from `options.classes`
 * and `options.requireClasses` is set. Individual bad distributions go to `problems`.
 */
export function parseSoftLabels(value: unknown, options: { classes?: ClassSet; requireClasses?: boolean } = {}): SoftLabels {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `.${issue.path.map(String).join('.')}` : '';
    const message = issue?.path.length === 0 ? 'expected an object {model, created, boxes}' : (issue?.message ?? 'invalid');
    throw new OcrAlError('Malformed', `soft-labels${where}: ${message}`, { cause: parsed.error });
  }
  const data = parsed.data;
  if (data.classes && new Set(data.classes).size !== data.classes.length) {
    throw new OcrAlError('Malformed', 'soft-labels.classes: duplicate class names');
  }
  if (data.classes && options.classes && options.requireClasses && !sameNames(data.classes, options.classes.names)) {
    throw new OcrAlError(
      'Conflict',
      `soft-labels were made for classes [${data.classes.join(', ')}], not the batch's [${options.classes.names.join(', ')}]`,
    );
  }
  const classCount = data.classes?.length ?? options.classes?.names.length;
  if (classCount === undefined) throw new OcrAlError('Malformed', 'soft-labels: no "classes" and no class set to size the distributions');

  const boxes = new Map<string, readonly number[]>();
  const rawValues = new Map<string, unknown>();
  const problems: SoftLabelProblem[] = [];
  const order: string[] = [];
  for (const [blockId, raw] of Object.entries(data.boxes)) {
    order.push(blockId);
    rawValues.set(blockId, raw);
    const result = validateDistribution(raw, classCount);
    if (typeof result === 'string') {
      problems.push({ blockId, message: result });
    } else {
      boxes.set(blockId, result);
    }
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!KNOWN.has(k)) extra[k] = v;
  return { model: data.model, created: data.created, classes: data.classes, classCount, boxes, problems, order, raw: rawValues, extra };
}

/**
 * Checks one distribution; returns it renormalized, or a message saying why it is unusable.
 * Exported for model adapters that validate their output before writing it.
 */
export function validateDistribution(raw: unknown, classCount: number): number[] | string {
  if (!Array.isArray(raw)) return 'not an array of probabilities';
  if (raw.length !== classCount) return `has ${raw.length} probabilities, expected ${classCount} (one per class)`;
  let sum = 0;
  for (let i = 0; i < raw.length; i++) {
    const p: unknown = raw[i];
    if (typeof p !== 'number' || !Number.isFinite(p)) return `p[${i}] is not a finite number`;
    if (p < 0) return `p[${i}] is negative (${p})`;
    sum += p;
  }
  if (!(sum > 0)) return `sums to ${round(sum)}: no class has any probability`;
  return (raw as number[]).map((p) => p / sum);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** The most likely class of a distribution (lowest index on ties) and its probability. */
export function topClass(distribution: readonly number[]): { index: number; p: number } {
  let index = -1;
  let p = -Infinity;
  for (let i = 0; i < distribution.length; i++) {
    if (distribution[i]! > p) {
      p = distribution[i]!;
      index = i;
    }
  }
  return { index, p };
}

/** Top class per usable box, by BlockId, with its name when the class set is known. */
export function topClasses(labels: SoftLabels, classes?: ClassSet): Map<string, { index: number; p: number; name: string | undefined }> {
  const names = labels.classes ?? classes?.names;
  const out = new Map<string, { index: number; p: number; name: string | undefined }>();
  for (const [id, dist] of labels.boxes) {
    const top = topClass(dist);
    out.set(id, { ...top, name: names?.[top.index] });
  }
  return out;
}

/**
 * Builds soft labels from a model's output (for model adapters and the demo). Distributions are
 * validated like parsed ones; an unusable one throws 'BadInput' naming the BlockId, since a
 * writer should not emit bad data.
 */
export function createSoftLabels(input: {
  model: string;
  created: Date | string;
  classes?: readonly string[];
  boxes: ReadonlyMap<string, readonly number[]> | Readonly<Record<string, readonly number[]>>;
  classCount?: number;
}): SoftLabels {
  const created = typeof input.created === 'string' ? input.created : input.created.toISOString();
  const entries = input.boxes instanceof Map ? [...input.boxes.entries()] : Object.entries(input.boxes);
  const classCount = input.classes?.length ?? input.classCount;
  if (classCount === undefined) throw new OcrAlError('BadInput', 'soft labels need classes or a class count');
  const boxes = new Map<string, readonly number[]>();
  for (const [id, dist] of entries) {
    const result = validateDistribution(dist, classCount);
    if (typeof result === 'string') throw new OcrAlError('BadInput', `soft label for box ${id} ${result}`);
    boxes.set(id, result);
  }
  return {
    model: input.model,
    created,
    classes: input.classes ? [...input.classes] : undefined,
    classCount,
    boxes,
    problems: [],
    order: [...boxes.keys()],
    raw: new Map(),
    extra: {},
  };
}

/**
 * The `soft-labels` JSON value: model, created, classes (when known), boxes in their original
 * order (unusable ones verbatim), then any unknown keys.
 */
export function serializeSoftLabels(labels: SoftLabels): Record<string, unknown> {
  const boxes: Record<string, unknown> = {};
  for (const id of labels.order) {
    const dist = labels.boxes.get(id);
    boxes[id] = labels.raw.has(id) ? labels.raw.get(id) : dist !== undefined ? [...dist] : undefined;
  }
  return {
    model: labels.model,
    created: labels.created,
    ...(labels.classes ? { classes: [...labels.classes] } : {}),
    boxes,
    ...labels.extra,
  };
}

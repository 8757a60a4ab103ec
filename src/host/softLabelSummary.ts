/**
 * The soft-label table of an entry's tooltip: the most uncertain boxes and their likeliest
 * classes. Separate from batchesModel.ts so that the soft-label parser (and zod) load on the
 * first tooltip, not at activation.
 */
import { DEFAULT_PASSPORT_CLASSES, defaultClassSet } from '../core/classes';
import { parseSoftLabels, topClass } from '../core/softLabels';

/** One row of the tooltip's soft-label table. */
export interface SoftLabelRow {
  /** The BlockId, shortened to 8 characters. */
  readonly box: string;
  readonly classes: readonly { readonly name: string; readonly p: number }[];
}

/**
 * The `count` most uncertain boxes of a `soft-labels` value (lowest top probability first),
 * each with its two most likely classes. Unusable values give no rows.
 */
export function topSoftLabels(value: unknown, count = 3): SoftLabelRow[] {
  if (value === undefined) return [];
  let labels;
  try {
    // The value's own `classes` win; without them the built-in passport classes size it.
    labels = parseSoftLabels(value, { classes: defaultClassSet() });
  } catch {
    return [];
  }
  const names = labels.classes ?? (labels.classCount === DEFAULT_PASSPORT_CLASSES.length ? DEFAULT_PASSPORT_CLASSES : undefined);
  const rows = [...labels.boxes].map(([id, dist]) => ({ id, dist, top: topClass(dist).p }));
  rows.sort((a, b) => a.top - b.top || (a.id < b.id ? -1 : 1));
  return rows.slice(0, count).map(({ id, dist }) => {
    const ranked = dist.map((p, i) => ({ name: names?.[i] ?? `class ${i}`, p })).sort((a, b) => b.p - a.p);
    return { box: id.length > 8 ? `${id.slice(0, 8)}…` : id, classes: ranked.slice(0, 2) };
  });
}

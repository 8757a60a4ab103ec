/**
 * Importing a Ground Truth output manifest into a batch's label attribute. Pure: it turns the
 * parsed output and the batch's refs into the journal `set` edits to append (label value and
 * `<attr>-metadata` per image) plus a report of everything not imported and why. The caller
 * appends all edits in one journal write, so an import is durable and atomic like any edit.
 *
 * Accepted: object-detection labels from built-in bounding-box jobs, bounding-box adjustment
 * jobs (`adjustment-status` kept in the metadata), and custom jobs (`groundtruth/custom`) whose
 * value has the object-detection shape; `job-name` or `job_name`; sparse `class-map` keys;
 * float boxes (kept as they are). Classes are mapped by name through the line's `class-map`
 * onto the batch's class set, so ids from another numbering land on the right class.
 *
 * Matching: an output line belongs to the entry whose `source-ref` equals its `source-ref`
 * exactly; failing that, equal after URL-decoding and Unicode NFC normalization (S3 keys with
 * spaces or non-ASCII characters are sometimes written percent-encoded or decomposed by one
 * tool and not the other). A normalized form shared by two entries is ambiguous: reported.
 */
import { type ClassSet, classMapOf } from '../classes';
import { OcrAlError } from '../errors';
import type { JsonValue } from '../manifest/journal';
import type { LineProblem } from '../manifest/types';
import { OBJECT_DETECTION_TYPE, parseObjectDetectionValue, type GtAnnotation } from './objectDetection';
import type { OutputLabel, OutputManifest } from './outputManifest';

/** The `type` of custom-workflow labels. */
export const CUSTOM_TYPE = 'groundtruth/custom';


/** One edit to append: set top-level `key` of the entry `ref`. */
export interface ImportEdit {
  readonly ref: string;
  readonly key: string;
  readonly value: JsonValue;
}

/** One image whose labels will be imported. */
export interface ImportedItem {
  /** Output manifest line. */
  readonly line: number;
  /** The manifest entry's `source-ref` (may differ in encoding from the output's). */
  readonly ref: string;
  readonly annotations: number;
  /** `adjustment-status` of an adjustment job, if any. */
  readonly adjustmentStatus: string | undefined;
  /** True when the entry already had labels, which the import replaces. */
  readonly replaced: boolean;
}

/** What an import does and does not do. */
export interface ImportPlan {
  /** The edits, two per imported image (label value, then metadata). */
  readonly edits: readonly ImportEdit[];
  readonly imported: readonly ImportedItem[];
  /** Failed items (`failure-reason`): reported, not imported. */
  readonly failed: readonly { readonly line: number; readonly ref: string | undefined; readonly reason: string }[];
  /** Output lines with no manifest entry of that source-ref. */
  readonly unmatched: readonly { readonly line: number; readonly ref: string | undefined; readonly message: string }[];
  /** Lines naming classes that are not in the class set (nothing of the line is imported). */
  readonly unknownClasses: readonly { readonly line: number; readonly ref: string; readonly classes: readonly string[] }[];
  /** Lines whose label cannot become object-detection labels (other task types, bad shapes). */
  readonly skipped: readonly { readonly line: number; readonly ref: string | undefined; readonly message: string }[];
  /** Lines of the output manifest that do not parse. */
  readonly problems: readonly LineProblem[];
}

/** The batch side of an import. */
export interface ImportTarget {
  /** Number of manifest entries. */
  readonly count: number;
  /** `source-ref` of entry i (undefined for malformed ones); arrays satisfy it. */
  readonly refs: { at(index: number): string | undefined };
  /** Whether entry i already has labels under the label attribute. */
  readonly isLabeled: (index: number) => boolean;
  readonly labelAttribute: string;
  readonly classes: ClassSet;
}

/** Plans the import of `output` into `target`; see the module comment. */
export function planImport(output: OutputManifest, target: ImportTarget): ImportPlan {
  const lookup = refLookup(target.refs, target.count);
  const edits: ImportEdit[] = [];
  const imported: ImportedItem[] = [];
  const failed: ImportPlan['failed'][number][] = [];
  const unmatched: ImportPlan['unmatched'][number][] = [];
  const unknownClasses: ImportPlan['unknownClasses'][number][] = [];
  const skipped: ImportPlan['skipped'][number][] = [];
  const byRef = new Map<string, number>(); // entry ref -> position in `imported`, for repeats

  for (const item of output.items) {
    if (item.kind === 'failed') {
      failed.push({ line: item.line, ref: item.ref, reason: item.reason });
      continue;
    }
    if (item.kind === 'unlabeled') {
      skipped.push({ line: item.line, ref: item.ref, message: item.message });
      continue;
    }
    if (item.ref === undefined) {
      unmatched.push({ line: item.line, ref: undefined, message: 'no source-ref (text jobs with "source" have no image to label)' });
      continue;
    }
    const match = lookup(item.ref);
    if (typeof match === 'string') {
      unmatched.push({ line: item.line, ref: item.ref, message: match });
      continue;
    }
    const ref = target.refs.at(match)!;
    const converted = convertLabel(item, target.classes);
    if ('unknown' in converted) {
      unknownClasses.push({ line: item.line, ref, classes: converted.unknown });
      continue;
    }
    if ('message' in converted) {
      skipped.push({ line: item.line, ref, message: converted.message });
      continue;
    }
    const record: ImportedItem = {
      line: item.line,
      ref,
      annotations: converted.annotations,
      adjustmentStatus: typeof item.metadata['adjustment-status'] === 'string' ? item.metadata['adjustment-status'] : undefined,
      replaced: target.isLabeled(match),
    };
    const earlier = byRef.get(ref);
    if (earlier !== undefined) {
      // A later line for the same image wins (it is the newer label); the earlier is reported.
      const prior = imported[earlier]!;
      skipped.push({ line: prior.line, ref, message: `superseded by line ${item.line} for the same image` });
      imported[earlier] = { ...record, replaced: prior.replaced };
      edits[2 * earlier] = { ref, key: target.labelAttribute, value: converted.value };
      edits[2 * earlier + 1] = { ref, key: `${target.labelAttribute}-metadata`, value: converted.metadata };
      continue;
    }
    byRef.set(ref, imported.length);
    imported.push(record);
    edits.push({ ref, key: target.labelAttribute, value: converted.value }, { ref, key: `${target.labelAttribute}-metadata`, value: converted.metadata });
  }
  return { edits, imported, failed, unmatched, unknownClasses, skipped, problems: output.problems };
}

type Converted =
  | { value: JsonValue; metadata: JsonValue; annotations: number }
  | { unknown: string[] }
  | { message: string };

/**
 * One output label as our label attribute: the object-detection value with `class_id`s
 * renumbered by name into the class set, and metadata with the class set's full `class-map`,
 * `type` object-detection, `job-name` (from either spelling) and every other key kept.
 */
function convertLabel(item: OutputLabel, classes: ClassSet): Converted {
  const isDetection = item.type === OBJECT_DETECTION_TYPE || item.type === CUSTOM_TYPE || item.type === undefined;
  if (!isDetection) return { message: `label type "${item.type}" is not object detection; not imported` };
  let value;
  try {
    value = parseObjectDetectionValue(item.value, item.attribute);
  } catch (error) {
    const why = OcrAlError.is(error) ? error.message : String(error);
    return { message: item.type === CUSTOM_TYPE ? `custom label is not in object-detection form (${why}); not imported` : why };
  }
  const classMap = item.metadata['class-map'];
  const names: Record<string, unknown> = typeof classMap === 'object' && classMap !== null && !Array.isArray(classMap) ? (classMap as Record<string, unknown>) : {};
  const unknown = new Set<string>();
  const annotations: GtAnnotation[] = [];
  for (const a of value.annotations) {
    const name = names[String(a.class_id)];
    if (typeof name !== 'string') {
      unknown.add(`class_id ${a.class_id} (not in the line's class-map)`);
      continue;
    }
    const id = classes.indexOf(name);
    if (id < 0) unknown.add(name);
    else annotations.push(id === a.class_id ? a : { ...a, class_id: id });
  }
  if (unknown.size > 0) return { unknown: [...unknown].sort() };

  const metadata: Record<string, unknown> = { ...item.metadata, 'class-map': classMapOf(classes), type: OBJECT_DETECTION_TYPE };
  if (item.jobName !== undefined) metadata['job-name'] = item.jobName;
  if (metadata['human-annotated'] === undefined) metadata['human-annotated'] = 'yes';
  return {
    value: { ...value, annotations } as unknown as JsonValue,
    metadata: metadata as JsonValue,
    annotations: annotations.length,
  };
}

/**
 * Finds the entry of an output `source-ref`: exact match first, then the URL-decoded and
 * NFC-normalized forms of both sides. Returns the entry index or why there is none.
 */
function refLookup(refs: ImportTarget['refs'], count: number): (ref: string) => number | string {
  const exact = new Map<string, number>();
  let normalized: Map<string, number | 'ambiguous'> | undefined;
  for (let i = 0; i < count; i++) {
    const r = refs.at(i);
    if (r !== undefined && !exact.has(r)) exact.set(r, i);
  }
  return (ref) => {
    const hit = exact.get(ref);
    if (hit !== undefined) return hit;
    if (!normalized) {
      normalized = new Map();
      for (const [r, i] of exact) {
        const n = normalizeRef(r);
        const seen = normalized.get(n);
        normalized.set(n, seen === undefined || seen === i ? i : 'ambiguous');
      }
    }
    const n = normalized.get(normalizeRef(ref));
    if (n === undefined) return 'no manifest entry has this source-ref';
    if (n === 'ambiguous') return 'several manifest entries match this source-ref once URL-decoded; not imported';
    return n;
  };
}

/** A ref with percent-escapes decoded (when they decode) and in Unicode NFC. */
export function normalizeRef(ref: string): string {
  let decoded = ref;
  if (ref.includes('%')) {
    try {
      decoded = decodeURIComponent(ref);
    } catch {
      decoded = ref; // a literal '%' that is not an escape
    }
  }
  return decoded.normalize('NFC');
}

/**
 * Reading a SageMaker Ground Truth output manifest: JSON lines, each the input line plus the
 * job's label attribute `X` and its `X-metadata`. The attribute name is whatever the job was
 * called (`category`, `augmentation-1`, `legal-entity-label-job-labeling-job-20220104T172242`,
 * ...), so it is found by pairing `X` with an `X-metadata` object that looks like label
 * metadata (it has `type`, `job-name`/`job_name`, `class-map`, `human-annotated` or
 * `failure-reason`), unless the caller names it. Input keys such as `annotator-metadata`
 * (`{"Info": ...}`) are not label metadata: their content has none of those keys.
 *
 * Tolerated as real outputs have them: a missing trailing newline, CRLF line ends, blank lines,
 * key order, failure lines (metadata with `failure-reason` and no label value). Lines that are
 * not JSON objects are reported with their line number, never thrown.
 */
import type { LineProblem } from '../manifest/types';

/** One label found on an output line. */
export interface OutputLabel {
  readonly kind: 'label';
  /** 1-based line number in the output manifest. */
  readonly line: number;
  /** `source-ref` of the line (undefined for text jobs with `source`). */
  readonly ref: string | undefined;
  /** The job's attribute name `X`. */
  readonly attribute: string;
  /** The value of `X`. */
  readonly value: unknown;
  /** The value of `X-metadata`. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** `X-metadata.type` (e.g. `groundtruth/object-detection`, `groundtruth/custom`). */
  readonly type: string | undefined;
  /** `job-name`, or the `job_name` spelling some custom workflows write. */
  readonly jobName: string | undefined;
}

/** A failed item: the metadata holds `failure-reason` and there is no label value. */
export interface OutputFailure {
  readonly kind: 'failed';
  readonly line: number;
  readonly ref: string | undefined;
  readonly attribute: string;
  readonly reason: string;
}

/** A line without any label attribute (or an ambiguous one): reported. */
export interface OutputUnlabeled {
  readonly kind: 'unlabeled';
  readonly line: number;
  readonly ref: string | undefined;
  readonly message: string;
}

export type OutputItem = OutputLabel | OutputFailure | OutputUnlabeled;

/** A parsed output manifest. */
export interface OutputManifest {
  readonly items: readonly OutputItem[];
  /** Lines that are not JSON objects. */
  readonly problems: readonly LineProblem[];
}

/** Options of {@link parseOutputManifest}. */
export interface OutputManifestOptions {
  /** The job's label attribute; when omitted it is detected per line. */
  readonly attribute?: string;
}

const METADATA_SUFFIX = '-metadata';
const METADATA_MARKERS = ['type', 'job-name', 'job_name', 'class-map', 'failure-reason', 'human-annotated'];

/** Parses the text of an output manifest (UTF-8 decoded). */
export function parseOutputManifest(text: string, options: OutputManifestOptions = {}): OutputManifest {
  const items: OutputItem[] = [];
  const problems: LineProblem[] = [];
  const lines = text.split('\n');
  // A final '\n' leaves one empty string; a missing one leaves the last line as it is.
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!.endsWith('\r') ? lines[k]!.slice(0, -1) : lines[k]!;
    if (raw.trim() === '') continue;
    const line = k + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push({ line, message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ line, message: 'not a JSON object' });
      continue;
    }
    items.push(readLine(value as Record<string, unknown>, line, options.attribute));
  }
  return { items, problems };
}

function readLine(entry: Record<string, unknown>, line: number, attribute: string | undefined): OutputItem {
  const ref = typeof entry['source-ref'] === 'string' ? entry['source-ref'] : undefined;
  let chosen = attribute;
  if (chosen === undefined) {
    const candidates = labelAttributesOf(entry);
    if (candidates.length === 0) return { kind: 'unlabeled', line, ref, message: 'no label attribute (no "X" with an "X-metadata" of label metadata)' };
    chosen = candidates.length === 1 ? candidates[0] : preferred(entry, candidates);
    if (chosen === undefined) {
      return { kind: 'unlabeled', line, ref, message: `several label attributes (${candidates.join(', ')}): name one with --job-attribute` };
    }
  }
  const metadata = entry[chosen + METADATA_SUFFIX];
  const value = entry[chosen];
  if (!isObject(metadata)) {
    return { kind: 'unlabeled', line, ref, message: value === undefined ? `no "${chosen}" label` : `"${chosen}${METADATA_SUFFIX}" is missing or not an object` };
  }
  if (value === undefined && typeof metadata['failure-reason'] === 'string') {
    return { kind: 'failed', line, ref, attribute: chosen, reason: metadata['failure-reason'] };
  }
  if (value === undefined) return { kind: 'unlabeled', line, ref, message: `no "${chosen}" label value` };
  const jobName = typeof metadata['job-name'] === 'string' ? metadata['job-name'] : typeof metadata.job_name === 'string' ? metadata.job_name : undefined;
  const type = typeof metadata.type === 'string' ? metadata.type : undefined;
  return { kind: 'label', line, ref, attribute: chosen, value, metadata, type, jobName };
}

/** The keys X of `entry` paired with an `X-metadata` that looks like label metadata. */
export function labelAttributesOf(entry: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(entry)) {
    if (!key.endsWith(METADATA_SUFFIX) || key.length === METADATA_SUFFIX.length) continue;
    const metadata = entry[key];
    if (!isObject(metadata) || !METADATA_MARKERS.some((m) => m in metadata)) continue;
    const attribute = key.slice(0, -METADATA_SUFFIX.length);
    // A failed item has no label value; anything else needs one.
    if (attribute in entry || typeof metadata['failure-reason'] === 'string') out.push(attribute);
  }
  return out;
}

/**
 * Of several label attributes on one line (an adjustment job's output keeps the original
 * job's attribute too), the adjustment (`adjustment-status` in its metadata), else the one
 * with the latest `creation-date`; undefined when that does not decide.
 */
function preferred(entry: Readonly<Record<string, unknown>>, candidates: readonly string[]): string | undefined {
  const meta = (a: string) => entry[a + METADATA_SUFFIX] as Record<string, unknown>;
  const adjusted = candidates.filter((a) => typeof meta(a)['adjustment-status'] === 'string');
  if (adjusted.length === 1) return adjusted[0];
  const dated = candidates
    .map((a) => ({ a, t: Date.parse(String(meta(a)['creation-date'] ?? '')) }))
    .filter((d) => !Number.isNaN(d.t))
    .sort((x, y) => y.t - x.t);
  if (dated.length === candidates.length && dated[0]!.t !== dated[1]!.t) return dated[0]!.a;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

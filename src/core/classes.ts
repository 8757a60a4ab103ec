/**
 * Class sets: the document-field classes a box can take. On disk a class set is a Ground Truth
 * label-category config file:
 *
 *   {"document-version": "2018-11-28", "labels": [{"label": "surname"}, ...]}
 *
 * A class's id is its position in `labels` (that is how Ground Truth numbers `class_id` in
 * object-detection output, and how soft-label distributions are indexed). Extra keys
 * (`categoryGlobalAttributes`, `labels[].attributes`, anything else) are kept on the parsed
 * config so a rewrite does not lose them.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { OcrAlError } from './errors';

/** The `document-version` Ground Truth expects in label-category config files. */
export const LABEL_CATEGORY_DOCUMENT_VERSION = '2018-11-28';

/** The built-in class set: 10 passport fields plus `other`, in this order (ids 0..10). */
export const DEFAULT_PASSPORT_CLASSES: readonly string[] = Object.freeze([
  'surname',
  'given_names',
  'passport_number',
  'nationality',
  'date_of_birth',
  'sex',
  'place_of_birth',
  'date_of_issue',
  'date_of_expiry',
  'mrz',
  'other',
]);

/** An ordered set of class names; a class's id is its index. */
export interface ClassSet {
  readonly names: readonly string[];
  /** The id of `name`, or -1 when it is not in the set. */
  indexOf(name: string): number;
  has(name: string): boolean;
}

/** Ground Truth `class-map`: class id (as a string) -> class name. */
export type ClassMap = Readonly<Record<string, string>>;

/** One `labels[]` entry of a label-category config; unknown keys (e.g. `attributes`) survive. */
export interface LabelCategory {
  readonly label: string;
  readonly [key: string]: unknown;
}

/** A parsed label-category config file; unknown top-level keys survive. */
export interface LabelCategoryConfig {
  readonly 'document-version'?: string;
  readonly labels: readonly LabelCategory[];
  readonly [key: string]: unknown;
}

/**
 * Builds a class set from names. Throws OcrAlError 'Malformed' for an empty list, an empty or
 * blank name, or a duplicate (ids must be unambiguous).
 */
export function createClassSet(names: readonly string[]): ClassSet {
  const problem = namesProblem(names);
  if (problem) throw new OcrAlError('Malformed', `class set: ${problem}`);
  const frozen = Object.freeze([...names]);
  const index = new Map(frozen.map((name, i) => [name, i] as const));
  return {
    names: frozen,
    indexOf: (name) => index.get(name) ?? -1,
    has: (name) => index.has(name),
  };
}

/** The built-in 11 passport classes. */
export function defaultClassSet(): ClassSet {
  return createClassSet(DEFAULT_PASSPORT_CLASSES);
}

function namesProblem(names: readonly string[]): string | undefined {
  if (names.length === 0) return 'no labels (at least one class is needed)';
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.trim() === '') return `labels[${i}] is empty`;
    const first = seen.get(name);
    if (first !== undefined) return `duplicate label "${name}" (labels[${first}] and labels[${i}])`;
    seen.set(name, i);
  }
  return undefined;
}

// zod/mini (tree-shakable; classic zod was ~800 KB of dist/extension.js) installs no messages of
// its own. The default ones ("Invalid input: expected string, received number") reach users in
// OcrAlError texts, so install English, as classic zod does, unless a locale is already set.
// (Read it through z.config(), not z.core.globalConfig: touching the z.core namespace puts
// every locale zod ships, ~400 KB, back into the bundle.)
if (!z.config().localeError) z.config(en());

const labelCategorySchema = z.looseObject({ label: z.string() });
const labelCategoryConfigSchema = z.looseObject({
  'document-version': z.optional(z.string()),
  labels: z.array(labelCategorySchema),
});

/**
 * Parses a label-category config (JSON text or an already parsed value) into the config (with
 * unknown keys kept) and its class set. Errors are OcrAlError 'Malformed' naming the problem:
 * invalid JSON, `labels` missing or not an array, an entry without a string `label`, an empty
 * or duplicate label.
 */
export function parseLabelCategoryConfig(input: string | unknown, source = 'label-category config'): {
  config: LabelCategoryConfig;
  classes: ClassSet;
} {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new OcrAlError('Malformed', `${source}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
  }
  const parsed = labelCategoryConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new OcrAlError('Malformed', `${source}: ${describeIssue(parsed.error)}`, { cause: parsed.error });
  }
  const config = parsed.data as LabelCategoryConfig;
  const problem = namesProblem(config.labels.map((l) => l.label));
  if (problem) throw new OcrAlError('Malformed', `${source}: ${problem}`);
  return { config, classes: createClassSet(config.labels.map((l) => l.label)) };
}

function describeIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length === 0 ? 'the file' : issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  if (issue.path.length === 0) return 'expected a JSON object with a "labels" array';
  if (issue.path.length === 1 && issue.path[0] === 'labels') return '"labels" must be an array of {"label": "..."}';
  return `${path}: ${issue.message}`;
}

/**
 * Serializes a class set as a label-category config (2-space JSON with a trailing newline).
 * Pass the parsed `base` config to keep its unknown keys and per-label attributes: labels still
 * in the set keep their entry, new ones get `{"label": name}`.
 */
export function serializeLabelCategoryConfig(classes: ClassSet, base?: LabelCategoryConfig): string {
  const byName = new Map((base?.labels ?? []).map((l) => [l.label, l] as const));
  const config: LabelCategoryConfig = {
    ...base,
    'document-version': base?.['document-version'] ?? LABEL_CATEGORY_DOCUMENT_VERSION,
    labels: classes.names.map((name) => byName.get(name) ?? { label: name }),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The Ground Truth `class-map` of a class set: `{"0": names[0], "1": names[1], ...}`. */
export function classMapOf(classes: ClassSet): ClassMap {
  const map: Record<string, string> = {};
  classes.names.forEach((name, i) => {
    map[String(i)] = name;
  });
  return map;
}

/**
 * Reads a Ground Truth `class-map` into a sorted list of (id, name). Keys may be sparse (real
 * output lists only the classes present on a line). Throws 'Malformed' for a key that is not a
 * non-negative integer or a value that is not a non-empty string.
 */
export function readClassMap(value: unknown): { id: number; name: string }[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OcrAlError('Malformed', 'class-map must be an object of {"id": "name"}');
  }
  const out: { id: number; name: string }[] = [];
  for (const [key, name] of Object.entries(value)) {
    if (!/^(0|[1-9]\d*)$/.test(key)) throw new OcrAlError('Malformed', `class-map key "${key}" is not a class id`);
    if (typeof name !== 'string' || name === '') throw new OcrAlError('Malformed', `class-map["${key}"] must be a class name`);
    out.push({ id: Number(key), name });
  }
  return out.sort((a, b) => a.id - b.id);
}

/**
 * A class set from a `class-map`, when its ids are exactly 0..n-1 (dense); undefined when they
 * are sparse (then the map alone does not define a class set, only names for some ids).
 */
export function classSetFromClassMap(value: unknown): ClassSet | undefined {
  const entries = readClassMap(value);
  if (entries.length === 0 || entries.some((e, i) => e.id !== i)) return undefined;
  return createClassSet(entries.map((e) => e.name));
}

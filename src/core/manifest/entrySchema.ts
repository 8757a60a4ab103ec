/**
 * The zod schema of one manifest entry, as the index reads it back (`ManifestIndex.readEntry`).
 * It checks the top-level keys only, with the same rules the streaming index applies from
 * the bytes (`KNOWN_KEY_TYPES` in status.ts), and keeps every other key as it is. Deeper
 * shapes (soft-label probabilities, Textract blocks, Ground Truth annotations) are checked by
 * the modules that use them, which report problems without making the entry malformed.
 */
// zod/mini (functional API) rather than classic `zod`: the bundler keeps only the parts used,
// which keeps dist/extension.js small (classic zod alone was ~800 KB of it).
import * as z from 'zod/mini';
import { DEFAULT_LABEL_ATTRIBUTE } from './status';

const optional = <T extends z.ZodMiniType>(schema: T) => z.nullish(schema);

/** The schema of an entry whose human labels live under `labelAttribute`. */
export function entrySchema(labelAttribute: string = DEFAULT_LABEL_ATTRIBUTE) {
  return z.looseObject({
    'source-ref': z.string({ error: 'source-ref must be a string' }).check(z.minLength(1, { error: 'source-ref must not be empty' })),
    'raw-ref': optional(z.string({ error: 'raw-ref must be a string' })),
    'textract-ref': optional(z.string({ error: 'textract-ref must be a string' })),
    'page-num': optional(z.number({ error: 'page-num must be a number' })),
    'source-size': optional(z.looseObject({}, { error: 'source-size must be an object' })),
    textract: optional(z.looseObject({}, { error: 'textract must be an object' })),
    'soft-labels': optional(z.looseObject({}, { error: 'soft-labels must be an object' })),
    [labelAttribute]: optional(z.looseObject({}, { error: `${labelAttribute} must be an object` })),
  });
}

/** A parsed, checked entry: known keys typed, all other keys kept. */
export type ManifestEntry = z.output<ReturnType<typeof entrySchema>>;

/**
 * Checks a parsed line; returns the first problem as one line (`key: message`), or undefined.
 * A non-object is a problem too.
 */
export function entryProblem(value: unknown, labelAttribute: string = DEFAULT_LABEL_ATTRIBUTE): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const result = entrySchema(labelAttribute).safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (!issue) return 'invalid entry';
  if (issue.code === 'invalid_type' && issue.path.length === 1 && (value as Record<string, unknown>)[String(issue.path[0])] === undefined) {
    return `missing ${String(issue.path[0])}`;
  }
  return issue.message;
}

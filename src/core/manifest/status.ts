/**
 * Entry status, derived from which keys a manifest line holds (docs/manifest.md):
 *   malformed  the line is not a JSON object, or a known key has the wrong type (see
 *              `KNOWN_KEY_TYPES`), or `source-ref` is missing or empty;
 *   labeled    the label attribute (default `labels`) is present: a human labeled it;
 *   predicted  `soft-labels` is present: a model scored its boxes;
 *   extracted  `textract` or `textract-ref` is present: Textract found its boxes;
 *   new        none of these yet.
 * The first that applies wins. A key whose value is `null` counts as absent, like a missing
 * key (exports from other tools write explicit nulls).
 */
import type { EntryStatus } from './types';

/** The default manifest key of human labels (Ground Truth object-detection form). */
export const DEFAULT_LABEL_ATTRIBUTE = 'labels';

export const SOURCE_REF = 'source-ref';
export const SOFT_LABELS = 'soft-labels';
export const TEXTRACT = 'textract';
export const TEXTRACT_REF = 'textract-ref';

/** JSON value kinds, by the first byte of the value. */
export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

/**
 * The type each known top-level key must have (when not null). Both the streaming index
 * (which only looks at a value's first byte) and the zod schema (src/core/manifest/entrySchema.ts)
 * enforce exactly this, so a line's status never depends on which of them looked at it.
 */
export const KNOWN_KEY_TYPES: Readonly<Record<string, JsonKind>> = {
  'source-ref': 'string',
  'raw-ref': 'string',
  'textract-ref': 'string',
  'page-num': 'number',
  'source-size': 'object',
  textract: 'object',
  'soft-labels': 'object',
};

/** The kind of a JSON value from its first byte. */
export function kindOfFirstByte(c: number): JsonKind {
  switch (c) {
    case 0x7b:
      return 'object';
    case 0x5b:
      return 'array';
    case 0x22:
      return 'string';
    case 0x74:
    case 0x66:
      return 'boolean';
    case 0x6e:
      return 'null';
    default:
      return 'number';
  }
}

/** What the status derivation needs to know about a well-formed line. */
export interface EntryKeys {
  readonly hasLabels: boolean;
  readonly hasSoftLabels: boolean;
  readonly hasTextract: boolean;
}

/** The status of a line that is a well-formed entry (malformed is decided before). */
export function deriveStatus(keys: EntryKeys): Exclude<EntryStatus, 'malformed'> {
  if (keys.hasLabels) return 'labeled';
  if (keys.hasSoftLabels) return 'predicted';
  if (keys.hasTextract) return 'extracted';
  return 'new';
}

/** Status codes stored in the index's Uint8Array (stable: part of the cache format). */
export const STATUS_CODES: readonly EntryStatus[] = ['new', 'extracted', 'predicted', 'labeled', 'malformed'];
export const STATUS_CODE: Readonly<Record<EntryStatus, number>> = { new: 0, extracted: 1, predicted: 2, labeled: 3, malformed: 4 };

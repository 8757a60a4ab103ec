/**
 * Shared types of the manifest core. A manifest is JSON lines, one image (or page) per line;
 * see docs/manifest.md for the keys. Lines are numbered from 1. Offsets and lengths are in
 * bytes; a line's length excludes its '\n' (and a '\r' before it).
 */

/** What an entry needs next, derived from its keys (see `deriveStatus`). */
export type EntryStatus = 'new' | 'extracted' | 'predicted' | 'labeled' | 'malformed';
export const ENTRY_STATUSES: readonly EntryStatus[] = ['new', 'extracted', 'predicted', 'labeled', 'malformed'];

/** One problem found in a manifest line. */
export interface LineProblem {
  /** 1-based line number. */
  readonly line: number;
  readonly message: string;
}

/** Per-image uncertainty, each in [0, 1], aggregated with `max` over the image's boxes. */
export interface ImageUncertainty {
  readonly least: number;
  readonly margin: number;
  readonly ratio: number;
  readonly entropy: number;
}

/** The index's summary of one manifest line that holds an entry (blank lines are not entries). */
export interface EntrySummary {
  /** 0-based position among entries. */
  readonly index: number;
  /** 1-based line number in the file. */
  readonly line: number;
  readonly offset: number;
  readonly length: number;
  readonly status: EntryStatus;
  /** `source-ref`, when the line parses and has one. */
  readonly sourceRef: string | undefined;
  /** When the entry has usable soft labels. */
  readonly uncertainty: ImageUncertainty | undefined;
  /** For `malformed` entries: why. */
  readonly problem: string | undefined;
}

/** Counts by status. */
export type StatusCounts = Record<EntryStatus, number>;

/**
 * `ocr-al sample MANIFEST --strategy least|margin|ratio|entropy|random (--budget N | --threshold T)
 *   [--aggregate max|mean|sum] [--fields-only] [--group-by KEY --max-per-group K] [--seed N]
 *   [--label-attribute NAME] [--out FILE] [--json]`
 *
 * Ranks the images of a manifest by uncertainty and picks the ones to label. Scores come from
 * the manifest index (cached beside the manifest), so a warm run never parses the manifest;
 * only the lines of picked candidates are read back (for --group-by and --out). Images labeled
 * through the edits journal but not yet compacted count as labeled. See docs/sampling.md.
 */
import * as path from 'node:path';
import { OcrAlError } from '../../core/errors';
import { type ByteSource, fileByteSource } from '../../core/manifest/byteSource';
import { scanTopLevel } from '../../core/manifest/jsonScan';
import { fileIdentity, writeFileAtomic } from '../../core/manifest/atomicWrite';
import { openManifestIndex } from '../../core/manifest/indexCache';
import { parallelIndexBuilder } from '../../sources/parallelIndex';
import { pendingEdits, readJournal } from '../../core/manifest/journal';
import { IMAGE_SCORE_SLOTS, type ManifestIndex, scoreSlot } from '../../core/manifest/manifestIndex';
import { DEFAULT_LABEL_ATTRIBUTE, STATUS_CODE } from '../../core/manifest/status';
import { AGGREGATES, STRATEGIES, type Aggregate, type Strategy } from '../../core/sampling/scores';
import { Skip, randomScore, selectImages } from '../../core/sampling/select';
import { intOption, parseCommandArgs } from '../args';
import { type CliCommand, type CliIo, writeJson } from '../io';

/** `--strategy` values: the four scores plus the seeded `random` baseline. */
export type SampleStrategy = Strategy | 'random';

/** The `--json` document (docs/sampling.md). */
export interface SampleReport {
  readonly strategy: SampleStrategy;
  readonly aggregate: Aggregate;
  /** Candidates ranked: entries that are not labeled, malformed or without soft labels. */
  readonly considered: number;
  readonly skipped: { readonly labeled: number; readonly noSoftLabels: number; readonly malformed: number };
  readonly selected: readonly { readonly ref: string; readonly line: number; readonly score: number }[];
  /** Entries whose soft labels are present but unusable (counted in skipped.noSoftLabels); first 100. */
  readonly softLabelProblems: readonly { readonly line: number; readonly message: string }[];
}

const MAX_PROBLEMS_LISTED = 100;

export const sampleCommand: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      strategy: { type: 'string' },
      budget: { type: 'string' },
      threshold: { type: 'string' },
      aggregate: { type: 'string' },
      'fields-only': { type: 'boolean' },
      'group-by': { type: 'string' },
      'max-per-group': { type: 'string' },
      seed: { type: 'string' },
      'label-attribute': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
    ['MANIFEST'],
  );
  const strategy = values.strategy as SampleStrategy | undefined;
  if (strategy === undefined) throw new OcrAlError('BadInput', `--strategy is required (${[...STRATEGIES, 'random'].join('|')})`);
  if (strategy !== 'random' && !STRATEGIES.includes(strategy)) {
    throw new OcrAlError('BadInput', `--strategy must be one of ${[...STRATEGIES, 'random'].join('|')}, got "${strategy}"`);
  }
  const aggregate = (values.aggregate ?? 'max') as Aggregate;
  if (!AGGREGATES.includes(aggregate)) throw new OcrAlError('BadInput', `--aggregate must be one of ${AGGREGATES.join('|')}, got "${aggregate}"`);
  const budget = values.budget === undefined ? undefined : intOption('budget', values.budget);
  const threshold = values.threshold === undefined ? undefined : numberOption('threshold', values.threshold);
  if (budget === undefined && threshold === undefined) throw new OcrAlError('BadInput', 'give --budget N or --threshold T');
  if (strategy === 'random' && threshold !== undefined) throw new OcrAlError('BadInput', '--threshold needs a score strategy, not random');
  const groupBy = values['group-by'];
  const maxPerGroup = values['max-per-group'] === undefined ? undefined : intOption('max-per-group', values['max-per-group']);
  if ((groupBy === undefined) !== (maxPerGroup === undefined)) throw new OcrAlError('BadInput', '--group-by and --max-per-group go together');
  if (maxPerGroup === 0) throw new OcrAlError('BadInput', '--max-per-group must be at least 1');
  const seed = values.seed === undefined ? 0 : intOption('seed', values.seed);
  const labelAttribute = values['label-attribute'] ?? DEFAULT_LABEL_ATTRIBUTE;
  const manifestPath = path.resolve(io.cwd, positionals[0]!);
  const outPath = values.out === undefined ? undefined : path.resolve(io.cwd, values.out);
  if (outPath === manifestPath) throw new OcrAlError('BadInput', '--out must not be the manifest itself');

  const source = fileByteSource(io.fs, manifestPath);
  const opened = openManifestIndex(io.fs, source, {
    labelAttribute,
    onCacheWarning: (message) => io.stderr.write(`ocr-al sample: warning: ${message}\n`),
    builder: parallelIndexBuilder(manifestPath, { log: (message) => io.stderr.write(`ocr-al sample: warning: ${message}\n`) }),
  });
  const index = await opened.done;
  await opened.cacheSettled;

  const input = await selectionInput(io, manifestPath, index, strategy, aggregate, values['fields-only'] === true, seed);
  // Lines read for --group-by, kept for --out (the same bytes, read once).
  const lineCache = new Map<number, Uint8Array>();
  const selection = await selectImages(input, {
    budget,
    threshold,
    maxPerGroup,
    groupOf:
      groupBy === undefined
        ? undefined
        : async (i) => {
            const bytes = await readLine(index, source, i);
            lineCache.set(i, bytes);
            return groupKey(topLevelValue(index, i, bytes, groupBy));
          },
  });

  const selected = selection.selected.map(({ index: i, score }) => ({
    ref: index.refOf(i)!,
    line: index.lineOf(i),
    score: strategy === 'random' ? score : float32Shortest(score),
  }));
  if (outPath !== undefined) {
    await writeInputManifest(io, index, source, selection.selected.map((s) => s.index), outPath, lineCache);
  }

  const problems = index.softLabelProblems;
  const report: SampleReport = {
    strategy,
    aggregate,
    considered: selection.considered,
    skipped: selection.skipped,
    selected,
    softLabelProblems: problems.slice(0, MAX_PROBLEMS_LISTED),
  };
  if (values.json) {
    writeJson(io, report);
    return 0;
  }
  const lines = [
    `${selected.length} selected of ${report.considered} considered (${strategy}${strategy === 'random' ? `, seed ${seed}` : `, ${aggregate}${values['fields-only'] ? ', fields only' : ''}`})`,
    `skipped: ${report.skipped.labeled} labeled, ${report.skipped.noSoftLabels} without soft labels, ${report.skipped.malformed} malformed`,
  ];
  if (selection.groupCapped > 0) lines.push(`${selection.groupCapped} passed over: their ${groupBy} already had ${maxPerGroup}`);
  selected.forEach((s, k) => lines.push(`${String(k + 1).padStart(5)}  ${s.score.toFixed(4)}  line ${s.line}  ${s.ref}`));
  if (outPath !== undefined) lines.push(`wrote ${selected.length} lines to ${outPath}`);
  io.stdout.write(lines.join('\n') + '\n');
  for (const p of problems.slice(0, 5)) io.stderr.write(`ocr-al sample: line ${p.line}: ${p.message}\n`);
  if (problems.length > 5) io.stderr.write(`ocr-al sample: ... ${problems.length - 5} more entries with unusable soft labels\n`);
  return 0;
};

/** The selection arrays from the index: scores from the precomputed slot, skip codes by status. */
async function selectionInput(
  io: CliIo,
  manifestPath: string,
  index: ManifestIndex,
  strategy: SampleStrategy,
  aggregate: Aggregate,
  fieldsOnly: boolean,
  seed: number,
) {
  const count = index.entryCount;
  const { scores: table, statuses, refs } = index.parts;
  const skip = new Uint8Array(count);
  const scores = new Float64Array(count);
  const labeledCode = STATUS_CODE.labeled;
  const malformedCode = STATUS_CODE.malformed;
  const slot = strategy === 'random' ? 0 : scoreSlot(strategy, aggregate, fieldsOnly);
  for (let i = 0; i < count; i++) {
    const status = statuses[i]!;
    if (status === malformedCode) skip[i] = Skip.malformed;
    else if (status === labeledCode) skip[i] = Skip.labeled;
    else if (strategy === 'random') scores[i] = randomScore(refs.at(i) ?? '', seed);
    else scores[i] = Number.isNaN(table[i * IMAGE_SCORE_SLOTS]!) ? Number.NaN : table[i * IMAGE_SCORE_SLOTS + slot]!;
  }
  for (const [ref, labeled] of await journalLabelState(io, manifestPath, index.labelAttribute)) {
    const i = index.findByRef(ref);
    if (i === undefined || skip[i] === Skip.malformed) continue;
    if (labeled) skip[i] = Skip.labeled;
    else if (skip[i] === Skip.labeled) {
      // Labels removed by a pending edit: a candidate again (random needs no soft labels).
      skip[i] = Skip.none;
      if (strategy === 'random') scores[i] = randomScore(refs.at(i) ?? '', seed);
      else scores[i] = Number.isNaN(table[i * IMAGE_SCORE_SLOTS]!) ? Number.NaN : table[i * IMAGE_SCORE_SLOTS + slot]!;
    }
  }
  return { refs, scores, skip };
}

/** Refs whose label attribute pending journal edits set (true) or removed (false). */
async function journalLabelState(io: CliIo, manifestPath: string, labelAttribute: string): Promise<Map<string, boolean>> {
  const state = new Map<string, boolean>();
  const journal = await readJournal(io.fs, manifestPath);
  if (journal.entries.length === 0) return state;
  for (const { record } of pendingEdits(journal, await fileIdentity(io.fs, manifestPath))) {
    if (record.op === 'label' && record.attribute === labelAttribute) state.set(record.ref, true);
    else if (record.op === 'set' && record.key === labelAttribute) state.set(record.ref, record.value !== null);
  }
  return state;
}

/**
 * The bytes of entry i's line, checked to be the line the index describes (same length, same
 * `source-ref`): a manifest rewritten since it was indexed aborts the command rather than
 * sampling or writing stale lines.
 */
async function readLine(index: ManifestIndex, source: ByteSource, i: number): Promise<Uint8Array> {
  const { offsets, lengths } = index.parts;
  const bytes = await source.read(offsets[i]!, lengths[i]!);
  const ref = bytes.length === lengths[i] ? topLevelValue(index, i, bytes, 'source-ref') : undefined;
  if (ref !== index.refOf(i)) {
    throw new OcrAlError('Conflict', `${index.sourceName} changed since it was indexed (line ${index.lineOf(i)}); run again`);
  }
  return bytes;
}

/**
 * One top-level key's value of a line, parsed from its bytes alone: the scanner finds the
 * value's span without building the rest of the line (a line can hold a whole Textract
 * response), so grouping reads stay cheap even when every line must be looked at.
 */
function topLevelValue(index: ManifestIndex, i: number, bytes: Uint8Array, key: string): unknown {
  const scan = scanTopLevel(bytes, 0, bytes.length);
  if (!scan.ok) throw new OcrAlError('Conflict', `${index.sourceName} changed since it was indexed (line ${index.lineOf(i)} no longer parses); run again`);
  let found: unknown;
  for (const m of scan.members) {
    // The last duplicate wins, as in JSON.parse.
    if (m.key === key) found = JSON.parse(utf8.decode(bytes.subarray(m.valueStart, m.valueEnd)));
  }
  return found;
}

const utf8 = new TextDecoder();

/** A `--group-by` value as a group name: strings as they are, other JSON as its text. */
function groupKey(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? `s:${value}` : `j:${JSON.stringify(value)}`;
}

/**
 * Writes the picked lines, in rank order, as a Ground Truth input manifest: each line's bytes
 * exactly as in the manifest (so every key survives), then '\n'. Atomic: temp + fsync + rename.
 */
async function writeInputManifest(
  io: CliIo,
  index: ManifestIndex,
  source: ByteSource,
  picked: readonly number[],
  outPath: string,
  lineCache: ReadonlyMap<number, Uint8Array>,
) {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const i of picked) {
    const bytes = lineCache.get(i) ?? (await readLine(index, source, i));
    parts.push(bytes, NEWLINE);
    total += bytes.length + 1;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  await writeFileAtomic(io.fs, outPath, out);
}

const NEWLINE = new Uint8Array([0x0a]);

function numberOption(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new OcrAlError('BadInput', `--${name} must be a number, got "${raw}"`);
  return n;
}

/** The shortest decimal that reads back as the same float32 (index scores are float32). */
function float32Shortest(x: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const y = Number(x.toPrecision(digits));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

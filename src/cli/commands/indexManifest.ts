/**
 * `ocr-al index MANIFEST [--json] [--label-attribute NAME] [--cache-dir DIR | --no-cache]`:
 * indexes a manifest (or reopens its cached index) and reports entries, bytes, malformed
 * lines and counts by status. With --json, exactly:
 *   {"entries": n, "bytes": n, "malformed": [{"line": n, "message": s}],
 *    "status": {"new": n, "extracted": n, "predicted": n, "labeled": n, "malformed": n}}
 */
import * as path from 'node:path';
import { fileByteSource } from '../../core/manifest/byteSource';
import { openManifestIndex } from '../../core/manifest/indexCache';
import { DEFAULT_LABEL_ATTRIBUTE } from '../../core/manifest/status';
import { ENTRY_STATUSES } from '../../core/manifest/types';
import { parallelIndexBuilder } from '../../sources/parallelIndex';
import type { ManifestIndex } from '../../core/manifest/manifestIndex';
import { parseCommandArgs } from '../args';
import { writeJson, type CliCommand } from '../io';

/** The `--json` document of `ocr-al index`. */
export interface IndexReport {
  readonly entries: number;
  readonly bytes: number;
  readonly malformed: { line: number; message: string }[];
  readonly status: { new: number; extracted: number; predicted: number; labeled: number; malformed: number };
}

/** Builds the report of an index (shared with other front ends). */
export function indexReport(index: ManifestIndex): IndexReport {
  const c = index.counts;
  return {
    entries: index.entryCount,
    bytes: index.bytes,
    malformed: index.problems.map((p) => ({ line: p.line, message: p.message })),
    status: { new: c.new, extracted: c.extracted, predicted: c.predicted, labeled: c.labeled, malformed: c.malformed },
  };
}

export const indexCommand: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      json: { type: 'boolean' },
      'label-attribute': { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean' },
    },
    ['MANIFEST'],
  );
  const manifest = path.resolve(io.cwd, positionals[0]!);
  const source = fileByteSource(io.fs, manifest);
  const open = openManifestIndex(io.fs, source, {
    labelAttribute: values['label-attribute'] ?? DEFAULT_LABEL_ATTRIBUTE,
    cacheDir: values['no-cache'] ? false : values['cache-dir'] === undefined ? undefined : path.resolve(io.cwd, values['cache-dir']),
    onCacheWarning: (message) => io.stderr.write(`ocr-al index: warning: ${message}\n`),
    builder: parallelIndexBuilder(manifest, { log: (message) => io.stderr.write(`ocr-al index: warning: ${message}\n`) }),
  });
  const index = await open.done;
  await open.cacheSettled;
  const report = indexReport(index);
  if (values.json) {
    writeJson(io, report);
    return 0;
  }
  const lines = [
    `${positionals[0]}: ${report.entries} entries, ${report.bytes} bytes${index.lineCount !== report.entries ? ` (${index.lineCount} line${index.lineCount === 1 ? '' : 's'})` : ''}`,
    '',
    ...ENTRY_STATUSES.map((s) => `  ${s.padEnd(10)} ${String(report.status[s]).padStart(8)}`),
  ];
  if (report.malformed.length > 0) {
    lines.push('', 'malformed lines:');
    const shown = report.malformed.slice(0, 20);
    for (const m of shown) lines.push(`  line ${m.line}: ${m.message}`);
    if (report.malformed.length > shown.length) lines.push(`  ... and ${report.malformed.length - shown.length} more (see --json)`);
  }
  const soft = index.softLabelProblems;
  if (soft.length > 0) {
    lines.push('', `soft labels unusable on ${soft.length} entr${soft.length === 1 ? 'y' : 'ies'} (no uncertainty):`);
    for (const m of soft.slice(0, 5)) lines.push(`  line ${m.line}: ${m.message}`);
  }
  io.stdout.write(lines.join('\n') + '\n');
  return 0;
};

import * as path from 'node:path';
import { realpath } from 'node:fs/promises';
import { OcrAlError } from '../../core/errors';
import { EditResolver, readEffectiveEntry } from '../../core/manifest/effectiveManifest';
import { parseCommandArgs } from '../args';
import { indexLocator } from '../entryLocator';
import { type CliCommand, writeJson } from '../io';

/**
 * `ocr-al show MANIFEST --ref SOURCE_REF [--json]`: the effective entry (the manifest line
 * plus the journal's pending edits). Text output is the entry as indented JSON; `--json`
 * wraps it with its line number and the applied journal records.
 */
export const showCommand: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(argv, { ref: { type: 'string' }, json: { type: 'boolean' } }, ['MANIFEST']);
  const ref = values.ref;
  if (!ref) throw new OcrAlError('BadInput', '--ref is required');
  const manifestPath = path.resolve(io.cwd, positionals[0]!);
  const resolver = new EditResolver(io.fs, manifestPath, { realpath });
  const entry = await readEffectiveEntry(io.fs, manifestPath, ref, resolver, await indexLocator(io.fs, manifestPath));
  if (!entry) throw new OcrAlError('NotFound', `no entry with source-ref ${JSON.stringify(ref)} in ${positionals[0]}`);
  for (const problem of entry.journalProblems) io.stderr.write(`ocr-al show: warning: ${problem}\n`);
  if (values.json) {
    writeJson(io, {
      ref,
      line: entry.line,
      pendingEdits: entry.edits.map((e) => ({ seq: e.seq, journalLine: e.line, ...e.record })),
      journalProblems: entry.journalProblems,
      entry: entry.value,
    });
  } else {
    io.stdout.write(JSON.stringify(entry.value, null, 2) + '\n');
  }
  return 0;
};

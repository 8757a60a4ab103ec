import * as path from 'node:path';
import { realpath } from 'node:fs/promises';
import { compactManifest } from '../../core/manifest/compaction';
import { EditResolver } from '../../core/manifest/effectiveManifest';
import { parseCommandArgs } from '../args';
import { crashHookFromEnv } from '../crashHook';
import { type CliCommand, writeJson } from '../io';

/**
 * `ocr-al compact MANIFEST [--json]`: merges the edits journal into the manifest atomically
 * (temp file, fsync, rename, directory fsync, then the journal is cleared).
 */
export const compactCommand: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' } }, ['MANIFEST']);
  const manifestPath = path.resolve(io.cwd, positionals[0]!);
  const result = await compactManifest(io.fs, manifestPath, {
    resolver: new EditResolver(io.fs, manifestPath, { realpath }),
    crash: crashHookFromEnv(),
  });
  if (values.json) {
    writeJson(io, result);
  } else if (result.rewritten) {
    io.stdout.write(`merged ${result.edits} edit(s) into ${result.entries} entr${result.entries === 1 ? 'y' : 'ies'} of ${positionals[0]} (${result.lines} lines)\n`);
  } else {
    io.stdout.write(`nothing to compact in ${positionals[0]}\n`);
  }
  return 0;
};

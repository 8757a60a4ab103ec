/**
 * `ocr-al`: the command line over the same core as the extension. Every command takes
 * `--json`, exits non-zero with a one-line message on stderr for bad input, and never
 * writes partial files. Errors are reported once, here, at the command boundary.
 */
import * as fs from 'node:fs/promises';
import { OcrAlError, exitCodeFor } from '../core/errors';
import type { CliCommand, CliIo } from './io';
import { indexCommand } from './commands/indexManifest';
import { labelCommand } from './commands/label';
import { compactCommand } from './commands/compact';
import { showCommand } from './commands/show';
import { sampleCommand } from './commands/sample';
import { gtCommand } from './commands/gt';

const commands: Record<string, { run: CliCommand; usage: string }> = {
  index: { run: indexCommand, usage: 'index MANIFEST [--json]' },
  label: { run: labelCommand, usage: 'label MANIFEST --ref SOURCE_REF --box BLOCK_ID --class NAME [--label-attribute NAME] [--json]' },
  compact: { run: compactCommand, usage: 'compact MANIFEST [--json]' },
  show: { run: showCommand, usage: 'show MANIFEST --ref SOURCE_REF [--json]' },
  sample: {
    run: sampleCommand,
    usage:
      'sample MANIFEST --strategy least|margin|ratio|entropy|random (--budget N | --threshold T) [--aggregate max|mean|sum] [--fields-only] [--group-by KEY --max-per-group K] [--seed N] [--label-attribute NAME] [--out FILE] [--json]',
  },
  gt: { run: gtCommand, usage: 'gt export|import ... (see `ocr-al gt --help`)' },
};

function usage(): string {
  return ['usage: ocr-al <command> [options]', '', ...Object.values(commands).map((c) => `  ocr-al ${c.usage}`)].join('\n');
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`ocr-al: unknown command "${name}" (try ocr-al --help)\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (thrown) {
    const error = OcrAlError.from(thrown);
    io.stderr.write(`ocr-al ${name}: ${error.message.split('\n')[0]}\n`);
    return exitCodeFor(error);
  }
}

if (require.main === module) {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, fs, cwd: process.cwd() };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`ocr-al: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { OcrAlError } from '../core/errors';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs` with errors turned into `BadInput` (exit 2, one line on stderr) and
 * positionals checked against what the command expects.
 */
export function parseCommandArgs<T extends Options>(
  argv: readonly string[],
  options: T,
  positionalNames: readonly string[],
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new OcrAlError('BadInput', error instanceof Error ? error.message : String(error));
  }
  if (parsed.positionals.length < positionalNames.length) {
    throw new OcrAlError('BadInput', `missing ${positionalNames.slice(parsed.positionals.length).join(', ')}`);
  }
  if (parsed.positionals.length > positionalNames.length) {
    throw new OcrAlError('BadInput', `unexpected argument: ${parsed.positionals[positionalNames.length]}`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** Parses a non-negative integer option, or throws BadInput naming the option. */
export function intOption(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new OcrAlError('BadInput', `--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(raw)) throw new OcrAlError('BadInput', `--${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

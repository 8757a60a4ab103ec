/** Runs `ocr-al` in-process with captured output, for the label/compact/show tests. */
import * as fs from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ocr-al ...argv` with `cwd` as the working directory. */
export async function runCli(argv: readonly string[], cwd = process.cwd()): Promise<CliRun> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdout, stderr, fs, cwd });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

import type { FileSystem } from '../core/fileSystem';

/** What a CLI command may touch: streams, the file system and the working directory. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly fs: FileSystem;
  readonly cwd: string;
}

/** A command: parses its own argv (after the command name) and returns the exit code. */
export type CliCommand = (argv: readonly string[], io: CliIo) => Promise<number>;

/** Writes one JSON document to stdout (the `--json` contract). */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

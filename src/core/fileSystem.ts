/**
 * The file-system port of the core. `src/core` reads and writes files only through this
 * interface, which the callers satisfy with `node:fs/promises` (CLI, extension host) or a
 * fake (tests that simulate crashes or short reads). It is the subset of `fs/promises` the
 * manifest store needs, so passing `fs.promises` itself works.
 */
import type * as nodeFs from 'node:fs/promises';

export type FileSystem = Pick<
  typeof nodeFs,
  'open' | 'stat' | 'rename' | 'unlink' | 'mkdir' | 'readFile' | 'writeFile' | 'readdir' | 'rm' | 'truncate'
>;

export type FileHandle = nodeFs.FileHandle;

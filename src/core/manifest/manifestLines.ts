/**
 * A plain streaming pass over a manifest's lines as bytes, for compaction (which copies most
 * lines untouched) and for looking one entry up by `source-ref` without an index. Each line
 * comes with its exact terminator ('\n', '\r\n' or none for an unterminated last line), so a
 * rewrite reproduces the file byte for byte.
 */
import type { FileHandle, FileSystem } from '../fileSystem';
import { OcrAlError } from '../errors';
import { scanTopLevel, type TopLevelMember } from './jsonScan';

/** One line of a manifest. `bytes` is only valid until the iteration moves on. */
export interface ManifestLine {
  /** 1-based line number. */
  readonly line: number;
  /** Byte offset of the line in the file. */
  readonly offset: number;
  /** The line without its terminator. */
  readonly bytes: Uint8Array;
  /** '\n', '\r\n', or '' for a last line without a newline. */
  readonly terminator: '\n' | '\r\n' | '';
}

/** Opens a manifest for reading; 'NotFound' when it does not exist. */
export async function openManifest(fs: FileSystem, manifestPath: string): Promise<FileHandle> {
  try {
    return await fs.open(manifestPath, 'r');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new OcrAlError(code === 'ENOENT' ? 'NotFound' : 'Io', `cannot open ${manifestPath}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Streams the lines of a manifest in order, from a path or from a handle the caller opened
 * (and keeps open: reading from a handle pins one version of the file even if compaction
 * renames a new one into place meanwhile).
 */
export async function* readManifestLines(fs: FileSystem, from: string | FileHandle, chunkSize = 1 << 20): AsyncGenerator<ManifestLine> {
  const owned = typeof from === 'string';
  const handle = owned ? await openManifest(fs, from) : from;
  try {
    let carry: Uint8Array = new Uint8Array(0);
    let carryOffset = 0;
    let position = 0;
    let line = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await handle.read(chunk, 0, chunkSize, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data: Uint8Array = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (;;) {
        const nl = data.indexOf(0x0a, start);
        if (nl < 0) break;
        const crlf = nl > start && data[nl - 1] === 0x0d;
        line++;
        yield { line, offset: carryOffset + start, bytes: data.subarray(start, crlf ? nl - 1 : nl), terminator: crlf ? '\r\n' : '\n' };
        start = nl + 1;
      }
      // Copy the partial line (memcpy): keeping a view would pin the whole chunk.
      carry = Buffer.from(data.subarray(start));
      carryOffset += start;
    }
    if (carry.length > 0) {
      line++;
      yield { line, offset: carryOffset, bytes: carry, terminator: '' };
    }
  } finally {
    if (owned) await handle.close();
  }
}

/** A line parsed as a JSON object, with its top-level members' byte ranges. */
export interface ParsedLine {
  readonly value: Record<string, unknown>;
  readonly members: readonly TopLevelMember[];
}

const utf8 = new TextDecoder('utf-8');

/** Parses a line that is a JSON object, or undefined (malformed or blank). */
export function parseLine(bytes: Uint8Array): ParsedLine | undefined {
  const scan = scanTopLevel(bytes, 0, bytes.length);
  if (!scan.ok) return undefined;
  return { value: JSON.parse(utf8.decode(bytes)) as Record<string, unknown>, members: scan.members };
}

/**
 * The `source-ref` of a line, read from its bytes without parsing the rest, or undefined when
 * the line is not a JSON object or has no string `source-ref`. With duplicate keys the last
 * wins, as in JSON.parse.
 */
export function sourceRefOf(bytes: Uint8Array): string | undefined {
  const scan = scanTopLevel(bytes, 0, bytes.length);
  if (!scan.ok) return undefined;
  let ref: string | undefined;
  for (const m of scan.members) {
    if (m.key !== 'source-ref') continue;
    ref = bytes[m.valueStart] === 0x22 ? (JSON.parse(utf8.decode(bytes.subarray(m.valueStart, m.valueEnd))) as string) : undefined;
  }
  return ref;
}

/** The first entry whose `source-ref` is `ref`, found by a linear pass. */
export async function findLineByRef(
  fs: FileSystem,
  from: string | FileHandle,
  ref: string,
): Promise<{ line: number; text: string; value: Record<string, unknown> } | undefined> {
  for await (const l of readManifestLines(fs, from)) {
    if (sourceRefOf(l.bytes) === ref) {
      const text = utf8.decode(l.bytes);
      return { line: l.line, text, value: JSON.parse(text) as Record<string, unknown> };
    }
  }
  return undefined;
}

/**
 * Resolving `*-ref` values (`source-ref`, `raw-ref`, `textract-ref`, and `thumbnail-ref` as an
 * alias) against their batch, refusing any that lands outside it. A manifest is data from
 * elsewhere (a Ground Truth job, a colleague, a download): a ref like `../../.ssh/id_rsa`,
 * `/etc/passwd`, `%2e%2e/x`, `..\\x` or a symlink out of the folder must not make us read a
 * file the user did not put in the batch. Refused refs raise OcrAlError 'PathEscape'.
 */
import * as path from 'node:path';
import { OcrAlError } from '../errors';
import { splitS3Uri } from '../s3Uri';
import { errnoCode } from './atomicWrite';

/** The keys holding refs; `thumbnail-ref` is an alias some tools write for `source-ref`. */
export const REF_KEYS: readonly string[] = ['source-ref', 'raw-ref', 'textract-ref', 'thumbnail-ref'];

/** Where a batch lives: a local folder (absolute path) or an S3 prefix. */
export type BatchLocation =
  | { readonly kind: 'local'; readonly dir: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

/** A ref resolved inside its batch. */
export type ResolvedRef =
  | { readonly kind: 'local'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string };

function escape(key: string, ref: string, why: string): OcrAlError {
  return new OcrAlError('PathEscape', `${key} ${JSON.stringify(ref)} ${why}; refused`);
}

/** Percent-decodes, or returns the text unchanged when it is not valid percent-encoding. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The forms of a relative ref to check: as written, with backslashes as separators (a
 * Windows-made manifest, or an attack on a tool that converts them), and percent-decoded. A
 * ref is inside only if every form is.
 */
function relativeForms(ref: string): string[] {
  const decoded = percentDecoded(ref);
  return [...new Set([ref, ref.replace(/\\/g, '/'), decoded, decoded.replace(/\\/g, '/')])];
}

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;
const WINDOWS_ABSOLUTE = /^(?:[a-zA-Z]:|[\\/]{2})/;

/**
 * Resolves `ref` (the value of manifest key `key`) inside `batch`, without touching the disk.
 * Throws 'PathEscape' when it resolves outside the batch folder or S3 prefix, uses another
 * URL scheme, or holds a NUL byte; 'BadInput' when it is not a non-empty string.
 */
export function resolveRef(batch: BatchLocation, ref: unknown, key = 'ref'): ResolvedRef {
  if (typeof ref !== 'string' || ref.length === 0) throw new OcrAlError('BadInput', `${key} must be a non-empty string`);
  if (ref.includes('\0') || percentDecoded(ref).includes('\0')) throw escape(key, ref, 'contains a NUL byte');
  const s3 = splitS3Uri(ref);
  if (s3) {
    if (batch.kind !== 's3') throw escape(key, ref, 'points to S3 but the batch is a local folder');
    if (s3.bucket !== batch.bucket) throw escape(key, ref, `is outside the batch's bucket ${batch.bucket}`);
    const key0 = checkS3Key(key, ref, s3.key);
    const prefix = normalizedPrefix(batch.prefix);
    if (!key0.startsWith(prefix)) throw escape(key, ref, `is outside the batch prefix s3://${batch.bucket}/${prefix}`);
    return { kind: 's3', bucket: s3.bucket, key: key0 };
  }
  if (SCHEME.test(ref) && !WINDOWS_ABSOLUTE.test(ref)) throw escape(key, ref, 'uses a URL scheme other than s3://');

  if (batch.kind === 's3') {
    for (const form of relativeForms(ref)) {
      if (form.startsWith('/') || WINDOWS_ABSOLUTE.test(form)) throw escape(key, ref, 'is an absolute path in an S3 batch');
      const joined = path.posix.normalize(form);
      if (joined === '..' || joined.startsWith('../')) throw escape(key, ref, 'leaves the batch prefix');
    }
    const prefix = normalizedPrefix(batch.prefix);
    return { kind: 's3', bucket: batch.bucket, key: prefix + path.posix.normalize(ref).replace(/^\.\//, '') };
  }

  const dir = path.resolve(batch.dir);
  let resolved: string | undefined;
  for (const form of relativeForms(ref)) {
    if (WINDOWS_ABSOLUTE.test(form) && path.sep === '/') throw escape(key, ref, 'is a Windows absolute path');
    const candidate = path.resolve(dir, form);
    if (!isInside(dir, candidate)) throw escape(key, ref, 'resolves outside the batch folder');
    resolved ??= candidate;
  }
  return { kind: 'local', path: resolved! };
}

function normalizedPrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '');
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

function checkS3Key(key: string, ref: string, s3Key: string): string {
  for (const form of relativeForms(s3Key)) {
    if (form.split('/').some((seg) => seg === '..' || seg === '.')) throw escape(key, ref, 'has a "." or ".." segment');
  }
  return s3Key;
}

/** True when `candidate` is `dir` or below it (both absolute, normalized). */
export function isInside(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  if (rel === '') return true;
  if (path.isAbsolute(rel)) return false;
  return rel !== '..' && !rel.startsWith(`..${path.sep}`);
}

/**
 * Like {@link resolveRef} for a local batch, and also follows symlinks with `realpath`: a
 * link inside the batch that points outside it is refused. A path that does not exist yet is
 * checked through its nearest existing parent.
 */
export async function resolveRefOnDisk(
  batch: BatchLocation,
  ref: unknown,
  key: string,
  realpath: ((p: string) => Promise<string>) | undefined,
): Promise<ResolvedRef> {
  const resolved = resolveRef(batch, ref, key);
  if (resolved.kind !== 'local' || batch.kind !== 'local' || !realpath) return resolved;
  const realDir = await realpath(path.resolve(batch.dir));
  let probe = resolved.path;
  let suffix = '';
  for (;;) {
    try {
      const real = path.join(await realpath(probe), suffix);
      if (!isInside(realDir, real)) throw escape(key, String(ref), 'is a symlink to outside the batch folder');
      return resolved;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' && errnoCode(error) !== 'ENOTDIR') throw error;
      const parent = path.dirname(probe);
      if (parent === probe) return resolved;
      suffix = path.join(path.basename(probe), suffix);
      probe = parent;
    }
  }
}

/**
 * Checks every ref key of a manifest entry (see {@link REF_KEYS}); throws 'PathEscape' for
 * the first that resolves outside the batch. Keys absent or not strings are left to the schema.
 */
export function checkEntryRefs(entry: Readonly<Record<string, unknown>>, batch: BatchLocation): void {
  for (const key of REF_KEYS) {
    const value = entry[key];
    if (typeof value === 'string' && value.length > 0) resolveRef(batch, value, key);
  }
}

/**
 * `s3://bucket/key` URIs: parsing with clear messages, the prefix form of a batch location,
 * and AWS console links. Keys are taken literally (Ground Truth manifests write spaces and
 * non-ASCII characters unencoded), never percent-decoded.
 */
import { OcrAlError } from './errors';

/** A parsed S3 URI. `key` may be empty (the bucket root) or end in `/` (a prefix). */
export interface S3Uri {
  readonly bucket: string;
  readonly key: string;
}

/** S3 bucket naming rules (general purpose buckets): 3-63 of a-z 0-9 . -, alphanumeric ends. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Why `bucket` is not a valid bucket name, or undefined when it is. */
export function bucketNameProblem(bucket: string): string | undefined {
  if (!bucket) return 'the bucket name is missing';
  if (!BUCKET.test(bucket)) return `"${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, dots or hyphens)`;
  if (bucket.includes('..')) return `"${bucket}" is not a valid bucket name (two dots in a row)`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return `"${bucket}" is not a valid bucket name (it looks like an IP address)`;
  return undefined;
}

/** True when `text` starts with the s3 scheme (any case). */
export function isS3Uri(text: string): boolean {
  return /^s3:\/\//i.test(text);
}

/**
 * Splits any `s3://bucket/key` string without judging the bucket name, or undefined when it
 * does not use the s3 scheme. For checks that must catch every S3 ref (refs.ts), where the
 * strict {@link parseS3Uri} would let a badly named bucket slip through as "not S3".
 */
export function splitS3Uri(text: string): S3Uri | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/s.exec(text);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

/** Parses `s3://bucket/key`; throws `BadInput` with a message that says what is wrong. */
export function parseS3Uri(text: string): S3Uri {
  const problem = s3UriProblem(text);
  if (problem) throw new OcrAlError('BadInput', `Not an S3 location: ${problem}.`);
  const rest = text.trim().slice('s3://'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

/** Why `text` is not an `s3://bucket/key` URI, or undefined when it is (for input validation). */
export function s3UriProblem(text: string): string | undefined {
  const value = text.trim();
  if (!value) return 'enter a location such as s3://my-bucket/batches/';
  if (!isS3Uri(value)) return `"${value}" must start with s3:// (for example s3://my-bucket/batches/)`;
  if (!value.startsWith('s3://')) return 'write the scheme in lowercase: s3://';
  const rest = value.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) return bucketProblem;
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (new TextEncoder().encode(key).length > 1024) return 'the key is longer than 1024 bytes';
  return undefined;
}

/**
 * A batch location as the settings keep it: `s3://bucket/prefix/` with one trailing slash
 * (or `s3://bucket/` for the whole bucket), so `s3://b/x` and `s3://b/x/` are the same entry.
 */
export function normalizeS3Location(text: string): string {
  const { bucket, key } = parseS3Uri(text);
  return formatS3Uri(bucket, toPrefix(key));
}

/** `key` as a listing prefix: empty, or ending in exactly one `/`. */
export function toPrefix(key: string): string {
  const trimmed = key.replace(/\/+$/, '');
  return trimmed ? `${trimmed}/` : '';
}

/** `s3://bucket/key`. */
export function formatS3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The "folder" part of a key: everything up to and including its last `/` ('' at the root). */
export function keyDirname(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash + 1);
}

/** The last path segment of a key (without a trailing slash). */
export function keyBasename(key: string): string {
  const trimmed = key.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The AWS console page of an object, or of a prefix when `key` is empty or ends in `/`. */
export function s3ConsoleUrl(bucket: string, key: string, region: string): string {
  const query = `region=${encodeURIComponent(region)}`;
  if (!key || key.endsWith('/')) {
    return `https://console.aws.amazon.com/s3/buckets/${encodeURIComponent(bucket)}?${query}&prefix=${encodeURIComponent(key)}&showversions=false`;
  }
  return `https://console.aws.amazon.com/s3/object/${encodeURIComponent(bucket)}?${query}&prefix=${encodeURIComponent(key)}`;
}

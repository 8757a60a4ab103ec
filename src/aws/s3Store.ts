/**
 * A thin S3 adapter over one client: paginated listing, HEAD, ranged GET, PUT and presigned
 * URLs, with SDK errors mapped to `OcrAlError` in one place (`mapS3Error`) so every caller
 * shows the same clear message. It imports SDK types only; the values come with the handle
 * from the client factory, so importing this module loads no SDK.
 */
import type { S3ServiceException } from '@aws-sdk/client-s3';
import { OcrAlError } from '../core/errors';
import type { ResolvedConnection, S3Handle } from './clientFactory';

/** One object from a listing. */
export interface S3ObjectSummary {
  readonly key: string;
  readonly size: number;
  /** The ETag as S3 returns it, quotes included. */
  readonly etag: string;
  readonly lastModified: Date | undefined;
}

/** HEAD result. */
export interface S3ObjectHead {
  readonly size: number;
  readonly etag: string;
  readonly contentType: string | undefined;
}

/** What an S3 call was doing, for the error message. */
export interface S3ErrorContext {
  readonly operation: 'list' | 'head' | 'read' | 'write' | 'presign';
  readonly bucket: string;
  readonly key?: string | undefined;
  readonly connection: Pick<ResolvedConnection, 'profile' | 'region' | 'endpoint'>;
}

/** Options of a ranged read. */
export interface S3ReadOptions {
  /** Fail with `Conflict` if the object's ETag is no longer this one. */
  readonly etag?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** S3 operations of the project, on one client. */
export class S3Store {
  constructor(private readonly handle: S3Handle) {}

  /** The profile/region/endpoint this store's client uses. */
  get connection(): ResolvedConnection {
    return this.handle.connection;
  }

  /**
   * Every object under `prefix`, following ListObjectsV2 continuation tokens (S3 returns at
   * most 1000 keys a page). `pageSize` is for tests.
   */
  async *list(bucket: string, prefix: string, options: { signal?: AbortSignal; pageSize?: number } = {}): AsyncGenerator<S3ObjectSummary> {
    const { client, sdk } = this.handle;
    let token: string | undefined;
    do {
      const page = await this.call({ operation: 'list', bucket, key: prefix }, options.signal, () =>
        client.send(
          new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: options.pageSize }),
          { abortSignal: options.signal },
        ),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        yield { key: item.Key, size: item.Size ?? 0, etag: item.ETag ?? '', lastModified: item.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Size and ETag of one object. */
  async head(bucket: string, key: string, signal?: AbortSignal): Promise<S3ObjectHead> {
    const { client, sdk } = this.handle;
    const out = await this.call({ operation: 'head', bucket, key }, signal, () =>
      client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
    );
    return { size: out.ContentLength ?? 0, etag: out.ETag ?? '', contentType: out.ContentType };
  }

  /**
   * Bytes [offset, offset + length) of an object; fewer at the end of the object, none past it.
   * With `etag`, a changed object fails with `Conflict` instead of mixing two versions.
   */
  async read(bucket: string, key: string, offset: number, length: number, options: S3ReadOptions = {}): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const { client, sdk } = this.handle;
    try {
      const out = await this.call({ operation: 'read', bucket, key }, options.signal, () =>
        client.send(
          new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}`, IfMatch: options.etag || undefined }),
          { abortSignal: options.signal },
        ),
      );
      // Servers that ignore If-Match (some S3-compatible ones) still return the ETag: check it.
      if (options.etag && out.ETag && out.ETag !== options.etag) {
        throw new OcrAlError('Conflict', `s3://${bucket}/${key} changed on S3 while it was being read; refresh and try again.`);
      }
      if (!out.Body) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (error) {
      // A range that starts at or past the end is a short read, as with a file.
      if (OcrAlError.is(error) && isStatus(error.cause, 416)) return new Uint8Array(0);
      throw error;
    }
  }

  /** The whole object. */
  async readAll(bucket: string, key: string, signal?: AbortSignal): Promise<Uint8Array> {
    const { client, sdk } = this.handle;
    const out = await this.call({ operation: 'read', bucket, key }, signal, () =>
      client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
    );
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
  }

  /** Writes an object; returns its new ETag. */
  async write(bucket: string, key: string, body: Uint8Array | string, options: { contentType?: string; ifMatch?: string; signal?: AbortSignal } = {}): Promise<string> {
    const { client, sdk } = this.handle;
    const out = await this.call({ operation: 'write', bucket, key }, options.signal, () =>
      client.send(
        new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: options.contentType, IfMatch: options.ifMatch }),
        { abortSignal: options.signal },
      ),
    );
    return out.ETag ?? '';
  }

  /** A presigned GET URL (no network: signing is local), for thumbnails in tooltips and webviews. */
  async presign(bucket: string, key: string, expiresInSeconds = 900): Promise<string> {
    const { client, sdk } = this.handle;
    return this.call({ operation: 'presign', bucket, key }, undefined, () =>
      sdk.getSignedUrl(client, new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds }),
    );
  }

  private async call<T>(context: Omit<S3ErrorContext, 'connection'>, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    if (signal?.aborted) throw new OcrAlError('Cancelled', 'Cancelled.');
    try {
      return await run();
    } catch (error) {
      throw mapS3Error(error, { ...context, connection: this.handle.connection });
    }
  }
}

function isStatus(error: unknown, status: number): boolean {
  return statusOf(error) === status;
}

function statusOf(error: unknown): number | undefined {
  const meta = (error as Partial<S3ServiceException> | undefined)?.$metadata;
  return typeof meta?.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

/** `s3://bucket/key` for messages. */
function where(context: S3ErrorContext): string {
  return `s3://${context.bucket}/${context.key ?? ''}`;
}

function who(context: S3ErrorContext): string {
  const c = context.connection;
  return `AWS profile "${c.profile}", region ${c.region}${c.endpoint ? `, endpoint ${c.endpoint}` : ''}`;
}

/**
 * Maps an SDK (or network) failure to the project's error, naming the bucket, key and the
 * profile in use so the user knows which credentials to check.
 */
export function mapS3Error(error: unknown, context: S3ErrorContext): OcrAlError {
  if (error instanceof OcrAlError) return error;
  const name = error instanceof Error ? error.name : '';
  const code = (error as { code?: unknown } | undefined)?.code;
  const status = statusOf(error);
  const cause = { cause: error };
  if (name === 'AbortError' || code === 'ABORT_ERR') return new OcrAlError('Cancelled', 'Cancelled.', cause);
  if (name === 'NoSuchBucket') {
    return new OcrAlError('NotFound', `S3 bucket "${context.bucket}" does not exist (${who(context)}).`, cause);
  }
  if (name === 'NoSuchKey' || (status === 404 && context.key !== undefined && context.operation !== 'list')) {
    return new OcrAlError('NotFound', `${where(context)} does not exist.`, cause);
  }
  if (status === 404) return new OcrAlError('NotFound', `S3 bucket "${context.bucket}" does not exist (${who(context)}).`, cause);
  if (name === 'CredentialsProviderError' || name === 'ProviderError') {
    return new OcrAlError(
      'AccessDenied',
      `No AWS credentials for ${who(context)}: ${error instanceof Error ? error.message : String(error)} Pick another profile from the status bar or run "aws sso login".`,
      cause,
    );
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'TokenRefreshRequired'].includes(name)) {
    return new OcrAlError('AccessDenied', `AWS rejected the credentials of ${who(context)} (${name}) for ${where(context)}.`, cause);
  }
  if (name === 'AccessDenied' || name === 'Forbidden' || status === 403) {
    const action = { list: 's3:ListBucket', head: 's3:GetObject', read: 's3:GetObject', write: 's3:PutObject', presign: 's3:GetObject' }[context.operation];
    return new OcrAlError(
      'AccessDenied',
      `Access denied to ${where(context)} in bucket "${context.bucket}" with ${who(context)}: the profile needs ${action}.`,
      cause,
    );
  }
  if (name === 'PreconditionFailed' || status === 412) {
    return new OcrAlError('Conflict', `${where(context)} changed on S3 while it was being read or written; refresh and try again.`, cause);
  }
  if (name === 'PermanentRedirect' || status === 301) {
    return new OcrAlError('BadInput', `S3 bucket "${context.bucket}" is in another region than ${context.connection.region}; set ocrActiveLearning.aws.region.`, cause);
  }
  if (typeof code === 'string' && /^(ECONNREFUSED|ENOTFOUND|ECONNRESET|ETIMEDOUT|EAI_AGAIN|EHOSTUNREACH)$/.test(code)) {
    return new OcrAlError('Io', `Cannot reach S3 for ${where(context)} (${code}${context.connection.endpoint ? ` at ${context.connection.endpoint}` : ''}).`, cause);
  }
  if (name === 'TimeoutError') return new OcrAlError('Timeout', `S3 timed out on ${where(context)}.`, cause);
  const message = error instanceof Error ? error.message : String(error);
  return new OcrAlError('Io', `S3 ${context.operation} of ${where(context)} failed: ${name ? `${name}: ` : ''}${message}`, cause);
}

/**
 * The one AWS client factory: clients are cached by (profile, region, endpoint), use adaptive
 * retry, take credentials from the named profile (`fromIni`) or the default provider chain,
 * and use path-style addressing when an endpoint override points at an S3-compatible server.
 *
 * The SDK is loaded lazily, with `loadAwsSdk()`, the first time a client is asked for, so
 * nothing that only imports this module (the extension's activation, the CLI's local
 * commands) pays for it. `dispose()` destroys every client it made.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { OcrAlError } from '../core/errors';
import type * as AwsSdkModule from './sdk';
import { type AwsEnv, type AwsProfiles, effectiveProfile, effectiveRegion, readAwsProfiles } from './sharedConfig';

/** The SDK values the adapters use (src/aws/sdk.ts). */
export type AwsSdk = typeof AwsSdkModule;

/**
 * Loads the SDK module. esbuild keeps this import external for the extension (dist/aws-sdk.js,
 * see esbuild.mjs), so the SDK is parsed only when this runs.
 */
export function loadAwsSdk(): Promise<AwsSdk> {
  return import('./sdk');
}

/** What the user configured; empty strings mean "not set". */
export interface AwsConnection {
  readonly profile?: string | undefined;
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
}

/** A connection with the profile and region in effect filled in. */
export interface ResolvedConnection {
  /** The profile in effect (setting, AWS_PROFILE, or `default`). */
  readonly profile: string;
  /** Whether the profile was named in the settings (then credentials come from `fromIni`). */
  readonly profileFromSettings: boolean;
  readonly region: string;
  readonly endpoint: string | undefined;
}

/** An S3 client together with the SDK module it came from (for the command classes). */
export interface S3Handle {
  readonly client: S3Client;
  readonly sdk: AwsSdk;
  readonly connection: ResolvedConnection;
}

/** Options, mostly for tests: a request handler that answers without a network, fixed credentials. */
export interface AwsClientFactoryOptions {
  readonly loadSdk?: () => Promise<AwsSdk>;
  readonly env?: AwsEnv;
  readonly readProfiles?: () => Promise<AwsProfiles>;
  /** Merged into every client's config last (e.g. `requestHandler`, `credentials`). */
  readonly clientOverrides?: Partial<S3ClientConfig>;
}

/** Listener called once per newly created client. */
export type ClientCreatedListener = (connection: ResolvedConnection) => void;

/** Cached, lazily loaded AWS clients. */
export class AwsClientFactory {
  private readonly s3Clients = new Map<string, Promise<S3Handle>>();
  private readonly created: S3Client[] = [];
  private readonly listeners = new Set<ClientCreatedListener>();
  private readonly env: AwsEnv;
  private profiles: Promise<AwsProfiles> | undefined;
  private disposed = false;

  constructor(private readonly options: AwsClientFactoryOptions = {}) {
    this.env = options.env ?? process.env;
  }

  /** True once any client has been created (the status bar shows AWS only from then on). */
  get inUse(): boolean {
    return this.created.length > 0;
  }

  /** Called whenever a client is created. Returns a disposable that removes the listener. */
  onDidCreateClient(listener: ClientCreatedListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Profiles and regions from the shared files, read once (call `forgetProfiles` to reread). */
  readProfiles(): Promise<AwsProfiles> {
    this.profiles ??= (this.options.readProfiles ?? (() => readAwsProfiles(this.env)))();
    return this.profiles;
  }

  /** Drops the cached shared-file contents (after the user edits ~/.aws/config). */
  forgetProfiles(): void {
    this.profiles = undefined;
  }

  /** Fills in the profile and region in effect, without loading the SDK. */
  async resolve(connection: AwsConnection): Promise<ResolvedConnection> {
    const profile = effectiveProfile(connection.profile, this.env);
    const region = effectiveRegion(connection.region, profile, await this.readProfiles(), this.env);
    return { profile, profileFromSettings: !!connection.profile, region, endpoint: connection.endpoint || undefined };
  }

  /** The cached S3 client for this connection, creating it (and loading the SDK) on first use. */
  s3(connection: AwsConnection): Promise<S3Handle> {
    if (this.disposed) return Promise.reject(new OcrAlError('Internal', 'The AWS client factory was disposed.'));
    const key = JSON.stringify([connection.profile || '', connection.region || '', connection.endpoint || '']);
    let handle = this.s3Clients.get(key);
    if (!handle) {
      handle = this.createS3(connection);
      // A failed creation (bad endpoint URL, SDK load error) must not stick in the cache.
      handle.catch(() => this.s3Clients.delete(key));
      this.s3Clients.set(key, handle);
    }
    return handle;
  }

  private async createS3(connection: AwsConnection): Promise<S3Handle> {
    const resolved = await this.resolve(connection);
    if (resolved.endpoint !== undefined && !/^https?:\/\/[^/\s]+(\/\S*)?$/i.test(resolved.endpoint)) {
      throw new OcrAlError('BadInput', `The S3 endpoint override "${resolved.endpoint}" is not an http(s) URL (for example http://127.0.0.1:4568).`);
    }
    const sdk = await (this.options.loadSdk ?? loadAwsSdk)();
    const config: S3ClientConfig = {
      region: resolved.region,
      retryMode: 'adaptive',
      maxAttempts: 3,
      // A named profile reads the shared files; otherwise the default chain (env, SSO,
      // container and instance metadata) finds credentials as the AWS CLI would.
      credentials: resolved.profileFromSettings ? sdk.fromIni({ profile: resolved.profile }) : sdk.fromNodeProviderChain(),
      ...(resolved.endpoint ? { endpoint: resolved.endpoint, forcePathStyle: true } : {}),
      ...this.options.clientOverrides,
    };
    const client = new sdk.S3Client(config);
    if (this.disposed) {
      client.destroy();
      throw new OcrAlError('Cancelled', 'The AWS client factory was disposed.');
    }
    this.created.push(client);
    for (const listener of this.listeners) listener(resolved);
    return { client, sdk, connection: resolved };
  }

  /** Destroys every client (closing their sockets) and forgets them. */
  dispose(): void {
    this.disposed = true;
    for (const client of this.created.splice(0)) client.destroy();
    this.s3Clients.clear();
    this.listeners.clear();
  }
}

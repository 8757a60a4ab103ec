/**
 * s3rver on a free loopback port with a temporary directory, for tests of the S3 adapters with
 * the real `@aws-sdk/client-s3`. s3rver checks signatures against its fixed key pair, which
 * `LOCAL_S3_CREDENTIALS` holds.
 */
import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import S3Object from 's3rver/lib/models/object';
import { AwsClientFactory } from '../../src/aws/clientFactory';
import { S3Store } from '../../src/aws/s3Store';

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 18+)
 * only offers through its legacy provider. Triple DES with the key repeated three times is the
 * same cipher, and the default provider has it: swap it in for s3rver's 'des' calls so listings
 * of more than one page work without `--openssl-legacy-provider`.
 */
function allowS3rverContinuationTokens(): void {
  const crypto = createRequire(__filename)('node:crypto') as typeof NodeCrypto & { __ocrAlDesShim?: boolean };
  if (crypto.__ocrAlDesShim) return;
  crypto.__ocrAlDesShim = true;
  const triple = (key: Buffer): Buffer => Buffer.concat([key, key, key]);
  const { createCipheriv, createDecipheriv } = crypto;
  type CipherArgs = Parameters<typeof createCipheriv>;
  crypto.createCipheriv = ((algorithm: string, key: Buffer, iv: Buffer, options?: CipherArgs[3]) =>
    algorithm === 'des' ? createCipheriv('des-ede3-cbc', triple(key), iv) : createCipheriv(algorithm, key, iv, options)) as typeof createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: Buffer, iv: Buffer, options?: CipherArgs[3]) =>
    algorithm === 'des' ? createDecipheriv('des-ede3-cbc', triple(key), iv) : createDecipheriv(algorithm, key, iv, options)) as typeof createDecipheriv;
}

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  readonly endpoint: string;
  readonly factory: AwsClientFactory;
  /** A store on the local server (profile "test"). */
  store(): Promise<S3Store>;
  /**
   * Writes objects straight into s3rver's store (no HTTP): seeding a thousand keys through
   * signed PUTs takes ~20 s on a busy 2-core machine, and the tests are about reading.
   */
  seed(bucket: string, objects: ReadonlyMap<string, string | Buffer>): Promise<void>;
  close(): Promise<void>;
}

/** Starts s3rver with `buckets` created; `close()` stops it and removes its directory. */
export async function startLocalS3(buckets: readonly string[]): Promise<LocalS3> {
  allowS3rverContinuationTokens();
  const directory = await mkdtemp(join(tmpdir(), 'ocr-al-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const factory = new AwsClientFactory({
    env: {},
    readProfiles: async () => ({ names: ['test'], regions: new Map([['test', 'eu-west-1']]) }),
    clientOverrides: { credentials: LOCAL_S3_CREDENTIALS },
  });
  return {
    endpoint,
    factory,
    async store() {
      return new S3Store(await factory.s3({ profile: 'test', endpoint }));
    },
    async seed(bucket, objects) {
      const queue = [...objects];
      const worker = async (): Promise<void> => {
        for (let next = queue.pop(); next; next = queue.pop()) {
          await server.store.putObject(new S3Object(bucket, next[0], Buffer.from(next[1]), {}));
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    },
    async close() {
      factory.dispose();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

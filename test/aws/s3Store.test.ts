import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AwsClientFactory, loadAwsSdk } from '../../src/aws/clientFactory';
import { S3Store, mapS3Error } from '../../src/aws/s3Store';
import { OcrAlError } from '../../src/core/errors';
import { type LocalS3, startLocalS3 } from './localS3';

const BUCKET = 'ocr-batches';
const ODD_KEY = 'batches/pässe 2024/Ünïcode név/manifest.jsonl';

describe('S3Store against s3rver', () => {
  let s3: LocalS3;
  let store: S3Store;
  const many = Array.from({ length: 1005 }, (_, i) => `many/img-${String(i).padStart(5, '0')}.png`);

  before(async () => {
    s3 = await startLocalS3([BUCKET]);
    store = await s3.store();
    await s3.seed(BUCKET, new Map(many.map((key) => [key, key])));
    await store.write(BUCKET, ODD_KEY, '0123456789abcdefghij');
  });
  after(() => s3?.close());

  test('lists every key across ListObjectsV2 pages (> 1000 keys)', async () => {
    const keys: string[] = [];
    for await (const object of store.list(BUCKET, 'many/')) keys.push(object.key);
    assert.equal(keys.length, 1005);
    assert.deepEqual(keys, [...many].sort());
  });

  test('lists keys with spaces and non-ASCII characters exactly', async () => {
    const found = [];
    for await (const object of store.list(BUCKET, 'batches/pässe 2024/')) found.push(object);
    assert.deepEqual(
      found.map((o) => [o.key, o.size]),
      [[ODD_KEY, 20]],
    );
    assert.match(found[0]!.etag, /^"[0-9a-f]+"$/);
  });

  test('ranged reads return the requested bytes, short at the end, none past it', async () => {
    const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
    assert.equal(text(await store.read(BUCKET, ODD_KEY, 5, 4)), '5678');
    // (A one-byte range at offset 0, "bytes=0-0", is misread by s3rver as the whole object.)
    assert.equal(text(await store.read(BUCKET, ODD_KEY, 1, 1)), '1');
    assert.equal(text(await store.read(BUCKET, ODD_KEY, 16, 100)), 'ghij');
    assert.equal((await store.read(BUCKET, ODD_KEY, 20, 5)).length, 0);
    assert.equal((await store.read(BUCKET, ODD_KEY, 3, 0)).length, 0);
  });

  test('head gives size and ETag; a read pinned to an old ETag fails with Conflict', async () => {
    const key = 'changing/manifest.jsonl';
    await store.write(BUCKET, key, 'first version\n');
    const head = await store.head(BUCKET, key);
    assert.equal(head.size, 14);
    assert.equal(Buffer.from(await store.read(BUCKET, key, 0, 5, { etag: head.etag })).toString(), 'first');
    await store.write(BUCKET, key, 'second version\n');
    await assert.rejects(store.read(BUCKET, key, 0, 5, { etag: head.etag }), (e: unknown) => {
      assert.ok(OcrAlError.is(e, 'Conflict'));
      assert.match(e.message, /s3:\/\/ocr-batches\/changing\/manifest\.jsonl changed/);
      return true;
    });
  });

  test('a missing bucket is NotFound naming the bucket and profile', async () => {
    await assert.rejects(
      async () => {
        for await (const _ of store.list('no-such-bucket', '')) void _;
      },
      (e: unknown) => {
        assert.ok(OcrAlError.is(e, 'NotFound'));
        assert.match(e.message, /S3 bucket "no-such-bucket" does not exist \(AWS profile "test", region eu-west-1/);
        return true;
      },
    );
  });

  test('a missing key is NotFound naming the object', async () => {
    await assert.rejects(store.head(BUCKET, 'nope/manifest.jsonl'), (e: unknown) => OcrAlError.is(e, 'NotFound') && /s3:\/\/ocr-batches\/nope\/manifest\.jsonl does not exist/.test(e.message));
    await assert.rejects(store.read(BUCKET, 'nope/x', 0, 10), (e: unknown) => OcrAlError.is(e, 'NotFound'));
  });

  test('a presigned URL fetches the object over plain HTTP', async () => {
    const url = await store.presign(BUCKET, ODD_KEY, 60);
    assert.ok(url.startsWith(`${s3.endpoint}/${BUCKET}/`));
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '0123456789abcdefghij');
  });

  test('an unreachable endpoint is an Io error naming it', async () => {
    const factory = new AwsClientFactory({
      env: {},
      readProfiles: async () => ({ names: [], regions: new Map() }),
      clientOverrides: { credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 },
    });
    try {
      // Port 9 (discard) on loopback: nothing listens there on these machines.
      const dead = new S3Store(await factory.s3({ endpoint: 'http://127.0.0.1:9' }));
      await assert.rejects(dead.head(BUCKET, 'x'), (e: unknown) => OcrAlError.is(e, 'Io') && /Cannot reach S3 .*ECONNREFUSED at http:\/\/127\.0\.0\.1:9/.test(e.message));
    } finally {
      factory.dispose();
    }
  });
});

/** A request handler that answers every request like S3 does when the policy denies it. */
function denyingHandler(status: number, body: string) {
  const requests: string[] = [];
  return {
    requests,
    handler: {
      async handle(request: { method: string; path: string }) {
        requests.push(`${request.method} ${request.path}`);
        return {
          response: {
            statusCode: status,
            reason: 'Forbidden',
            headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'TESTREQ', 'x-amz-id-2': 'TESTID2' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
    },
  };
}

const ACCESS_DENIED_XML = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/labeler is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::secret-bucket" because no identity-based policy allows the s3:ListBucket action</Message><RequestId>TESTREQ</RequestId><HostId>TESTID2</HostId></Error>`;

describe('S3 access denied, through the real S3 client', () => {
  function factoryWith(handler: unknown): AwsClientFactory {
    return new AwsClientFactory({
      env: {},
      readProfiles: async () => ({ names: ['labeler'], regions: new Map([['labeler', 'us-west-2']]) }),
      clientOverrides: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, requestHandler: handler as never, maxAttempts: 1 },
    });
  }

  test('a 403 AccessDenied listing names the bucket, the profile and the missing permission', async () => {
    const { handler, requests } = denyingHandler(403, ACCESS_DENIED_XML);
    const factory = factoryWith(handler);
    try {
      const store = new S3Store(await factory.s3({ profile: 'labeler' }));
      await assert.rejects(
        async () => {
          for await (const _ of store.list('secret-bucket', 'batches/')) void _;
        },
        (e: unknown) => {
          assert.ok(OcrAlError.is(e, 'AccessDenied'));
          assert.equal(
            e.message,
            'Access denied to s3://secret-bucket/batches/ in bucket "secret-bucket" with AWS profile "labeler", region us-west-2: the profile needs s3:ListBucket.',
          );
          return true;
        },
      );
      assert.equal(requests.length, 1, 'an access denial is not retried');
      assert.match(requests[0]!, /^GET \/?/);
    } finally {
      factory.dispose();
    }
  });

  test('a 403 on HEAD (no body) is also AccessDenied', async () => {
    const { handler } = denyingHandler(403, '');
    const factory = factoryWith(handler);
    try {
      const store = new S3Store(await factory.s3({ profile: 'labeler' }));
      await assert.rejects(store.head('secret-bucket', 'b/manifest.jsonl'), (e: unknown) => OcrAlError.is(e, 'AccessDenied') && /s3:\/\/secret-bucket\/b\/manifest\.jsonl .*profile "labeler".*s3:GetObject/.test(e.message));
    } finally {
      factory.dispose();
    }
  });

  test('missing credentials are AccessDenied with what to do', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const mapped = mapS3Error(error, { operation: 'list', bucket: 'b', connection: { profile: 'dev', region: 'eu-west-1', endpoint: undefined } });
    assert.equal(mapped.code, 'AccessDenied');
    assert.match(mapped.message, /No AWS credentials for AWS profile "dev", region eu-west-1: Could not load credentials.*status bar/);
  });

  test('an aborted request is Cancelled, not an error to show', () => {
    const error = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    assert.equal(mapS3Error(error, { operation: 'read', bucket: 'b', key: 'k', connection: { profile: 'p', region: 'r', endpoint: undefined } }).code, 'Cancelled');
  });
});

describe('AwsClientFactory', () => {
  const noProfiles = async () => ({ names: [], regions: new Map<string, string>() });

  test('loads the SDK only when the first client is asked for, then caches per connection', async () => {
    let loads = 0;
    const factory = new AwsClientFactory({
      env: {},
      readProfiles: noProfiles,
      loadSdk: async () => {
        loads++;
        return loadAwsSdk();
      },
    });
    const created: string[] = [];
    factory.onDidCreateClient((c) => created.push(`${c.profile}/${c.region}/${c.endpoint ?? ''}`));
    assert.equal(loads, 0);
    assert.equal(factory.inUse, false);
    const a = await factory.s3({ profile: 'dev', region: 'eu-west-1' });
    const b = await factory.s3({ profile: 'dev', region: 'eu-west-1' });
    const c = await factory.s3({ profile: 'dev', region: 'eu-west-1', endpoint: 'http://127.0.0.1:4568' });
    assert.equal(a, b);
    assert.notEqual(a.client, c.client);
    assert.equal(factory.inUse, true);
    assert.deepEqual(created, ['dev/eu-west-1/', 'dev/eu-west-1/http://127.0.0.1:4568']);
    assert.equal(await c.client.config.forcePathStyle, true, 'an endpoint override uses path-style addressing');
    assert.equal(await a.client.config.forcePathStyle, false);
    assert.equal(((await a.client.config.retryStrategy()) as { mode?: string }).mode, 'adaptive');
    factory.dispose();
    await assert.rejects(factory.s3({}), (e: unknown) => OcrAlError.is(e));
  });

  test('resolves the region from the setting, the environment, then the profile, then us-east-1', async () => {
    const profiles = async () => ({ names: ['default', 'eu'], regions: new Map([['eu', 'eu-central-1']]) });
    assert.equal((await new AwsClientFactory({ env: {}, readProfiles: profiles }).resolve({ profile: 'eu' })).region, 'eu-central-1');
    assert.equal((await new AwsClientFactory({ env: { AWS_REGION: 'ap-south-1' }, readProfiles: profiles }).resolve({ profile: 'eu' })).region, 'ap-south-1');
    assert.equal((await new AwsClientFactory({ env: { AWS_REGION: 'ap-south-1' }, readProfiles: profiles }).resolve({ profile: 'eu', region: 'sa-east-1' })).region, 'sa-east-1');
    const fallback = await new AwsClientFactory({ env: {}, readProfiles: profiles }).resolve({});
    assert.deepEqual(fallback, { profile: 'default', profileFromSettings: false, region: 'us-east-1', endpoint: undefined });
    assert.equal((await new AwsClientFactory({ env: { AWS_PROFILE: 'eu' }, readProfiles: profiles }).resolve({})).region, 'eu-central-1');
  });

  test('an endpoint that is not a URL is BadInput, and the failure is not cached', async () => {
    const factory = new AwsClientFactory({ env: {}, readProfiles: noProfiles });
    await assert.rejects(factory.s3({ endpoint: 'localhost:4568 ' }), (e: unknown) => OcrAlError.is(e, 'BadInput') && /is not an http\(s\) URL/.test(e.message));
    assert.equal(factory.inUse, false);
    factory.dispose();
  });
});

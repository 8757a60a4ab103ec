/**
 * The built extension (dist/extension.js) activates in plain Node against a fake `vscode`
 * (test/host/fakeVscode.ts) without loading the AWS SDK, and loads dist/aws-sdk.js only when
 * an S3 location is listed. Skips when dist/ has not been built (`npm test` builds it first).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { createFakeVscode, fakeExtensionContext, installFakeVscode } from './fakeVscode';

const dist = resolve(__dirname, '..', '..', 'dist');
const requireFromHere = createRequire(__filename);

function awsModulesLoaded(): string[] {
  return Object.keys(requireFromHere.cache).filter((k) => /aws-sdk\.js$|[\\/]@aws-sdk[\\/]/.test(k));
}

test('activation registers the view and commands without loading the AWS SDK; the first S3 listing loads it', async (t) => {
  if (!existsSync(join(dist, 'extension.js')) || !existsSync(join(dist, 'aws-sdk.js'))) {
    t.skip('dist/ is not built (run npm run build)');
    return;
  }
  const { vscode, state } = createFakeVscode();
  installFakeVscode(vscode);
  assert.deepEqual(awsModulesLoaded(), [], 'nothing has loaded the SDK before');
  const storage = mkdtempSync(join(tmpdir(), 'ocr-al-activation-'));
  const context = fakeExtensionContext(storage);
  try {
    const started = performance.now();
    const extension = requireFromHere(join(dist, 'extension.js')) as { activate(context: unknown): void };
    extension.activate(context);
    const ms = performance.now() - started;
    t.diagnostic(`require + activate: ${ms.toFixed(1)} ms`);
    assert.match(state.output.join('\n'), /\[info\] activated in [\d.]+ ms/);
    assert.deepEqual(awsModulesLoaded(), [], 'activation must not load the AWS SDK');
    assert.deepEqual(state.treeViews.map((v) => v.id), ['ocrActiveLearning.batches']);
    for (const id of ['ocrActiveLearning.refresh', 'ocrActiveLearning.addS3Location', 'ocrActiveLearning.sortByName', 'ocrActiveLearning.filterByStatus', 'ocrActiveLearning.configureAws']) {
      assert.ok(state.commands.has(id), `${id} is registered`);
    }
    assert.equal(state.context.get('ocrActiveLearning.sort'), 'uncertainty');

    // An S3 location whose endpoint refuses connections: the listing loads the SDK, fails,
    // and shows the failure as a row, without any pop-up.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' });
    state.settings['ocrActiveLearning.s3Locations'] = ['s3://some-bucket/batches/'];
    state.settings['ocrActiveLearning.aws.endpoint'] = 'http://127.0.0.1:9';
    state.settings['ocrActiveLearning.aws.region'] = 'eu-west-1';
    const provider = state.treeViews[0]!.provider as { getChildren(): Promise<{ type: string; text?: string; detail?: string }[]> };
    const roots = await provider.getChildren();
    assert.ok(awsModulesLoaded().some((k) => k.endsWith('aws-sdk.js')), 'dist/aws-sdk.js is loaded on first S3 use');
    assert.deepEqual(roots.map((r) => [r.type, r.text]), [['message', 's3://some-bucket/batches/']]);
    assert.match(roots[0]!.detail!, /Cannot reach S3 .*ECONNREFUSED at http:\/\/127\.0\.0\.1:9/);
    assert.deepEqual(state.messages, []);
  } finally {
    for (const d of context.subscriptions.splice(0)) d.dispose();
    rmSync(storage, { recursive: true, force: true });
  }
});

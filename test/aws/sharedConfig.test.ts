import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { effectiveProfile, effectiveRegion, profilesFromTexts, readAwsProfiles, sharedFilePaths } from '../../src/aws/sharedConfig';

const CONFIG = `
# comment
[default]
region = us-west-2

[profile labeler]
region=eu-west-1
s3 =
  max_concurrent_requests = 20
[sso-session corp]
sso_region = us-east-1
[profile no-region]
output = json
`;
const CREDENTIALS = `
[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = secret
; another
[ci-bot]
aws_access_key_id = AKIDEXAMPLE2
`;

test('profiles come from both files, default first; sso-session sections are not profiles', () => {
  const profiles = profilesFromTexts(CONFIG, CREDENTIALS);
  assert.deepEqual(profiles.names, ['default', 'ci-bot', 'labeler', 'no-region']);
  assert.deepEqual([...profiles.regions], [
    ['default', 'us-west-2'],
    ['labeler', 'eu-west-1'],
  ]);
});

test('the files are found through AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE; missing files are empty', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ocr-al-aws-'));
  try {
    await writeFile(join(dir, 'config'), CONFIG);
    const env = { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'nope') };
    assert.equal(sharedFilePaths(env).config, join(dir, 'config'));
    const profiles = await readAwsProfiles(env);
    assert.deepEqual(profiles.names, ['default', 'labeler', 'no-region']);
    assert.deepEqual(sharedFilePaths({ HOME: '/home/u' }), { config: '/home/u/.aws/config', credentials: '/home/u/.aws/credentials' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('profile and region in effect', () => {
  const profiles = profilesFromTexts(CONFIG, '');
  assert.equal(effectiveProfile(undefined, {}), 'default');
  assert.equal(effectiveProfile(undefined, { AWS_PROFILE: 'labeler' }), 'labeler');
  assert.equal(effectiveProfile('x', { AWS_PROFILE: 'labeler' }), 'x');
  assert.equal(effectiveRegion(undefined, 'labeler', profiles, {}), 'eu-west-1');
  assert.equal(effectiveRegion(undefined, 'no-region', profiles, {}), 'us-east-1');
  assert.equal(effectiveRegion(undefined, 'labeler', profiles, { AWS_DEFAULT_REGION: 'ap-south-1' }), 'ap-south-1');
  assert.equal(effectiveRegion('sa-east-1', 'labeler', profiles, { AWS_REGION: 'ap-south-1' }), 'sa-east-1');
});

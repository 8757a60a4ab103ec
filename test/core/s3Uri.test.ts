import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OcrAlError } from '../../src/core/errors';
import { keyBasename, keyDirname, normalizeS3Location, parseS3Uri, s3ConsoleUrl, s3UriProblem } from '../../src/core/s3Uri';

test('parses s3 URIs literally: spaces and non-ASCII stay as written', () => {
  assert.deepEqual(parseS3Uri('s3://my-bucket/a b/pässe/x%20y.png'), { bucket: 'my-bucket', key: 'a b/pässe/x%20y.png' });
  assert.deepEqual(parseS3Uri('s3://my-bucket'), { bucket: 'my-bucket', key: '' });
  assert.deepEqual(parseS3Uri('  s3://my-bucket/  '), { bucket: 'my-bucket', key: '' });
});

test('input validation says what is wrong', () => {
  assert.equal(s3UriProblem('s3://my-bucket/batches/'), undefined);
  assert.match(s3UriProblem('')!, /enter a location such as s3:\/\/my-bucket\/batches\//);
  assert.match(s3UriProblem('my-bucket/batches')!, /must start with s3:\/\//);
  assert.match(s3UriProblem('https://my-bucket.s3.amazonaws.com/x')!, /must start with s3:\/\//);
  assert.match(s3UriProblem('S3://my-bucket/x')!, /lowercase/);
  assert.match(s3UriProblem('s3://My_Bucket/x')!, /"My_Bucket" is not a valid bucket name/);
  assert.match(s3UriProblem('s3://ab/x')!, /not a valid bucket name/);
  assert.match(s3UriProblem('s3:///x')!, /bucket name is missing/);
  assert.match(s3UriProblem('s3://a..b/x')!, /two dots/);
  assert.match(s3UriProblem('s3://192.168.1.1/x')!, /IP address/);
  assert.throws(() => parseS3Uri('bucket/x'), (e: unknown) => OcrAlError.is(e, 'BadInput') && /^Not an S3 location: /.test(e.message));
});

test('locations are normalized to one trailing slash', () => {
  assert.equal(normalizeS3Location('s3://b-1/x'), 's3://b-1/x/');
  assert.equal(normalizeS3Location('s3://b-1/x///'), 's3://b-1/x/');
  assert.equal(normalizeS3Location('s3://b-1'), 's3://b-1/');
});

test('key dirname and basename', () => {
  assert.equal(keyDirname('a/b/manifest.jsonl'), 'a/b/');
  assert.equal(keyDirname('manifest.jsonl'), '');
  assert.equal(keyBasename('a/b/'), 'b');
  assert.equal(keyBasename('a/b c.png'), 'b c.png');
});

test('console URLs encode the key and choose object or prefix pages', () => {
  assert.equal(
    s3ConsoleUrl('b-1', 'p q/ü.png', 'eu-west-1'),
    'https://console.aws.amazon.com/s3/object/b-1?region=eu-west-1&prefix=p%20q%2F%C3%BC.png',
  );
  assert.equal(s3ConsoleUrl('b-1', 'p/', 'us-east-1'), 'https://console.aws.amazon.com/s3/buckets/b-1?region=us-east-1&prefix=p%2F&showversions=false');
});

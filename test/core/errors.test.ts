import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OcrAlError, exitCodeFor } from '../../src/core/errors';

test('OcrAlError.from keeps codes and wraps foreign errors with their cause', () => {
  const original = new OcrAlError('NotFound', 'no such ref');
  assert.equal(OcrAlError.from(original), original);
  const wrapped = OcrAlError.from(new TypeError('boom'), 'Io');
  assert.equal(wrapped.code, 'Io');
  assert.equal(wrapped.message, 'boom');
  assert.ok(wrapped.cause instanceof TypeError);
  assert.ok(OcrAlError.is(wrapped, 'Io'));
  assert.ok(!OcrAlError.is(wrapped, 'NotFound'));
});

test('input errors exit 2, others 1', () => {
  assert.equal(exitCodeFor(new OcrAlError('BadInput', 'x')), 2);
  assert.equal(exitCodeFor(new OcrAlError('PathEscape', 'x')), 2);
  assert.equal(exitCodeFor(new OcrAlError('Io', 'x')), 1);
});

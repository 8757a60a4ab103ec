import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanTopLevel, type TopLevelScan } from '../../../src/core/manifest/jsonScan';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function scan(text: string): TopLevelScan {
  const bytes = encoder.encode(text);
  return scanTopLevel(bytes, 0, bytes.length);
}

/** What JSON.parse says about the same bytes: accepted as an object, or not. */
function parseVerdict(bytes: Uint8Array): boolean {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

const valid = [
  '{}',
  ' { } ',
  '{"a":1}',
  '{"a":-0,"b":1.5e+3,"c":2E-7,"d":0.25,"e":-12}',
  '{"s":"plain","t":"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"}',
  '{"u":"Größe 日本 😀"}',
  '{"n":null,"t":true,"f":false,"arr":[],"obj":{}}',
  '{"nested":{"a":[1,[2,[3,{"b":[{}]}]]]}}',
  '\t{ "a" : [ 1 , 2 ] ,\r\n "b" : { "c" : "d" } }\t',
  '{"dup":1,"dup":2}',
  '{"":""}',
  '{"a":"\\u0000"}',
];

const invalid: [string, string][] = [
  ['', 'empty'],
  ['   ', 'blank'],
  ['[]', 'array at top level'],
  ['"str"', 'string at top level'],
  ['1', 'number at top level'],
  ['null', 'null at top level'],
  ['{"a":1,}', 'trailing comma in object'],
  ['{"a":[1,2,]}', 'trailing comma in array'],
  ['{,}', 'lone comma'],
  ['{"a":01}', 'leading zero'],
  ['{"a":1.}', 'dot without digits'],
  ['{"a":.5}', 'no integer part'],
  ['{"a":+1}', 'plus sign'],
  ['{"a":-}', 'bare minus'],
  ['{"a":1e}', 'empty exponent'],
  ['{"a":1e+}', 'signed empty exponent'],
  ['{"a":0x10}', 'hex'],
  ['{"a":NaN}', 'NaN'],
  ['{"a":Infinity}', 'Infinity'],
  ['{"a":"\\x41"}', 'bad escape'],
  ['{"a":"\\u12G4"}', 'bad unicode escape'],
  ['{"a":"\\u12"}', 'short unicode escape'],
  ['{"a":"tab\there"}', 'raw tab in string'],
  ['{"a":"nl\nhere"}', 'raw newline in string'],
  ['{"a":"\u0001"}', 'raw control character'],
  ['{"a":"open}', 'unterminated string'],
  ['{"a":[1,2', 'truncated array'],
  ['{"a":{"b":1}', 'truncated object'],
  ['{"a"', 'truncated after key'],
  ['{"a":', 'truncated after colon'],
  ['{"a":1} x', 'trailing garbage'],
  ['{"a":1}{}', 'two objects'],
  ["{'a':1}", 'single quotes'],
  ['{a:1}', 'unquoted key'],
  ['{"a" 1}', 'missing colon'],
  ['{"a":1 "b":2}', 'missing comma'],
  ['{"a":tru}', 'truncated literal'],
  ['{"a":True}', 'capitalized literal'],
  ['{"a":1}//c', 'comment'],
  ['{"a":[1}]', 'mismatched brackets'],
  ['{1:2}', 'number key'],
];

test('valid lines: accepted, with the top-level keys and value ranges JSON.parse sees', () => {
  for (const text of valid) {
    const bytes = encoder.encode(text);
    const result = scanTopLevel(bytes, 0, bytes.length);
    assert.ok(result.ok, `should accept ${text}: ${JSON.stringify(result)}`);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(new Set(result.members.map((m) => m.key)), new Set(Object.keys(parsed)), text);
    // The last occurrence of a key is the value JSON.parse keeps.
    for (const m of result.members.filter((m, k, all) => !all.slice(k + 1).some((o) => o.key === m.key))) {
      assert.deepEqual(JSON.parse(decoder.decode(bytes.subarray(m.valueStart, m.valueEnd))), parsed[m.key], `${text} key ${m.key}`);
      assert.equal(bytes[m.keyStart], 0x22);
    }
    assert.equal(parseVerdict(bytes), true);
  }
});

test('invalid lines: rejected with a message and a column, like JSON.parse', () => {
  for (const [text, why] of invalid) {
    const result = scan(text);
    assert.equal(result.ok, false, `should reject (${why}): ${text}`);
    if (!result.ok) {
      assert.ok(result.message.length > 0);
      assert.ok(result.column >= 1 && result.column <= encoder.encode(text).length + 1, `${why}: column ${result.column}`);
    }
    assert.equal(parseVerdict(encoder.encode(text)), false, `JSON.parse agrees (${why})`);
  }
});

test('the column points at the problem', () => {
  const r = scan('{"a":1,}');
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.column, 8);
  const t = scan('{"a":[1,2,]}');
  if (!t.ok) assert.equal(t.column, 11);
});

test('scans only [start, end) of a larger buffer', () => {
  const bytes = encoder.encode('xx{"a":1}\n{"b":');
  const r = scanTopLevel(bytes, 2, 9);
  assert.ok(r.ok);
  assert.deepEqual(r.members.map((m) => [m.key, m.valueStart, m.valueEnd]), [['a', 7, 8]]);
  // A value that would continue past `end` is truncated, not read beyond.
  assert.equal(scanTopLevel(encoder.encode('{"a":12345}'), 0, 7).ok, false);
  assert.equal(scanTopLevel(encoder.encode('{"a":"xy"}'), 0, 8).ok, false);
  assert.equal(scanTopLevel(encoder.encode('{"a":-1}'), 0, 6).ok, false);
});

test('deep nesting does not overflow the stack', () => {
  const depth = 200_000;
  const text = '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
  assert.ok(scan(text).ok);
  assert.equal(scan('{"a":' + '['.repeat(depth) + ']'.repeat(depth - 1) + '}').ok, false);
});

const jsonObject = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 });

test('property: for random JSON objects, scanTopLevel agrees with JSON.parse on validity and keys', () => {
  fc.assert(
    fc.property(jsonObject, fc.boolean(), (object, pretty) => {
      const text = JSON.stringify(object, null, pretty ? 2 : undefined);
      const bytes = encoder.encode(text);
      const result = scanTopLevel(bytes, 0, bytes.length);
      assert.ok(result.ok, text);
      const reparsed = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
      assert.deepEqual(result.members.map((m) => m.key).sort(), Object.keys(reparsed).sort());
    }),
    { numRuns: 300 },
  );
});

test('property: single-byte mutations of valid lines get the same verdict as JSON.parse', () => {
  const alphabet = encoder.encode('{}[]",:0123456789.-+eE \\/utrfnalsx\t\n\u0001');
  fc.assert(
    fc.property(jsonObject, fc.nat(), fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), (object, where, what, op) => {
      const bytes = encoder.encode(JSON.stringify(object));
      const at = where % (bytes.length + 1);
      const c = alphabet[what % alphabet.length]!;
      let mutated: Uint8Array;
      if (op === 'delete') mutated = new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
      else if (op === 'insert') mutated = new Uint8Array([...bytes.subarray(0, at), c, ...bytes.subarray(at)]);
      else mutated = new Uint8Array([...bytes.subarray(0, at), c, ...bytes.subarray(at + 1)]);
      const result = scanTopLevel(mutated, 0, mutated.length);
      assert.equal(result.ok, parseVerdict(mutated), decoder.decode(mutated));
    }),
    { numRuns: 3000 },
  );
});

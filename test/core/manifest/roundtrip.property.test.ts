/**
 * Property: for random manifests (malformed lines, blank lines, CRLF, unknown keys, odd
 * number formats and spacing) and random label edits, label + compact keeps every line that
 * was not edited byte for byte, keeps unknown keys of edited lines (with their original
 * bytes), and the effective entries before compaction equal the entries after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import fc from 'fast-check';
import { DEFAULT_PASSPORT_CLASSES } from '../../../src/core/classes';
import { scanTopLevel } from '../../../src/core/manifest/jsonScan';
import { compactManifest } from '../../../src/core/manifest/compaction';
import { appendEdits, type EditRecord } from '../../../src/core/manifest/journal';
import { readEffectiveEntry } from '../../../src/core/manifest/effectiveManifest';
import { entry, makeBatch, wordId } from './editsFixture';

const RESERVED = new Set(['source-ref', 'source-size', 'textract', 'textract-ref', 'page-num', 'labels', 'labels-metadata', '__proto__']);

/** A tiny deterministic PRNG so one seed fixes all formatting choices. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** JSON text of `value` with random spacing and number spellings that parse to the same value. */
function oddJson(value: unknown, rnd: () => number): string {
  const ws = () => [' ', '', '', '  ', '\t'][Math.floor(rnd() * 5)]!;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) < 1e15 && !Object.is(value, -0)) {
      const r = rnd();
      if (r < 0.25) return `${value}.0`;
      if (r < 0.4) return `${value}e0`;
      if (r < 0.5) return `${value}E+0`;
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${ws()}${value.map((v) => oddJson(v, rnd)).join(`${ws()},${ws()}`)}${ws()}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}${ws()}:${ws()}${oddJson(v, rnd)}`);
    return `{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}`;
  }
  return JSON.stringify(value);
}

interface LineSpec {
  kind: 'entry' | 'malformed' | 'blank';
  words: number;
  unknown: [string, unknown][];
  junk: string;
  crlf: boolean;
}

const lineSpec = fc.record({
  kind: fc.constantFrom<'entry' | 'malformed' | 'blank'>('entry', 'entry', 'entry', 'malformed', 'blank'),
  words: fc.integer({ min: 1, max: 5 }),
  unknown: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !RESERVED.has(k)), fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
  junk: fc.oneof(fc.constant('{"source-ref": "cut'), fc.constant('[1,2]'), fc.constant('{"a":1}}'), fc.string({ maxLength: 20 })),
  crlf: fc.boolean(),
});

const scenario = fc.record({
  lines: fc.array(lineSpec, { minLength: 1, maxLength: 8 }),
  finalNewline: fc.boolean(),
  seed: fc.integer(),
  edits: fc.array(fc.record({ entry: fc.nat(), word: fc.nat(), cls: fc.constantFrom(...DEFAULT_PASSPORT_CLASSES), batch: fc.boolean() }), { maxLength: 8 }),
});

function build(s: { lines: LineSpec[]; finalNewline: boolean; seed: number }) {
  const rnd = prng(s.seed);
  const refs: { ref: string; words: number; index: number; unknownKeys: string[] }[] = [];
  const texts: string[] = [];
  s.lines.forEach((spec, i) => {
    if (spec.kind === 'blank') {
      texts.push(rnd() < 0.5 ? '' : '  ');
    } else if (spec.kind === 'malformed') {
      const junk = spec.junk.replace(/[\r\n]/g, ' ');
      let isObject = false;
      try {
        const v: unknown = JSON.parse(junk);
        isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
      } catch {
        /* malformed as wanted */
      }
      texts.push(isObject ? `${junk} x` : junk);
    } else {
      const ref = `img${i}.png`;
      const unknown = Object.fromEntries(spec.unknown);
      const value = { ...entry(ref, spec.words), ...unknown };
      const text = oddJson(value, rnd);
      refs.push({ ref, words: spec.words, index: i, unknownKeys: Object.keys(unknown) });
      texts.push(text);
    }
  });
  let content = '';
  texts.forEach((t, i) => {
    const last = i === texts.length - 1;
    content += t + (last && !s.finalNewline ? '' : s.lines[i]!.crlf ? '\r\n' : '\n');
  });
  return { content, refs };
}

/** Splits into lines keeping each line's terminator. */
const splitKeep = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

test('label + compact round-trips random manifests byte for byte outside the edited values', async () => {
  let editedLines = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const { content, refs } = build(s);
      const b = await makeBatch(content);
      try {
        const edits: EditRecord[] = [];
        for (const e of s.edits) {
          if (refs.length === 0) break;
          const target = refs[e.entry % refs.length]!;
          edits.push({ op: 'label', ref: target.ref, box: wordId(target.ref, e.word % target.words), class: e.cls, attribute: 'labels', at: '2026-05-06T07:08:09.000Z' });
        }
        // Some edits in one append, the rest one by one.
        const split = s.edits.findIndex((e) => e.batch);
        const head = split < 0 ? edits : edits.slice(0, split);
        if (head.length) await appendEdits(fs, b.manifest, head);
        for (const e of edits.slice(head.length)) await appendEdits(fs, b.manifest, [e]);

        const edited = new Set(edits.map((e) => e.ref));
        const before = new Map<string, Record<string, unknown>>();
        for (const r of refs) before.set(r.ref, (await readEffectiveEntry(fs, b.manifest, r.ref))!.value);

        await compactManifest(fs, b.manifest);
        const out = await fs.readFile(b.manifest, 'utf8');
        const oldLines = splitKeep(content);
        const newLines = splitKeep(out);
        assert.equal(newLines.length, oldLines.length);
        const byIndex = new Map(refs.map((r) => [r.index, r] as const));
        oldLines.forEach((old, i) => {
          const r = byIndex.get(i);
          if (!r || !edited.has(r.ref)) {
            assert.equal(newLines[i], old, `line ${i + 1} must be unchanged`);
            return;
          }
          const terminator = /\r?\n$/.exec(old)?.[0] ?? '';
          assert.ok(newLines[i]!.endsWith(terminator) && (terminator !== '\n' || !newLines[i]!.endsWith('\r\n')));
          const value = JSON.parse(newLines[i]!) as Record<string, unknown>;
          assert.deepEqual(value, before.get(r.ref));
          // Unknown keys keep their original bytes (value spelling and spacing included).
          const oldBytes = Buffer.from(old.replace(/\r?\n$/, ''));
          const scan = scanTopLevel(oldBytes, 0, oldBytes.length);
          assert.ok(scan.ok);
          const newBytes = Buffer.from(newLines[i]!);
          for (const m of scan.members) {
            if (!r.unknownKeys.includes(m.key)) continue;
            assert.ok(newBytes.includes(oldBytes.subarray(m.keyStart, m.valueEnd)), `unknown key ${m.key} kept byte for byte`);
          }
          editedLines++;
        });
        for (const r of refs) assert.deepEqual((await readEffectiveEntry(fs, b.manifest, r.ref))!.value, before.get(r.ref));
      } finally {
        await b.cleanup();
      }
    }),
    { numRuns: 60 },
  );
  assert.ok(editedLines > 20, `the property exercised edited lines (${editedLines})`);
});

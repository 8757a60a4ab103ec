import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';

const repo = path.resolve(__dirname, '..', '..');

async function run(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: CliIo = { stdout, stderr, fs, cwd };
  const code = await main(argv, io);
  return { code, stdout: out, stderr: err };
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ocr-al-index-cli-'));
  try {
    await run(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const probs = JSON.stringify([0.5, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]);
const manifest = [
  '{"source-ref":"a.png"}',
  '{"source-ref":"b.png","textract-ref":"textract/b.json"}',
  '',
  `{"source-ref":"c.png","soft-labels":{"boxes":{"w":${probs}}}}`,
  '{"source-ref":"d.png","labels":{"annotations":[]},"x-unknown":1}',
  '{"source-ref":"e.png",',
  '{"textract-ref":"orphan.json"}',
  '{"source-ref":"f.png","gt":{}}',
].join('\n');

test('ocr-al index --json prints exactly entries, bytes, malformed and status', async () => {
  await withDir(async (dir) => {
    await fs.writeFile(path.join(dir, 'manifest.jsonl'), manifest);
    const { code, stdout, stderr } = await run(['index', 'manifest.jsonl', '--json'], dir);
    assert.equal(stderr, '');
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), ['entries', 'bytes', 'malformed', 'status']);
    assert.deepEqual(report, {
      entries: 7,
      bytes: Buffer.byteLength(manifest),
      malformed: [
        { line: 6, message: 'unexpected end of line at column 23' },
        { line: 7, message: 'missing source-ref' },
      ],
      status: { new: 2, extracted: 1, predicted: 1, labeled: 1, malformed: 2 },
    });
    // The second run comes from the cache and says the same.
    assert.deepEqual(JSON.parse((await run(['index', 'manifest.jsonl', '--json'], dir)).stdout), report);
    await fs.access(path.join(dir, '.ocr-al'));
  });
});

test('ocr-al index --label-attribute and the readable table', async () => {
  await withDir(async (dir) => {
    await fs.writeFile(path.join(dir, 'manifest.jsonl'), manifest + '\n{"source-ref":"g.png","gt":{}}\n');
    const status = async (...extra: string[]): Promise<Record<string, number>> =>
      (JSON.parse((await run(['index', 'manifest.jsonl', '--json', ...extra], dir)).stdout) as { status: Record<string, number> }).status;
    assert.deepEqual(await status(), { new: 3, extracted: 1, predicted: 1, labeled: 1, malformed: 2 });
    // With `gt` as the label attribute, f.png and g.png are labeled and d.png is new.
    assert.deepEqual(await status('--label-attribute', 'gt'), { new: 2, extracted: 1, predicted: 1, labeled: 2, malformed: 2 });
    assert.deepEqual(await status('--label-attribute', 'gt', '--no-cache'), { new: 2, extracted: 1, predicted: 1, labeled: 2, malformed: 2 });
    const table = await run(['index', 'manifest.jsonl'], dir);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /8 entries, \d+ bytes \(9 lines\)/);
    assert.match(table.stdout, /predicted\s+1/);
    assert.match(table.stdout, /line 6: unexpected end of line/);
  });
});

test('ocr-al index: a missing file or bad arguments exit 2 with one line on stderr', async () => {
  await withDir(async (dir) => {
    for (const argv of [['index', 'missing.jsonl', '--json'], ['index'], ['index', 'a', 'b'], ['index', 'x.jsonl', '--bogus'], ['index', '.']]) {
      const { code, stdout, stderr } = await run(argv, dir);
      assert.equal(code, 2, argv.join(' '));
      assert.equal(stdout, '');
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
      assert.match(stderr, /^ocr-al index: /);
    }
    assert.match((await run(['index', 'missing.jsonl'], dir)).stderr, /no such file: .*missing\.jsonl/);
  });
});

test('the built CLI (dist/cli.js) indexes a manifest', async (t) => {
  const cli = path.join(repo, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    t.skip('dist/cli.js not built (npm run build)');
    return;
  }
  await withDir(async (dir) => {
    const file = path.join(dir, 'manifest.jsonl');
    await fs.writeFile(file, manifest);
    const ok = spawnSync(process.execPath, [cli, 'index', file, '--json'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { entries: number }).entries, 7);
    const missing = spawnSync(process.execPath, [cli, 'index', path.join(dir, 'nope.jsonl')], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr.trimEnd().split('\n').length, 1);
  });
});

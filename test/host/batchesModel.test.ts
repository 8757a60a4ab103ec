import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OcrAlError } from '../../src/core/errors';
import { type ByteSource, memoryByteSource } from '../../src/core/manifest/byteSource';
import type { EntrySummary } from '../../src/core/manifest/types';
import {
  type BatchNode,
  BatchesModel,
  type EntryNode,
  type MessageNode,
  type MoreNode,
  PAGE_SIZE,
  type TreeNode,
  entryDescription,
  entryLabel,
  formatCounts,
  viewDescription,
} from '../../src/host/batchesModel';
import { topSoftLabels } from '../../src/host/softLabelSummary';
import type { Batch, BatchListing, BatchSource } from '../../src/sources/batchSource';
import { syntheticManifest } from '../../scripts/genManifest';

function batch(name: string, kind: Batch['kind'] = 'local'): Batch {
  return kind === 'local'
    ? { id: `/w/${name}/manifest.jsonl`, kind, name, location: `/w/${name}`, manifest: `/w/${name}/manifest.jsonl`, boundary: { kind: 'local', dir: `/w/${name}` } }
    : { id: `s3://b-1/${name}/manifest.jsonl`, kind, name, location: `s3://b-1/${name}/`, manifest: `s3://b-1/${name}/manifest.jsonl`, boundary: { kind: 's3', bucket: 'b-1', prefix: `${name}/` } };
}

/** A source over in-memory manifests. */
function fakeSource(manifests: Record<string, string | (() => ByteSource)>, extra: Partial<BatchListing> = {}, kind: Batch['kind'] = 'local'): BatchSource {
  return {
    kind,
    async listBatches() {
      return { batches: Object.keys(manifests).map((n) => batch(n, kind)), problems: extra.problems ?? [] };
    },
    async openManifest(b) {
      const m = manifests[b.name]!;
      if (typeof m === 'function') return m();
      return memoryByteSource(Buffer.from(m), b.manifest);
    },
    resolveRef(_b, ref) {
      return { kind: 'local', path: `/w/${ref}` };
    },
    async imageUrl(_b, ref) {
      return `file:///w/${ref}`;
    },
    onDidChange() {
      return { dispose() {} };
    },
    dispose() {},
  };
}

function newModel(sources: BatchSource[], changes: (TreeNode | undefined)[] = []): BatchesModel {
  return new BatchesModel({
    sources,
    fs: {} as never, // cacheDir false: the model never touches the file system
    cacheDirFor: () => false,
    labelAttribute: () => 'labels',
    onDidChange: (node) => changes.push(node),
    eagerLocal: false,
  });
}

async function expand(model: BatchesModel, name: string): Promise<TreeNode[]> {
  const roots = await model.roots();
  const node = roots.find((n): n is BatchNode => n.type === 'batch' && n.batch.name === name)!;
  let children = await model.children(node);
  // The first call may answer during indexing; wait for the sorted list.
  for (let i = 0; i < 50 && children.some((c) => c.type === 'message' && c.kind === 'progress'); i++) {
    await new Promise((r) => setTimeout(r, 5));
    children = await model.children(node);
  }
  return [...children];
}

const MIXED = syntheticManifest({ lines: 530, words: 6, seed: 7, statusWeights: { new: 2, extracted: 1, predicted: 5, labeled: 2 }, malformedRate: 0.02 });

describe('BatchesModel', () => {
  test('counts read like "412 new · 88 predicted · 30 labeled · 2 malformed", zeros left out', () => {
    assert.equal(formatCounts({ new: 412, extracted: 0, predicted: 88, labeled: 30, malformed: 2 }), '412 new · 88 predicted · 30 labeled · 2 malformed');
    assert.equal(formatCounts({ new: 0, extracted: 0, predicted: 0, labeled: 0, malformed: 0 }), 'no entries');
    assert.equal(formatCounts({ new: 12345, extracted: 1, predicted: 0, labeled: 0, malformed: 0 }), '12,345 new · 1 extracted');
  });

  test('entry label is the image name, description status and score; malformed shows line and message', () => {
    const base: EntrySummary = { index: 0, line: 7, offset: 0, length: 1, status: 'predicted', sourceRef: 's3://b/x/thumbnails/p 1.png', uncertainty: { least: 0.834, margin: 0.5, ratio: 0.4, entropy: 0.3 }, problem: undefined };
    assert.equal(entryLabel(base), 'p 1.png');
    assert.equal(entryDescription(base), 'predicted · 0.83');
    assert.equal(entryDescription({ ...base, status: 'new', uncertainty: undefined }), 'new');
    const bad = { ...base, status: 'malformed' as const, sourceRef: undefined, uncertainty: undefined, problem: 'Unexpected token } in JSON at position 12' };
    assert.equal(entryLabel(bad), 'line 7: Unexpected token } in JSON at position 12');
    assert.equal(entryDescription(bad), 'malformed');
  });

  test('the view description names the order and the filter', () => {
    assert.equal(viewDescription({ sort: 'uncertainty', status: undefined }), 'by uncertainty');
    assert.equal(viewDescription({ sort: 'name', status: 'predicted' }), 'by name · predicted only');
  });

  test('roots: batches of every source, then locations that failed, as error messages', async () => {
    const problem = { location: 's3://locked-bucket/x/', error: new OcrAlError('AccessDenied', 'Access denied to s3://locked-bucket/x/') };
    const model = newModel([fakeSource({ a: '{}\n', b: '{}\n' }), fakeSource({ c: '{}\n' }, { problems: [problem] }, 's3')]);
    const roots = await model.roots();
    assert.deepEqual(
      roots.map((n) => (n.type === 'batch' ? `${n.batch.kind}:${n.batch.name}` : `${n.type}:${(n as MessageNode).text}:${(n as MessageNode).detail}`)),
      ['local:a', 'local:b', 's3:c', 'message:s3://locked-bucket/x/:Access denied to s3://locked-bucket/x/'],
    );
    assert.equal(await model.roots(), roots, 'the listing is cached until relist');
    model.relist();
    assert.notEqual(await model.roots(), roots);
  });

  test('a batch pages 200 entries at a time, most uncertain first, with "Load more"', async () => {
    const changes: (TreeNode | undefined)[] = [];
    const model = newModel([fakeSource({ mixed: MIXED })], changes);
    const children = await expand(model, 'mixed');
    const entries = children.filter((c): c is EntryNode => c.type === 'entry');
    assert.equal(entries.length, PAGE_SIZE);
    const scores = entries.map((e) => e.summary.uncertainty?.least ?? -1);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'sorted by uncertainty, descending');
    const more = children.at(-1) as MoreNode;
    assert.equal(more.type, 'more');
    assert.equal(more.shown, 200);
    assert.equal(more.total, 530 - blankOrNot(MIXED));
    const batchNode = entries[0]!.parent;
    assert.match(model.batchDescription(batchNode), /^\d+ new · \d+ extracted · \d+ predicted · \d+ labeled · \d+ malformed$/);
    model.loadMore(batchNode);
    assert.equal(changes.at(-1), batchNode);
    const next = await model.children(batchNode);
    assert.equal(next.filter((c) => c.type === 'entry').length, 400);
    model.loadMore(batchNode);
    const last = await model.children(batchNode);
    assert.equal(last.filter((c) => c.type === 'entry').length, more.total);
    assert.equal(last.at(-1)!.type, 'entry', 'no "Load more" once everything is shown');
  });

  test('sort by name and filter by status; an empty filter says so', async () => {
    const model = newModel([fakeSource({ mixed: MIXED, tiny: '{"source-ref":"b.png"}\n{"source-ref":"a.png"}\n' })]);
    model.setOptions({ sort: 'name' });
    const tiny = (await expand(model, 'tiny')) as EntryNode[];
    assert.deepEqual(tiny.map((e) => entryLabel(e.summary)), ['a.png', 'b.png']);
    model.setOptions({ status: 'malformed' });
    const malformed = await expand(model, 'mixed');
    assert.ok(malformed.length > 0 && malformed.every((c) => c.type === 'entry' && c.summary.status === 'malformed'));
    assert.match(entryLabel((malformed[0] as EntryNode).summary), /^line \d+: /);
    model.setOptions({ status: 'labeled' });
    const none = (await expand(model, 'tiny')) as MessageNode[];
    assert.deepEqual(none.map((m) => [m.type, m.kind, m.text]), [['message', 'empty', 'No labeled entries']]);
  });

  test('a manifest that cannot be read shows the error under the batch and in its description', async () => {
    const failing = () => ({ ...memoryByteSource(Buffer.from('')), size: async () => Promise.reject(new OcrAlError('AccessDenied', 'Access denied to s3://b-1/x/manifest.jsonl')) });
    const changes: (TreeNode | undefined)[] = [];
    const model = newModel([fakeSource({ x: failing }, {}, 's3')], changes);
    const [node] = (await model.roots()) as BatchNode[];
    assert.equal(model.batchDescription(node!), 'expand to index');
    let children = await model.children(node);
    for (let i = 0; i < 20 && !children.some((c) => c.type === 'message' && c.kind === 'error'); i++) {
      await new Promise((r) => setTimeout(r, 5));
      children = await model.children(node);
    }
    assert.deepEqual(children.map((c) => (c as MessageNode).text), ['Could not read the manifest: Access denied to s3://b-1/x/manifest.jsonl']);
    assert.equal(model.batchDescription(node!), 'cannot read manifest');
    assert.ok(changes.includes(node));
  });

  test('while a large manifest is indexing, its first entries show at once, in file order', async () => {
    const big = Buffer.from(syntheticManifest({ lines: 3000, words: 4, seed: 3 }));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = (): ByteSource => {
      const inner = memoryByteSource(big, 'big');
      // Everything after the first chunk waits until the test releases it.
      return { ...inner, readInto: undefined, read: async (offset, length) => (offset > 0 ? gate.then(() => inner.read(offset, length)) : inner.read(offset, length)) };
    };
    const changes: (TreeNode | undefined)[] = [];
    const model = newModel([fakeSource({ big: slow })], changes);
    const [node] = (await model.roots()) as BatchNode[];
    const first = await model.children(node);
    const entries = first.filter((c): c is EntryNode => c.type === 'entry');
    assert.ok(entries.length > 0 && entries.length <= PAGE_SIZE);
    assert.deepEqual(entries.map((e) => e.summary.line), entries.map((_, i) => i + 1), 'file order');
    assert.match((first.at(-1) as MessageNode).text, /^Indexing…/);
    assert.match(model.batchDescription(node!), /^indexing…/);
    release();
    for (let i = 0; i < 100 && !changes.includes(node); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(changes.includes(node), 'the batch refreshes when indexing is done');
    const done = await model.children(node);
    assert.equal(done.at(-1)!.type, 'more');
    assert.equal(model.batchDescription(node!), '3,000 predicted');
  });

  test('entry tooltip: thumbnail, ref, status and the most uncertain boxes with their top classes', async () => {
    const model = newModel([fakeSource({ mixed: MIXED })]);
    const entries = (await expand(model, 'mixed')).filter((c): c is EntryNode => c.type === 'entry');
    const markdown = await model.entryTooltip(entries[0]!, async (_b, ref) => `file:///w/${ref}`);
    assert.match(markdown, /^!\[img\\-\d+\\\.png\]\(file:\/\/\/w\/thumbnails\/img-\d+\.png\|width=240\)\n\n`thumbnails\/img-\d+\.png`/);
    assert.match(markdown, /predicted · line \d+ · uncertainty 0\.\d\d \(least confidence\)|labeled · line \d+ · uncertainty/);
    assert.match(markdown, /\| box \| top classes \|\n\| --- \| --- \|\n\| .+ \| [a-z\\_]+ 0\.\d\d, [a-z\\_]+ 0\.\d\d \|/);
  });

  test('topSoftLabels: lowest top probability first, two classes each, names from the value or the default set', () => {
    const rows = topSoftLabels({ model: 'm', created: '2024-01-01', classes: ['a', 'b', 'c'], boxes: { sure: [0.9, 0.05, 0.05], unsure: [0.4, 0.35, 0.25], mid: [0.1, 0.7, 0.2] } }, 2);
    assert.deepEqual(rows, [
      { box: 'unsure', classes: [{ name: 'a', p: 0.4 }, { name: 'b', p: 0.35 }] },
      { box: 'mid', classes: [{ name: 'b', p: 0.7 }, { name: 'c', p: 0.2 }] },
    ]);
    const eleven = Array.from({ length: 11 }, (_, i) => (i === 10 ? 0.5 : 0.05));
    assert.equal(topSoftLabels({ model: 'm', created: 'x', boxes: { 'abcdefghijk': eleven } })[0]!.classes[0]!.name, 'other');
    assert.equal(topSoftLabels({ model: 'm', created: 'x', boxes: { 'abcdefghijk': eleven } })[0]!.box, 'abcdefgh…');
    assert.deepEqual(topSoftLabels('not soft labels'), []);
  });
});

/** Lines of the synthetic text that are blank (not entries). */
function blankOrNot(text: string): number {
  return text.split('\n').slice(0, -1).filter((l) => l.trim() === '').length;
}

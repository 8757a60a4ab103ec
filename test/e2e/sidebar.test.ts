/**
 * The sidebar's journeys in a real VS Code (code-server + Chromium), as issue 4 shows them:
 * a workspace with two local batches shows their counts; a batch expands and pages with
 * "Load more…"; the view title actions sort and filter; a malformed line is listed and opens
 * the manifest at its line; an S3 location served by s3rver on loopback, added through the
 * command, lists its batch and entries. One code-server for the whole file.
 * Skips (outside CI only) when code-server or Chromium cannot be installed.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { thumbnailPng } from '../../scripts/demoWorkspace';
import { syntheticManifestLines, type SyntheticOptions } from '../../scripts/genManifest';
import type { Locator } from 'playwright-core';
import { prepareE2e, type TreeRow, Workbench } from './harness';

const VIEW = 'Batches';
const BUCKET = 'ocr-al-e2e';
/** s3rver's fixed key pair (it checks signatures against it). */
const S3RVER_KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** Synthetic lines with the `source-ref`s renamed (`thumbnails/img-000000.png` -> names[0]...). */
function linesNamed(options: SyntheticOptions, names: readonly string[]): string[] {
  return [...syntheticManifestLines({ ...options, lines: names.length })].map((line, i) =>
    line.replace(`"thumbnails/img-${String(i).padStart(6, '0')}.png"`, JSON.stringify(`thumbnails/${names[i]}`)),
  );
}

/** Synthetic lines whose refs start with `prefix` (so batches parts do not share names). */
function lines(options: SyntheticOptions, prefix: string): string[] {
  return [...syntheticManifestLines({ ...options, refPrefix: `thumbnails/${prefix}` })];
}

/**
 * passports-a (5 lines, hand-picked): delta new, charlie predicted, a malformed line 3,
 * alpha predicted, bravo labeled.
 */
function smallManifest(): string {
  const [charlie, alpha] = linesNamed({ lines: 2, words: 4, seed: 7, statusWeights: { predicted: 1 } }, ['charlie.png', 'alpha.png']);
  const [bravo] = linesNamed({ lines: 1, words: 4, seed: 8, statusWeights: { labeled: 1 } }, ['bravo.png']);
  return [`{"source-ref":"thumbnails/delta.png"}`, charlie, `{"source-ref":"thumbnails/broken.png", oops`, alpha, bravo].join('\n') + '\n';
}

/** passports-b: 250 new, then 200 predicted entries (450: three pages of 200). */
function largeManifest(): string {
  const news = lines({ lines: 250, seed: 3, statusWeights: { new: 1 } }, 'n-');
  const predicted = lines({ lines: 200, words: 4, seed: 4, statusWeights: { predicted: 1 } }, 'p-');
  return [...news, ...predicted].join('\n') + '\n';
}

/** The S3 batch: 20 predicted, 10 new. */
function s3Manifest(): string {
  return [...lines({ lines: 20, words: 4, seed: 5, statusWeights: { predicted: 1 } }, 's3p-'), ...lines({ lines: 10, seed: 6, statusWeights: { new: 1 } }, 's3n-')].join('\n') + '\n';
}

/**
 * Scrolls to the "Load more…" row until its description reads `expected` ("200 of 450"):
 * after a click the tree re-renders and the row moves down by a page.
 */
async function waitForLoadMore(wb: Workbench, expected: string, timeoutMs = 20_000): Promise<Locator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const more = await wb.revealRow(VIEW, 'Load more…');
    const description = (await more.locator('.label-description').textContent().catch(() => '')) ?? '';
    if (description === expected) return more;
    if (Date.now() > deadline) throw new Error(`"Load more…" says "${description}", expected "${expected}"`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function entryRows(rows: readonly TreeRow[]): TreeRow[] {
  return rows.filter((r) => r.level === 2);
}

function scoreOf(row: TreeRow): number | undefined {
  const match = /· ([\d.]+)$/.exec(row.description);
  return match ? Number(match[1]) : undefined;
}

describe('e2e sidebar: batches and entries', { timeout: 300_000 }, () => {
  let skipReason: string | undefined;
  let workbench: Workbench | undefined;
  let workspace = '';
  let s3dir = '';
  let s3: S3rver | undefined;
  const timings: string[] = [];

  before(async () => {
    skipReason = prepareE2e();
    if (skipReason) return;
    workspace = mkdtempSync(join(tmpdir(), 'ocr-al-e2e-sidebar-'));
    mkdirSync(join(workspace, 'passports-a'));
    mkdirSync(join(workspace, 'passports-b'));
    writeFileSync(join(workspace, 'passports-a', 'manifest.jsonl'), smallManifest());
    mkdirSync(join(workspace, 'passports-a', 'thumbnails'));
    writeFileSync(join(workspace, 'passports-a', 'thumbnails', 'alpha.png'), thumbnailPng(124, 175, [{ left: 0.1, top: 0.1, width: 0.5, height: 0.05 }]));
    writeFileSync(join(workspace, 'passports-b', 'manifest.jsonl'), largeManifest());

    // S3 on loopback: a bucket holding one batch, written through the real SDK.
    s3dir = mkdtempSync(join(tmpdir(), 'ocr-al-e2e-s3rver-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir });
    const { port } = await s3.run();
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_KEYS });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'batches/scans-s3/manifest.jsonl', Body: s3Manifest() }));
    client.destroy();

    const awsFiles = join(workspace, '.no-aws');
    workbench = await Workbench.launch({
      workspace,
      settings: { 'ocrActiveLearning.aws.endpoint': endpoint, 'ocrActiveLearning.aws.region': 'us-east-1' },
      // The default credential chain of the extension host finds these; the shared config
      // files point nowhere so a developer's ~/.aws cannot interfere, and no IMDS lookups.
      env: {
        AWS_ACCESS_KEY_ID: S3RVER_KEYS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_KEYS.secretAccessKey,
        AWS_CONFIG_FILE: join(awsFiles, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(awsFiles, 'credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PROFILE: '',
      },
    });
    const { codeServerMs, workbenchMs } = workbench.timings;
    timings.push(`code-server serving ${codeServerMs.toFixed(0)} ms`, `workbench ready ${workbenchMs.toFixed(0)} ms`);
  });

  after(async () => {
    await workbench?.close();
    await s3?.close();
    if (timings.length) process.stderr.write(`[e2e sidebar] ${timings.join(', ')}\n`);
    if (workspace) rmSync(workspace, { recursive: true, force: true });
    if (s3dir) rmSync(s3dir, { recursive: true, force: true });
  });

  function ready(t: TestContext): Workbench | undefined {
    if (!workbench) t.skip(skipReason);
    return workbench;
  }

  async function journey(wb: Workbench, name: string, body: () => Promise<void>): Promise<void> {
    const ms = await wb.journey(name, body);
    timings.push(`${name} ${ms.toFixed(0)} ms`);
  }

  it('shows both local batches with their counts by status', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await journey(wb, 'sidebar-counts', async () => {
      await wb.openViewContainer('OCR Active Learning');
      // Local batches are indexed in the background, so counts show without expanding.
      const a = await wb.waitForRowState(VIEW, 'passports-a', (r) => /malformed/.test(r.description));
      assert.equal(a.description, '1 new · 2 predicted · 1 labeled · 1 malformed');
      assert.equal(a.expanded, false);
      const b = await wb.waitForRowState(VIEW, 'passports-b', (r) => /predicted/.test(r.description));
      assert.equal(b.description, '250 new · 200 predicted');
      assert.equal(await wb.viewDescription(VIEW), 'by uncertainty');
      const tooltip = await wb.hoverText(wb.treeRow(VIEW, 'passports-b'), /entries/);
      assert.match(tooltip, /450 entries: 250 new · 200 predicted/);
    });
  });

  it('expands a batch and pages through it with "Load more…"', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await journey(wb, 'sidebar-load-more', async () => {
      await wb.collapseAll(VIEW);
      await wb.expand(VIEW, 'passports-b');
      const first = entryRows(await wb.waitForRows(VIEW, (rows) => entryRows(rows).length >= 5));
      // Sorted by uncertainty: scored (predicted) entries first, most uncertain on top.
      const scores = first.slice(0, 5).map(scoreOf);
      assert.ok(scores.every((s) => s !== undefined), `scored entries first: ${JSON.stringify(first.slice(0, 5))}`);
      assert.deepEqual([...scores].sort((x, y) => y! - x!), scores, 'most uncertain first');
      assert.match(first[0]!.label, /^p-img-\d{6}\.png$/);

      await (await waitForLoadMore(wb, '200 of 450')).click();
      await (await waitForLoadMore(wb, '400 of 450')).click();
      // All 450 shown: the last row is an entry (a "new" one, unscored, so sorted last), no "Load more…".
      await wb.focusTree(VIEW);
      await wb.page.keyboard.press('End');
      const last = await wb.waitForRows(VIEW, (rows) => rows.at(-1)?.label !== 'Load more…' && rows.at(-1)?.level === 2);
      assert.equal(last.at(-1)!.description, 'new');
      assert.equal(await wb.treeRow(VIEW, 'Load more…').count(), 0);
    });
  });

  it('sorts by name and filters by status from the view title', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await journey(wb, 'sidebar-sort-filter', async () => {
      await wb.collapseAll(VIEW);
      await wb.expand(VIEW, 'passports-a');
      const labels = async (): Promise<string[]> => entryRows(await wb.treeRows(VIEW)).map((r) => r.label);
      const byUncertainty = entryRows(await wb.waitForRows(VIEW, (rows) => entryRows(rows).length === 5));
      assert.equal(byUncertainty.at(-1)!.description, 'malformed', 'malformed lines sort last');

      await wb.viewTitleAction('Sort Entries by Name');
      await wb.waitForViewDescription(VIEW, 'by name');
      await wb.waitForRows(VIEW, (rows) => entryRows(rows)[0]?.label === 'alpha.png');
      const named = await labels();
      assert.deepEqual(named.slice(0, 4), ['alpha.png', 'bravo.png', 'charlie.png', 'delta.png']);
      assert.match(named[4]!, /^line 3: /);

      await wb.viewTitleAction('Filter Entries by Status…');
      await wb.pickQuickItem('predicted');
      await wb.waitForViewDescription(VIEW, 'by name · predicted only');
      await wb.waitForRows(VIEW, (rows) => entryRows(rows).length === 2);
      assert.deepEqual(await labels(), ['alpha.png', 'charlie.png']);
      assert.deepEqual(
        entryRows(await wb.treeRows(VIEW)).map((r) => r.description.split(' · ')[0]),
        ['predicted', 'predicted'],
      );

      await wb.viewTitleAction('Clear Status Filter');
      await wb.waitForViewDescription(VIEW, 'by name');
      await wb.waitForRows(VIEW, (rows) => entryRows(rows).length === 5);
      await wb.viewTitleAction('Sort Entries by Uncertainty');
      await wb.waitForViewDescription(VIEW, 'by uncertainty');
    });
  });

  it('lists a malformed line and opens the manifest at that line', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await journey(wb, 'sidebar-malformed', async () => {
      await wb.collapseAll(VIEW);
      await wb.expand(VIEW, 'passports-a');
      const row = await wb.waitForRowState(VIEW, /^line 3: /, (r) => r.description === 'malformed');
      assert.match(row.label, /^line 3: .+/, 'the label carries the problem');
      await wb.clickRow(VIEW, /^line 3: /);
      await wb.waitForEditor('manifest.jsonl');
      await wb.waitForCursorLine(3);
    });
  });

  it("shows an entry's thumbnail and most uncertain boxes in its tooltip", async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await journey(wb, 'sidebar-tooltip', async () => {
      await wb.collapseAll(VIEW);
      await wb.expand(VIEW, 'passports-a');
      const hover = await wb.hover(await wb.waitForTreeRow(VIEW, 'alpha.png'), /top classes/);
      assert.match((await hover.textContent()) ?? '', /thumbnails\/alpha\.png/);
      // The thumbnail is served to the browser from the workspace and decodes (124 px wide).
      const image = hover.locator('img').first();
      await wb.page.waitForFunction((img) => (img as { naturalWidth?: number } | null)?.naturalWidth === 124, await image.elementHandle());
      await wb.dismissHover();
    });
  });

  it('adds an S3 location (s3rver on loopback) and lists its batch and entries', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await journey(wb, 'sidebar-s3', async () => {
      await wb.collapseAll(VIEW);
      await wb.runCommand('OCR Active Learning: Add S3 Batch Location…');
      await wb.answerInput(`s3://${BUCKET}/batches/`);
      const batch = await wb.waitForRowState(VIEW, 'scans-s3', () => true, 30_000);
      assert.match(batch.ariaLabel, /^Batch scans-s3, /);
      await wb.expand(VIEW, 'scans-s3');
      const rows = await wb.waitForRows(VIEW, (all) => {
        const i = all.findIndex((r) => r.label === 'scans-s3');
        return all.slice(i + 1).filter((r) => r.level === 2).length >= 5;
      });
      const s3Entries = rows.slice(rows.findIndex((r) => r.label === 'scans-s3') + 1).filter((r) => r.level === 2);
      assert.match(s3Entries[0]!.label, /^s3p-img-\d{6}\.png$/);
      assert.match(s3Entries[0]!.description, /^predicted · [\d.]+$/);
      const indexed = await wb.waitForRowState(VIEW, 'scans-s3', (r) => /predicted/.test(r.description), 30_000);
      assert.equal(indexed.description, '10 new · 20 predicted');
    });
  });
});

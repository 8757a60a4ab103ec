/**
 * First journey in a real VS Code (code-server + Chromium): a workspace holding a
 * manifest.jsonl shows the "OCR Active Learning" view container with its "Batches" view,
 * the extension activates, and its commands run from the palette.
 * Skips (outside CI only) when code-server or Chromium cannot be installed.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareE2e, Workbench } from './harness';

describe('e2e smoke: the extension in code-server', { timeout: 300_000 }, () => {
  let skipReason: string | undefined;
  let workbench: Workbench | undefined;
  let workspace = '';

  before(async () => {
    skipReason = prepareE2e();
    if (skipReason) return;
    workspace = mkdtempSync(join(tmpdir(), 'ocr-al-e2e-smoke-'));
    mkdirSync(join(workspace, 'batch-a'));
    writeFileSync(
      join(workspace, 'batch-a', 'manifest.jsonl'),
      '{"source-ref":"thumbnails/a.png"}\n{"source-ref":"thumbnails/b.png"}\n',
    );
    workbench = await Workbench.launch({ workspace });
    const { codeServerMs, workbenchMs } = workbench.timings;
    process.stderr.write(`[e2e smoke] code-server serving in ${codeServerMs.toFixed(0)} ms, workbench ready in ${workbenchMs.toFixed(0)} ms\n`);
  });

  after(async () => {
    await workbench?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  function ready(t: TestContext): Workbench | undefined {
    if (!workbench) t.skip(skipReason);
    return workbench;
  }

  it('shows the OCR Active Learning view container with its Batches view', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await wb.journey('smoke-view-container', async () => {
      await wb.openViewContainer('OCR Active Learning');
      assert.equal(await wb.view('Batches').count(), 1, 'the Batches view is in the container');
    });
  });

  it('activates the extension (its output channel says "activated in")', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await wb.journey('smoke-activation', async () => {
      const log = await wb.waitForExtensionLog(/activated in [\d.]+ ms/);
      const ms = /activated in ([\d.]+) ms/.exec(log)?.[1];
      process.stderr.write(`[e2e smoke] extension activate() took ${ms} ms\n`);
    });
  });

  it('runs its commands from the command palette', async (t) => {
    const wb = ready(t);
    if (!wb) return;
    await wb.journey('smoke-palette', async () => {
      // VS Code generates "<container>: Focus on <view> View" for every contributed view.
      await wb.runCommand('OCR Active Learning: Focus on Batches View');
      await wb.page.locator('.part.sidebar .composite.title h2', { hasText: 'OCR Active Learning' }).waitFor();
      await wb.runCommand('OCR Active Learning: Refresh');
      // After a refresh the batch is listed again, with its counts.
      const row = await wb.waitForRowState('Batches', 'batch-a', (r) => r.description !== '');
      assert.equal(row.description, '2 new');
    });
  });
});

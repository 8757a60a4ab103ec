import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareE2e, Workbench } from './harness';
import { syntheticManifest } from '../../scripts/genManifest';

async function main(): Promise<void> {
  const skip = prepareE2e();
  if (skip) throw new Error(skip);
  const ws = mkdtempSync(join(tmpdir(), 'h6-'));
  mkdirSync(join(ws, 'batch-a'));
  mkdirSync(join(ws, 'runs', 'batch-b'), { recursive: true });
  writeFileSync(join(ws, 'batch-a', 'manifest.jsonl'), '{"source-ref":"thumbnails/a.png"}\n{oops\n{"source-ref":"thumbnails/b.png"}\n');
  writeFileSync(join(ws, 'runs', 'batch-b', 'manifest.jsonl'), syntheticManifest({ lines: 450, words: 5, seed: 1, statusWeights: { new: 1, predicted: 3, labeled: 1 } }));
  const wb = await Workbench.launch({ workspace: ws });
  try {
    await wb.openViewContainer('OCR Active Learning');
    await wb.waitForTreeRow('Batches', 'batch-b');
    await new Promise((r) => setTimeout(r, 2000));
    console.log(await wb.treeRows('Batches'));
    await wb.expand('Batches', 'batch-b');
    await new Promise((r) => setTimeout(r, 1500));
    console.log((await wb.treeRows('Batches')).slice(0, 6));
    await wb.page.screenshot({ path: '/tmp/h6-1.png' });
    console.log(wb.extensionLog());
  } finally {
    await wb.close();
  }
}
void main();

/**
 * The sidebar's commands. Each handler runs inside `registerCommand` below, the one command
 * boundary: an `OcrAlError` (or anything else thrown) is shown once with
 * `showErrorMessage` and logged; cancellation is silent.
 */
import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { AwsClientFactory } from '../aws/clientFactory';
import { OcrAlError } from '../core/errors';
import { ENTRY_STATUSES, type EntryStatus } from '../core/manifest/types';
import type { Batch } from '../sources/batchSource';
import { normalizeS3Location, parseS3Uri, s3ConsoleUrl, s3UriProblem } from '../core/s3Uri';
import type { BatchNode, EntryNode } from './batchesModel';
import { type BatchesTree, isBatchNode, isEntryNode, isTreeNode } from './batchesTree';
import { type Settings, writeS3Locations } from './settings';
import { type AwsStatusBar, CONFIGURE_AWS_COMMAND, configureAws } from './statusBar';

/** What the commands act on. */
export interface CommandDeps {
  readonly tree: BatchesTree;
  readonly factory: AwsClientFactory;
  readonly statusBar: AwsStatusBar;
  readonly output: vscode.LogOutputChannel;
  readonly settings: () => Settings;
}

/** Scheme of the read-only documents that show one manifest line of an S3 batch. */
export const MANIFEST_LINE_SCHEME = 'ocr-al-line';

/** Registers every command of the sidebar into `context.subscriptions`. */
export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const { tree, factory, output } = deps;
  const model = tree.model;

  const register = (id: string, handler: (...args: unknown[]) => unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          if (error instanceof vscode.CancellationError) return undefined;
          const e = OcrAlError.from(error);
          if (e.code === 'Cancelled') return undefined;
          output.error(`${id}: [${e.code}] ${e.message}`);
          void vscode.window.showErrorMessage(e.message);
          return undefined;
        }
      }),
    );
  };

  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(MANIFEST_LINE_SCHEME, new ManifestLineProvider(tree)));

  register('ocrActiveLearning.refresh', () => model.refresh());
  register('ocrActiveLearning.refreshBatch', (node) => {
    if (isBatchNode(node)) model.invalidateBatch(node.batch.id);
  });
  register('ocrActiveLearning.loadMore', (node) => {
    if (isBatchNode(node)) model.loadMore(node);
  });

  register('ocrActiveLearning.sortByName', () => setOptions(tree, { sort: 'name' }));
  register('ocrActiveLearning.sortByUncertainty', () => setOptions(tree, { sort: 'uncertainty' }));
  register('ocrActiveLearning.clearFilter', () => setOptions(tree, { status: undefined }));
  register('ocrActiveLearning.filterByStatus', async (arg) => {
    // An argument ('predicted', or 'all') lets scripts and tests filter without the picker.
    if (typeof arg === 'string') {
      if (arg === 'all') return setOptions(tree, { status: undefined });
      if (!(ENTRY_STATUSES as readonly string[]).includes(arg)) throw new OcrAlError('BadInput', `"${arg}" is not a status (${ENTRY_STATUSES.join(', ')})`);
      return setOptions(tree, { status: arg as EntryStatus });
    }
    const totals = Object.fromEntries(ENTRY_STATUSES.map((s) => [s, 0])) as Record<EntryStatus, number>;
    for (const node of model.batchNodes()) {
      const index = model.indexOf(node);
      if (index) for (const s of ENTRY_STATUSES) totals[s] += index.counts[s];
    }
    const current = model.options.status;
    const picked = await vscode.window.showQuickPick(
      [
        { label: 'All statuses', description: current === undefined ? 'current' : undefined, value: undefined },
        ...ENTRY_STATUSES.map((s) => ({ label: s, description: `${totals[s].toLocaleString('en-US')} in indexed batches${s === current ? ' · current' : ''}`, value: s })),
      ],
      { title: 'Filter Entries by Status', placeHolder: 'Show only entries with this status' },
    );
    if (picked) setOptions(tree, { status: picked.value });
  });

  register('ocrActiveLearning.addS3Location', async (arg) => {
    let text = typeof arg === 'string' ? arg : undefined;
    if (text === undefined) {
      text = await vscode.window.showInputBox({
        title: 'Add S3 Batch Location',
        prompt: 'An S3 prefix; every manifest.jsonl under it becomes a batch.',
        placeHolder: 's3://my-bucket/batches/',
        ignoreFocusOut: true,
        validateInput: (value) => s3UriProblem(value),
      });
      if (text === undefined) return;
    }
    const location = normalizeS3Location(text);
    const current = deps.settings().s3Locations;
    if (current.some((l) => safeNormalize(l) === location)) {
      void vscode.window.showInformationMessage(`${location} is already a batch location.`);
      return;
    }
    // The configuration listener in extension.ts relists the batches.
    await writeS3Locations([...current, location]);
  });

  register('ocrActiveLearning.removeS3Location', async (arg) => {
    const current = deps.settings().s3Locations;
    // From the row of a location that failed to list, from a script (a string), or picked.
    let location = isTreeNode(arg) && arg.type === 'message' ? arg.location : typeof arg === 'string' ? arg : undefined;
    if (location === undefined) {
      if (!current.length) {
        void vscode.window.showInformationMessage('There are no S3 batch locations to remove.');
        return;
      }
      location = (await vscode.window.showQuickPick([...current], { title: 'Remove S3 Batch Location' })) ?? undefined;
      if (location === undefined) return;
    }
    const target = safeNormalize(location);
    await writeS3Locations(current.filter((l) => safeNormalize(l) !== target));
  });

  register('ocrActiveLearning.generateDemoBatch', () => {
    void vscode.window.showInformationMessage(
      'Generating a demo batch from the editor is coming soon. Meanwhile, `node --import tsx scripts/demoWorkspace.ts DIR` in the extension repository writes one.',
    );
  });

  register(CONFIGURE_AWS_COMMAND, async () => {
    if (await configureAws(factory, deps.settings().aws)) await deps.statusBar.update();
  });

  // Until the relabel view exists, opening an entry shows its manifest line.
  register('ocrActiveLearning.openEntry', (node) => revealLine(requireEntry(node)));
  register('ocrActiveLearning.openInRelabelView', (node) => revealLine(requireEntry(node)));
  register('ocrActiveLearning.revealManifestLine', (node) => revealLine(requireEntry(node)));

  register('ocrActiveLearning.copySourceRef', async (node) => {
    const entry = requireEntry(node);
    const ref = entry.summary.sourceRef;
    if (!ref) throw new OcrAlError('NotFound', `Line ${entry.summary.line} has no source-ref.`);
    await vscode.env.clipboard.writeText(ref);
    vscode.window.setStatusBarMessage(`Copied source-ref ${ref}`, 3000);
  });

  register('ocrActiveLearning.revealInExplorer', async (node) => {
    const batch = batchOf(node);
    let path = batch.manifest;
    if (isEntryNode(node) && node.summary.sourceRef) {
      const resolved = node.parent.source.resolveRef(batch, node.summary.sourceRef);
      if (resolved.kind === 'local' && (await stat(resolved.path).then(() => true, () => false))) path = resolved.path;
    }
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(path));
  });

  register('ocrActiveLearning.openS3Console', async (node) => {
    const batch = batchOf(node);
    let { bucket, key } = parseS3Uri(batch.location);
    if (isEntryNode(node) && node.summary.sourceRef) {
      const resolved = node.parent.source.resolveRef(batch, node.summary.sourceRef);
      if (resolved.kind === 's3') ({ bucket, key } = resolved);
    }
    const { region } = await factory.resolve(deps.settings().aws);
    await vscode.env.openExternal(vscode.Uri.parse(s3ConsoleUrl(bucket, key, region), true));
  });
}

function setOptions(tree: BatchesTree, options: Parameters<BatchesTree['model']['setOptions']>[0]): void {
  tree.model.setOptions(options);
  tree.updateViewState();
}

function safeNormalize(location: string): string {
  try {
    return normalizeS3Location(location);
  } catch {
    return location;
  }
}

function requireEntry(node: unknown): EntryNode {
  if (!isEntryNode(node)) throw new OcrAlError('BadInput', 'Run this command on an entry in the Batches view.');
  return node;
}

function batchOf(node: unknown): Batch {
  if (isEntryNode(node)) return node.parent.batch;
  if (isBatchNode(node)) return node.batch;
  throw new OcrAlError('BadInput', 'Run this command on a batch or an entry in the Batches view.');
}

/**
 * Shows an entry's manifest line: the local manifest opened at that line, or (S3) a read-only
 * document holding the line as it is on S3.
 */
async function revealLine(node: EntryNode): Promise<void> {
  const { batch } = node.parent;
  const line = node.summary.line;
  if (batch.kind === 'local') {
    const position = new vscode.Position(line - 1, 0);
    await vscode.window.showTextDocument(vscode.Uri.file(batch.manifest), { selection: new vscode.Range(position, position), preview: true });
    return;
  }
  const uri = manifestLineUri(node.parent, node.summary.index, line);
  const document = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(document, { preview: true });
}

function manifestLineUri(batch: BatchNode, index: number, line: number): vscode.Uri {
  const query = new URLSearchParams({ batch: batch.batch.id, index: String(index) }).toString();
  return vscode.Uri.from({ scheme: MANIFEST_LINE_SCHEME, path: `/${batch.batch.name}/manifest.jsonl line ${line}.jsonl`, query });
}

/** Serves `ocr-al-line:` documents: one manifest line of an indexed batch, read back by the index. */
class ManifestLineProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly tree: BatchesTree) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const params = new URLSearchParams(uri.query);
    const node = this.tree.model.batchNode(params.get('batch') ?? '');
    const index = node && this.tree.model.indexOf(node);
    if (!node || !index) return '// This batch is not indexed any more: refresh the Batches view and open the entry again.\n';
    const entry = await index.readEntry(Number(params.get('index')));
    return `${entry.text}\n`;
  }
}

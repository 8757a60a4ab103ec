/**
 * Extension entry point. Thin: it wires core + sources + aws to the VS Code UI. Everything it
 * creates goes into `context.subscriptions`. The AWS SDK is not imported here: the client
 * factory loads it (dist/aws-sdk.js) when an S3 batch is first used.
 */
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { AwsClientFactory } from '../aws/clientFactory';
import { S3Store } from '../aws/s3Store';
import type { FoundManifest } from '../sources/localSource';
import { LocalSource } from '../sources/localSource';
import { S3Source } from '../sources/s3Source';
import { BatchesTree } from './batchesTree';
import { registerCommands } from './commands';
import { affects, readSettings } from './settings';
import { AwsStatusBar } from './statusBar';

/** Folders never searched for manifests. */
const EXCLUDE = '**/{node_modules,.git}/**';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const output = vscode.window.createOutputChannel('OCR Active Learning', { log: true });
  context.subscriptions.push(output);

  const factory = new AwsClientFactory();
  context.subscriptions.push({ dispose: () => factory.dispose() });

  const local = new LocalSource({ find: findManifests });
  const s3 = new S3Source({
    locations: () => readSettings().s3Locations,
    store: async () => new S3Store(await factory.s3(readSettings().aws)),
  });
  context.subscriptions.push(local, s3);

  const tree = new BatchesTree({
    sources: [local, s3],
    fs: nodeFs,
    // Local indexes are cached beside the manifest (shared with the CLI); S3 ones in the
    // extension's storage, since the bucket is not ours to write to.
    cacheDirFor: (batch) => (batch.kind === 's3' ? join(context.globalStorageUri.fsPath, 'index-cache') : undefined),
    labelAttribute: () => readSettings().labelAttribute,
    log: (message) => output.warn(message),
  });
  context.subscriptions.push(tree);

  const statusBar = new AwsStatusBar(factory, () => readSettings().aws);
  context.subscriptions.push(statusBar);

  registerCommands(context, { tree, factory, statusBar, output, settings: readSettings });
  watchManifests(context, tree);

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affects(event, 'aws')) {
        void statusBar.update();
        // Other credentials may see other objects: reopen everything from S3.
        tree.model.refreshKind('s3');
      } else if (affects(event, 'labelAttribute')) {
        tree.model.refresh();
      } else if (affects(event, 's3Locations', 'batchGlob')) {
        tree.model.relist();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => tree.model.relist()),
  );

  output.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

/** Manifests under every workspace folder matching the glob setting (node_modules excluded). */
async function findManifests(): Promise<FoundManifest[]> {
  const glob = readSettings().batchGlob;
  const found: FoundManifest[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') continue;
    const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, glob), EXCLUDE);
    for (const uri of uris) found.push({ manifest: uri.fsPath, root: folder.uri.fsPath });
  }
  return found;
}

/**
 * Watches manifests: a created or deleted one relists the batches, a changed one reindexes
 * its batch. Events are coalesced for 300 ms, since a rewrite (temp file + rename) fires
 * several.
 */
function watchManifests(context: vscode.ExtensionContext, tree: BatchesTree): void {
  let watcher: vscode.FileSystemWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let relist = false;
  const changed = new Set<string>();
  const flush = (): void => {
    timer = undefined;
    if (relist) tree.model.relist();
    for (const path of changed) tree.model.invalidateBatch(path);
    relist = false;
    changed.clear();
  };
  const schedule = (uri: vscode.Uri, structural: boolean): void => {
    relist ||= structural;
    changed.add(uri.fsPath);
    timer ??= setTimeout(flush, 300);
  };
  const start = (): void => {
    watcher?.dispose();
    watcher = vscode.workspace.createFileSystemWatcher(readSettings().batchGlob);
    watcher.onDidCreate((uri) => schedule(uri, true));
    watcher.onDidDelete((uri) => schedule(uri, true));
    watcher.onDidChange((uri) => schedule(uri, false));
  };
  start();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affects(event, 'batchGlob')) start();
    }),
    {
      dispose: () => {
        watcher?.dispose();
        if (timer) clearTimeout(timer);
      },
    },
  );
}

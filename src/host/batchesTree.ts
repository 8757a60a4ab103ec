/**
 * The Batches view (`ocrActiveLearning.batches`): a TreeDataProvider over `BatchesModel`.
 * Batch node: label = folder name, description = counts by status once indexed, tooltip =
 * location. Entry node: label = image file name (malformed: `line N: message`), description =
 * status and score, icon by status, tooltip (resolved on hover) with the thumbnail and the
 * most uncertain boxes. Entries come 200 at a time with a "Load more…" node.
 *
 * Context values (for package.json menus): `batch.local`, `batch.s3`, `entry.local`,
 * `entry.s3`, `entry.malformed.local`, `entry.malformed.s3`, `loadMore`, `message`,
 * `message.s3location` (a location that could not be listed).
 */
import * as vscode from 'vscode';
import type { EntryStatus } from '../core/manifest/types';
import { Disposable } from './dispose';
import {
  type BatchNode,
  BatchesModel,
  type BatchesModelDeps,
  type EntryNode,
  type TreeNode,
  entryDescription,
  entryLabel,
  viewDescription,
} from './batchesModel';

/** The view id (package.json `views`). */
export const BATCHES_VIEW_ID = 'ocrActiveLearning.batches';

/** Icon and color by status. */
const STATUS_ICONS: Record<EntryStatus, vscode.ThemeIcon> = {
  new: new vscode.ThemeIcon('circle-large-outline'),
  extracted: new vscode.ThemeIcon('symbol-text', new vscode.ThemeColor('charts.blue')),
  predicted: new vscode.ThemeIcon('sparkle', new vscode.ThemeColor('charts.yellow')),
  labeled: new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed')),
  malformed: new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')),
};

/** Tree items for the model's nodes, and the view that shows them. */
export class BatchesTree extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly changes = this._register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this.changes.event;
  readonly model: BatchesModel;
  readonly view: vscode.TreeView<TreeNode>;

  constructor(deps: Omit<BatchesModelDeps, 'onDidChange'>) {
    super();
    this.model = new BatchesModel({ ...deps, onDidChange: (node) => this.changes.fire(node) });
    this._register({ dispose: () => this.model.dispose() });
    this.view = this._register(vscode.window.createTreeView(BATCHES_VIEW_ID, { treeDataProvider: this, showCollapseAll: true }));
    this.updateViewState();
  }

  /** Shows the current sort and filter in the view's description and in context keys (for the title actions). */
  updateViewState(): void {
    const options = this.model.options;
    this.view.description = viewDescription(options);
    void vscode.commands.executeCommand('setContext', 'ocrActiveLearning.sort', options.sort);
    void vscode.commands.executeCommand('setContext', 'ocrActiveLearning.filtered', options.status !== undefined);
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    return [...(await this.model.children(node))];
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return node.type === 'batch' ? undefined : node.parent;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    switch (node.type) {
      case 'batch': {
        const item = new vscode.TreeItem(node.batch.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `batch:${node.batch.id}`;
        item.description = this.model.batchDescription(node);
        item.tooltip = new vscode.MarkdownString(this.model.batchTooltip(node));
        item.iconPath = new vscode.ThemeIcon(node.batch.kind === 's3' ? 'cloud' : 'folder');
        item.contextValue = `batch.${node.batch.kind}`;
        item.accessibilityInformation = { label: `Batch ${node.batch.name}, ${item.description || node.batch.location}` };
        return item;
      }
      case 'entry': {
        const { summary } = node;
        const item = new vscode.TreeItem(entryLabel(summary), vscode.TreeItemCollapsibleState.None);
        item.id = `entry:${node.parent.batch.id}#${summary.line}`;
        item.description = entryDescription(summary);
        item.iconPath = STATUS_ICONS[summary.status];
        const malformed = summary.status === 'malformed';
        item.contextValue = `entry.${malformed ? 'malformed.' : ''}${node.parent.batch.kind}`;
        item.command = malformed
          ? { command: 'ocrActiveLearning.revealManifestLine', title: 'Show Manifest Line', arguments: [node] }
          : { command: 'ocrActiveLearning.openEntry', title: 'Open Entry', arguments: [node] };
        item.accessibilityInformation = { label: `${item.label as string}, ${item.description}` };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);
        item.id = `more:${node.parent.batch.id}`;
        item.description = `${node.shown.toLocaleString('en-US')} of ${node.total.toLocaleString('en-US')}`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.contextValue = 'loadMore';
        item.command = { command: 'ocrActiveLearning.loadMore', title: 'Load More', arguments: [node.parent] };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.id = `message:${node.parent?.batch.id ?? ''}:${node.kind}:${node.text}`;
        item.description = node.location ? node.detail : undefined;
        item.tooltip = node.detail;
        item.iconPath = new vscode.ThemeIcon(
          node.kind === 'error' ? 'warning' : node.kind === 'progress' ? 'loading~spin' : 'info',
          node.kind === 'error' ? new vscode.ThemeColor('problemsWarningIcon.foreground') : undefined,
        );
        item.contextValue = node.location && node.sourceKind === 's3' ? 'message.s3location' : 'message';
        if (node.kind === 'error' && node.parent) {
          item.command = { command: 'ocrActiveLearning.refreshBatch', title: 'Retry', arguments: [node.parent] };
        }
        return item;
      }
    }
  }

  async resolveTreeItem(item: vscode.TreeItem, node: TreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.type !== 'entry') return item;
    const markdown = await this.model.entryTooltip(node, (batch, ref) => node.parent.source.imageUrl(batch, ref));
    if (token.isCancellationRequested) return item;
    const tooltip = new vscode.MarkdownString(markdown);
    tooltip.supportHtml = false;
    item.tooltip = tooltip;
    return item;
  }

  /** Refreshes one batch node (its item and children), or the whole tree. */
  fire(node?: BatchNode): void {
    this.changes.fire(node);
  }
}

/** Narrowing for command arguments, which arrive as `unknown`. */
export function isTreeNode(value: unknown): value is TreeNode {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'batch' || type === 'entry' || type === 'more' || type === 'message';
}

/** Narrowing for entry arguments. */
export function isEntryNode(value: unknown): value is EntryNode {
  return isTreeNode(value) && value.type === 'entry';
}

/** Narrowing for batch arguments. */
export function isBatchNode(value: unknown): value is BatchNode {
  return isTreeNode(value) && value.type === 'batch';
}

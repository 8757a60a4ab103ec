/**
 * A small stand-in for the `vscode` module, for running host code in plain Node: the
 * activation test loads the built dist/extension.js against it, and bench/tree/run.ts drives
 * the Batches tree provider through it. It implements what src/host uses and records what
 * the extension shows (messages, output lines, context keys), nothing more; journeys in a
 * real VS Code are test/e2e's job.
 */
import Module from 'node:module';
import { pathToFileURL } from 'node:url';

type Listener<T> = (value: T) => void;

class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
    readonly query = '',
  ) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static parse(text: string): Uri {
    const url = new URL(text);
    return new Uri(url.protocol.replace(/:$/, ''), decodeURIComponent(url.pathname), url.search.replace(/^\?/, ''));
  }
  static from(parts: { scheme: string; path: string; query?: string }): Uri {
    return new Uri(parts.scheme, parts.path, parts.query ?? '');
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.path).href : `${this.scheme}:${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  contextValue?: string;
  command?: unknown;
  accessibilityInformation?: unknown;
  constructor(
    readonly label: string,
    readonly collapsibleState = 0,
  ) {}
}

class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: unknown,
  ) {}
}

class ThemeColor {
  constructor(readonly id: string) {}
}

class MarkdownString {
  supportHtml = false;
  constructor(readonly value = '') {}
}

class RelativePattern {
  constructor(
    readonly base: unknown,
    readonly pattern: string,
  ) {}
}

class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
}

class CancellationError extends Error {}

/** What the fake recorded, and knobs for the test. */
export interface FakeVscodeState {
  settings: Record<string, unknown>;
  readonly output: string[];
  readonly messages: { kind: 'info' | 'warning' | 'error'; text: string }[];
  readonly commands: Map<string, (...args: unknown[]) => unknown>;
  readonly context: Map<string, unknown>;
  readonly treeViews: { id: string; provider: unknown; description?: string }[];
  workspaceFolders: { uri: Uri; name: string; index: number }[];
}

/** Builds the fake module and its recorded state. */
export function createFakeVscode(): { vscode: Record<string, unknown>; state: FakeVscodeState } {
  const state: FakeVscodeState = { settings: {}, output: [], messages: [], commands: new Map(), context: new Map(), treeViews: [], workspaceFolders: [] };
  const disposable = { dispose() {} };
  const log = (level: string) => (message: string) => void state.output.push(`[${level}] ${message}`);
  const vscode = {
    EventEmitter,
    Uri,
    TreeItem,
    ThemeIcon,
    ThemeColor,
    MarkdownString,
    RelativePattern,
    Position,
    Range,
    CancellationError,
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    window: {
      createOutputChannel: () => ({ info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), trace: log('trace'), appendLine: log('line'), show() {}, dispose() {} }),
      createTreeView: (id: string, options: { treeDataProvider: unknown }) => {
        const view = { id, provider: options.treeDataProvider, description: undefined as string | undefined, selection: [], dispose() {} };
        state.treeViews.push(view);
        return view;
      },
      createStatusBarItem: () => ({ text: '', tooltip: '', show() {}, hide() {}, dispose() {} }),
      showErrorMessage: async (text: string) => void state.messages.push({ kind: 'error', text }),
      showWarningMessage: async (text: string) => void state.messages.push({ kind: 'warning', text }),
      showInformationMessage: async (text: string) => void state.messages.push({ kind: 'info', text }),
      setStatusBarMessage: () => disposable,
      showQuickPick: async () => undefined,
      showInputBox: async () => undefined,
      showTextDocument: async () => undefined,
    },
    commands: {
      registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
        state.commands.set(id, handler);
        return { dispose: () => state.commands.delete(id) };
      },
      executeCommand: async (id: string, ...args: unknown[]) => {
        if (id === 'setContext') {
          state.context.set(String(args[0]), args[1]);
          return undefined;
        }
        return state.commands.get(id)?.(...args);
      },
    },
    workspace: {
      get workspaceFolders() {
        return state.workspaceFolders;
      },
      getConfiguration: (section: string) => ({
        get: (key: string) => state.settings[`${section}.${key}`],
        update: async (key: string, value: unknown) => {
          state.settings[`${section}.${key}`] = value;
        },
      }),
      findFiles: async () => [],
      createFileSystemWatcher: () => ({ onDidCreate: () => disposable, onDidDelete: () => disposable, onDidChange: () => disposable, dispose() {} }),
      onDidChangeConfiguration: () => disposable,
      onDidChangeWorkspaceFolders: () => disposable,
      registerTextDocumentContentProvider: () => disposable,
      openTextDocument: async () => ({}),
    },
    env: { clipboard: { writeText: async () => undefined }, openExternal: async () => true },
  };
  return { vscode, state };
}

let installed: Record<string, unknown> | undefined;

/** Makes `require('vscode')` return `vscode` in this process (idempotent: the first one wins). */
export function installFakeVscode(vscode: Record<string, unknown>): Record<string, unknown> {
  if (installed) return installed;
  installed = vscode;
  const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = loader._load;
  loader._load = function (request, parent, isMain) {
    return request === 'vscode' ? installed : original.call(this, request, parent, isMain);
  };
  return vscode;
}

/** A minimal ExtensionContext. */
export function fakeExtensionContext(storage: string): { subscriptions: { dispose(): void }[]; globalStorageUri: Uri; extensionUri: Uri } {
  return { subscriptions: [], globalStorageUri: Uri.file(storage), extensionUri: Uri.file(storage) };
}

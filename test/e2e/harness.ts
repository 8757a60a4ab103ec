/**
 * Drives the extension in a real VS Code: code-server (scripts/e2e/codeServer.mjs) with the
 * built extension, opened in Debian's Chromium through playwright-core. One `Workbench` per
 * test file keeps startup shared; `close()` always kills code-server's process group.
 *
 * Selectors are VS Code's own DOM (activity bar aria-labels, `.monaco-list-row` tree rows,
 * the quick input, notification toasts, webview iframes), which is what a user sees.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { startCodeServer, QUIET_SETTINGS, type CodeServer } from '../../scripts/e2e/codeServer.mjs';
import { chromiumPath, ensureCodeServer, missingDebianPackages } from '../../scripts/e2e/install.mjs';

const repoRoot = resolve(__dirname, '..', '..');
/** Screenshots and kept logs of failed journeys (gitignored). */
export const artifactsDir = join(repoRoot, 'test', '.tmp', 'e2e');

/** Chromium flags from the recipe: no sandbox (root in a container), no network chatter. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The Chromium to drive: $OCR_AL_CHROMIUM, else Debian's /usr/bin/chromium. */
export function browserPath(): string {
  return process.env.OCR_AL_CHROMIUM || chromiumPath;
}

/** Settings every e2e workbench gets on top of the quiet defaults: less unrelated work. */
const TEST_SETTINGS = { 'git.enabled': false, 'git.autoRepositoryDetection': false, 'github.gitAuthentication': false };

/**
 * Checks that the e2e prerequisites exist and installs code-server if needed (cached after
 * the first run, ~1-2 min). Returns undefined when ready, or the reason to skip. With
 * CI=true a missing prerequisite is a failure, not a skip: CI must run the journeys.
 */
export function prepareE2e(): string | undefined {
  let reason: string | undefined;
  const missing = missingDebianPackages();
  if (missing.length > 0) reason = `Debian packages missing: ${missing.join(', ')} (apt-get install -y ${missing.join(' ')})`;
  else if (!existsSync(browserPath())) reason = `${browserPath()} not found (apt-get install -y chromium, or set OCR_AL_CHROMIUM)`;
  else {
    try {
      ensureCodeServer({ log: (line) => process.stderr.write(`${line}\n`) });
    } catch (error) {
      reason = `code-server could not be installed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (reason && process.env.CI === 'true') throw new Error(`e2e prerequisites missing in CI: ${reason}`);
  return reason ? `e2e skipped: ${reason}` : undefined;
}

/** Options of {@link Workbench.launch}. */
export interface WorkbenchOptions {
  /** Absolute path of the workspace folder. */
  readonly workspace: string;
  /** User settings (merged over quiet defaults). */
  readonly settings?: Record<string, unknown>;
  /** Extra environment for code-server and the extension host. */
  readonly env?: Record<string, string>;
}

/** One row of a tree view as rendered. */
export interface TreeRow {
  readonly label: string;
  readonly description: string;
  readonly ariaLabel: string;
  /** 1 for root nodes. */
  readonly level: number;
  /** undefined for leaves. */
  readonly expanded: boolean | undefined;
}

/** Measured startup, in milliseconds. */
export interface StartupTimings {
  /** From the call until code-server answers /healthz. */
  readonly codeServerMs: number;
  /** From opening the page until `.monaco-workbench` is visible. */
  readonly workbenchMs: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A running code-server plus a Chromium page on its workbench. */
export class Workbench {
  private constructor(
    readonly server: CodeServer,
    private readonly browser: Browser,
    readonly page: Page,
    readonly timings: StartupTimings,
    private readonly settings: Record<string, unknown>,
  ) {}

  /** Starts code-server on `workspace`, opens it in Chromium and waits for the workbench. */
  static async launch(options: WorkbenchOptions): Promise<Workbench> {
    const settings = { ...TEST_SETTINGS, ...(options.settings ?? {}) };
    const server = await startCodeServer({ workspace: options.workspace, settings, env: options.env, tmpRoot: undefined });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: browserPath(), args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.setDefaultTimeout(20_000);
      const started = performance.now();
      await page.goto(server.workspaceUrl);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      // The activity bar fills in once extensions are registered; wait for it so the first
      // helper call does not race the workbench's own restore.
      await page.locator('.activitybar .action-item').first().waitFor({ timeout: 60_000 });
      const timings = { codeServerMs: server.startMs, workbenchMs: performance.now() - started };
      return new Workbench(server, browser, page, timings, settings);
    } catch (error) {
      await browser?.close().catch(() => undefined);
      mkdirSync(artifactsDir, { recursive: true });
      const log = join(artifactsDir, 'workbench-start.code-server.log');
      writeFileSync(log, server.logTail());
      await server.stop();
      throw new Error(`workbench did not start (code-server output: ${log}): ${String(error)}`, { cause: error });
    }
  }

  /** Closes Chromium and kills code-server's process group. Idempotent; never throws. */
  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.server.stop();
  }

  /**
   * Runs one journey step and checks no error dialog or error toast is left; on failure saves a screenshot and code-server's output tail in
   * test/.tmp/e2e/ and rethrows with their paths. Returns the step's duration in ms.
   */
  async journey(name: string, body: () => Promise<void>): Promise<number> {
    const started = performance.now();
    try {
      await body();
      // Errors that surfaced late (a command's error dialog, an error toast) fail the step too.
      const errors = await this.errors();
      if (errors.length > 0) throw new Error(`errors on screen after "${name}": ${errors.join(' | ')}`);
    } catch (error) {
      const paths = await this.saveArtifacts(name);
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n(see ${paths.join(', ')})`, { cause: error });
    }
    return performance.now() - started;
  }

  /** Saves a screenshot and the code-server log tail; returns their paths. */
  async saveArtifacts(name: string): Promise<string[]> {
    mkdirSync(artifactsDir, { recursive: true });
    const base = join(artifactsDir, name.replace(/[^\w.-]+/g, '-'));
    const paths: string[] = [];
    try {
      await this.page.screenshot({ path: `${base}.png`, timeout: 5000 });
      paths.push(`${base}.png`);
    } catch {
      // The page may be gone; the log still helps.
    }
    writeFileSync(`${base}.code-server.log`, `${this.server.logTail()}\n\n--- extension log ---\n${this.extensionLog()}`);
    paths.push(`${base}.code-server.log`);
    return paths;
  }

  /** Rewrites user settings; VS Code watches the file and applies them live. */
  updateSettings(changes: Record<string, unknown>): void {
    Object.assign(this.settings, changes);
    writeFileSync(
      join(this.server.userDataDir, 'User', 'settings.json'),
      JSON.stringify({ ...QUIET_SETTINGS, ...this.settings }, null, 2) + '\n',
    );
  }

  /**
   * Text of the extension's "OCR Active Learning" log output channel, as VS Code writes it to
   * `<user-data-dir>/logs/<session>/exthost*<n>/<extension id>/`. Empty until it logs.
   */
  extensionLog(channel = 'OCR Active Learning'): string {
    const logs = join(this.server.userDataDir, 'logs');
    if (!existsSync(logs)) return '';
    const texts: string[] = [];
    for (const session of readdirSync(logs)) {
      const sessionDir = join(logs, session);
      for (const host of readdirSync(sessionDir).filter((d) => d.startsWith('exthost'))) {
        const file = join(sessionDir, host, this.server.extensionId, `${channel}.log`);
        if (existsSync(file)) texts.push(readFileSync(file, 'utf8'));
      }
    }
    return texts.join('');
  }

  /** Waits until the extension's log channel matches `pattern`; returns the log. */
  async waitForExtensionLog(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.extensionLog();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`extension log never matched ${pattern}; it holds:\n${text}`);
      await sleep(200);
    }
  }

  // ---- views -----------------------------------------------------------------------------

  /** The activity-bar entry of a view container, by its title (aria-label). */
  activityBarItem(title: string): Locator {
    return this.page.locator(`.activitybar .action-item:has(.action-label[aria-label^="${title}"])`);
  }

  /** Opens a view container from the activity bar (no-op when it is already shown). */
  async openViewContainer(title: string): Promise<void> {
    const item = this.activityBarItem(title);
    // Extension containers appear once the extension host has started: slow on a busy machine.
    await item.waitFor({ timeout: 60_000 });
    const active = (await item.getAttribute('class'))?.split(/\s+/).includes('checked') ?? false;
    const sidebarVisible = await this.page.locator('.part.sidebar').isVisible();
    if (!active || !sidebarVisible) await item.locator('.action-label').click();
    await this.page.locator('.part.sidebar .composite.title h2', { hasText: title }).waitFor();
  }

  /** The pane of a view (e.g. "Batches") in the open side bar. */
  view(name: string): Locator {
    // The header's aria-label carries the view's description too ("Batches - by name Section"),
    // so match the title element exactly.
    const title = this.page.locator('.pane-header h3.title', { hasText: new RegExp(`^${escapeRegExp(name)}$`) });
    return this.page.locator('.part.sidebar .pane').filter({ has: title });
  }

  /** The view's description (`TreeView.description`), shown next to its title. */
  async viewDescription(name: string): Promise<string> {
    return ((await this.view(name).locator('.pane-header .description').first().textContent()) ?? '').trim();
  }

  /** Visible rows of a tree view, top to bottom (the list is virtualized: only rendered rows). */
  async treeRows(viewName: string): Promise<TreeRow[]> {
    const rows = this.view(viewName).locator('.monaco-list[role="tree"] .monaco-list-row');
    const items = await rows.evaluateAll((elements) =>
      elements.map((el) => ({
        index: Number(el.getAttribute('data-index') ?? '0'),
        label: el.querySelector('.label-name')?.textContent ?? '',
        description: el.querySelector('.label-description')?.textContent ?? '',
        ariaLabel: el.getAttribute('aria-label') ?? '',
        level: Number(el.getAttribute('aria-level') ?? '1'),
        expanded: el.hasAttribute('aria-expanded') ? el.getAttribute('aria-expanded') === 'true' : undefined,
      })),
    );
    return items.sort((a, b) => a.index - b.index).map(({ index: _index, ...row }) => row);
  }

  /** Polls the rendered rows until `predicate` holds; returns them. */
  async waitForRows(viewName: string, predicate: (rows: TreeRow[]) => boolean, timeoutMs = 20_000): Promise<TreeRow[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await this.treeRows(viewName);
      if (predicate(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`${viewName}: rows never matched; last seen:\n${rows.map((r) => `${'  '.repeat(r.level - 1)}${r.label} — ${r.description}`).join('\n')}`);
      await sleep(150);
    }
  }

  /** Waits until a rendered row with that label satisfies `check` (e.g. its counts arrived); returns it. */
  async waitForRowState(viewName: string, label: string | RegExp, check: (row: TreeRow) => boolean, timeoutMs = 20_000): Promise<TreeRow> {
    const matches = (row: TreeRow): boolean => (typeof label === 'string' ? row.label === label : label.test(row.label));
    const rows = await this.waitForRows(viewName, (all) => all.some((r) => matches(r) && check(r)), timeoutMs);
    return rows.find((r) => matches(r) && check(r))!;
  }

  /** Waits for the view's description (e.g. "by name · predicted only"). */
  async waitForViewDescription(viewName: string, text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = '';
    while ((seen = await this.viewDescription(viewName)) !== text) {
      if (Date.now() > deadline) throw new Error(`${viewName}: description is "${seen}", expected "${text}"`);
      await sleep(100);
    }
  }

  /** Gives the tree keyboard focus without clicking a row (a click would run its command). */
  async focusTree(viewName: string): Promise<void> {
    await this.view(viewName).locator('.monaco-list[role="tree"]').focus();
  }

  /**
   * Hovers an element and returns the hover (tooltip) VS Code shows for it, once it contains
   * `expected` (other hovers, e.g. the activity bar's, may still be fading out). Call
   * `dismissHover()` when done.
   */
  async hover(target: Locator, expected: RegExp, timeoutMs = 10_000): Promise<Locator> {
    await this.page.mouse.move(700, 500);
    await target.first().hover();
    const hover = this.page.locator('.workbench-hover, .monaco-hover').filter({ hasText: expected }).last();
    await hover.waitFor({ state: 'visible', timeout: timeoutMs });
    return hover;
  }

  /** Moves the mouse away and closes any hover. */
  async dismissHover(): Promise<void> {
    await this.page.mouse.move(700, 500);
    await this.page.keyboard.press('Escape');
  }

  /** The text of the hover shown for `target` (see {@link hover}). */
  async hoverText(target: Locator, expected: RegExp, timeoutMs = 10_000): Promise<string> {
    const text = (await (await this.hover(target, expected, timeoutMs)).textContent()) ?? '';
    await this.dismissHover();
    return text;
  }

  /** The rendered row whose label is exactly `label` (or matches the RegExp). */
  treeRow(viewName: string, label: string | RegExp): Locator {
    const pattern = typeof label === 'string' ? new RegExp(`^${escapeRegExp(label)}$`) : label;
    return this.view(viewName)
      .locator('.monaco-list[role="tree"] .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: pattern }) });
  }

  /** Waits until a row with that label is rendered and returns it. */
  async waitForTreeRow(viewName: string, label: string | RegExp, timeoutMs = 20_000): Promise<Locator> {
    const row = this.treeRow(viewName, label).first();
    await row.waitFor({ timeout: timeoutMs });
    return row;
  }

  /**
   * Scrolls the tree down (the list is virtualized) until a row with that label is rendered,
   * and returns it. Scrolls down from the keyboard focus.
   */
  async revealRow(viewName: string, label: string | RegExp, maxScrolls = 80): Promise<Locator> {
    const row = this.treeRow(viewName, label).first();
    const list = this.view(viewName).locator('.monaco-list[role="tree"]');
    // Page Down with the keyboard focus in the tree: it moves the focus (not the selection, so
    // no item command runs) and scrolls. The mouse wheel is no good here: a mouse over the
    // list opens item tooltips, which then catch the wheel.
    await this.page.mouse.move(700, 500);
    if ((await row.count()) > 0) return row;
    await list.focus();
    for (let i = 0; i < maxScrolls; i++) {
      await this.page.keyboard.press('PageDown');
      await sleep(50);
      if ((await row.count()) > 0) return row;
    }
    await row.waitFor({ timeout: 5000 });
    return row;
  }

  /** Collapses every node of the view (its "Collapse All" title action) and waits for it. */
  async collapseAll(viewName: string): Promise<void> {
    await this.viewTitleAction('Collapse All');
    await this.waitForRows(viewName, (rows) => rows.every((r) => r.level === 1 && r.expanded !== true));
  }

  /** Collapses an expanded row (twistie click). */
  async collapse(viewName: string, label: string | RegExp): Promise<void> {
    const row = await this.waitForTreeRow(viewName, label);
    if ((await row.getAttribute('aria-expanded')) === 'true') await row.locator('.monaco-tl-twistie').click();
    await this.page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'false', await row.elementHandle());
  }

  /** Expands a collapsed row (twistie click) and waits for aria-expanded=true. */
  async expand(viewName: string, label: string | RegExp): Promise<void> {
    const row = await this.waitForTreeRow(viewName, label);
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
    await this.page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await row.elementHandle());
  }

  /** Clicks a row (selects it and runs its command, if any). */
  async clickRow(viewName: string, label: string | RegExp): Promise<void> {
    const row = await this.waitForTreeRow(viewName, label);
    await row.click();
  }

  /** Clicks a view-title action (toolbar icon of the view, or the container title when merged). */
  async viewTitleAction(actionTitle: string | RegExp): Promise<void> {
    const sidebar = this.page.locator('.part.sidebar');
    await sidebar.hover();
    const pattern = typeof actionTitle === 'string' ? new RegExp(`^${escapeRegExp(actionTitle)}`) : actionTitle;
    const visible = sidebar.locator('.title-actions .action-label[aria-label], .pane-header .actions .action-label[aria-label]');
    const candidates = await visible.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? ''));
    const index = candidates.findIndex((c) => pattern.test(c));
    if (index >= 0) {
      await visible.nth(index).click();
      return;
    }
    // Not in the toolbar: it sits in the "..." overflow menu.
    const more = sidebar.locator('.title-actions .action-label[aria-label="Views and More Actions..."], .title-actions .codicon-toolbar-more').first();
    await more.click();
    await this.page.locator('.monaco-menu .action-item', { hasText: pattern }).first().click();
  }

  // ---- commands, quick input, notifications ------------------------------------------------

  /** Runs a command from the palette (F1, type its title, pick the exact entry). */
  async runCommand(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await this.page.keyboard.press('F1');
    const opened = await input.waitFor({ timeout: 3000 }).then(
      () => true,
      () => false,
    );
    if (!opened) {
      // Focus may sit in a webview iframe, which swallows F1: focus the workbench and retry.
      await this.page.locator('.part.statusbar').click({ position: { x: 400, y: 5 } });
      await this.page.keyboard.press('F1');
    }
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-widget .monaco-list-row').filter({
      has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
    });
    await row.first().waitFor();
    await row.first().click();
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden' }).catch(() => undefined);
    // A command that throws shows a modal "Command '…' resulted in an error" dialog, not a
    // toast; surface it as this call's failure rather than a confusing later timeout.
    const failed = await this.page
      .locator('.monaco-dialog-box', { hasText: 'resulted in an error' })
      .waitFor({ timeout: 750 })
      .then(
        () => true,
        () => false,
      );
    if (failed) throw new Error(`command "${title}" failed: ${(await this.dialogs()).join(' | ')}`);
  }

  /** Text of open modal dialogs ("message — detail"). */
  async dialogs(): Promise<string[]> {
    return this.page.locator('.monaco-dialog-box').evaluateAll((els) =>
      els.map((el) => [el.querySelector('.dialog-message-text')?.textContent, el.querySelector('.dialog-message-detail')?.textContent].filter(Boolean).join(' — ')),
    );
  }

  /** Error dialogs and error toasts now on screen (empty when all is well). */
  async errors(): Promise<string[]> {
    const toasts = await this.page
      .locator('.notifications-toasts .notification-toast')
      .filter({ has: this.page.locator('.codicon-error') })
      .evaluateAll((els) => els.map((el) => el.querySelector('.notification-list-item-message')?.textContent ?? ''));
    return [...(await this.dialogs()), ...toasts];
  }

  /** Types into an open input box / quick pick and presses Enter. */
  async answerInput(text: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor();
    await input.fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** Picks the quick-pick entry whose label matches. */
  async pickQuickItem(label: string | RegExp): Promise<void> {
    const pattern = typeof label === 'string' ? new RegExp(`^${escapeRegExp(label)}`) : label;
    const row = this.page.locator('.quick-input-widget .monaco-list-row').filter({
      has: this.page.locator('.label-name', { hasText: pattern }),
    });
    await row.first().click();
  }

  /** Messages of the notification toasts now on screen. */
  async notifications(): Promise<string[]> {
    return this.page
      .locator('.notifications-toasts .notification-toast .notification-list-item-message')
      .evaluateAll((els) => els.map((el) => el.textContent ?? ''));
  }

  /** Waits for a toast whose message matches; returns its text. */
  async waitForNotification(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-list-item-message', { hasText: pattern }).first();
    await toast.waitFor({ timeout: timeoutMs });
    return (await toast.textContent()) ?? '';
  }

  // ---- editors and webviews -----------------------------------------------------------------

  /** Title of the active editor tab (e.g. "manifest.jsonl"). */
  async activeEditorTitle(): Promise<string> {
    const tab = this.page.locator('.tabs-container .tab.active .label-name').first();
    await tab.waitFor();
    return (await tab.textContent()) ?? '';
  }

  /** Waits until the active editor tab is `title`. */
  async waitForEditor(title: string, timeoutMs = 20_000): Promise<void> {
    await this.page.locator('.tabs-container .tab.active .label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }).first().waitFor({ timeout: timeoutMs });
  }

  /** Waits until the status bar shows the cursor on `line` (1-based). */
  async waitForCursorLine(line: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const position = await this.cursorPosition().catch(() => undefined);
      if (position?.line === line) return;
      if (Date.now() > deadline) throw new Error(`cursor is at ${JSON.stringify(position)}, expected line ${line}`);
      await sleep(100);
    }
  }

  /** The cursor position from the status bar ("Ln 7, Col 1"). */
  async cursorPosition(): Promise<{ line: number; column: number }> {
    const item = this.page.locator('#status\\.editor\\.selection');
    await item.waitFor();
    const text = (await item.textContent()) ?? '';
    const match = /Ln (\d+), Col (\d+)/.exec(text);
    if (!match) throw new Error(`no cursor position in status bar item "${text}"`);
    return { line: Number(match[1]), column: Number(match[2]) };
  }

  /** The content frame of a webview: `iframe.webview` then `iframe#active-frame` inside it. */
  webviewFrame(index = 0): FrameLocator {
    return this.page.frameLocator('iframe.webview').nth(index).frameLocator('iframe#active-frame');
  }
}

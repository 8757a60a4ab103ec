/**
 * Extension-host wiring checks (run by scripts/test-electron.mjs in a downloaded VS Code):
 * the extension activates on a workspace holding a manifest.jsonl, every contributed command
 * is registered, and the Batches view and its commands run. The same behavior is driven
 * through the UI in code-server by test/e2e/*.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { type IntegrationTest, waitUntil } from './runner';

const EXTENSION_ID = 'ocr-active-learning.ocr-active-learning';

interface ContributedCommand {
  readonly command: string;
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed in the test instance`);
  return ext;
}

/** The activation and command-registration checks. */
export const activationTests: readonly IntegrationTest[] = [
  {
    name: 'activates on a workspace containing a manifest.jsonl',
    run: async () => {
      const ext = extension();
      // workspaceContains:**/manifest.jsonl activates it without any command.
      await waitUntil('activation', () => ext.isActive, 20_000);
    },
  },
  {
    name: 'registers every command contributed in package.json',
    run: async () => {
      const contributed = ((extension().packageJSON as { contributes?: { commands?: ContributedCommand[] } }).contributes?.commands ?? []).map((c) => c.command);
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = contributed.filter((c) => !registered.has(c));
      assert.deepEqual(missing, [], `contributed but never registered: ${missing.join(', ')}`);
    },
  },
  {
    name: 'focuses the Batches view',
    run: async () => {
      await vscode.commands.executeCommand('ocrActiveLearning.batches.focus');
    },
  },
  {
    name: 'runs Refresh without an error',
    run: async () => {
      await vscode.commands.executeCommand('ocrActiveLearning.refresh');
    },
  },
];

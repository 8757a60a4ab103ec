/**
 * Extension entry point. Thin: it wires core + sources + aws to the VS Code UI. Everything it
 * creates goes into `context.subscriptions`. The AWS SDK is not imported here; S3 adapters
 * load it on first use.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const output = vscode.window.createOutputChannel('OCR Active Learning', { log: true });
  context.subscriptions.push(output);
  output.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

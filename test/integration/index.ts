/**
 * Entry point that @vscode/test-electron loads into the extension host (`extensionTestsPath`,
 * bundled to out/integration/index.js by scripts/test-electron.mjs). Resolves when all pass.
 */
import { activationTests } from './activation.integration';
import { runIntegrationTests } from './runner';

/** Called by VS Code's test harness. */
export async function run(): Promise<void> {
  await runIntegrationTests('activation', activationTests);
}

// The extension-host integration suite (test/integration/) in a real VS Code downloaded by
// @vscode/test-electron, for machines that can reach update.code.visualstudio.com. (Where that
// is blocked, as on the project's build machines, the same behavior is driven through
// code-server by `npm run test:e2e`.)
//
// Usage: node scripts/test-electron.mjs   (VSCODE_VERSION=1.100.3 by default: the oldest
// release engines.vscode accepts, so the suite catches use of newer API). Needs a display on
// Linux: run under `xvfb-run -a` in headless CI.
import * as esbuild from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runTests } from '@vscode/test-electron';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

await esbuild.build({
  entryPoints: { index: join(repoRoot, 'test', 'integration', 'index.ts') },
  outdir: join(repoRoot, 'out', 'integration'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  external: ['vscode'],
  logLevel: 'warning',
});

// A workspace with one batch, so workspaceContains:**/manifest.jsonl activates the extension.
const workspace = mkdtempSync(join(tmpdir(), 'ocr-al-integration-'));
mkdirSync(join(workspace, 'batch-a'));
writeFileSync(join(workspace, 'batch-a', 'manifest.jsonl'), '{"source-ref":"thumbnails/a.png"}\n{"source-ref":"thumbnails/b.png"}\n');

let code = 0;
try {
  await runTests({
    version: process.env.VSCODE_VERSION ?? '1.100.3',
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(repoRoot, 'out', 'integration', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
} catch (error) {
  console.error(`integration tests failed: ${error instanceof Error ? error.message : String(error)}`);
  code = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
process.exit(code);

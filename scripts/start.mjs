// `npm start`: the extension in a real VS Code (code-server) on a demo workspace.
// Builds the extension, installs code-server if needed (scripts/e2e/install.mjs, cached in
// .vscode-test/), writes demo-workspace/ (two small batches with thumbnails) unless it exists,
// starts code-server on loopback with the extension linked in, prints the URL and runs until
// Ctrl-C.
//
// Options: --port N (default: a free port, or $PORT), --fresh (regenerate demo-workspace/),
// --workspace DIR (open another folder instead of the demo).
// The extension is symlinked, so after `npm run build` (or `npm run watch`) run
// "Developer: Reload Window" in the browser to load the new build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer } from './e2e/install.mjs';
import { startCodeServer } from './e2e/codeServer.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function step(title, cmd, cmdArgs) {
  process.stderr.write(`> ${title}\n`);
  const r = spawnSync(cmd, cmdArgs, { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`${title} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}

step('build', process.execPath, ['esbuild.mjs']);

process.stderr.write('> code-server (installed once into .vscode-test/, 1-2 min the first time)\n');
try {
  ensureCodeServer();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const workspace = option('--workspace') ? resolve(option('--workspace')) : join(repoRoot, 'demo-workspace');
if (!option('--workspace')) {
  step('demo workspace', process.execPath, ['--import', 'tsx', 'scripts/demoWorkspace.ts', workspace, ...(args.includes('--fresh') ? ['--fresh'] : [])]);
} else if (!existsSync(workspace)) {
  process.stderr.write(`no such folder: ${workspace}\n`);
  process.exit(1);
}

const port = Number(option('--port') ?? process.env.PORT ?? 0) || undefined;
const server = await startCodeServer({ workspace, port, extensionMode: 'symlink' });

process.stdout.write(
  `\nOCR Active Learning is running in code-server on loopback:\n\n` +
    `  ${server.workspaceUrl}\n\n` +
    `Open it in a browser (Chromium, Chrome, Firefox). The sidebar's "OCR Active Learning" view\n` +
    `lists the demo batches. code-server's log: ${server.logFile}\n` +
    `After rebuilding (npm run build / npm run watch), run "Developer: Reload Window" there.\n` +
    `Ctrl-C stops it.\n`,
);

let stopping = false;
const shutdown = async (signal) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`\n${signal}: stopping code-server\n`);
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

// Keep running while code-server does; if it dies on its own, say so and fail.
void server.exited.then(async () => {
  if (stopping) return;
  process.stderr.write(`code-server exited unexpectedly; last output:\n${server.logTail()}\n`);
  await server.stop();
  process.exit(1);
});

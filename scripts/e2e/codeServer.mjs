// Starts code-server on a free loopback port with a fresh user-data and extensions dir, the
// built extension placed in the extensions dir, and one workspace folder. Shared by the e2e
// harness (test/e2e/harness.ts) and `npm start` (scripts/start.mjs).
/* global fetch, AbortSignal */
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer } from './install.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings that keep a fresh VS Code quiet: no welcome page, tips, trust prompt or telemetry. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
};

/** Asks the OS for a free loopback TCP port. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Places the built extension (package.json + dist + media) into `extensionsDir` under the
 * folder name VS Code expects, `<publisher>.<name>-<version>`. `symlink` follows rebuilds
 * (npm start); `copy` freezes the build so a concurrent `npm run build` cannot change it
 * mid-test.
 */
export function placeExtension(extensionsDir, mode = 'copy') {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  if (!existsSync(join(repoRoot, manifest.main ?? 'dist/extension.js'))) {
    throw new Error(`the extension is not built (${manifest.main} missing): run npm run build`);
  }
  const id = `${manifest.publisher}.${manifest.name}`;
  const dir = join(extensionsDir, `${id}-${manifest.version}`);
  mkdirSync(dir, { recursive: true });
  for (const name of ['package.json', 'dist', 'media', 'README.md', 'LICENSE']) {
    const from = join(repoRoot, name);
    if (!existsSync(from)) continue;
    if (mode === 'symlink') symlinkSync(from, join(dir, name));
    else cpSync(from, join(dir, name), { recursive: true, filter: (src) => !src.endsWith('.vsix') });
  }
  return { id, dir };
}

async function waitForServer(url, child, timeoutMs, logTail) {
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  child.once('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`code-server stopped before serving (${exited}):\n${logTail()}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`code-server did not serve ${url} within ${timeoutMs} ms:\n${logTail()}`);
}

/**
 * Starts code-server and resolves once it answers on /healthz.
 * @param {import('./codeServer.d.mts').StartOptions} options
 * @returns {Promise<import('./codeServer.d.mts').CodeServer>}
 */
export async function startCodeServer(options) {
  const started = performance.now();
  const entry = ensureCodeServer({ log: options.log });
  const root = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'ocr-al-vscode-'));
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...QUIET_SETTINGS, ...(options.settings ?? {}) }, null, 2) + '\n',
  );
  const extension = placeExtension(extensionsDir, options.extensionMode ?? 'copy');
  const port = options.port ?? (await freePort());
  const host = '127.0.0.1';
  const configFile = join(root, 'config.yaml');
  writeFileSync(configFile, `bind-addr: ${host}:${port}\nauth: none\ncert: false\n`);

  const env = { ...process.env };
  // A parent VS Code (e.g. the developer's own terminal) must not leak into this one.
  for (const key of Object.keys(env)) if (key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE') delete env[key];
  Object.assign(env, { XDG_CONFIG_HOME: join(root, 'xdg-config'), XDG_DATA_HOME: join(root, 'xdg-data') }, options.env ?? {});

  const args = [
    entry,
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `${host}:${port}`,
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    options.workspace,
  ];
  // Own process group, so teardown kills code-server with its extension host and watchers.
  const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = join(root, 'code-server.log');
  const logStream = createWriteStream(logFile);
  const tail = [];
  const onData = (chunk) => {
    logStream.write(chunk);
    for (const line of chunk.toString().split('\n')) if (line) tail.push(line);
    if (tail.length > 200) tail.splice(0, tail.length - 200);
    if (options.echo) process.stderr.write(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((r) => child.once('exit', r));
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  // code-server runs in its own process group, so a Ctrl-C in the terminal does not reach it:
  // kill it ourselves when this process exits or is interrupted, then let the signal do what
  // it would have done (unless someone else, e.g. npm start, handles it).
  const onExit = () => {
    killGroup('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (signal) => {
    onExit();
    for (const s of signals) process.removeListener(s, onSignal);
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once('exit', onExit);
  for (const s of signals) process.on(s, onSignal);

  let stopped = false;
  const stop = async ({ keep = false } = {}) => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    for (const s of signals) process.removeListener(s, onSignal);
    if (child.exitCode === null && child.signalCode === null) {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    // Stray children of the group (extension host, file watchers) go too.
    killGroup('SIGKILL');
    await new Promise((r) => logStream.end(r));
    if (!keep) rmSync(root, { recursive: true, force: true });
  };

  const url = `http://${host}:${port}`;
  try {
    await waitForServer(url, child, options.timeoutMs ?? 60_000, () => tail.join('\n'));
  } catch (error) {
    // The error carries the output's tail; the temp dir goes (tests must not leave litter).
    await stop();
    throw error;
  }
  return {
    url,
    workspaceUrl: `${url}/?folder=${encodeURIComponent(options.workspace)}`,
    port,
    root,
    userDataDir,
    extensionsDir,
    extensionId: extension.id,
    logFile,
    pid: child.pid,
    logTail: () => tail.join('\n'),
    startMs: performance.now() - started,
    exited: exited.then(() => undefined),
    stop,
  };
}

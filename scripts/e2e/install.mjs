// Installs code-server (VS Code served to a browser, from npm) into .vscode-test/code-server/,
// outside the extension's own dependencies, so the e2e journeys and `npm start` run the
// extension in a real VS Code on machines that cannot download VS Code itself.
//
// Idempotent: a marker file records a finished install, so a second run returns at once.
// Usage: node scripts/e2e/install.mjs   (prints the path of the code-server entry point)
//
// Why each step (see ../shared/notes/e2e-recipe.md):
// - code-server@4.100.3 is the newest release whose engines accept Node 20; it bundles VS Code
//   1.100, which is why package.json keeps engines.vscode at ^1.100.0.
// - Its postinstall runs `npm install` in lib/vscode, whose @vscode/ripgrep postinstall
//   downloads a binary from GitHub (unreachable here). That package first looks in
//   $TMPDIR/vscode-ripgrep-cache-<version>/ for the release tarball, so we pre-seed it with
//   Debian's /usr/bin/rg. Hence the two phases: fetch with --ignore-scripts (to learn the
//   nested versions), seed the cache, then `npm rebuild` to run every install script.
// - npm_config_yes=true: a nested `npx node-gyp` would otherwise wait for a "yes".
// - --unsafe-perm as root: code-server's postinstall refuses to run without it.
// - npm_config_nodedir=/usr when Debian/NodeSource headers are there: node-gyp would otherwise
//   download Node's headers from nodejs.org.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
const REQUIRED_DEBIAN_PACKAGES = ['libkrb5-dev', 'ripgrep', 'chromium'];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where code-server lives (gitignored). */
export const installDir = join(repoRoot, '.vscode-test', 'code-server');
const markerFile = join(installDir, '.installed.json');
const lockDir = join(repoRoot, '.vscode-test', 'code-server.lock');
// npm's temp files and the seeded ripgrep cache: kept next to the install so reruns after a
// failure do not need to re-seed, and /tmp cleaners do not matter.
const tmpDir = join(repoRoot, '.vscode-test', 'tmp');

/** Path of code-server's Node entry point (run it with `node <entry> ...`). */
export const codeServerEntry = join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Chromium from Debian, which Playwright drives (playwright-core ships no browser). */
export const chromiumPath = '/usr/bin/chromium';

/** True when a finished install of the pinned version is present. */
export function isInstalled() {
  if (!existsSync(markerFile) || !existsSync(codeServerEntry)) return false;
  try {
    return JSON.parse(readFileSync(markerFile, 'utf8')).version === CODE_SERVER_VERSION;
  } catch {
    return false;
  }
}

/** Names of the required Debian packages that are not installed (empty when all are). */
export function missingDebianPackages() {
  return REQUIRED_DEBIAN_PACKAGES.filter((pkg) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function run(cmd, args, options) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${tail}`);
  }
  return r.stdout;
}

function npmEnv() {
  const env = { ...process.env, npm_config_yes: 'true', TMPDIR: tmpDir, npm_config_audit: 'false', npm_config_fund: 'false' };
  if (existsSync('/usr/include/node/common.gypi')) env.npm_config_nodedir = '/usr';
  if (process.getuid?.() === 0) env.npm_config_unsafe_perm = 'true';
  return env;
}

/** Reads the version of the nested @vscode/ripgrep from code-server's shrinkwrap of lib/vscode. */
function nestedRipgrepVersion() {
  const shrinkwrap = join(installDir, 'node_modules', 'code-server', 'lib', 'vscode', 'npm-shrinkwrap.json');
  const lock = JSON.parse(readFileSync(shrinkwrap, 'utf8'));
  const version = lock.packages?.['node_modules/@vscode/ripgrep']?.version;
  if (!version) throw new Error(`@vscode/ripgrep not found in ${shrinkwrap}`);
  return version;
}

/** Reads the ripgrep release tag (e.g. v13.0.0-10) from that package's lib/postinstall.js. */
function ripgrepTag(version) {
  const packDir = join(tmpDir, `ripgrep-pack-${version}`);
  const postinstall = join(packDir, 'package', 'lib', 'postinstall.js');
  if (!existsSync(postinstall)) {
    mkdirSync(packDir, { recursive: true });
    const out = run('npm', ['pack', `@vscode/ripgrep@${version}`, '--pack-destination', packDir, '--silent'], { env: npmEnv() });
    run('tar', ['xzf', join(packDir, out.trim().split('\n').pop()), '-C', packDir]);
  }
  const match = /const VERSION = '([^']+)'/.exec(readFileSync(postinstall, 'utf8'));
  if (!match) throw new Error(`no VERSION constant in ${postinstall}`);
  return match[1];
}

/** Puts Debian's rg where @vscode/ripgrep's postinstall looks before downloading. */
function seedRipgrepCache(version, tag) {
  const cacheDir = join(tmpDir, `vscode-ripgrep-cache-${version}`);
  const tarball = join(cacheDir, `ripgrep-${tag}-x86_64-unknown-linux-musl.tar.gz`);
  if (existsSync(tarball)) return tarball;
  const stage = join(tmpDir, 'rg-stage');
  mkdirSync(stage, { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  copyFileSync('/usr/bin/rg', join(stage, 'rg'));
  run('tar', ['czf', tarball, '-C', stage, 'rg']);
  return tarball;
}

function install(log) {
  const missing = missingDebianPackages();
  if (missing.length > 0) {
    throw new Error(
      `code-server needs the Debian packages ${missing.join(', ')} (not installed). ` +
        `Install them with: apt-get update && apt-get install -y ${missing.join(' ')}  (.ci/run does this)`,
    );
  }
  if (process.arch !== 'x64' || process.platform !== 'linux') {
    throw new Error(`the offline code-server install is set up for linux x64, not ${process.platform} ${process.arch}`);
  }
  rmSync(markerFile, { force: true });
  mkdirSync(installDir, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });
  // An own package.json makes --prefix install here rather than into the repository.
  const pkgJson = join(installDir, 'package.json');
  if (!existsSync(pkgJson)) writeFileSync(pkgJson, JSON.stringify({ name: 'ocr-al-code-server', private: true }, null, 2) + '\n');

  const env = npmEnv();
  const started = Date.now();
  log(`[e2e] fetching code-server@${CODE_SERVER_VERSION} into ${installDir} (scripts deferred)`);
  run('npm', ['install', '--prefix', installDir, '--ignore-scripts', '--save-exact', `code-server@${CODE_SERVER_VERSION}`], { env, cwd: installDir });

  const version = nestedRipgrepVersion();
  const tag = ripgrepTag(version);
  const tarball = seedRipgrepCache(version, tag);
  log(`[e2e] seeded @vscode/ripgrep ${version} (${tag}) with /usr/bin/rg: ${tarball}`);

  log('[e2e] running install scripts (builds VS Code native modules; ~1 min)');
  run('npm', ['rebuild', '--prefix', installDir, '--foreground-scripts'], { env, cwd: installDir });

  const rg = join(installDir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  if (!existsSync(rg)) throw new Error(`install finished but ${rg} is missing`);
  const versionOut = run(process.execPath, [codeServerEntry, '--version'], { env: { ...process.env, XDG_CONFIG_HOME: tmpDir } });
  if (!versionOut.includes(CODE_SERVER_VERSION)) throw new Error(`unexpected code-server --version output: ${versionOut}`);
  writeFileSync(markerFile, JSON.stringify({ version: CODE_SERVER_VERSION, seconds: (Date.now() - started) / 1000 }, null, 2) + '\n');
  log(`[e2e] code-server ${CODE_SERVER_VERSION} installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Installs code-server unless already installed and returns its entry point. Safe to call
 * from several processes at once (e.g. two e2e test files): one installs, the others wait.
 * Throws an Error with a clear message when it cannot install.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {string}
 */
export function ensureCodeServer(options = {}) {
  const log = options.log ?? ((line) => console.error(line));
  if (isInstalled()) return codeServerEntry;
  mkdirSync(dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      // Someone else installs; a lock older than 15 min is from a killed run.
      if (isInstalled()) return codeServerEntry;
      let age = 0;
      try {
        age = Date.now() - statSync(lockDir).mtimeMs;
      } catch {
        continue;
      }
      if (age > 15 * 60_000) rmSync(lockDir, { recursive: true, force: true });
      else sleepSync(1000);
    }
  }
  try {
    if (!isInstalled()) install(log);
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
  return codeServerEntry;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  try {
    const entry = ensureCodeServer();
    console.log(entry);
    console.error(`[e2e] code-server ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    console.error(`[e2e] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

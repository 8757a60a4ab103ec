// One esbuild build per runtime target: the extension host (CJS, `vscode` external), the CLI
// (CJS with a shebang) and the webview (browser IIFE). Types are checked by `tsc --noEmit`.
import * as esbuild from 'esbuild';
import { existsSync, chmodSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const targets = [
  {
    ...common,
    entryPoints: { extension: 'src/host/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    // The AWS SDK is split into its own chunks by dynamic import() so activation stays fast;
    // with CJS output esbuild keeps dynamic imports lazy (evaluated on first call).
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: { relabel: 'webview/relabel/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
].filter((t) => {
  // The webview entry arrives with its own issue; build what exists.
  const entry = Object.values(t.entryPoints)[0];
  return existsSync(entry);
});

if (watch) {
  for (const t of targets) {
    const ctx = await esbuild.context(t);
    await ctx.watch();
  }
  console.log('[esbuild] watching');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
}

// One esbuild build per runtime target: the extension host (CJS, `vscode` external), the CLI
// (CJS with a shebang) and the webview (browser IIFE). Types are checked by `tsc --noEmit`.
import * as esbuild from 'esbuild';
import { existsSync, chmodSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Resolves the SDK module imported by src/aws/clientFactory.ts to the separate dist/aws-sdk.js. */
const lazyAwsSdk = {
  name: 'lazy-aws-sdk',
  /** @param {import('esbuild').PluginBuild} build */
  setup(build) {
    build.onResolve({ filter: /^\.\/sdk$/ }, (args) =>
      args.importer.replace(/\\/g, '/').endsWith('src/aws/clientFactory.ts') ? { path: './aws-sdk.js', external: true } : undefined,
    );
  },
};

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
    // The AWS SDK goes into its own file, dist/aws-sdk.js, which the extension requires only
    // when an S3 batch is first used (src/aws/clientFactory.ts `loadAwsSdk`), so activation
    // neither parses nor evaluates it. CJS has no code splitting: the plugin below makes that
    // one import external, and `dynamic-import: false` turns it into a lazy require().
    entryPoints: { extension: 'src/host/extension.ts', 'aws-sdk': 'src/aws/sdk.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    supported: { 'dynamic-import': false },
    plugins: [lazyAwsSdk],
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
    // The index worker thread (src/sources/parallelIndex.ts): its own file beside
    // dist/extension.js and dist/cli.js, which both start it from their __dirname.
    entryPoints: { indexWorker: 'src/sources/indexWorker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
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

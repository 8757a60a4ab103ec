// Lint keeps the seams of docs/architecture.md: src/core is pure (no vscode, AWS SDK, DOM or
// fs at runtime), src/aws and src/sources never import vscode, webview/ imports only the
// protocol and browser code, and only src/host imports `vscode` at runtime.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const vscodeBan = { name: 'vscode', message: 'Only src/host may import vscode at runtime.', allowTypeImports: true };
const awsBan = { group: ['@aws-sdk/*', '@smithy/*'], message: 'The AWS SDK belongs in src/aws.' };
const fsBan = ['node:fs', 'node:fs/promises', 'fs', 'fs/promises', 'node:child_process', 'child_process', 'node:net', 'node:http', 'node:https'].map(
  (name) => ({ name, message: 'src/core is pure: take a FileSystem (src/core/fileSystem.ts) from the caller.', allowTypeImports: true }),
);
const hostBan = { group: ['**/host/*', '**/host'], message: 'Nothing depends on src/host.' };

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'demo-workspace/**', 'bench/.data/**', 'test/.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [vscodeBan, ...fsBan], patterns: [awsBan, hostBan, { group: ['**/aws/*', '**/sources/*', '**/cli/*'], message: 'src/core depends on nothing else in src.' }] }],
    },
  },
  {
    files: ['src/aws/**/*.ts', 'src/sources/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [vscodeBan], patterns: [hostBan, { group: ['**/cli/*'], message: 'Adapters do not depend on the CLI.' }] }] },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [vscodeBan], patterns: [hostBan] }] },
  },
  {
    files: ['src/protocol.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: [vscodeBan], patterns: [hostBan, awsBan] }] },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [vscodeBan, ...fsBan], patterns: [awsBan, { group: ['**/src/*', '!**/src/protocol', '!**/src/core/*'], message: 'The webview imports only the protocol and pure core.' }] },
      ],
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**', 'bench/**', 'test/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
);

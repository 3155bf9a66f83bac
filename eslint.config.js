import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** The @kindling packages a provider may import: the SDK; in its tests also the conformance kit and the test helpers. */
const providerBoundary = (allowed, why) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: ['@kindling/*', ...allowed.map((name) => `!${name}`)], message: why }] }],
});
const PROVIDER_TESTS = ['**/*.test.ts', '**/testing/**'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly', AbortController: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', setImmediate: 'readonly', performance: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', AbortSignal: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // Type-aware rules, on one program of every source and test (tsconfig.eslint.json): the
    // package tsconfigs exclude the tests, and the project service finds only files named
    // tsconfig.json, so it would find no project for a test; one program is also 3x faster than
    // one per package. Needs a build first (`npx tsc -b`): workspaces are typed from dist/*.d.ts.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // No import cycle inside a package (between packages, `tsc -b` refuses circular references).
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.eslint.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['providers/**/*.ts', 'providers/**/*.mjs', 'examples/**/*.ts'],
    ignores: PROVIDER_TESTS.map((glob) => `providers/${glob}`).concat(PROVIDER_TESTS.map((glob) => `examples/${glob}`)),
    rules: providerBoundary(['@kindling/sdk'], 'a provider imports @kindling/sdk alone: the host and the platform may change under it'),
  },
  {
    files: PROVIDER_TESTS.flatMap((glob) => [`providers/${glob}`, `examples/${glob}`]).concat(['providers/**/testing/*.mjs']),
    rules: providerBoundary(
      ['@kindling/sdk', '@kindling/provider-testkit', '@kindling/test-support', '@kindling/alarms', '@kindling/github', '@kindling/mongodb', '@kindling/mqtt', '@kindling/postgres'],
      "a provider's tests import the SDK, @kindling/provider-testkit and @kindling/test-support (and the provider itself)",
    ),
  },
  {
    // Action sources: the runtime calls `main`, nothing in the file does.
    files: ['examples/**/*.js'],
    rules: { '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^(_|main$)' }] },
  },
);

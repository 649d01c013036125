// Lint is a tool, not a review: type-aware rules that catch real bugs (floating promises), and the
// workflow sandbox rule (workflows/ must stay deterministic: no Node built-ins, no I/O libraries).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process'],
              message: 'Workflows must be deterministic: no Node built-ins.',
            },
            {
              group: [
                'mongoose',
                'stripe',
                'koa',
                '@koa/*',
                '@clerk/*',
                'pino',
                'undici',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'Workflows must not do I/O: call an activity.',
            },
            {
              group: ['../src/*', '!../src/contracts'],
              message: 'Workflows import only the contracts module from src/ (it imports nothing).',
            },
            {
              group: ['../activities/*', '!../activities/types'],
              message: 'Workflows import activity types only (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    // Design: "One storage layer owns the database". Activities, routes and CLIs receive stores;
    // models, schemas, locks and watermark writes stay inside src/stores.
    files: ['activities/**/*.ts', 'src/receiver/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'mongoose',
                '**/stores/locks',
                '**/stores/watermark',
                '**/stores/tracked-record',
                '**/stores/*-schemas',
                '**/stores/event-models',
              ],
              message: 'Use a store (src/stores): it owns the models, ids, locks and "never older" checks.',
            },
          ],
        },
      ],
    },
  },
);

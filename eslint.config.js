import neostandard from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  ...neostandard({ ts: true, ignores: ['protocols/src/*/pb/*.ts', 'node_modules/**', 'dist/**', 'ui/dist/**', 'test-results/**', '.scratch/**'] }),
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error'
    }
  },
  {
    // Boundaries (STYLE.md): node/ and coordinator/ never import each other; protocols/ imports neither;
    // analyzer/ is pure and imports none of them.
    files: ['protocols/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/node/**', '**/coordinator/**', '**/analyzer/**', '**/cli/**'] }] }
  },
  {
    files: ['node/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/coordinator/**', '**/cli/**', '**/protocols/src/*/*'] }] }
  },
  {
    files: ['coordinator/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/node/**', '**/cli/**', '**/protocols/src/*/*'] }] }
  },
  {
    files: ['analyzer/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/node/**', '**/coordinator/**', '**/protocols/**', '**/cli/**'] }] }
  },
  {
    // The app talks to the coordinator over HTTP only: it may read the API's types from coordinator/src/schemas/,
    // and import nothing else server-side (ui/build.ts and ui/test/ run in Node and are not the app).
    files: ['ui/src/**/*.ts', 'ui/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/coordinator/src/schemas/*', 'typebox'], allowTypeImports: true, message: 'the UI may only import types from the API schemas' },
          { group: ['**/coordinator/**', '!**/coordinator/src/schemas/*', '**/node/**', '**/protocols/**', '**/analyzer/**', '**/cli/**', 'node:*'], allowTypeImports: false, message: 'the UI reaches the server through ui/src/api/ only' }
        ]
      }]
    }
  }
]

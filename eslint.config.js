import neostandard from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  ...neostandard({ ts: true, ignores: ['protocols/src/*/pb/*.ts', 'node_modules/**', 'dist/**', 'ui/**', '.scratch/**'] }),
  {
    files: ['**/*.ts'],
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
  }
]

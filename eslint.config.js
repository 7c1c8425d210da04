import neostandard from 'neostandard'
import tseslint from 'typescript-eslint'
import importX, { createNodeResolver } from 'eslint-plugin-import-x'

/** The packages: each exports what others may use from `src/index.ts`. */
const PACKAGES = ['protocols', 'node', 'coordinator', 'planner', 'analyzer']
/**
 * Deep imports into a package (anything but its `src/index.ts`; or the entries that load no libp2p: the node's sandbox
 * side `node/src/sandbox.ts` and the shared units `protocols/src/units.ts`) and imports of any test code.
 */
const DEEP = [...PACKAGES.flatMap(p => [`**/${p}/src/**`, `!**/${p}/src/index.ts`]), '!**/node/src/sandbox.ts', '!**/protocols/src/units.ts', '**/test/**', '**/ui/src/**']

export default [
  ...neostandard({ ts: true, ignores: ['protocols/src/*/pb/*.ts', 'node_modules/**', 'dist/**', 'ui/dist/**', 'test-results/**', '.scratch/**'] }),
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver()],
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] }
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // One home per concern (issue 15): no file over 500 lines, no import cycle in any package.
      'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }]
    }
  },
  {
    // No function over 80 lines; a spec's describe/it callbacks are lists of cases, not functions.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['**/*.spec.ts', '**/*.spec.tsx'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }] }
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
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/node/**', '**/cli/**', '**/protocols/src/*/*', '**/planner/src/**', '!**/planner/src/index.ts'] }] }
  },
  {
    // The planner is pure like the analyzer: it reads input files, but knows nothing of the mesh, the store or a node.
    files: ['planner/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/node/**', '**/coordinator/**', '**/protocols/src/**', '!**/protocols/src/units.ts', '**/protocols/test/**', '**/cli/**'] }] }
  },
  {
    // The CLI (its tests aside), the benchmarks and the scripts use the packages through their index.ts only, and no test code
    // (ui/build.ts is how the server side builds the app).
    files: ['cli/src/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: DEEP, message: 'import the package\'s src/index.ts, not its internals or its tests' }] }] }
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
          { group: ['**/coordinator/**', '!**/coordinator/src/schemas/*', '**/node/**', '**/protocols/src/**', '!**/protocols/src/units.ts', '**/protocols/test/**', '**/analyzer/**', '**/planner/**', '**/cli/**', 'node:*'], allowTypeImports: false, message: 'the UI reaches the server through ui/src/api/ only (and shares protocols/src/units.ts)' }
        ]
      }]
    }
  }
]

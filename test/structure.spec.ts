/**
 * The shape of the tree (issue 15): what lint cannot see — Python and shell sources — stays within the same bounds as
 * the TypeScript (no file over 500 lines, no Python function over 80), and the lint rules that keep every package in
 * its room bite: a deep import from the CLI or the benchmarks fails, and every package's code is checked for cycles.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['protocols', 'node', 'coordinator', 'planner', 'analyzer', 'cli', 'bench', 'scripts', 'ui']
const run = promisify(execFile)
const MAX_FILE_LINES = 500
const MAX_FUNCTION_LINES = 80

/** Hand-written sources lint does not read: Python and shell, test fixtures (programs users write) left out. */
async function otherSources (): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '--', ...PACKAGES.flatMap(p => [`${p}/*.py`, `${p}/*.sh`])], { cwd: ROOT })
  return stdout.split('\n').filter(file => file !== '' && !file.includes('/fixtures/'))
}

/** Python functions longer than the bound, as `file:line name (lines)`, measured by Python's own parser. */
async function longPythonFunctions (files: string[]): Promise<string[]> {
  const program = [
    'import ast, sys',
    'for path in sys.argv[1:]:',
    '    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):',
    `        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > ${MAX_FUNCTION_LINES}:`,
    '            print(f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})")'
  ].join('\n')
  const { stdout } = await run('/usr/bin/python3', ['-c', program, ...files], { cwd: ROOT })
  return stdout.split('\n').filter(line => line !== '')
}

describe('structure', () => {
  it('keeps Python and shell sources under 500 lines and Python functions under 80', async () => {
    const files = await otherSources()
    expect(files.some(file => file.endsWith('.py'))).toBe(true)
    const long: string[] = []
    for (const file of files) {
      const lines = (await readFile(`${ROOT}/${file}`, 'utf8')).split('\n').length - 1
      if (lines > MAX_FILE_LINES) long.push(`${file} (${lines})`)
    }
    expect(long).toEqual([])
    expect(await longPythonFunctions(files.filter(file => file.endsWith('.py')))).toEqual([])
  })

  it('fails lint for a deep import or a test import from the CLI and the benchmarks, not for a package index', async () => {
    const eslint = new ESLint({ cwd: ROOT })
    const cases: Array<[string, string, boolean]> = [
      ['cli/src/commands/run.ts', "import { x } from '../../../coordinator/src/jobs/service.ts'\nexport const y = x\n", true],
      ['cli/src/commands/run.ts', "import { x } from '../../../analyzer/test/helpers/corpus.ts'\nexport const y = x\n", true],
      ['bench/index.ts', "import { x } from '../node/src/executors/index.ts'\nexport const y = x\n", true],
      ['bench/index.ts', "import { x } from '../test/helpers/index.ts'\nexport const y = x\n", true],
      ['bench/index.ts', "import { median } from '../protocols/src/index.ts'\nexport const y = median\n", false]
    ]
    for (const [filePath, code, fails] of cases) {
      const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${filePath}` })
      const restricted = (result?.messages ?? []).filter(m => m.ruleId === 'no-restricted-imports')
      expect({ filePath, code, fails: restricted.length > 0 }).toEqual({ filePath, code, fails })
    }
  })

  it('checks every package for import cycles, file length and function length', async () => {
    const eslint = new ESLint({ cwd: ROOT })
    for (const file of ['protocols/src/index.ts', 'node/src/worker.ts', 'coordinator/src/jobs/service.ts', 'planner/src/plan.ts', 'analyzer/src/index.ts', 'cli/src/options.ts', 'bench/index.ts', 'ui/src/app.tsx']) {
      const config = await eslint.calculateConfigForFile(`${ROOT}/${file}`) as { rules: Record<string, unknown[]> }
      expect({ file, cycle: config.rules['import-x/no-cycle']?.[0], lines: config.rules['max-lines']?.[0], fn: config.rules['max-lines-per-function']?.[0] })
        .toEqual({ file, cycle: 2, lines: 2, fn: 2 })
    }
  })
})

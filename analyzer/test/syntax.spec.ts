import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { analyze, PythonSyntaxError } from '../src/index.ts'
import { findSyntaxError } from '../src/grammar.ts'
import { parsePython } from '../src/parse.ts'
import { runPython } from '../../corpus/python.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BROKEN = fileURLToPath(new URL('./fixtures/broken/', import.meta.url))

/** What CPython's own compile() says of each source: [line, offset, message], or null when it compiles. */
async function cpython (sources: string[]): Promise<Array<[number, number, string] | null>> {
  const script = [
    'import json, sys, warnings',
    'warnings.simplefilter("ignore")',
    'out = []',
    'for src in json.load(sys.stdin):',
    '    try:',
    '        compile(src, "job.py", "exec")',
    '        out.append(None)',
    '    except SyntaxError as e:',
    '        out.append([e.lineno, e.offset, e.msg])',
    'print(json.dumps(out))',
    ''
  ].join('\n')
  return JSON.parse(await runPython(script, JSON.stringify(sources))) as Array<[number, number, string] | null>
}

function analyzerError (source: string): PythonSyntaxError | undefined {
  try {
    parsePython(source)
    return undefined
  } catch (err) {
    if (err instanceof PythonSyntaxError) return err
    throw err
  }
}

describe('syntax errors where Python reports them', () => {
  const files = readdirSync(BROKEN).filter(f => f.endsWith('.py')).sort()
  const sources = files.map(f => readFileSync(BROKEN + f, 'utf8'))

  it('has a corpus of broken jobs that Python itself refuses', async () => {
    expect(files.length).toBeGreaterThanOrEqual(30)
    const python = await cpython(sources)
    expect(python.filter(p => p === null).map((_p, i) => files[i])).toEqual([])
  })

  it('reports the line, column and message of /usr/bin/python3 for every broken job', async () => {
    const python = await cpython(sources)
    const mismatches = files.flatMap((file, i) => {
      const error = analyzerError(sources[i] ?? '')
      const [line, column, message] = python[i] ?? [0, 0, '']
      return error?.line === line && error.column === column && error.message.includes(message) ? [] : [`${file}: python ${line}:${column} ${message}; analyzer ${error?.line}:${error?.column} ${error?.message}`]
    })
    expect(mismatches).toEqual([])
  })

  it('puts a missing colon on the def line, where Python does, not where tree-sitter recovers', () => {
    const source = 'import json\n\n\ndef main(data)\n    total = 0\n    for x in data:\n        total += x\n    return total\n'
    const report = analyze(source)
    expect(report.error).toEqual({ code: 'SYNTAX_ERROR', line: 4, column: 15, message: "line 4, column 15: expected ':': def main(data)" })
  })

  it('agrees with Python on the line of every mutation of the corpus (and the column of nearly all)', async () => {
    const jobs = [
      ...readdirSync(ROOT + 'analyzer/test/fixtures').filter(f => f.endsWith('.py')).map(f => `${ROOT}analyzer/test/fixtures/${f}`),
      ...readdirSync(ROOT + 'test/fixtures/auto-corpus').filter(f => /^\d.*\.py$/.test(f)).map(f => `${ROOT}test/fixtures/auto-corpus/${f}`)
    ]
    const script = readFileSync(new URL('./helpers/mutate.py', import.meta.url), 'utf8')
    const broken = JSON.parse(await runPython(script, '', ['11', ...jobs])) as string[]
    expect(broken.length).toBeGreaterThan(400)
    const python = await cpython(broken)
    let sameLine = 0
    let sameColumn = 0
    const wrong: string[] = []
    broken.forEach((source, i) => {
      const expected = python[i]
      const got = findSyntaxError(source)
      if (expected === null || expected === undefined) {
        if (got === undefined) { sameLine++; sameColumn++ } else wrong.push(`valid, analyzer says ${JSON.stringify(got)}:\n${source}`)
        return
      }
      if (got?.line === expected[0]) sameLine++
      else wrong.push(`python ${JSON.stringify(expected)}, analyzer ${JSON.stringify(got)}:\n${source}`)
      if (got?.line === expected[0] && got.column === expected[1]) sameColumn++
    })
    expect(wrong).toEqual([])
    expect(sameLine).toBe(broken.length)
    expect(sameColumn / broken.length).toBeGreaterThan(0.97)
  })

  it('accepts every module of the standard library that Python compiles', async () => {
    const stdlib = (await runPython('import sysconfig; print(sysconfig.get_paths()["stdlib"])', '')).trim()
    const modules = readdirSync(stdlib).filter(f => f.endsWith('.py')).map(f => `${stdlib}/${f}`)
    const sources = modules.map(f => readFileSync(f, 'utf8'))
    const python = await cpython(sources)
    const refused = modules.filter((m, i) => python[i] === null && findSyntaxError(sources[i] ?? '') !== undefined)
    expect(modules.length).toBeGreaterThan(150)
    expect(refused).toEqual([])
  })
})

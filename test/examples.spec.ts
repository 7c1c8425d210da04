/**
 * The example jobs under examples/ (what `npm start` invites people to submit): the analyzer accepts each, and each
 * gives its result when run by the task runtime (python3 with the runtime's own input loaders; no sandbox needed).
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyze } from '../analyzer/src/index.ts'
import { ROOT, tempDir } from './helpers/index.ts'

const EXAMPLES = join(ROOT, 'examples')
const RUNNER = join(ROOT, 'node', 'src', 'runtime', 'runner.py')
const run = promisify(execFile)

let dir: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => { dir = await tempDir('runsurge-examples-') })
afterAll(async () => { await dir?.remove() })

/** Runs one function of a script over one input the way a node's task does; resolves with the parsed result. */
async function task (name: string, script: string, fn: string, mode: 'auto' | 'manual' | 'aggregate', input: { file?: string, text?: string, ext: string }): Promise<unknown> {
  const work = join(dir.path, name)
  await mkdir(work, { recursive: true })
  await copyFile(script, join(work, 'job.py'))
  const inputName = `input${input.ext}`
  if (input.file !== undefined) await copyFile(input.file, join(work, inputName))
  else await writeFile(join(work, inputName), input.text ?? '')
  await writeFile(join(work, 'runsurge-task.json'), JSON.stringify({ script: 'job.py', function: fn, mode, input: inputName, result: 'result.json', error: 'error.json' }))
  try {
    await run('python3', ['-I', RUNNER], { cwd: work })
  } catch (err) {
    throw new Error(`${name} failed: ${await readFile(join(work, 'error.json'), 'utf8').catch(() => String(err))}`)
  }
  return JSON.parse(await readFile(join(work, 'result.json'), 'utf8'))
}

describe('examples/', () => {
  it('holds only scripts the analyzer accepts', async () => {
    const scripts: Array<[string, 'auto' | 'manual']> = [
      ['auto/word_stats.py', 'auto'], ['auto/temperatures.py', 'auto'], ['manual/log_levels.py', 'manual'], ['grouped/sales_total.py', 'manual']
    ]
    for (const [script, mode] of scripts) {
      const report = analyze(await readFile(join(EXAMPLES, script), 'utf8'), { mode })
      expect(report.error, script).toBeUndefined()
      expect(report.status, script).toBe('accepted')
    }
    const aggregate = analyze(await readFile(join(EXAMPLES, 'grouped/sales_aggregate.py'), 'utf8'), { mode: 'manual' })
    expect(aggregate.findings.filter(f => f.ruleId !== 'template/process-missing' && ['ERROR', 'CRITICAL'].includes(f.severity))).toEqual([])
    expect((await readdir(join(EXAMPLES, 'auto'))).sort()).toEqual(['book.txt', 'temperatures.csv', 'temperatures.py', 'word_stats.py'])
  })

  it('runs the automatic examples', async () => {
    const words = await task('words', join(EXAMPLES, 'auto/word_stats.py'), 'main', 'auto', { file: join(EXAMPLES, 'auto/book.txt'), ext: '.txt' }) as { lines: number, top: Array<[string, number]> }
    expect(words.lines).toBe(180)
    expect(words.top).toHaveLength(10)
    const temperatures = await task('temperatures', join(EXAMPLES, 'auto/temperatures.py'), 'main', 'auto', { file: join(EXAMPLES, 'auto/temperatures.csv'), ext: '.csv' }) as Record<string, { readings: number, min: number, max: number }>
    expect(Object.keys(temperatures)).toEqual(['Cairo', 'Lima', 'Osaka', 'Oslo', 'Quito'])
    expect(temperatures.Oslo?.readings).toBe(60)
  })

  it('runs the manual example in chunks and aggregates them', async () => {
    const log = await readFile(join(EXAMPLES, 'manual/server-log.txt'), 'utf8')
    const lines = log.trimEnd().split('\n')
    const chunks = [lines.slice(0, 1500), lines.slice(1500, 2600), lines.slice(2600)].map(part => part.join('\n') + '\n')
    const script = join(EXAMPLES, 'manual/log_levels.py')
    const parts = await Promise.all(chunks.map(async (text, i) => await task(`log-${i}`, script, 'process', 'manual', { text, ext: '.log' })))
    const total = await task('log-aggregate', script, 'aggregate', 'aggregate', { text: JSON.stringify(parts), ext: '.json' }) as { chunks: number, counts: Record<string, number> }
    expect(total.chunks).toBe(3)
    expect(Object.values(total.counts).reduce((a, b) => a + b, 0)).toBe(lines.length)
  })

  it('runs the grouped example: one task per quarter, then the aggregation script', async () => {
    const quarters = await Promise.all([1, 2, 3].map(async q => await task(`q${q}`, join(EXAMPLES, 'grouped/sales_total.py'), 'process', 'manual', { file: join(EXAMPLES, `grouped/sales-q${q}.csv`), ext: '.csv' })))
    const result = await task('sales', join(EXAMPLES, 'grouped/sales_aggregate.py'), 'aggregate', 'aggregate', { text: JSON.stringify(quarters), ext: '.json' }) as { quarters: string[], orders: number }
    expect(result.quarters).toEqual(['Q1', 'Q2', 'Q3'])
    expect(result.orders).toBe(107 + 84 + 109)
  })
})

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { analyze, calibrate, CalibrationError, evaluate, fitUpper, sampleInput, SLOPE_MARGIN } from '../src/index.ts'
import { inputMemory } from '../src/memory.ts'
import { CORPUS, FIXTURES, inputText } from '../../corpus/analyzer.ts'
import type { CorpusJob } from '../../corpus/analyzer.ts'
import { measurePeaks, pythonRunner, runPython } from '../../corpus/python.ts'

/** Input sizes (elements) at which estimates are checked against measured peaks. */
const SIZES = [2_500, 10_000, 40_000]
/** Elements of the calibration sample (the CLI's default is larger; smaller keeps the suite fast). */
const SAMPLE = 1_000

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'analyzer-memory-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('memory estimates against measured peaks', () => {
  for (const job of CORPUS) {
    it(`${job.file}: calibrated estimate within 1.0 to 2.0 times the tracemalloc peak at ${SIZES.join(', ')} elements, static estimate above it`, async () => {
      const jobPath = join(FIXTURES, job.file)
      const source = readFileSync(jobPath, 'utf8')
      const paths: string[] = []
      for (const n of SIZES) {
        const path = join(dir, `${job.file}.${n}.${job.format}`)
        await writeFile(path, inputText(job, n))
        paths.push(path)
      }
      const measured = await measurePeaks(jobPath, job.format, paths)
      const largest = inputText(job, SIZES.at(-1) ?? 0)
      const sample = sampleInput(largest, job.format, SAMPLE)
      const report = await calibrate(source, {
        input: { format: job.format, elements: sample.elements, sample: sample.sample },
        sampleText: sample.text,
        sampleElements: sample.sample.length,
        runner: pythonRunner
      })
      expect(report.status).toBe('accepted')
      expect(report.memory?.basis).toBe('calibrated')
      const peak = report.memory?.peak ?? { fixed: 0, perElement: 0 }
      const ratios = SIZES.map((n, i) => evaluate(peak, n) / (measured[i] ?? 1))
      const staticReport = analyze(source, { input: { format: job.format, elements: sample.elements, sample: sample.sample } })
      const staticRatios = SIZES.map((n, i) => evaluate(staticReport.memory?.peak ?? peak, n) / (measured[i] ?? 1))
      console.log(`${job.file}: measured ${measured.join('/')} B; calibrated ×${ratios.map(r => r.toFixed(2)).join('/')}; static ×${staticRatios.map(r => r.toFixed(2)).join('/')}`)
      for (const ratio of ratios) {
        expect(ratio).toBeGreaterThanOrEqual(1.0)
        expect(ratio).toBeLessThanOrEqual(2.0)
      }
      // Without calibration the estimate is looser but still safe.
      for (const ratio of staticRatios) expect(ratio).toBeGreaterThanOrEqual(1.0)
    })
  }
})

describe('static object sizes', () => {
  it('sizes loaded inputs within 5–10% of what CPython allocates', async () => {
    const n = 5_000
    const results: string[] = []
    for (const job of CORPUS) {
      const text = inputText(job, n)
      const sample = sampleInput(text, job.format, n)
      const script = `import csv, io, json, sys, tracemalloc\ntext = sys.stdin.read()\ntracemalloc.start()\nfmt = ${JSON.stringify(job.format)}\nif fmt == 'json':\n    data = json.loads(text)\nelif fmt == 'csv':\n    data = list(csv.DictReader(io.StringIO(text)))\nelse:\n    data = text.splitlines()\nprint(tracemalloc.get_traced_memory()[0])\n`
      const measured = Number(await runPython(script, text))
      const estimated = evaluate(inputMemory(sample.sample, job.format), n)
      results.push(`${job.file}: ${(estimated / measured).toFixed(2)}`)
      expect(estimated / measured, job.file).toBeGreaterThan(0.95)
      expect(estimated / measured, job.file).toBeLessThan(1.10)
    }
    console.log(`static input size / measured: ${results.join(', ')}`)
  })
})

describe('calibration', () => {
  it('keeps every measured point under the fitted line', () => {
    const points: Array<[number, number]> = [[100, 9_000], [200, 17_500], [400, 36_000], [800, 70_000]]
    const fit = fitUpper(points)
    for (const [n, bytes] of points) expect(evaluate(fit, n)).toBeGreaterThanOrEqual(bytes)
    expect(fit.perElement).toBeCloseTo(92.5 * SLOPE_MARGIN, 3)
  })

  it('reports a job that crashes on its sample as a CalibrationError', async () => {
    const source = 'def main(data):\n    return [1 / (x - 3) for x in data]\n'
    const sample = sampleInput(JSON.stringify([1, 2, 3, 4]), 'json')
    await expect(calibrate(source, { input: { format: 'json', sample: sample.sample }, sampleText: sample.text, sampleElements: 4, runner: pythonRunner }))
      .rejects.toThrow(CalibrationError)
    await expect(calibrate(source, { input: { format: 'json', sample: sample.sample }, sampleText: sample.text, sampleElements: 4, runner: pythonRunner }))
      .rejects.toThrow('ZeroDivisionError')
  })

  it('does not run anything for a rejected job', async () => {
    let ran = false
    const report = await calibrate('import os\n\n\ndef main(data):\n    return data\n', {
      sampleText: '[1]',
      sampleElements: 1,
      runner: async () => {
        ran = true
        return ''
      }
    })
    expect(report.status).toBe('rejected')
    expect(ran).toBe(false)
  })

  it('attributes measurements to statements and times blocks', async () => {
    const source = readFileSync(join(FIXTURES, '04-broadcast.py'), 'utf8')
    const sample = sampleInput(inputText(CORPUS[3] as CorpusJob, 800), 'json')
    const report = await calibrate(source, { input: { format: 'json', sample: sample.sample, elements: 800 }, sampleText: sample.text, sampleElements: 800, runner: pythonRunner })
    expect(report.memory?.calibration?.sizes).toEqual([100, 200, 400, 800])
    // The map statement allocates a new list of floats per element; the reductions allocate ~nothing per element.
    const [sum, len, , map] = report.memory?.statements ?? []
    expect(map?.working.perElement).toBeGreaterThan(30)
    expect(sum?.working.perElement).toBeLessThan(2)
    expect(len?.working.perElement).toBeLessThan(2)
    for (const block of report.blocks ?? []) expect(block.seconds).toBeDefined()
  })

  it('measures each keyed accumulator and appended list of a loop on its own (a Counter of few keys next to a list of every element)', async () => {
    const source = [
      'from collections import Counter',
      '',
      '',
      'def main(data):',
      '    counts = Counter()',
      '    values = []',
      '    for x in data:',
      '        counts[x % 3] += 1',
      '        values.append(x * 0.5)',
      '    return counts, len(values)',
      ''
    ].join('\n')
    const text = Array.from({ length: 800 }, (_, i) => `${i * 7}`).join('\n') + '\n'
    const sample = sampleInput(text, 'jsonl')
    const report = await calibrate(source, { input: { format: 'jsonl', sample: sample.sample, elements: 800 }, sampleText: sample.text, sampleElements: 800, runner: pythonRunner })
    const loop = report.memory?.statements[2]
    // Three keys whatever the input; a float and a slot per element.
    expect(Object.keys(loop?.variables ?? {}).sort()).toEqual(['counts', 'values'])
    expect(loop?.variables?.counts?.perElement).toBeLessThan(1)
    expect(loop?.variables?.values?.perElement).toBeGreaterThan(24)
    expect(loop?.output.perElement).toBeGreaterThan(24)
  })
})

describe('calibration within a time budget', () => {
  // About 0.1 ms an element: the four prefixes of 800 (1,500 elements, traced and plain) take ~0.3 s or more.
  const source = 'def spin(x):\n    acc = x\n    for i in range(400):\n        acc = (acc * 31 + i) % 1000003\n    return acc\n\n\ndef main(data):\n    return sum(spin(x) for x in data)\n'
  const sample = sampleInput(JSON.stringify(Array.from({ length: 800 }, (_, i) => i)), 'json')
  const options = { input: { format: 'json' as const, sample: sample.sample, elements: 800 }, sampleText: sample.text, sampleElements: 800, runner: pythonRunner }

  it('measures every prefix size without a budget', async () => {
    expect((await calibrate(source, options)).memory?.calibration?.sizes).toEqual([100, 200, 400, 800])
  })

  it('measures only the smallest sizes its warm-up pace says fit a budget, smaller ones when none does, never fewer than two', async () => {
    const tight = await calibrate(source, { ...options, budgetSeconds: 0.000_001 })
    expect(tight.memory?.calibration?.sizes).toEqual([4, 8])
    for (const block of tight.blocks ?? []) expect(block.seconds?.perElement).toBeGreaterThan(0)
    const roomy = await calibrate(source, { ...options, budgetSeconds: 60 })
    expect(roomy.memory?.calibration?.sizes).toEqual([100, 200, 400, 800])
  })
})

describe('calibration on awkward samples', () => {
  it('skips small prefixes the job cannot run on, as long as the whole sample runs', async () => {
    // The first 300 numbers are even: max() of the odd ones fails on the 1/8 and 1/4 prefixes.
    const numbers = [...Array.from({ length: 300 }, () => 2), ...Array.from({ length: 500 }, (_, i) => i)]
    const sample = sampleInput(JSON.stringify(numbers), 'json')
    const report = await calibrate('def main(data):\n    odds = [x for x in data if x % 2 == 1]\n    return max(odds)\n', {
      input: { format: 'json', sample: sample.sample }, sampleText: sample.text, sampleElements: 800, runner: pythonRunner
    })
    expect(report.memory?.calibration?.sizes).toEqual([400, 800])
    expect(report.memory?.calibration?.skipped.map(s => s.n)).toEqual([100, 200])
    expect(report.memory?.calibration?.skipped[0]?.error).toContain('ValueError')
  })
})

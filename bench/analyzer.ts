/**
 * Analyzer benchmark (a script, not a test): time to analyze generated jobs of ~100, 1,000 and 5,000 lines, and the
 * tightness of the calibrated memory estimate (estimate ÷ measured tracemalloc peak) on every program of the
 * analyzer's corpus at three input sizes. Run: `node --import tsx bench/analyzer.ts`. Targets: under 1 s for 5,000
 * lines; every estimate between 1.0× and 2.0× the measured peak.
 *
 * The generated jobs look like real ones scaled up: about four fifths helper functions (pure element
 * functions, map and reduce helpers) and one fifth a `main` that chains maps, filters, reductions,
 * accumulator loops and opaque steps over the input.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyze, calibrate, evaluate, parsePython, sampleInput, scan } from '../analyzer/src/index.ts'
import { CORPUS, FIXTURES, inputText } from '../corpus/analyzer.ts'
import { measurePeaks, pythonRunner } from '../corpus/python.ts'
import { CORPUS as AUTO_CORPUS, programPath } from '../corpus/auto.ts'
import type { InputFormat } from '../analyzer/src/index.ts'
import { median } from '../protocols/src/index.ts'

function helper (i: number): string[] {
  switch (i % 4) {
    case 0: return [`def score_${i}(x):`, `    """Score one value (${i})."""`, `    y = x * ${i + 1} + math.sqrt(abs(x))`, `    return y if y > ${i} else -y`, '', '']
    case 1: return [`def clean_${i}(rows):`, `    return [r * ${i + 2} for r in rows if r is not None]`, '', '']
    case 2: return [`def total_${i}(rows):`, '    acc = 0', '    for r in rows:', `        acc += r * ${i}`, '    return acc', '', '']
    default: return [`def label_${i}(x):`, `    parts = [str(x), "${i}"]`, '    return "-".join(parts).upper()', '', '']
  }
}

function mainStatements (j: number, helpers: number): string[] {
  const h = (k: number): number => (j * 4 + k) % Math.max(helpers, 4)
  const round4 = (n: number, r: number): number => n - (n % 4) + r
  switch (j % 6) {
    case 0: return [`    a${j} = [score_${round4(h(0), 0)}(x) for x in data]`]
    case 1: return [`    b${j} = clean_${round4(h(1), 1)}(a${j - 1})`]
    case 2: return [`    s${j} = sum(b${j - 1})`, `    t${j} = total_${round4(h(2), 2)}(a${j - 2})`]
    case 3: return [`    m${j} = s${j - 1} / (len(data) + 1)`, `    c${j} = [v - m${j} for v in b${j - 2} if v > m${j}]`]
    case 4: return [`    k${j} = 0`, `    for v in c${j - 1}:`, '        if v > 0:', `            k${j} += v`]
    default: return [`    o${j} = sorted(c${j - 2})`, `    l${j} = [label_${round4(h(3), 3)}(v) for v in o${j}[:10]]`]
  }
}

/** A job of about `lines` lines. */
export function generateJob (lines: number): string {
  const out = ['"""Generated benchmark job."""', 'import math', '', '']
  const helperLines = Math.floor(lines * 0.8)
  let helpers = 0
  while (out.length < helperLines) out.push(...helper(helpers++))
  out.push('def main(data):')
  const results: string[] = []
  let j = 0
  while (out.length < lines - 2) {
    out.push(...mainStatements(j, helpers))
    if (j % 6 === 4) results.push(`k${j}`)
    j++
  }
  // Close the last 6-statement group so every name used is defined.
  while (j % 6 !== 0) {
    out.push(...mainStatements(j, helpers))
    if (j % 6 === 4) results.push(`k${j}`)
    j++
  }
  out.push(`    return [${results.slice(-50).join(', ')}]`, '')
  return out.join('\n')
}

function time (fn: () => void, runs: number): number {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    fn()
    samples.push(performance.now() - started)
  }
  return median(samples)
}

// Warm up: load rules, register the grammar, let V8 compile the analyzer.
analyze(generateJob(200))

console.log('| lines | statements in main | blocks | parse (ms) | parse + scan (ms) | full analysis (ms) |')
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |')
for (const target of [100, 1000, 5000]) {
  const source = generateJob(target)
  const report = analyze(source)
  if (report.status !== 'accepted') throw new Error(`generated job rejected: ${report.error?.message ?? ''}`)
  const runs = target >= 5000 ? 5 : 9
  const parse = time(() => parsePython(source), runs)
  const parseScan = time(() => scan(parsePython(source)), runs)
  const full = time(() => analyze(source), runs)
  const lineCount = source.split('\n').length - 1
  console.log(`| ${lineCount} | ${report.ddg?.nodes.length ?? 0} | ${report.blocks?.length ?? 0} | ${parse.toFixed(1)} | ${parseScan.toFixed(1)} | ${full.toFixed(1)} |`)
}

/** Input sizes (elements) at which estimates are compared with measured peaks, and the calibration sample's size. */
const TIGHTNESS_SIZES = [2_500, 10_000, 40_000]
const SAMPLE = 1_000

console.log('')
console.log(`| corpus program | measured peak at ${TIGHTNESS_SIZES.map(n => n.toLocaleString('en-US')).join(' / ')} elements | calibrated estimate ÷ measured |`)
console.log('| --- | ---: | ---: |')
const dir = await mkdtemp(join(tmpdir(), 'runsurge-bench-memory-'))
const ratios: number[] = []
/** Every program of the analyzer's corpus and of automatic mode's end-to-end corpus, with its input generator. */
const programs: Array<{ name: string, path: string, format: InputFormat, input: (n: number) => string }> = [
  ...CORPUS.map(job => ({ name: job.file, path: join(FIXTURES, job.file), format: job.format, input: (n: number) => inputText(job, n) })),
  ...AUTO_CORPUS.map((p, i) => ({
    name: `auto-corpus/${p.file}`,
    path: programPath(p.file),
    format: (p.ext === 'txt' ? 'lines' : p.ext) as InputFormat,
    input: (n: number) => p.input(n, 300 + i)
  }))
]
for (const program of programs) {
  const paths: string[] = []
  for (const n of TIGHTNESS_SIZES) {
    const path = join(dir, `${program.name.replace('/', '-')}.${n}.${program.format}`)
    await writeFile(path, program.input(n))
    paths.push(path)
  }
  const measured = await measurePeaks(program.path, program.format, paths)
  const sample = sampleInput(program.input(TIGHTNESS_SIZES.at(-1) ?? 0), program.format, SAMPLE)
  const report = await calibrate(readFileSync(program.path, 'utf8'), {
    input: { format: program.format, elements: sample.elements, sample: sample.sample }, sampleText: sample.text, sampleElements: sample.sample.length, runner: pythonRunner
  })
  const peak = report.memory?.peak ?? { fixed: 0, perElement: 0 }
  const own = TIGHTNESS_SIZES.map((n, i) => evaluate(peak, n) / (measured[i] ?? 1))
  ratios.push(...own)
  console.log(`| ${program.name} | ${measured.map(b => `${(b / 1024 / 1024).toFixed(2)} MiB`).join(' / ')} | ${own.map(r => r.toFixed(2)).join(' / ')} |`)
}
await rm(dir, { recursive: true, force: true })
console.log(`\ntightness: ${Math.min(...ratios).toFixed(2)} ${Math.max(...ratios).toFixed(2)} ${programs.length}`)

/**
 * Analyzer benchmark (a script, not a test): time to analyze generated jobs of ~100, 1,000 and 5,000 lines.
 * Run: `npx tsx bench/analyzer.ts`. Target: under 1 s for 5,000 lines.
 *
 * The generated jobs look like real ones scaled up: about four fifths helper functions (pure element
 * functions, map and reduce helpers) and one fifth a `main` that chains maps, filters, reductions,
 * accumulator loops and opaque steps over the input.
 */
import { analyze } from '../analyzer/src/index.ts'
import { parsePython } from '../analyzer/src/parse.ts'
import { scan } from '../analyzer/src/scan.ts'

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

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
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

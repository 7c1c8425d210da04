/**
 * Running bests by key in a loop (`if len(w) > len(longest): longest = w`, `if s > best_s: best_s = s; best = x`;
 * the analyzer's `BestStep`), as chunks and the aggregator run them. On a chunk the guarded replacement becomes
 * `<first variable>.offer(key, lambda: (values,))` on a `_RunsurgeBest` that all its variables are bound to: it keeps
 * the chunk's best candidate (and any earlier one whose values raised), or every candidate when the keys are not of
 * one totally ordered kind. The aggregator replays the candidates of every chunk, in order, from the variables'
 * initial values, comparing keys exactly as the user's condition does (`_runsurge_best` in partials/bests.py).
 */
import type { Accumulator, BestStep, DdgNode } from '../../analyzer/src/index.ts'
import { IDENTIFIER } from './python-source.ts'

/** The chunk-side start of a `best` accumulator: the first variable of its step holds the recorder, the others name it. */
export function bestStart (a: Accumulator, indent: string): string {
  const step = a.best as BestStep
  if (step.keyed !== undefined) return `${indent}${a.variable} = _RunsurgeKeyedBest(${step.elementFirst ? 'True' : 'False'}, '${step.operator}')`
  const first = step.variables[0] ?? a.variable
  return a.variable === first
    ? `${indent}${a.variable} = _RunsurgeBest(${step.elementFirst ? 'True' : 'False'}, '${step.operator}', ${step.noneCheck === undefined ? 'None' : step.variables.indexOf(step.noneCheck)})`
    : `${indent}${a.variable} = ${first}`
}

/**
 * A loop's lines as a chunk runs them: each running best's if statement replaced by its recorder's `offer`, on as many
 * lines as it took (the others blank), so every other line keeps its number.
 */
export function chunkLoopLines (lines: readonly string[], line: number, endLine: number, accumulators: Accumulator[]): string[] {
  const out = lines.slice(line - 1, endLine)
  const steps = new Set(accumulators.flatMap(a => a.best === undefined ? [] : [a.best]))
  for (const step of steps) {
    const first = step.variables[0] ?? ''
    const key = step.keyed === undefined ? '' : `lambda: (${step.keyed}), `
    const offer = `${step.indent}${first}.offer(${key}lambda: (${step.element}), lambda: (${step.values.join(', ')},))`.split('\n')
    const span = step.endLine - step.line + 1
    // The key and the values are parts of the if statement: the call never takes more lines than it did.
    for (let i = 0; i < span; i++) out[step.line - line + i] = offer[i] ?? ''
  }
  return out
}

/** Whether a loop's running bests can be rewritten for the chunks (a step's lines inside the loop, one call's worth). */
export function bestProblem (accumulators: Accumulator[], line: number, endLine: number, nodes: DdgNode[]): string | undefined {
  const locals = new Set(nodes.flatMap(n => n.writes))
  for (const a of accumulators) {
    const step = a.best
    if (a.op !== 'best' && a.op !== 'kbest') continue
    if (step === undefined) return `${a.variable} keeps a running best whose step is unknown`
    if (step.line < line || step.endLine > endLine) return `${a.variable}'s running best lies outside its loop`
    const group = accumulators.filter(b => b.best === step).map(b => b.variable)
    if (step.variables.some(v => !group.includes(v))) return `${a.variable}'s running best replaces variables the loop does not accumulate`
    // The aggregator evaluates the state's key where main's other variables hold other values.
    const other = (step.state.match(new RegExp(`(?<![.\\p{L}\\p{N}_])${IDENTIFIER}`, 'gu')) ?? []).find(n => locals.has(n) && !step.variables.includes(n))
    if (other !== undefined) return `${a.variable}'s running best compares by ${step.state}, which reads ${other}, a variable of main`
  }
  return undefined
}

/** The partial of one of a running best's variables: its step, every variable's initial value and its position. */
export function bestPartial (a: Accumulator, accumulators: Accumulator[]): { kind: 'best', step: BestStep, starts: string[], index: number } {
  const step = a.best as BestStep
  const starts = step.variables.map(v => accumulators.find(b => b.variable === v)?.init ?? 'None')
  return { kind: 'best', step, starts, index: step.variables.indexOf(a.variable) }
}

/** Python for a running best per key (a dict) from its chunks' candidates per key, `parts[c][i]` being chunk c's. */
export function keyedBestCombine (step: BestStep, start: string, parts: string, i: number): string {
  const name = step.variables[0] ?? '_runsurge_v'
  return `_runsurge_keyed_best(${parts}, ${i}, ${start}, ${step.elementFirst ? 'True' : 'False'}, '${step.operator}', lambda ${name}: (${step.state}))`
}

/**
 * Python for the values of a running best's variables (a tuple) from its candidates, `parts[c][i]` being chunk c's,
 * replayed from `start` (Python for a tuple of the variables' values before the loop).
 */
export function bestCombine (step: BestStep, start: string, parts: string, i: number): string {
  const none = step.noneCheck === undefined ? 'None' : String(step.variables.indexOf(step.noneCheck))
  return `_runsurge_best(${parts}, ${i}, ${start}, ${step.elementFirst ? 'True' : 'False'}, '${step.operator}', lambda ${step.variables.join(', ')}: (${step.state}), ${none})`
}

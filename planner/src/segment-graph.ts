/**
 * Main's statements as the level-2 planner sees them (segments.ts): who reads what from whom, what a set of
 * statements needs in memory and time, and the Python of a segment task.
 */
import { evaluate } from '../../analyzer/src/index.ts'
import { PARTIALS_RUNTIME } from './codegen.ts'
import { ENCODING_FACTOR, PYTHON_OVERHEAD_BYTES, TASK_STARTUP_SECONDS, TRANSFER_BYTES_PER_SECOND } from './cost.ts'
import { writerBefore } from './fusion.ts'
import { mentions } from './python-source.ts'
import type { AnalysisReport, DdgNode } from '../../analyzer/src/index.ts'
import type { MainLayout } from './python-source.ts'

/** The function a segment task calls (names starting with `_runsurge` are reserved, so it cannot clash). */
export const SEGMENT_FUNCTION = '_runsurge_segment'
/** Loading input holds a little more than the result while it is built (as in cost.ts). */
const LOAD_MARGIN = 1.25

/** One task of a level-2 plan. */
export interface Segment {
  /** Main's statements it runs (DDG ids, ascending). */
  statements: number[]
  /** First and last line of each of its statements' runs. */
  lines: Array<[number, number]>
  /** Segments whose values it receives, in the order its results arrive. */
  dependsOn: number[]
  /** The variables received from each of `dependsOn`, in the order that segment sends them. */
  receives: string[][]
  /** Variables it sends to later segments, in order. */
  sends: string[]
  /** It reads main's parameter: the task gets the input file. */
  readsData: boolean
  /** It runs main's last statement: its output is the job's result. */
  final: boolean
  memoryBytes: number
  /** Calibrated seconds of its statements (when the report is calibrated). */
  seconds?: number
  script: string
}

/** Main's statements with who reads what from whom, sizes and code generation. */
export class Graph {
  readonly nodes: DdgNode[]
  private readonly layout: MainLayout
  private readonly param: string
  private readonly report: AnalysisReport
  private readonly n: number
  private readonly sourceCache = new Map<number, number[]>()

  constructor (nodes: DdgNode[], layout: MainLayout, param: string, report: AnalysisReport, n: number) {
    this.nodes = nodes
    this.layout = layout
    this.param = param
    this.report = report
    this.n = n
  }

  /** The statements whose values statement `s` reads (the last writer before it of each name it reads). */
  sources (s: number): number[] {
    const cached = this.sourceCache.get(s)
    if (cached !== undefined) return cached
    const out = new Set<number>()
    for (const v of [...(this.nodes[s]?.reads ?? []), ...(this.nodes[s]?.mutates ?? [])]) {
      const w = this.writer(v, s)
      if (w !== undefined) out.add(w)
    }
    const sources = [...out].sort((a, b) => a - b)
    this.sourceCache.set(s, sources)
    return sources
  }

  private writer (variable: string, before: number): number | undefined {
    return writerBefore(this.nodes, variable, before)
  }

  /** Whether any of the statements reads main's parameter (directly or in a nested scope). */
  readsData (statements: number[]): boolean {
    return statements.some(s => {
      const node = this.nodes[s]
      if (node === undefined) return false
      if (node.reads.includes(this.param) && this.writer(this.param, s) === undefined) return true
      return mentions(this.layout.masked.slice(node.line - 1, node.endLine).join('\n'), this.param) && this.writer(this.param, s) === undefined
    })
  }

  /** Variables statement set `statements` receives from statements outside it, with their writers. */
  received (statements: number[]): Map<string, number> {
    const inside = new Set(statements)
    const out = new Map<string, number>()
    for (const s of statements) {
      for (const v of [...(this.nodes[s]?.reads ?? []), ...(this.nodes[s]?.mutates ?? [])]) {
        const w = this.writer(v, s)
        if (w !== undefined && !inside.has(w)) out.set(v, w)
      }
    }
    return out
  }

  private output (s: number): number {
    const f = this.report.memory?.statements[s]?.output
    return f === undefined ? 0 : evaluate(f, this.n)
  }

  /**
   * Bytes a task running `statements` needs: the values it receives (decoded next to their encoding), the input
   * when it reads it, its statements' own allocations on top of what it has bound so far, the values it sends
   * (encoded), and the Python process. The head (statement 0 onwards, holding the input like the original) is
   * sized by the analyzer's whole-process peaks instead.
   */
  memory (statements: number[], sends: string[] = []): number {
    const inside = new Set(statements)
    const memory = this.report.memory
    if (memory === undefined) return Number.POSITIVE_INFINITY
    const received = [...this.received(statements).values()].reduce((t, w) => t + this.output(w), 0) * ENCODING_FACTOR
    const data = this.readsData(statements) ? Math.ceil(evaluate(memory.data, this.n) * LOAD_MARGIN) : 0
    const sent = sends.reduce((t, v) => {
      const w = [...inside].filter(s => this.nodes[s]?.writes.includes(v) === true).sort((a, b) => b - a)[0]
      return t + (w === undefined ? 0 : this.output(w))
    }, 0) * ENCODING_FACTOR
    if (inside.has(0)) {
      // The head: the analyzer's peaks already count the input and everything live before each statement.
      const peak = Math.max(0, ...statements.map(s => evaluate(memory.statements[s]?.peak ?? { fixed: 0, perElement: 0 }, this.n)))
      return peak + sent + PYTHON_OVERHEAD_BYTES
    }
    let bound = 0
    let own = 0
    for (const s of [...statements].sort((a, b) => a - b)) {
      const working = memory.statements[s]?.working
      own = Math.max(own, bound + (working === undefined ? 0 : evaluate(working, this.n)))
      bound += this.output(s)
    }
    return received + data + Math.max(own, bound + sent) + PYTHON_OVERHEAD_BYTES
  }

  /**
   * The segments of `clusters` (each a list of statement lists) with their code: ordered by first statement, except
   * the one that runs main's last statement (and returns the result), which comes last.
   */
  segments (clusters: number[][][]): Segment[] {
    const last = this.nodes.length - 1
    const sets = clusters.map(c => c.flat().sort((a, b) => a - b))
      .sort((a, b) => Number(a.includes(last)) - Number(b.includes(last)) || (a[0] ?? 0) - (b[0] ?? 0))
    const owner = new Map<number, number>()
    sets.forEach((set, i) => { for (const s of set) owner.set(s, i) })
    // What each segment sends: the variables others receive from it, in first-needed order.
    const sends: string[][] = sets.map(() => [])
    const receives = sets.map(set => {
      const byFrom = new Map<number, string[]>()
      for (const [v, w] of this.received(set)) {
        const from = owner.get(w) as number
        byFrom.set(from, [...(byFrom.get(from) ?? []), v])
        if (!(sends[from] as string[]).includes(v)) (sends[from] as string[]).push(v)
      }
      return byFrom
    })
    return sets.map((set, i) => {
      const byFrom = receives[i] as Map<number, string[]>
      const dependsOn = [...byFrom.keys()].sort((a, b) => a - b)
      // Each receiving list follows the sender's order.
      const receiving = dependsOn.map(d => (sends[d] as string[]).filter(v => (byFrom.get(d) as string[]).includes(v)))
      const seconds = this.report.blocks?.every(b => b.seconds !== undefined) === true ? this.secondsOf(set) : undefined
      const segment: Segment = {
        statements: set,
        lines: runs(set.map(s => [this.nodes[s]?.line ?? 0, this.nodes[s]?.endLine ?? 0])),
        dependsOn,
        receives: receiving,
        sends: sends[i] as string[],
        readsData: this.readsData(set),
        final: set.includes(last),
        memoryBytes: this.memory(set, sends[i]),
        ...(seconds !== undefined ? { seconds } : {}),
        script: ''
      }
      segment.script = this.script(segment, dependsOn.map(d => sends[d] as string[]))
      return segment
    })
  }

  /** Calibrated seconds of the blocks `statements` belong to. */
  secondsOf (statements: number[]): number {
    const ids = new Set<number>()
    for (const b of this.report.blocks ?? []) if (b.statements.some(s => statements.includes(s))) ids.add(b.id)
    let t = 0
    for (const id of ids) {
      const s = this.report.blocks?.[id]?.seconds
      if (s !== undefined) t += s.fixed + s.perElement * this.n
    }
    return t
  }

  /** Estimated completion of the segments: each starts when the ones it reads from are done. */
  criticalPath (segments: Segment[]): number {
    const finish = new Map<number, number>()
    const time = (i: number): number => {
      const known = finish.get(i)
      if (known !== undefined) return known
      const seg = segments[i] as Segment
      const ready = Math.max(0, ...seg.dependsOn.map(time))
      const received = [...this.received(seg.statements).values()].reduce((t, w) => t + this.output(w), 0) * ENCODING_FACTOR
      const done = ready + TASK_STARTUP_SECONDS + received / TRANSFER_BYTES_PER_SECOND + (seg.seconds ?? 0)
      finish.set(i, done)
      return done
    }
    return Math.max(0, ...segments.map((_, i) => time(i)))
  }

  /** The user's module with main blanked, the partials runtime, and the segment's function. */
  private script (segment: Segment, senders: string[][]): string {
    const { lines, indent, defLine, endLine } = this.layout
    const module = lines.map((line, i) => (i + 1 >= defLine && i + 1 <= endLine) ? '' : line)
    const body: string[] = []
    if (segment.dependsOn.length > 0) {
      body.push(`${indent}_runsurge_parts = _runsurge_decode_inputs(_runsurge_results, [${senders.map(s => s.length).join(', ')}])`)
      segment.receives.forEach((variables, i) => {
        for (const v of variables) body.push(`${indent}${v} = _runsurge_parts[${i}][${senders[i]?.indexOf(v) ?? -1}]`)
      })
      body.push(`${indent}del _runsurge_parts`)
    }
    body.push(`${indent}del _runsurge_results`)
    for (const s of segment.statements) {
      const node = this.nodes[s]
      if (node !== undefined) body.push(...lines.slice(node.line - 1, node.endLine))
    }
    if (!segment.final) body.push(`${indent}return _runsurge_partials([${segment.sends.join(', ')}])`)
    return [
      ...module,
      '',
      '',
      PARTIALS_RUNTIME.trimEnd(),
      '',
      '',
      `# ---- part of main (generated by the RunSurge planner from main, lines ${defLine}-${endLine}) ----`,
      `def ${SEGMENT_FUNCTION}(${this.param}, _runsurge_results):`,
      ...body,
      ''
    ].join('\n')
  }
}

/** Merges adjacent line ranges. */
function runs (ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const [a, b] of ranges) {
    const prev = out.at(-1)
    if (prev !== undefined && a <= prev[1] + 1) prev[1] = Math.max(prev[1], b)
    else out.push([a, b])
  }
  return out
}

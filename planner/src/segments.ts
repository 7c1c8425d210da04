/**
 * Level 2 and task parallelism: main's statements as a graph of tasks ("segments"). Each segment runs some of
 * main's statements on a node of its own and receives the values it reads from the segments that computed them,
 * encoded exactly (`partials/encoding.py`); segments that do not need each other's values run at the same time.
 *
 * What makes this exact: every value crosses between processes as a copy, so a statement may only ever see a
 * value that nothing changes afterwards. Hence the **head** — main's statements up to the last one that changes a
 * value in place (`xs.append`, `d[k] = v`, an impure call), rebinds a name, or has effects beyond its locals — always
 * runs as one segment, in order, like the original; only the **tail** after it is cut, and the tail's statements
 * each bind fresh names once, call only pure functions and never mutate. A program that may end early (a `return`
 * or `raise` before the end) is not cut at all.
 *
 * Segments are formed from the analyzer's blocks (never cutting one):
 * - for memory (level 2, when the whole program does not fit): consecutive blocks are merged while the merged
 *   footprint fits the largest node, each segment then runs on the smallest node it fits;
 * - for time (when the analysis is calibrated): a dependent chain of blocks stays in one segment, blocks that are
 *   independent of each other start segments of their own when each is worth a task start-up, light blocks join
 *   the segment they read from; the plan is kept only when its critical path beats the sequential run.
 */
import { TASK_STARTUP_SECONDS } from './cost.ts'
import { formatBytes } from '../../protocols/src/units.ts'
import { mainOf } from './fusion.ts'
import { Graph } from './segment-graph.ts'
import type { AnalysisReport, DdgNode } from '../../analyzer/src/index.ts'
import type { Segment } from './segment-graph.ts'

export { SEGMENT_FUNCTION } from './segment-graph.ts'
export type { Segment } from './segment-graph.ts'

/** A parallel plan must beat the sequential estimate by this factor to be chosen. */
const PARALLEL_GAIN = 0.9
/** Statement kinds that never belong to the tail. */
const HEAD_ONLY_KINDS = new Set(['delete_statement', 'global_statement', 'nonlocal_statement', 'import_statement', 'import_from_statement'])

export interface SegmentPlan {
  segments: Segment[]
  reasons: string[]
  /** Estimated completion time of the segments and of one sequential run (calibrated reports only). */
  seconds?: { parallel: number, sequential: number }
}

interface Unit {
  statements: number[]
  seconds?: number
}

/**
 * Cuts main into segments, for memory (`purpose: 'memory'`: every segment must fit `largest`) or for time
 * (`'time'`: only when calibrated times say the segments finish sooner than one run). Returns the reason when it
 * does not apply.
 */
export function planSegments (source: string, report: AnalysisReport, n: number, largest: number, purpose: 'memory' | 'time'): SegmentPlan | { reason: string } {
  if (report.memory === undefined) return { reason: 'the analysis has no memory estimate' }
  const main = mainOf(source, report)
  if ('reason' in main) return main
  const { blocks, layout, param } = main
  const nodes = main.ddg.nodes
  const early = nodes.find(node => node.exits)
  if (early !== undefined) return { reason: `line ${early.line} may end main early, so every statement after it depends on it` }

  // Which locals held values that cannot be copied to another task is only known from running the job.
  const calibration = report.memory.calibration
  if (calibration === undefined) return { reason: 'the job was not calibrated on a sample, so which of its values can be copied between tasks is unknown' }
  const blockOf: number[] = []
  for (const b of blocks) for (const s of b.statements) blockOf[s] = b.id
  const head = headLength(nodes, blocks.map(b => b.statements), blockOf, new Set(calibration.unencodable))
  if (head.length >= nodes.length) return { reason: head.why ?? 'nothing after the last in-place change to cut' }
  const sideEffects = nodes.slice(0, head.length).find(node => node.sideEffects.length > 0)
  if (sideEffects !== undefined) return { reason: `line ${sideEffects.line} ${sideEffects.sideEffects[0] ?? 'has side effects'}, which later statements in other processes would not see` }

  const calibrated = (report.blocks ?? []).every(b => b.seconds !== undefined)
  if (purpose === 'time' && !calibrated) return { reason: 'no calibrated times to weigh task start-ups against' }
  const graph = new Graph(nodes, layout, param, report, n)
  const unitOf = (statements: number[]): Unit => ({ statements, ...(calibrated ? { seconds: graph.secondsOf(statements) } : {}) })
  const units: Unit[] = []
  if (head.length > 0) units.push(unitOf(range(0, head.length)))
  for (let s = head.length; s < nodes.length;) {
    const block = blockOf[s]
    const members = block === undefined ? [s] : (blocks[block]?.statements ?? [s])
    units.push(unitOf(members))
    s = Math.max(...members) + 1
  }

  let clusters = purpose === 'memory' ? pipeline(units, graph, largest) : parallel(units, graph, largest)
  clusters = absorbConsumersOfFinal(clusters, graph)
  if (clusters.length < 2) {
    const held = head.why !== undefined ? ` (lines up to ${nodes[head.length - 1]?.endLine ?? 0} run together: ${head.why})` : ''
    return { reason: (purpose === 'memory' ? 'no cut leaves parts that each fit' : 'no two parts of main are worth running at the same time') + held }
  }
  const segments = graph.segments(clusters)
  const tooBig = segments.find(seg => seg.memoryBytes > largest)
  if (tooBig !== undefined) {
    const worst = nodes[tooBig.statements[0] ?? 0]
    return { reason: `the part at line ${worst?.line ?? 1} (\`${worst?.text ?? ''}\`) needs about ${formatBytes(tooBig.memoryBytes)}, more than the largest node's ${formatBytes(largest)}` }
  }
  const reasons = [
    `main is cut into ${segments.length} parts` +
      (head.length > 0 ? ` (lines up to ${nodes[head.length - 1]?.endLine ?? 0} run together: ${head.why ?? 'they change values in place'})` : ''),
    ...segments.map((seg, i) => `part ${i + 1}: lines ${seg.lines.map(([a, b]) => a === b ? `${a}` : `${a}-${b}`).join(', ')}` +
      (seg.dependsOn.length > 0 ? `, after part${seg.dependsOn.length > 1 ? 's' : ''} ${seg.dependsOn.map(d => d + 1).join(', ')} (${seg.receives.flat().join(', ')})` : ', from the start') +
      `, ~${formatBytes(seg.memoryBytes)}${seg.seconds !== undefined ? `, ~${seg.seconds.toFixed(2)} s` : ''}${seg.final ? ', returns the result' : ''}`)
  ]
  if (!calibrated) return { segments, reasons }
  const sequential = TASK_STARTUP_SECONDS + units.reduce((t, u) => t + (u.seconds ?? 0), 0)
  const parallelTime = graph.criticalPath(segments)
  if (purpose === 'time' && parallelTime >= sequential * PARALLEL_GAIN) {
    return { reason: `running parts at the same time would not be faster: ~${parallelTime.toFixed(2)} s vs ~${sequential.toFixed(2)} s in one run (calibrated)` }
  }
  reasons.push(`calibrated estimate: ~${parallelTime.toFixed(2)} s for the parts vs ~${sequential.toFixed(2)} s in one run` +
    (purpose === 'memory' ? ' (that one run does not fit any node)' : ''))
  return { segments, reasons, seconds: { parallel: parallelTime, sequential } }
}

/**
 * Statements `[0, length)` run together: up to the last one that changes a value in place, rebinds a name, has
 * effects beyond its locals or is of a kind the tail excludes — never ending inside a block.
 */
function headLength (nodes: DdgNode[], blockStatements: number[][], blockOf: number[], pinned: Set<string>): { length: number, why?: string } {
  const writers = new Map<string, number>()
  for (const node of nodes) for (const w of node.writes) writers.set(w, (writers.get(w) ?? 0) + 1)
  let length = 0
  let why: string | undefined
  nodes.forEach((node, i) => {
    const uncopyable = [...node.reads, ...node.writes].filter(v => pinned.has(v))
    const reason = uncopyable.length > 0
      ? `line ${node.line} uses ${[...new Set(uncopyable)].join(', ')}, which held a value that cannot be copied to another task (a function, generator, iterator, file…)`
      : node.mutates.length > 0
        ? `line ${node.line} changes ${node.mutates.join(', ')} in place`
        : node.sideEffects.length > 0
          ? `line ${node.line} ${node.sideEffects[0] ?? 'has side effects'}`
          : HEAD_ONLY_KINDS.has(node.kind)
            ? `line ${node.line} is a ${node.kind.replace('_statement', '')} statement`
            : node.writes.some(w => (writers.get(w) ?? 0) > 1)
              ? `line ${node.line} binds ${node.writes.filter(w => (writers.get(w) ?? 0) > 1).join(', ')}, which main binds more than once`
              : undefined
    if (reason !== undefined) {
      length = i + 1
      why = reason
    }
  })
  // Never end inside a block: a loop and the initialisers of its accumulators go together.
  for (let changed = true; changed;) {
    changed = false
    for (let s = 0; s < length; s++) {
      const members = blockStatements[blockOf[s] ?? -1] ?? [s]
      const last = Math.max(...members)
      if (last >= length) {
        length = last + 1
        changed = true
      }
    }
  }
  return why === undefined ? { length } : { length, why }
}

/** Memory-driven: consecutive units merged while the merged footprint fits. */
function pipeline (units: Unit[], graph: Graph, largest: number): number[][][] {
  const clusters: number[][][] = []
  let current: number[][] = []
  for (const unit of units) {
    const merged = [...current, unit.statements]
    if (current.length === 0 || graph.memory(merged.flat()) <= largest) current = merged
    else {
      clusters.push(current)
      current = [unit.statements]
    }
  }
  if (current.length > 0) clusters.push(current)
  return clusters
}

/**
 * Time-driven: every unit worth a task start-up (and the head) is a segment of its own; a lighter unit joins the
 * segment of the latest unit it reads from (the head when it reads from nobody); segments caught in a cycle are
 * merged; then a segment whose only source is a segment with no other consumer joins it, so a dependent chain runs
 * as one task and only independent work runs apart.
 */
function parallel (units: Unit[], graph: Graph, largest: number): number[][][] {
  const unitOf = new Map<number, number>()
  units.forEach((unit, i) => { for (const s of unit.statements) unitOf.set(s, i) })
  // Each unit's cluster; a cluster's direct sources grow as units join it (always with sources it already had).
  const cluster: number[] = []
  const sourcesOf = new Map<number, Set<number>>()
  const ancestors = (c: number): Set<number> => {
    const seen = new Set<number>()
    const stack = [...(sourcesOf.get(c) ?? [])]
    while (stack.length > 0) {
      const x = stack.pop() as number
      if (seen.has(x)) continue
      seen.add(x)
      stack.push(...(sourcesOf.get(x) ?? []))
    }
    return seen
  }
  units.forEach((unit, i) => {
    const sources = new Set(unit.statements.flatMap(s => graph.sources(s)).map(w => cluster[unitOf.get(w) ?? -1] ?? -1).filter(c => c >= 0))
    const heavy = (unit.seconds ?? 0) >= TASK_STARTUP_SECONDS || i === 0
    // A light unit joins a cluster that already waits for all its other sources (so the join costs no waiting),
    // or the first cluster when it reads from nobody; otherwise it is a join of its own.
    let home: number | undefined
    if (!heavy) {
      if (sources.size === 0) home = 0
      else home = [...sources].find(c => [...sources].every(o => o === c || ancestors(c).has(o)))
    }
    if (home === undefined) {
      cluster[i] = i
      sourcesOf.set(i, sources)
    } else {
      cluster[i] = home
      sourcesOf.set(home, new Set([...(sourcesOf.get(home) ?? []), ...[...sources].filter(c => c !== home)]))
    }
  })
  let groups = condense(units, cluster, graph)
  // Chains: a group with a single source group that feeds nothing else joins it, when the two fit together.
  for (let merged = true; merged;) {
    merged = false
    const deps = groups.map(g => groupDeps(g, groups, graph))
    for (let c = 0; c < groups.length && !merged; c++) {
      const sources = deps[c] as Set<number>
      if (sources.size !== 1) continue
      const p = [...sources][0] as number
      const consumers = deps.filter(d => d.has(p)).length
      const together = [...(groups[p] as number[]), ...(groups[c] as number[])]
      if (consumers !== 1 || graph.memory(together) > largest) continue
      groups[p] = together.sort((a, b) => a - b)
      groups.splice(c, 1)
      merged = true
    }
  }
  groups = groups.filter(g => g.length > 0)
  return groups.map(g => [g])
}

/** Statement sets of the clustering, with any cycle between them merged away (strongly connected components). */
function condense (units: Unit[], cluster: number[], graph: Graph): number[][] {
  const ids = [...new Set(cluster)]
  let groups = ids.map(id => units.flatMap((u, i) => cluster[i] === id ? u.statements : []).sort((a, b) => a - b))
  for (let changed = true; changed;) {
    changed = false
    const deps = groups.map(g => groupDeps(g, groups, graph))
    const reach = (from: number, to: number): boolean => {
      const seen = new Set<number>()
      const stack = [from]
      while (stack.length > 0) {
        const c = stack.pop() as number
        if (c === to) return true
        if (seen.has(c)) continue
        seen.add(c)
        stack.push(...(deps[c] ?? []))
      }
      return false
    }
    for (let a = 0; a < groups.length && !changed; a++) {
      for (const b of deps[a] ?? []) {
        if (b !== a && reach(b, a)) {
          groups[a] = [...(groups[a] as number[]), ...(groups[b] as number[])].sort((x, y) => x - y)
          groups.splice(b, 1)
          changed = true
          break
        }
      }
    }
  }
  groups = groups.filter(g => g.length > 0)
  return groups
}

/** The groups whose statements `group` reads from. */
function groupDeps (group: number[], groups: number[][], graph: Graph): Set<number> {
  const deps = new Set<number>()
  for (const s of group) {
    for (const w of graph.sources(s)) {
      if (group.includes(w)) continue
      const g = groups.findIndex(other => other.includes(w))
      if (g >= 0) deps.add(g)
    }
  }
  return deps
}

/** The segment holding main's last statement must send nothing: whatever reads from it joins it. */
function absorbConsumersOfFinal (clusters: number[][][], graph: Graph): number[][][] {
  const out = clusters.map(c => c.flat())
  const last = graph.nodes.length - 1
  for (let changed = true; changed;) {
    changed = false
    const f = out.findIndex(c => c.includes(last))
    const final = out[f] ?? []
    for (let c = 0; c < out.length; c++) {
      if (c === f) continue
      const reads = (out[c] ?? []).some(s => graph.sources(s).some(w => final.includes(w)))
      if (reads) {
        final.push(...(out[c] ?? []))
        out.splice(c, 1)
        changed = true
        break
      }
    }
  }
  return out.map(c => [c.sort((a, b) => a - b)])
}

function range (from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)
}

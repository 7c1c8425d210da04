/**
 * Reductions hoisted into the chunk tasks, and the rounds they need.
 *
 * A collection that lives on the chunks (`data` itself, or a list a fused map built element by element) need not
 * travel to the aggregator when everything after the split part reads it only through reductions the analyzer
 * found (`report.reductions`): `len(ys)`, `sum(x * x for x in xs)`, `max(words, key=len)` inside a returned dict,
 * arithmetic or a call. Each chunk computes every such site on its own elements and sends the partial value; the
 * aggregator runs the rest of main unchanged except that each site is replaced by the combination of its
 * partials, in chunk order (sum and len added onto the start value, min and max the first best element, any and
 * all the first decisive chunk; an exception is raised where the sequential run would evaluate the site).
 *
 * A site whose element code reads a value computed after the split part (`sum((x - m) ** 2 for x in xs)` with
 * `m = sum(xs) / len(xs)`) runs in a later **round**: a small stage task combines the earlier rounds' partials,
 * runs the statements that compute `m`, and broadcasts it; the next round's chunk tasks run on the nodes that
 * already hold their chunk. Round of a site = 1 + the round of the values it reads (values of the split part and
 * of round-1 sites are known after round 1).
 *
 * Conservative: a collection is kept on the chunks only when every later mention of it is inside a hoistable
 * site; otherwise it is shipped to the aggregator as before and its sites run there, as written.
 */
import type { DdgNode, ReductionSite, ReductionSites, SiteOp } from '../../../analyzer/src/index.ts'

/** Most rounds of chunk tasks in one job: a site needing more is not hoisted. */
export const MAX_ROUNDS = 4

/** A reduction computed on the chunks. */
export interface HoistedSite {
  site: ReductionSite
  /** 1-based round whose chunk tasks compute it. */
  round: number
}

export interface Hoist {
  /** Collections that stay on the chunks (never sent to the aggregator). */
  kept: Set<string>
  /** Hoisted sites, in source order. */
  sites: HoistedSite[]
  /** Rounds of chunk tasks (1 when no site needs a value computed after the split part). */
  rounds: number
  /**
   * Per round r ≥ 2 (index r - 2): the locals its sites read (broadcast by the stage task before it) and the rest
   * statements the stage runs to compute them, in source order.
   */
  stages: Array<{ broadcast: string[], statements: number[] }>
  /** Why collections or sites stay as they were. */
  reasons: string[]
}

export interface HoistInput {
  nodes: DdgNode[]
  /** Statements `[0, fused)` run on the chunks. */
  fused: number
  param: string
  /** Collections that hold, on each chunk, exactly that chunk's elements: the parameter and fused maps' lists. */
  chunkLists: Set<string>
  /** Values the split part computes that the aggregator combines (known after round 1). */
  combined: Set<string>
  reductions: ReductionSites
}

/** Which collections stay on the chunks, and the round of each of their reductions. */
export function hoistSites (input: HoistInput): Hoist {
  const { nodes, fused, reductions } = input
  const rest = nodes.slice(fused)
  const reasons: string[] = []
  const restSites = reductions.sites.filter(s => s.statement >= fused)
  const kept = new Set([...input.chunkLists].filter(v => rest.every(n => !(reductions.outside[n.id] ?? []).includes(v))))
  for (const v of input.chunkLists) {
    if (!kept.has(v) && restSites.some(s => s.over === v)) {
      const at = rest.find(n => (reductions.outside[n.id] ?? []).includes(v))
      reasons.push(`${v} is sent to the aggregator: line ${at?.line ?? 0} uses it other than through sum, len, min, max, any or all`)
    }
  }
  const writers = (v: string): number[] => nodes.filter(n => n.writes.includes(v) || n.mutates.includes(v)).map(n => n.id)
  const hasEarlyExit = rest.slice(0, -1).some(n => n.exits) || (rest.length > 0 && rest.at(-1)?.exits === true && rest.at(-1)?.kind !== 'return_statement')

  let rounds = new Map<ReductionSite, number>()
  for (let changed = true; changed;) {
    changed = false
    rounds = new Map()
    // The round at which each local's value is known: 0 before any chunk result, r after round r.
    const known = new Map<string, number>()
    for (const v of input.combined) known.set(v, 1)
    for (const node of rest) {
      let level = 0
      for (const site of restSites.filter(s => s.statement === node.id)) {
        const problem = siteProblem(site, kept, input, writers, known, hasEarlyExit)
        if (problem === undefined) {
          const round = 1 + Math.max(0, ...site.reads.map(r => known.get(r) ?? 0))
          rounds.set(site, round)
          level = Math.max(level, round)
        } else if (kept.has(site.over)) {
          kept.delete(site.over)
          reasons.push(`${site.over} is sent to the aggregator: line ${site.line} \`${site.text}\` ${problem}`)
          changed = true
        }
      }
      for (const v of reductions.outside[node.id] ?? []) level = Math.max(level, known.get(v) ?? 0)
      for (const v of [...node.writes, ...node.mutates]) known.set(v, Math.max(known.get(v) ?? 0, level))
    }
  }
  const sites = restSites.filter(s => kept.has(s.over) && rounds.has(s)).map(site => ({ site, round: rounds.get(site) as number }))
  const count = Math.max(1, ...sites.map(s => s.round))
  const stages: Hoist['stages'] = []
  for (let r = 2; r <= count; r++) {
    const ofRound = sites.filter(s => s.round === r)
    const broadcast = [...new Set(ofRound.flatMap(s => s.site.reads.filter(v => isLocal(v, nodes, input))))].sort()
    const lastStatement = Math.max(...ofRound.map(s => s.site.statement))
    const statements = stageStatements(broadcast, lastStatement, input, reductions)
    stages.push({ broadcast, statements })
  }
  return { kept, sites, rounds: count, stages, reasons }
}

/** Why a site cannot run on the chunks, or undefined. */
function siteProblem (site: ReductionSite, kept: Set<string>, input: HoistInput, writers: (v: string) => number[], known: Map<string, number>, hasEarlyExit: boolean): string | undefined {
  if (!kept.has(site.over)) return 'is over a collection the aggregator holds anyway'
  if (site.problem !== undefined) return site.problem
  for (const v of site.reads) {
    if (!isLocal(v, input.nodes, input)) continue
    if (input.chunkLists.has(v) || v === input.param) return `reads all of ${v}`
    const late = writers(v).filter(w => w >= site.statement)
    if (late.length > 0) return `reads ${v}, which line ${input.nodes[late[0] ?? 0]?.line ?? 0} changes`
    const early = writers(v).filter(w => w < input.fused)
    if (early.length > 0 && !input.combined.has(v)) return `reads ${v}, a value the split part holds per chunk`
  }
  const round = 1 + Math.max(0, ...site.reads.map(r => known.get(r) ?? 0))
  if (round > MAX_ROUNDS) return `would need round ${round} (at most ${MAX_ROUNDS})`
  if (round > 1 && hasEarlyExit) return 'needs a value computed after the split part, and main may return early before it'
  return undefined
}

function isLocal (v: string, nodes: DdgNode[], input: HoistInput): boolean {
  return v === input.param || nodes.some(n => n.writes.includes(v) || n.mutates.includes(v))
}

/** The rest statements a stage runs: those before `last` that the broadcast values depend on, transitively. */
function stageStatements (broadcast: string[], last: number, input: HoistInput, reductions: ReductionSites): number[] {
  const { nodes, fused } = input
  const wanted = new Set(broadcast)
  const chosen = new Set<number>()
  for (let s = last - 1; s >= fused; s--) {
    const node = nodes[s] as DdgNode
    if (![...node.writes, ...node.mutates].some(v => wanted.has(v))) continue
    chosen.add(s)
    for (const v of [...(reductions.outside[s] ?? []), ...node.reads]) if (!input.chunkLists.has(v)) wanted.add(v)
    for (const site of reductions.sites.filter(x => x.statement === s)) for (const v of site.reads) wanted.add(v)
  }
  return [...chosen].sort((a, b) => a - b)
}

/** How a site's per-chunk values combine: the partials runtime's `_runsurge_site_value` arguments. */
export function siteCombine (site: ReductionSite): { op: SiteOp, start: string } {
  return { op: site.op, start: site.op === 'len' ? '0' : site.startValue ?? '0' }
}

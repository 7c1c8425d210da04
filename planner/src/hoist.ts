/**
 * Reductions hoisted into the chunk tasks, and the rounds they need.
 *
 * A collection that lives on the chunks (`data` itself, or a list a fused map built element by element) need not
 * travel to the aggregator when everything after the split part reads it only through reductions the analyzer
 * found (`report.reductions`): `len(ys)`, `sum(x * x for x in xs)`, `max(words, key=len)`, `xs[0]`, `if not xs:`,
 * `heapq.nlargest(5, xs)`, … inside a returned dict, arithmetic or a call; or through a list comprehension over it
 * (`scaled = [x / hi for x in xs]`), itself a new collection on the chunks. Each chunk computes every such
 * reduction on its own elements and sends the partial value; the aggregator runs the rest of main unchanged except
 * that each site is replaced by the combination of its partials, in chunk order (partials/sites.py), and the chunk-side
 * comprehensions are left out. An exception a chunk met is raised where the sequential run would evaluate the site.
 *
 * A site or comprehension whose element code reads a value computed after the split part (`sum((x - m) ** 2 for x
 * in xs)` with `m = sum(xs) / len(xs)`) runs in a later **round**: a small stage task combines the earlier rounds'
 * partials, runs the statements that compute `m`, and broadcasts it; the next round's chunk tasks run on the nodes
 * that already hold their chunk. Round = 1 + the round at which the values it reads are known (values of the split
 * part and of round-1 sites are known after round 1).
 *
 * Conservative: a collection stays on the chunks only when every later mention of it is inside a hoistable site or
 * is the iterable of a hoistable comprehension; otherwise it is shipped to the aggregator as before and its sites
 * run there, as written.
 */
import type { Accumulator, ChunkMap, DdgNode, ReductionSite, ReductionSites } from '../../analyzer/src/index.ts'

/** Most rounds of chunk tasks in one job: a site needing more is not hoisted. */
export const MAX_ROUNDS = 4

/** A reduction computed on the chunks. */
export interface HoistedSite {
  site: ReductionSite
  /** Index in `report.reductions.sites`: the aggregator's `_runsurge_site(k)`. */
  k: number
  /** 1-based round whose chunk tasks compute it. */
  round: number
}

/** A comprehension run on the chunks, building a collection that stays there. */
export interface HoistedMap {
  map: ChunkMap
  /** First round whose chunk tasks can build it. */
  round: number
}

/**
 * A loop of the rest of main that reduces a collection element by element (an analyzer reduce block: `bins = [0] * 20`
 * then `for p in prices: bins[int((p - lo) / width)] += 1`), which the chunks may run on their own elements: each
 * accumulator then comes back as one hoisted site (op `loop`) whose partials the aggregator combines where the loop was.
 */
export interface RestLoop {
  /** The for statement. */
  statement: number
  /** Its accumulators' initialisers (rest statements before it, run on the chunks too). */
  inits: number[]
  over: string
  accumulators: Accumulator[]
  /** Main's locals its initialisers and its element code read (besides `over`). */
  reads: string[]
  line: number
  /** A loop over `enumerate(over, START)`: START; it runs after a round that counts each chunk's elements. */
  positions?: string
  problem?: string
}

export interface Hoist {
  /** Collections that stay on the chunks (never sent to the aggregator). */
  kept: Set<string>
  /** Hoisted sites, in source order. */
  sites: HoistedSite[]
  maps: HoistedMap[]
  /** Rounds of chunk tasks (1 when nothing needs a value computed after the split part). */
  rounds: number
  /**
   * Per round r (index r - 1): the comprehensions its chunk tasks run (in source order); for r ≥ 2 also the locals
   * they and its sites read (broadcast by the stage task before it), the sites whose combined values they read, and
   * the rest statements the stage runs to compute them.
   */
  perRound: Array<{ maps: HoistedMap[], loops: RestLoop[], broadcast: string[], siteValues: number[], statements: number[] }>
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
  /** Reduce loops of the rest over a local collection. */
  loops: RestLoop[]
}

const NONE: Hoist = { kept: new Set(), sites: [], maps: [], rounds: 1, perRound: [{ maps: [], loops: [], broadcast: [], siteValues: [], statements: [] }], reasons: [] }

/** Which collections stay on the chunks, and the round of each of their reductions and comprehensions. */
export function hoistSites (input: HoistInput): Hoist {
  const { nodes, fused, reductions } = input
  const rest = nodes.slice(fused)
  const reasons: string[] = []
  const writers = (v: string): number[] => nodes.filter(n => n.writes.includes(v) || n.mutates.includes(v)).map(n => n.id)
  // Each accumulator of a rest loop is a site (op `loop`) numbered after the analyzer's sites.
  const loopSites = loopSitesOf(input.loops, reductions.sites.length)
  const restSites = [...reductions.sites.map((site, k) => ({ site, k })).filter(x => x.site.statement >= fused), ...loopSites]
  const loopAt = new Map(input.loops.map(l => [l.statement, l]))
  const candidateMaps = reductions.maps.filter(m => m.statement >= fused && m.problem === undefined && writers(m.target).length === 1)
  const hasEarlyExit = rest.slice(0, -1).some(n => n.exits) || (rest.length > 0 && rest.at(-1)?.exits === true && rest.at(-1)?.kind !== 'return_statement')
  const kept = new Set([...input.chunkLists, ...candidateMaps.map(m => m.target)])
  const drop = (v: string, why: string): void => {
    if (!kept.delete(v)) return
    if (input.chunkLists.has(v) || restSites.some(x => x.site.over === v)) reasons.push(`${v} is sent to the aggregator: ${why}`)
  }

  for (let changed = true; changed;) {
    changed = false
    const maps = candidateMaps.filter(m => kept.has(m.over) && kept.has(m.target))
    const mapAt = new Map(maps.map(m => [m.statement, m]))
    // A mention outside the sites is fine only as a kept comprehension's iterable or target.
    for (const node of rest) {
      const map = mapAt.get(node.id)
      const loop = loopAt.get(node.id)
      for (const v of reductions.outside[node.id] ?? []) {
        if (kept.has(v) && !(map !== undefined && (v === map.over || v === map.target)) && !(loop !== undefined && loop.problem === undefined && v === loop.over)) {
          drop(v, `line ${node.line} uses it other than through a reduction or a comprehension`)
          changed = true
        }
      }
    }
    if (changed) continue
    const plan = assignRounds(input, kept, maps, restSites, writers, hasEarlyExit)
    for (const [v, why] of plan.dropped) {
      drop(v, why)
      changed = true
    }
    if (!changed) {
      const sites = restSites.filter(x => plan.rounds.has(x.k)).map(({ site, k }) => ({ site, k, round: plan.rounds.get(k) as number }))
      if (sites.length === 0) return { ...NONE, reasons }
      return { kept, sites, ...stagesOf(input, kept, sites, maps.map(m => ({ map: m, round: plan.mapRounds.get(m.statement) as number }))), reasons }
    }
  }
  return { ...NONE, reasons }
}

/** Rounds of sites and comprehensions over kept collections, and the collections that cannot stay (with why). */
function assignRounds (input: HoistInput, kept: Set<string>, maps: ChunkMap[], restSites: Array<{ site: ReductionSite, k: number }>, writers: (v: string) => number[], hasEarlyExit: boolean): { rounds: Map<number, number>, mapRounds: Map<number, number>, dropped: Map<string, string> } {
  const { nodes, fused, reductions } = input
  const rounds = new Map<number, number>()
  const mapRounds = new Map<number, number>()
  const dropped = new Map<string, string>()
  // The round after which each local's value is known; the round from which each kept collection exists on the chunks.
  const known = new Map<string, number>([...input.combined].map(v => [v, 1]))
  const exists = new Map<string, number>([...input.chunkLists].map(v => [v, 1]))
  const readsProblem = (reads: string[], statement: number): string | undefined => {
    for (const v of reads) {
      if (!isLocal(v, nodes, input)) continue
      if (kept.has(v) || input.chunkLists.has(v)) return `reads all of ${v}`
      const late = writers(v).filter(w => w >= statement)
      if (late.length > 0) return `reads ${v}, which line ${nodes[late[0] ?? 0]?.line ?? 0} changes`
      if (writers(v).some(w => w < fused) && !input.combined.has(v)) return `reads ${v}, a value the split part holds per chunk`
    }
    return undefined
  }
  const after = (reads: string[]): number => Math.max(0, ...reads.map(r => known.get(r) ?? 0))
  for (const node of nodes.slice(fused)) {
    const map = maps.find(m => m.statement === node.id)
    let level = 0
    for (const { site, k } of restSites.filter(x => x.site.statement === node.id)) {
      if (!kept.has(site.over)) continue
      const problem = site.problem ?? readsProblem(site.reads, site.statement)
      // A helper's later pass: after the round of the pass before it.
      const round = Math.max(exists.get(site.over) ?? 1, 1 + after(site.reads), site.after === undefined ? 0 : 1 + (rounds.get(site.after) ?? MAX_ROUNDS))
      const why = problem ?? roundProblem(round, hasEarlyExit)
      if (why !== undefined) {
        dropped.set(site.over, `line ${site.line} \`${short(site.text)}\` ${why}`)
        continue
      }
      rounds.set(k, round)
      // A site inside a kept comprehension reaches the chunks as a broadcast value, not as part of the statement's level.
      if (map === undefined || !map.sites.includes(k)) level = Math.max(level, round)
    }
    if (restSites.some(x => x.site.op === 'loop' && x.site.statement === node.id && rounds.has(x.k))) {
      // A hoisted loop: its accumulators are known after its round.
      for (const v of [...node.writes, ...node.mutates]) known.set(v, Math.max(known.get(v) ?? 0, level))
      continue
    }
    if (map !== undefined) {
      const inner = map.sites.map(k => rounds.get(k))
      const problem = readsProblem(map.reads, map.statement)
      const round = Math.max(exists.get(map.over) ?? 1, 1 + after(map.reads), ...inner.map(r => 1 + (r ?? MAX_ROUNDS)))
      const why = inner.includes(undefined) ? 'reads a reduction that cannot be computed on the chunks' : problem ?? roundProblem(round, hasEarlyExit)
      if (why !== undefined) {
        dropped.set(map.target, `line ${map.line}: the comprehension building it ${why}`)
        continue
      }
      mapRounds.set(map.statement, round)
      exists.set(map.target, round)
      continue
    }
    for (const v of reductions.outside[node.id] ?? []) level = Math.max(level, known.get(v) ?? 0)
    for (const v of [...node.writes, ...node.mutates]) known.set(v, Math.max(known.get(v) ?? 0, level))
  }
  return { rounds, mapRounds, dropped }
}

/** What each round's chunk tasks run, and what its stage task computes and broadcasts. */
function stagesOf (input: HoistInput, kept: Set<string>, sites: HoistedSite[], maps: HoistedMap[]): { maps: HoistedMap[], rounds: number, perRound: Hoist['perRound'] } {
  const { nodes, reductions } = input
  const rounds = Math.max(1, ...sites.map(s => s.round))
  const perRound: Hoist['perRound'] = []
  const byTarget = new Map(maps.map(m => [m.map.target, m]))
  for (let r = 1; r <= rounds; r++) {
    // The comprehensions this round's sites iterate, and those they iterate in turn.
    const needed = new Set<HoistedMap>()
    const visit = (v: string): void => {
      const m = byTarget.get(v)
      if (m === undefined || needed.has(m)) return
      needed.add(m)
      visit(m.map.over)
    }
    for (const s of sites.filter(x => x.round === r)) visit(s.site.over)
    const ordered = [...needed].sort((a, b) => a.map.statement - b.map.statement)
    const loops = input.loops.filter(l => sites.some(x => x.round === r && x.site.op === 'loop' && x.site.statement === l.statement))
    const reads = [...sites.filter(x => x.round === r).flatMap(x => x.site.reads), ...ordered.flatMap(m => m.map.reads)]
    const broadcast = [...new Set(reads.filter(v => isLocal(v, nodes, input) && v !== input.param))].sort()
    // The chunks' lengths a numbering loop of this round needs, with the values its comprehensions read.
    const lengths = sites.filter(x => x.site.op === 'lengths' && loops.some(l => l.statement === x.site.statement)).map(x => x.k)
    const siteValues = [...new Set([...ordered.flatMap(m => m.map.sites), ...lengths])].sort((a, b) => a - b)
    const last = Math.max(...sites.filter(x => x.round === r).map(x => x.site.statement), ...ordered.map(m => m.map.statement))
    perRound.push({ maps: ordered, loops, broadcast, siteValues, statements: r === 1 ? [] : stageStatements(broadcast, siteValues, last, input, reductions, kept) })
  }
  return { maps, rounds, perRound }
}

/** One site per accumulator of each loop (k from `first` on): what the chunk sends is the accumulator's partial. */
function loopSitesOf (loops: RestLoop[], first: number): Array<{ site: ReductionSite, k: number }> {
  const out: Array<{ site: ReductionSite, k: number }> = []
  for (const loop of loops) {
    // A loop that numbers its elements: a first round counts each chunk's, so that a chunk knows where its own start.
    const lengths = loop.positions === undefined ? undefined : first + out.length
    if (lengths !== undefined) {
      out.push({
        site: {
          statement: loop.statement,
          op: 'lengths',
          over: loop.over,
          start: -1,
          end: -1,
          line: loop.line,
          endLine: loop.line,
          text: `len(${loop.over}) of each chunk (line ${loop.line} numbers its elements)`,
          chunk: `len(${loop.over})`,
          reads: []
        },
        k: lengths
      })
    }
    for (const a of loop.accumulators) {
      const site: ReductionSite = {
        statement: loop.statement,
        op: 'loop',
        over: loop.over,
        start: -1,
        end: -1,
        line: loop.line,
        endLine: loop.line,
        text: `${a.variable} (the loop over ${loop.over})`,
        chunk: `_runsurge_loop_partial(_runsurge_loop_${loop.statement}, lambda: ${a.variable})`,
        reads: loop.reads,
        ...(lengths !== undefined ? { after: lengths } : {}),
        ...(loop.problem !== undefined ? { problem: loop.problem } : {})
      }
      out.push({ site, k: first + out.length })
    }
  }
  return out
}

/** Why code cannot run in `round`, or undefined. */
function roundProblem (round: number, hasEarlyExit: boolean): string | undefined {
  if (round > MAX_ROUNDS) return `would need round ${round} (at most ${MAX_ROUNDS})`
  if (round > 1 && hasEarlyExit) return 'needs a value computed after the split part, and main may return early before it'
  return undefined
}

function isLocal (v: string, nodes: DdgNode[], input: HoistInput): boolean {
  return v === input.param || nodes.some(n => n.writes.includes(v) || n.mutates.includes(v))
}

function short (text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** The rest statements a stage runs: those before `last` that the broadcast values depend on, transitively. */
function stageStatements (broadcast: string[], siteValues: number[], last: number, input: HoistInput, reductions: ReductionSites, kept: Set<string>): number[] {
  const { nodes, fused } = input
  const wanted = new Set(broadcast)
  for (const k of siteValues) for (const v of reductions.sites[k]?.reads ?? []) wanted.add(v)
  const chosen = new Set<number>()
  for (let s = last - 1; s >= fused; s--) {
    const node = nodes[s] as DdgNode
    if (![...node.writes, ...node.mutates].some(v => wanted.has(v))) continue
    chosen.add(s)
    for (const v of [...(reductions.outside[s] ?? []), ...node.reads]) if (!input.chunkLists.has(v) && !kept.has(v)) wanted.add(v)
    for (const site of reductions.sites.filter(x => x.statement === s)) for (const v of site.reads) wanted.add(v)
  }
  return [...chosen].sort((a, b) => a - b)
}

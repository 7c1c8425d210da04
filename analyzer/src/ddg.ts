/**
 * Statement-level data-dependency graph of an entry function (`main`). Nodes are the function's top-level
 * statements (a compound statement such as `for` or `if` is one node, with the effects of its whole body);
 * edges carry the variable and the line of the definition they are about, as `x:3`.
 *
 * Edge kinds:
 * - `flow` (read after write): `to` reads the value of `key` that `from` defined;
 * - `anti` (write after read): `from` read `key`, `to` overwrites that variable — a re-assignment hazard;
 * - `output` (write after write): `from` defined `key`, `to` overwrites it — a re-assignment hazard;
 * - `control`: `from` may leave the function early (`return`, `raise`), so every later statement waits for it.
 */
import type { EffectContext, Effects } from './effects.ts'
import { effectsOf } from './effects.ts'
import { endLineOf, isDocstring, lineOf, namedChildren, textOf } from './syntax.ts'
import type { PyNode } from './syntax.ts'
import type { FunctionDef } from './template.ts'

/** A statement of the analyzed function. */
export interface DdgNode {
  /** Index among the function's analyzed statements, from 0. */
  id: number
  /** 1-based first and last line. */
  line: number
  endLine: number
  /** tree-sitter statement kind, e.g. `expression_statement`, `for_statement`, `return_statement`. */
  kind: string
  /** Source of the statement's first line, for display. */
  text: string
  /**
   * Local variables read (including the function's parameters), sorted: upward-exposed uses, plus values
   * a conditional binding may pass through (`if c: x = 1` reads x when x is used later).
   */
  reads: string[]
  /** Local variables bound or mutated, sorted. */
  writes: string[]
  /** The subset of `writes` changed in place (`xs.append`, `d[k] = v`) rather than rebound. */
  mutates: string[]
  /** Parameters of the function this statement reads directly (e.g. `data`). */
  inputs: string[]
  /** The statement may end the function early (return/raise not at the end). */
  exits: boolean
  /** Effects beyond binding and mutating locals (impure or unknown calls, `global`…); empty when none. */
  sideEffects: string[]
}

/** Dependency kinds, see the module comment. */
export type DdgEdgeKind = 'flow' | 'anti' | 'output' | 'control'

/** A dependency: `to` must run after `from`. */
export interface DdgEdge {
  from: number
  to: number
  /** `variable:line` of the definition concerned (for `control`: `return:line` of the exit). */
  key: string
  variable: string
  kind: DdgEdgeKind
}

/** A variable bound more than once: parallel execution must keep the order of its definitions and uses. */
export interface ReassignmentHazard {
  variable: string
  /** Lines of every definition, in order. */
  lines: number[]
}

/** The graph. */
export interface Ddg {
  /** Name of the analyzed function (`main`, or `process` in manual mode). */
  function: string
  /** Its parameters; reads of them are the program's inputs. */
  params: string[]
  nodes: DdgNode[]
  /** Sorted by `to`, then `from`, then key. */
  edges: DdgEdge[]
  hazards: ReassignmentHazard[]
}

/** Internal: DDG plus the statement syntax nodes, for the classifier. */
export interface DdgWithSyntax {
  ddg: Ddg
  statements: PyNode[]
}

/** Builds the DDG of `fn`'s body. Docstrings and `pass` are not statements of the graph. */
export function buildDdg (fn: FunctionDef, ctx: EffectContext): DdgWithSyntax {
  const body = fn.node.children.find(c => c.kind === 'block')
  const all = body === undefined ? [] : namedChildren(body)
  const statements = all.filter((s, i) => !(s.kind === 'pass_statement' || (i === 0 && isDocstring(s))))
  const effects = statements.map(s => effectsOf(s, ctx))
  const builder = new DdgBuilder(fn, effects)
  statements.forEach((stmt, id) => builder.add(stmt, id))
  return { ddg: builder.graph(), statements }
}

/** The statements' nodes and edges, built in program order from each statement's effects. */
class DdgBuilder {
  /**
   * Locals are the names bound anywhere in the function plus its parameters; reads of anything else are
   * module-level constants, helpers or builtins, which cannot change while main runs.
   */
  private readonly locals: Set<string>
  private readonly params: Set<string>
  private readonly nodes: DdgNode[] = []
  private readonly edges: DdgEdge[] = []
  private readonly seen = new Set<string>()
  /** Reaching definitions of each variable: the last definite one and any conditional ones after it. */
  private readonly reaching = new Map<string, Array<{ node: number, line: number }>>()
  private readonly readersSinceDef = new Map<string, number[]>()
  private readonly definitions = new Map<string, number[]>()
  private pendingExit: { node: number, line: number } | undefined
  private readonly shares = new ElementSharing()
  private readonly liveOut: Array<Set<string>>

  constructor (private readonly fn: FunctionDef, private readonly effects: Effects[]) {
    this.locals = new Set(fn.params)
    for (const e of effects) for (const w of e.writes) this.locals.add(w)
    this.params = new Set(fn.params)
    for (const p of fn.params) {
      this.reaching.set(p, [{ node: -1, line: fn.line }])
      this.definitions.set(p, [fn.line])
    }
    this.liveOut = liveOutOf(effects)
  }

  private addEdge (edge: DdgEdge): void {
    if (edge.from === edge.to || edge.from < 0) return
    const id = `${edge.from}>${edge.to}>${edge.key}>${edge.kind}`
    if (this.seen.has(id)) return
    this.seen.add(id)
    this.edges.push(edge)
  }

  /** Adds statement `id`: its node, and its edges from the statements before it. */
  add (stmt: PyNode, id: number): void {
    const { locals } = this
    const eff = this.effects[id]
    if (eff === undefined) return
    const line = lineOf(stmt)
    const reads = [...eff.reads].filter(r => locals.has(r)).sort()
    const elementWrites = [...this.shares.sharing(eff.elementMutated)].filter(v => locals.has(v))
    for (const v of elementWrites) eff.mutated.add(v)
    const writes = [...new Set([...eff.writes, ...elementWrites])].filter(w => locals.has(w)).sort()
    for (const w of eff.writes) if (!eff.mutated.has(w)) for (const r of eff.reads) if (locals.has(r)) this.shares.link(w, r)
    if (this.pendingExit !== undefined) {
      this.addEdge({ from: this.pendingExit.node, to: id, key: `return:${this.pendingExit.line}`, variable: 'return', kind: 'control' })
    }
    // A conditional binding lets the previous value through: it reads what it may not overwrite.
    const passThrough = writes.filter(w => !eff.definite.has(w) && !eff.mutated.has(w) && !reads.includes(w) && this.reaching.has(w) && this.liveOut[id]?.has(w) === true)
    const uses = [...reads, ...passThrough]
    this.dataEdges(id, uses, writes)
    this.define(id, line, eff, uses, writes)
    const isLast = id === this.effects.length - 1
    const exits = !isLast && (eff.returns || eff.raises)
    if (exits) this.pendingExit = { node: id, line }
    this.nodes.push({
      id,
      line,
      endLine: endLineOf(stmt),
      kind: stmt.kind,
      text: firstLine(textOf(stmt)),
      reads: [...uses].sort(),
      writes,
      mutates: writes.filter(w => eff.mutated.has(w)),
      inputs: reads.filter(r => this.params.has(r)),
      exits,
      sideEffects: [...new Set(eff.impure)]
    })
  }

  /** Flow edges to what statement `id` uses; anti and output edges to what it writes. */
  private dataEdges (id: number, uses: string[], writes: string[]): void {
    for (const v of uses) {
      for (const def of this.reaching.get(v) ?? []) this.addEdge({ from: def.node, to: id, key: `${v}:${def.line}`, variable: v, kind: 'flow' })
    }
    for (const v of writes) {
      for (const def of this.reaching.get(v) ?? []) {
        for (const reader of this.readersSinceDef.get(v) ?? []) {
          this.addEdge({ from: reader, to: id, key: `${v}:${def.line}`, variable: v, kind: 'anti' })
        }
        if (!uses.includes(v)) this.addEdge({ from: def.node, to: id, key: `${v}:${def.line}`, variable: v, kind: 'output' })
      }
    }
  }

  /** Records statement `id` as a reader of what it uses and as the (or a) definition of what it writes. */
  private define (id: number, line: number, eff: Effects, uses: string[], writes: string[]): void {
    for (const v of uses) {
      const list = this.readersSinceDef.get(v) ?? []
      list.push(id)
      this.readersSinceDef.set(v, list)
    }
    for (const v of writes) {
      const definite = eff.definite.has(v) || eff.mutated.has(v) || uses.includes(v)
      // After a statement that reads the old value (or binds on every path) only its definition reaches.
      this.reaching.set(v, definite ? [{ node: id, line }] : [...(this.reaching.get(v) ?? []), { node: id, line }])
      this.readersSinceDef.set(v, [])
      // A mutation (xs.append) updates the same object; only rebinding counts as another definition.
      if (!eff.mutated.has(v)) {
        const defs = this.definitions.get(v) ?? []
        defs.push(line)
        this.definitions.set(v, defs)
      }
    }
  }

  graph (): Ddg {
    const edges = this.edges.sort((a, b) => a.to - b.to || a.from - b.from || a.key.localeCompare(b.key) || a.kind.localeCompare(b.kind))
    const hazards: ReassignmentHazard[] = [...this.definitions.entries()]
      .filter(([, lines]) => lines.length > 1)
      .map(([variable, lines]) => ({ variable, lines }))
      .sort((a, b) => (a.lines[0] ?? 0) - (b.lines[0] ?? 0) || a.variable.localeCompare(b.variable))
    return { function: this.fn.name, params: this.fn.params, nodes: this.nodes, edges, hazards }
  }
}

/**
 * Collections that may share element objects: a statement that reads one collection and binds another
 * (ys = [r for r in xs]) may hand the same objects on. Changing elements of one changes them in all.
 */
class ElementSharing {
  private readonly shares = new Map<string, Set<string>>()

  link (a: string, b: string): void {
    if (a === b) return
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const set = this.shares.get(x) ?? new Set<string>()
      set.add(y)
      this.shares.set(x, set)
    }
  }

  /** `start` and every collection that may share elements with one of them. */
  sharing (start: Iterable<string>): Set<string> {
    const seen = new Set<string>()
    const queue = [...start]
    for (let v = queue.pop(); v !== undefined; v = queue.pop()) {
      if (seen.has(v)) continue
      seen.add(v)
      for (const w of this.shares.get(v) ?? []) queue.push(w)
    }
    return seen
  }
}

/** Liveness (backward): a conditional binding passes the old value through only if someone reads it later. */
function liveOutOf (effects: Effects[]): Array<Set<string>> {
  const liveOut: Array<Set<string>> = new Array(effects.length)
  let live = new Set<string>()
  for (let i = effects.length - 1; i >= 0; i--) {
    const eff = effects[i]
    liveOut[i] = live
    if (eff === undefined) continue
    const next = new Set([...live].filter(v => !eff.definite.has(v)))
    for (const r of eff.reads) next.add(r)
    live = next
  }
  return liveOut
}

function firstLine (text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 100 ? `${line.slice(0, 97)}...` : line
}

/** What a block needs from classification: its class and the loop an initialiser belongs to. */
export interface BlockSeed {
  statement: number
  initOf?: number
}

/** Blocks before memory is attached: statements grouped, dependencies lifted to blocks. */
export interface BlockGraph {
  /** Statement ids of each block, ascending. */
  members: number[][]
  /** Block index of each statement. */
  blockOf: number[]
  /** Per block: the blocks it depends on, with the edge keys and kinds that cause it. */
  dependsOn: Array<Array<{ block: number, keys: string[], kinds: DdgEdgeKind[] }>>
  /** Per block: blocks with no path to or from it (may run at the same time). */
  independentOf: number[][]
  /** Per block: length of the longest dependency path leading to it; equal levels are independent. */
  level: number[]
}

/**
 * Groups statements into blocks, the scheduler's units: each statement is a block, except that a loop's
 * accumulator initialisers join the loop (they must run where the loop runs). Dependencies between blocks
 * are the statement edges that cross them: flow and control edges, and anti edges where the later
 * statement changes in place an object the earlier one reads. Re-binding hazards do not order blocks,
 * because block outputs are keyed by definition (`x:3`), not by name.
 */
export function buildBlocks (ddg: Ddg, seeds: BlockSeed[]): BlockGraph {
  const blockOf: number[] = new Array(ddg.nodes.length).fill(-1)
  const members: number[][] = []
  // Numbered in program order: a block takes the position of its first statement.
  for (const node of ddg.nodes) {
    const owner = seeds[node.id]?.initOf ?? node.id
    let block = blockOf[owner] ?? -1
    if (block === -1) {
      block = members.length
      members.push([])
      blockOf[owner] = block
    }
    blockOf[node.id] = block
    members[block]?.push(node.id)
  }
  const count = members.length
  const deps = Array.from({ length: count }, () => new Map<number, { keys: Set<string>, kinds: Set<DdgEdgeKind> }>())
  for (const edge of ddg.edges) {
    // Rebinding a name (output/anti on a rebound variable) is resolved by keying values by definition
    // (`x:3`), so it does not order blocks; changing an object in place that another block reads does.
    if (edge.kind === 'output') continue
    if (edge.kind === 'anti' && ddg.nodes[edge.to]?.mutates.includes(edge.variable) !== true) continue
    const from = blockOf[edge.from] ?? -1
    const to = blockOf[edge.to] ?? -1
    if (from === to || from < 0 || to < 0) continue
    const entry = deps[to]?.get(from) ?? { keys: new Set<string>(), kinds: new Set<DdgEdgeKind>() }
    entry.keys.add(edge.key)
    entry.kinds.add(edge.kind)
    deps[to]?.set(from, entry)
  }
  const dependsOn = deps.map(m => [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([block, e]) => ({ block, keys: [...e.keys].sort(), kinds: [...e.kinds].sort() })))
  // Blocks are numbered in program order and edges only point forward, so one pass computes ancestors.
  const words = Math.ceil(count / 32)
  const ancestors = Array.from({ length: count }, () => new Uint32Array(words))
  const level: number[] = new Array(count).fill(0)
  for (let b = 0; b < count; b++) {
    const mine = ancestors[b] as Uint32Array
    for (const d of dependsOn[b] ?? []) {
      const theirs = ancestors[d.block] as Uint32Array
      for (let w = 0; w < words; w++) mine[w] = (mine[w] ?? 0) | (theirs[w] ?? 0)
      mine[d.block >> 5] = (mine[d.block >> 5] ?? 0) | (1 << (d.block & 31))
      level[b] = Math.max(level[b] ?? 0, (level[d.block] ?? 0) + 1)
    }
  }
  const has = (set: Uint32Array, b: number): boolean => ((set[b >> 5] ?? 0) & (1 << (b & 31))) !== 0
  const independentOf: number[][] = Array.from({ length: count }, () => [])
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      if (!has(ancestors[b] as Uint32Array, a)) {
        independentOf[a]?.push(b)
        independentOf[b]?.push(a)
      }
    }
  }
  for (const list of independentOf) list.sort((x, y) => x - y)
  return { members, blockOf, dependsOn, independentOf, level }
}

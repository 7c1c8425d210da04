/**
 * Stage fusion for automatic mode: which leading statements of `main` can run on each chunk of the input,
 * what each chunk must send to the aggregator, and how partial values combine back into exactly what one
 * sequential run would hold.
 *
 * The fused part is a prefix of main's statements, made of whole analyzer blocks that are `map` or `reduce`
 * over `data` or over a list an earlier fused map produced element by element, and that read nothing else
 * (no broadcast: a local computed earlier would only be a partial value inside a chunk; module constants are
 * fine, they are the same everywhere). Everything after the prefix runs once, in the aggregator, on the
 * combined values; it may not read `data` itself.
 */
import { KEYED_OPS } from '../../analyzer/src/index.ts'
import type { Accumulator, AnalysisReport, BestStep, Block, Ddg, DdgNode } from '../../analyzer/src/index.ts'
import { bestPartial, bestProblem, bestStart, chunkLoopLines } from './bests.ts'
import { hoistSites } from './hoist.ts'
import type { Hoist, RestLoop } from './hoist.ts'
import { IDENTIFIER, locateMain, mentions, moduleNames } from './python-source.ts'
import type { MainLayout } from './python-source.ts'

/** How a variable's partial values (one per chunk, in chunk order) combine. */
export type PartialKind =
  | { kind: 'concat' }
  | { kind: 'merge' }
  /** builtin `sum`/`len`: partials added onto the start value. */
  | { kind: 'add', init: string }
  /** builtin `min`/`max` (with `key=`): each chunk's first best element, or all of them when unordered. */
  | { kind: 'pick', op: 'min' | 'max' }
  /** builtin `any`/`all`: the first chunk that decides wins; an exception counts only if reached. */
  | { kind: 'decide', op: 'any' | 'all' }
  /** `acc = acc OP g(x)` loops: init OP partial₁ OP partial₂ … */
  | { kind: 'fold', op: '+' | '*' | '|' | '&' | '^', init: string }
  /** `acc = min/max(acc, g(x))` loops: the recorded comparisons replayed from init (from no value: the first one is taken). */
  | { kind: 'replay', op: 'min' | 'max', init: string, fromNone?: boolean }
  /** Lists per key (group-by): merged by key in first-occurrence order, each key's lists concatenated in chunk order. */
  | { kind: 'group' }
  /** Numbers per key or per position (Counter, `d.get(k, 0) + v`, `bins[i] += 1`): added by key or element-wise. */
  | { kind: 'count' }
  /** A set: each chunk's distinct elements in the order they arrived, added in chunk order. */
  | { kind: 'union' }
  /** A running best by key (bests.ts): the chunks' candidates replayed from its variables' initial values (`starts`). */
  | { kind: 'best', step: BestStep, starts: string[], index: number }
  /** A running best per key (`if k not in d or v > d[k]: d[k] = v`): each key's candidates replayed, keys in first-occurrence order. */
  | { kind: 'kbest', step: BestStep }
  /** A name the loop binds, read after it: the last chunk's last binding, or the initial value when no chunk bound it. */
  | { kind: 'last', init: string }

/** A value the chunks send to the aggregator. */
export interface SplitOutput {
  /** Python name bound in the aggregator (`_runsurge_result` for a fused `return`). */
  variable: string
  partial: PartialKind
  /** The fused statement that last writes it. */
  statement: number
}

/** A provable split of `main` into a per-chunk part and an aggregator part. */
export interface Split {
  layout: MainLayout
  /** Main's statements (the analyzer's DDG nodes). */
  nodes: DdgNode[]
  /** Statements `[0, fused)` of main run on every chunk. */
  fused: number
  blocks: Block[]
  outputs: SplitOutput[]
  /** Main's return statement itself is fused (the aggregator returns the combined value). */
  returns: boolean
  /** Chunk code edits: replacement lines per statement id, and lines inserted before a line number. */
  rewrites: Map<number, string[]>
  inserts: Map<number, string[]>
  /** Why the fused part ends where it does (undefined when all of main is fused). */
  stop?: string
  /** Reductions of the rest computed on the chunks (hoist.ts), and the rounds they need. */
  hoist: Hoist
}

export const RESULT_VARIABLE = '_runsurge_result'

const REDUCE_BUILTINS = new Set(['sum', 'len', 'min', 'max', 'any', 'all'])
const LOOP_OPS = new Set(['+', '*', '|', '&', '^', 'min', 'max', 'group', 'count', 'union', 'append', 'extend', 'max_from_none', 'min_from_none', 'best', 'kbest', 'last'])
const MAP_OPS = new Set(['collect', 'append', 'extend', 'setitem'])
/** Builtins the generated runtime calls by name: a module-level definition of one would change it. */
const RUNTIME_BUILTINS = new Set([
  'sum', 'len', 'min', 'max', 'any', 'all', 'list', 'tuple', 'dict', 'set', 'frozenset', 'type', 'isinstance',
  'bool', 'int', 'float', 'str', 'bytes', 'bytearray', 'complex', 'range', 'zip', 'hex', 'ord', 'chr', 'repr',
  'callable', 'hasattr', 'getattr', 'vars', 'object', 'sorted', 'reversed', 'globals', 'id', 'enumerate', 'abs',
  'round', 'Exception', 'ArithmeticError', 'AssertionError', 'AttributeError', 'IndexError', 'KeyError',
  'LookupError', 'NameError', 'NotImplementedError', 'OverflowError', 'RecursionError', 'RuntimeError',
  'StopIteration', 'TypeError', 'UnicodeError', 'UnicodeDecodeError', 'UnicodeEncodeError', 'ValueError',
  'ZeroDivisionError', 'MemoryError', '__name__'
])
/** Names an accumulator's initial value may use: it is re-evaluated by the aggregator. */
const INIT_NAMES = new Set(['True', 'False', 'None', 'float', 'int', 'complex', 'str', 'bytes', 'tuple', 'list', 'dict', 'set', 'frozenset', 'bool', 'math', 'inf', 'nan'])

/**
 * Finds the longest splittable prefix of `main` and what crosses from the chunks to the aggregator, or the
 * reason there is none. Conservative: any doubt gives a reason.
 */
export function findSplit (source: string, report: AnalysisReport): { split: Split } | { reason: string } {
  const main = mainOf(source, report)
  if ('reason' in main) return main
  const { blocks, layout, param } = main
  const nodes = main.ddg.nodes
  const blockOf: number[] = []
  for (const b of blocks) for (const s of b.statements) blockOf[s] = b.id
  const { fused, why } = fusedPrefix(main, blockOf)
  const fusedBlocks = blocks.filter(b => (b.statements[0] ?? 0) < fused)
  const { chunkLists, combined } = keptOnChunks(main, blockOf, fusedBlocks, fused)
  // Spans are offsets into the analyzed text; a source the analyzer decoded differently (a byte-order mark) is not hoisted.
  const reductions = report.reductions !== undefined && report.reductions.sites.every(x => x.start < 0 || source.slice(x.start, x.end) === x.text) ? report.reductions : { sites: [], maps: [], outside: nodes.map(() => []) }
  const loops = blocks.flatMap(b => restLoop(b, nodes, fused, layout, reductions.sites.map(x => x.statement)) ?? [])
  const hoist = hoistSites({ nodes, fused, param, chunkLists, combined, reductions, loops })
  if (fused === 0 && !hoist.kept.has(param)) return { reason: why ?? 'nothing to split' }
  if (fused === 0 && hoist.sites.length === 0) return { reason: why ?? 'nothing to split' }
  const crossing = outputsOf(main, blockOf, fused, hoist, why)
  if ('reason' in crossing) return crossing
  const rewritten = chunkRewrites(nodes, layout, fusedBlocks)
  if ('reason' in rewritten) return rewritten
  const { outputs, returns } = crossing
  return { split: { layout, nodes, fused, blocks: fusedBlocks, outputs, returns, ...rewritten, hoist, ...(fused < nodes.length && why !== undefined ? { stop: why } : {}) } }
}

type Main = Exclude<ReturnType<typeof mainOf>, { reason: string }>

/**
 * The statements run per chunk: the longest prefix of whole candidate blocks (each could run per chunk on its own
 * merits) whose sources are data or fused element-wise lists; and why the prefix stops where it does.
 */
function fusedPrefix ({ blocks, layout, param, ddg }: Main, blockOf: number[]): { fused: number, why?: string } {
  const nodes = ddg.nodes
  const lastWriter = (variable: string, before: number): number | undefined => writerBefore(nodes, variable, before)
  const candidate = new Map<number, string | undefined>()
  for (const b of blocks) candidate.set(b.id, blockProblem(b, nodes, layout))
  let fused = nodes.findIndex(n => candidate.get(blockOf[n.id] ?? -1) !== undefined)
  if (fused === -1) fused = nodes.length
  let why = fused < nodes.length ? loopProblem(blocks, blockOf[fused] ?? -1, nodes) ?? candidate.get(blockOf[fused] ?? -1) : undefined
  for (let changed = true; changed;) {
    changed = false
    for (const b of blocks) {
      const first = b.statements[0] ?? 0
      if (first >= fused) continue
      const problem = b.statements.some(s => s >= fused)
        ? `line ${b.startLine}: the block spans statements outside the splittable part`
        : sourceOf(b, nodes, lastWriter, blocks, blockOf, param)
      if (problem !== undefined) {
        fused = first
        why = problem
        changed = true
      }
    }
  }
  return { fused, ...(why !== undefined ? { why } : {}) }
}

/** Collections that may stay on the chunks (the rest reads them only through reductions), and values combined. */
function keptOnChunks ({ param, ddg }: Main, blockOf: number[], fusedBlocks: Block[], fused: number): { chunkLists: Set<string>, combined: Set<string> } {
  const chunkLists = new Set([param])
  const combined = new Set<string>()
  for (const b of fusedBlocks) {
    for (const a of b.accumulators) {
      if (isElementList(b, a)) chunkLists.add(a.variable)
      else if (a.variable !== 'return') combined.add(a.variable)
    }
  }
  // A list one fused statement builds and another changes is not one chunk's elements in order: not kept.
  // (A loop's initialiser `ys = []` is part of the loop's block.)
  for (const v of chunkLists) if (v !== param && new Set(ddg.nodes.slice(0, fused).filter(n => n.writes.includes(v)).map(n => blockOf[n.id])).size > 1) chunkLists.delete(v)
  return { chunkLists, combined }
}

/** What the rest of main reads of the fused part (and the return value when main ends in it), each with its partial. */
function outputsOf ({ blocks, layout, param, ddg }: Main, blockOf: number[], fused: number, hoist: Hoist, why: string | undefined): { outputs: SplitOutput[], returns: boolean } | { reason: string } {
  const nodes = ddg.nodes
  const needed = new Map<string, number>()
  for (const node of nodes.slice(fused)) {
    for (const v of [...node.reads, ...node.mutates]) {
      if (hoist.kept.has(v)) continue
      const w = writerBefore(nodes, v, node.id)
      if (w === undefined) {
        if (v === param) return { reason: `line ${node.line} reads ${param} itself after the splittable part, so the whole input must be on one node (the splittable part ends there because ${why ?? 'of it'})` }
        continue
      }
      if (w < fused && !needed.has(v)) needed.set(v, w)
    }
  }
  if (!hoist.kept.has(param) && writerBefore(nodes, param, fused) === undefined && fused < nodes.length) {
    const rest = layout.masked.slice((nodes[fused]?.line ?? 1) - 1, layout.endLine).join('\n')
    if (mentions(rest, param)) return { reason: `line ${nodes[fused]?.line ?? 0} onwards mentions ${param}, so the whole input must be on one node` }
  }
  const outputs: SplitOutput[] = []
  for (const [variable, w] of needed) {
    const block = blocks[blockOf[w] ?? -1]
    const acc = block?.accumulators.find(a => a.variable === variable)
    if (block === undefined || acc === undefined) {
      return { reason: `${variable} is read after line ${nodes[w]?.endLine ?? 0}, where it holds a per-element value, not a combinable result` }
    }
    outputs.push({ variable, partial: partialOf(block, acc), statement: w })
  }
  const last = nodes.at(-1)
  const returns = fused === nodes.length && last?.kind === 'return_statement'
  if (returns && last !== undefined) {
    const block = blocks[blockOf[last.id] ?? -1]
    const acc = block?.accumulators.find(a => a.variable === 'return')
    if (block === undefined || acc === undefined) return { reason: `line ${last.line}: the return value is not a combinable result` }
    outputs.push({ variable: RESULT_VARIABLE, partial: partialOf(block, acc), statement: last.id })
  }
  return { outputs, returns }
}

/** The fused statements as a chunk runs them: reductions rewritten to keep partials, loops' accumulators started. */
function chunkRewrites (nodes: DdgNode[], layout: Main['layout'], fusedBlocks: Block[]): { rewrites: Map<number, string[]>, inserts: Map<number, string[]> } | { reason: string } {
  const rewrites = new Map<number, string[]>()
  const inserts = new Map<number, string[]>()
  for (const b of fusedBlocks) {
    const owner = nodes[b.statements.at(-1) ?? 0] as DdgNode
    if (b.class === 'reduce' && owner.kind === 'for_statement') {
      inserts.set(owner.line, accumulatorStarts(b.accumulators, layout.indent))
      if (b.accumulators.some(a => a.op === 'best' || a.op === 'kbest')) rewrites.set(owner.id, chunkLoopLines(layout.lines, owner.line, owner.endLine, b.accumulators))
    } else if (b.class === 'reduce' && KEYED_OPS.has(b.accumulators[0]?.op ?? 'sum')) {
      const rewritten = rewriteKeyed(owner, layout, b.accumulators[0] as Accumulator)
      if (rewritten === undefined) return { reason: `line ${owner.line}: cannot rewrite \`${owner.text}\` for a chunk` }
      rewrites.set(owner.id, rewritten)
    } else if (b.class === 'reduce' || owner.kind === 'return_statement') {
      const rewritten = rewriteStatement(owner, layout, b.accumulators[0] as Accumulator, b.class === 'reduce')
      if (rewritten === undefined) return { reason: `line ${owner.line}: cannot rewrite \`${owner.text}\` for a chunk` }
      rewrites.set(owner.id, rewritten)
    }
  }
  return { rewrites, inserts }
}

/** The last of main's statements before `before` that binds or changes `variable`. */
export function writerBefore (nodes: DdgNode[], variable: string, before: number): number | undefined {
  for (let i = before - 1; i >= 0; i--) if (nodes[i]?.writes.includes(variable) === true) return i
  return undefined
}

/** Main's analysis and layout, when code can be generated from it at all (see `sourceProblem`). */
export function mainOf (source: string, report: AnalysisReport): { ddg: Ddg, blocks: Block[], param: string, layout: MainLayout } | { reason: string } {
  const ddg = report.ddg
  const blocks = report.blocks
  if (ddg === undefined || blocks === undefined) return { reason: 'the analysis has no blocks' }
  const param = ddg.params[0]
  if (param === undefined || ddg.params.length !== 1) return { reason: 'main takes more than one parameter' }
  const layout = locateMain(source, ddg.nodes, param)
  if ('reason' in layout) return layout
  const problem = sourceProblem(layout, ddg.nodes)
  if (problem !== undefined) return { reason: problem }
  return { ddg, blocks, param, layout }
}

/** Whole-program reasons not to generate code (name clashes, scoping that a split would change). */
function sourceProblem (layout: MainLayout, nodes: DdgNode[]): string | undefined {
  const text = layout.lines.join('\n')
  if (/_runsurge/i.test(text)) return 'the job uses names starting with _runsurge, which the generated code reserves'
  const masked = layout.masked
  const outside = [...masked.slice(0, layout.defLine - 1), ...masked.slice(layout.endLine)].join('\n')
  const body = masked.slice(layout.defLine, layout.endLine).join('\n')
  if (mentions(outside, 'main') || mentions(body, 'main')) return 'the job refers to main itself'
  if (mentions(outside, 'aggregate') || mentions(body, 'aggregate')) return 'the job defines or uses a name aggregate, which the aggregator task needs'
  const keyword = /(?<![\p{L}\p{N}_.])(global|nonlocal|yield|await)(?![\p{L}\p{N}_])/u.exec(body)
  if (keyword !== null) return `main uses ${keyword[1] ?? ''}, whose scoping a split would change`
  const shadowed = [...moduleNames(masked.slice(0, layout.defLine - 1).concat(masked.slice(layout.endLine)))].filter(n => RUNTIME_BUILTINS.has(n))
  if (shadowed.length > 0) return `the module redefines the builtin ${shadowed.sort().join(', ')}, which the generated code relies on`
  const rebound = nodes.flatMap(n => n.writes).filter(w => REDUCE_BUILTINS.has(w))
  if (rebound.length > 0) return `main rebinds the builtin ${rebound[0] ?? ''}`
  return undefined
}

/** Why a block cannot run per chunk on its own merits, or undefined when it can. */
/**
 * Why the loop that block `id` initialises is not a reduce loop (`lengths = []` then `for line in lines: …`): the
 * loop's reason says more than "list is not a recognised map or reduction" about the initialiser.
 */
function loopProblem (blocks: Block[], id: number, nodes: DdgNode[]): string | undefined {
  const init = blocks.find(b => b.id === id)
  if (init?.class !== 'opaque' || !init.statements.every(st => nodes[st]?.kind === 'expression_statement')) return undefined
  const written = new Set(init.statements.flatMap(st => nodes[st]?.writes ?? []))
  const loop = blocks.find(b => b.id > id && b.class === 'opaque' && nodes[b.statements[0] ?? -1]?.kind === 'for_statement' && b.reads.some(r => written.has(r)))
  if (loop === undefined || blocks.some(b => b.id > id && b.id < loop.id && b.class !== 'opaque')) return undefined
  return `line ${loop.startLine}, the loop that line ${init.startLine} starts: ${loop.reason === '' ? 'not a map or reduction' : loop.reason}`
}

function blockProblem (b: Block, nodes: DdgNode[], layout: MainLayout): string | undefined {
  const at = `line ${b.startLine}`
  if (b.class === 'opaque') return `${at}: ${b.reason === '' ? 'not a map or reduction' : b.reason}`
  if (b.source === undefined) return `${at}: no source collection`
  if (b.positions !== undefined) return `${at}: the loop numbers its elements (enumerate), and a chunk learns where its elements stand only from a first round`
  if (b.broadcast.length > 0) return `${at}: every element reads ${b.broadcast.join(', ')}, a value computed earlier in main`
  const others = b.reads.filter(r => r !== b.source)
  if (others.length > 0) return `${at}: reads ${others.join(', ')} besides ${b.source}`
  const owner = nodes[b.statements.at(-1) ?? -1]
  if (owner === undefined) return `${at}: no statement`
  if (b.class === 'map') {
    if (b.combine !== 'concat' && b.combine !== 'merge') return `${at}: unknown combine`
    if (b.accumulators.some(a => !MAP_OPS.has(a.op))) return `${at}: unknown map accumulator`
    if (owner.kind === 'return_statement' && owner.id !== nodes.length - 1) return `${at}: a return before the end`
    return undefined
  }
  if (owner.kind === 'for_statement') {
    for (const a of b.accumulators) {
      if (!LOOP_OPS.has(a.op)) return `${at}: ${a.variable} accumulates with ${a.op}`
      if (!KEYED_OPS.has(a.op) && !safeInit(a.init)) return `${at}: ${a.variable} starts as ${a.init}, which the aggregator cannot re-create safely`
    }
    const best = bestProblem(b.accumulators, owner.line, owner.endLine, nodes)
    return best === undefined ? undefined : `${at}: ${best}`
  }
  const acc = b.accumulators[0]
  if (acc !== undefined && KEYED_OPS.has(acc.op)) {
    if (b.statements.length !== 1 || b.accumulators.length !== 1) return `${at}: a ${acc.op} over several statements`
    return rewriteKeyed(owner, layout, acc) === undefined ? `${at}: \`${owner.text}\` is not a plain set(…), {… for …} or Counter(…)` : undefined
  }
  const called = /=\s*[(\s]*([\p{L}_][\p{L}\p{N}_.]*)\s*\(/u.exec(owner.text)?.[1]
  if (b.statements.length !== 1 || b.accumulators.length !== 1 || acc === undefined || !REDUCE_BUILTINS.has(acc.op) ||
    (called !== undefined && called !== acc.op)) {
    return `${at}: a reduction through ${called !== undefined ? `the helper function ${called}()` : 'a helper function'}, whose combining operator is unknown`
  }
  if (acc.op === 'sum' && !/^-?\d+(\.\d+)?$/.test(acc.init)) return `${at}: sum() with start ${acc.init}`
  if (rewriteStatement(owner, layout, acc, true) === undefined) return `${at}: \`${owner.text}\` is not a plain call of the builtin ${acc.op}()`
  return undefined
}

/**
 * What a chunk rebinds a reduce loop's accumulators to, after their initialisers: folds start from no value, min/max
 * from a recorder; keyed accumulators run from their own initial value (identities only), a set records its order of
 * arrival; lists appended to stay as they are.
 */
export function accumulatorStarts (accumulators: Accumulator[], indent: string): string[] {
  return accumulators.flatMap(a => {
    if (a.op === 'union') return [`${indent}${a.variable} = _RunsurgeOrderedSet()`]
    if (a.op === 'best' || a.op === 'kbest') return [bestStart(a, indent)]
    if (a.op === 'last') return [`${indent}${a.variable} = _runsurge_NOVALUE`]
    if (KEYED_OPS.has(a.op) || a.op === 'append' || a.op === 'extend') return []
    if (a.op === 'max_from_none' || a.op === 'min_from_none') return [`${indent}${a.variable} = _RunsurgeRecorder('${a.op.slice(0, 3)}', True)`]
    return [`${indent}${a.variable} = ${a.op === 'min' || a.op === 'max' ? `_RunsurgeRecorder('${a.op}')` : '_runsurge_NOVALUE'}`]
  })
}

/** A reduce loop after the split part, as the chunks may run it (hoist.ts decides whether they do), or undefined. */
function restLoop (b: Block, nodes: DdgNode[], fused: number, layout: MainLayout, siteStatements: number[]): RestLoop | undefined {
  const owner = nodes[b.statements.at(-1) ?? -1]
  if (owner?.kind !== 'for_statement' || (b.statements[0] ?? -1) < fused || b.class !== 'reduce' || b.source === undefined) return undefined
  const accumulators = b.accumulators
  const inits = b.statements.slice(0, -1)
  const names = new Set(accumulators.map(a => a.variable))
  const reads = new Set(b.broadcast)
  for (const s of inits) for (const v of nodes[s]?.reads ?? []) if (!names.has(v)) reads.add(v)
  reads.delete(b.source)
  const text = layout.lines.slice(owner.line - 1, owner.endLine).join('\n')
  let problem: string | undefined
  if (accumulators.some(a => !LOOP_OPS.has(a.op) || a.op === 'append' || a.op === 'extend')) problem = 'it builds a list'
  else if (accumulators.some(a => !KEYED_OPS.has(a.op) && !safeInit(a.init))) problem = 'an accumulator starts from a value the aggregator cannot re-create safely'
  else if (/'''|"""/.test(text)) problem = 'it holds a multi-line string'
  else if (b.statements.some(s => siteStatements.includes(s))) problem = 'a reduction stands inside it'
  else if (b.positions !== undefined && positionsHeader(layout.lines[owner.line - 1] ?? '', b.source, b.positions) === undefined) problem = 'its enumerate(…) is not written on the line of its for'
  else problem = bestProblem(accumulators, owner.line, owner.endLine, nodes)
  return { statement: owner.id, inits, over: b.source, accumulators, reads: [...reads].sort(), line: owner.line, ...(b.positions !== undefined ? { positions: b.positions } : {}), ...(problem !== undefined ? { problem } : {}) }
}

/** Whether the block's source is `data` itself or a list a fused map produced element by element. */
function sourceOf (b: Block, nodes: DdgNode[], lastWriter: (v: string, before: number) => number | undefined, blocks: Block[], blockOf: number[], param: string): string | undefined {
  const source = b.source as string
  const owner = b.statements.at(-1) ?? 0
  const w = lastWriter(source, owner)
  if (w === undefined) return source === param ? undefined : `line ${b.startLine}: ${source} is not defined earlier in main`
  const writer = blocks[blockOf[w] ?? -1]
  const acc = writer?.accumulators.find(a => a.variable === source)
  if (writer === undefined || acc === undefined || !isElementList(writer, acc)) {
    return `line ${b.startLine}: ${source} (line ${nodes[w]?.line ?? 0}) is not a list built element by element from the input`
  }
  return undefined
}

/** A list a block builds element by element, in order: a map's, or one a reduce loop appends to. */
function isElementList (b: Block, a: Accumulator): boolean {
  if (b.class === 'map') return b.combine === 'concat' && (a.op === 'collect' || a.op === 'append' || a.op === 'extend')
  return b.class === 'reduce' && (a.op === 'append' || a.op === 'extend')
}

function partialOf (block: Block, acc: Accumulator): PartialKind {
  if (block.class === 'map') return { kind: block.combine === 'merge' ? 'merge' : 'concat' }
  if (acc.op === 'append' || acc.op === 'extend') return { kind: 'concat' }
  switch (acc.op) {
    case 'sum': case 'len': return { kind: 'add', init: acc.op === 'len' ? '0' : acc.init }
    case 'any': case 'all': return { kind: 'decide', op: acc.op }
    case 'min': case 'max':
      return block.statements.length === 1 ? { kind: 'pick', op: acc.op } : { kind: 'replay', op: acc.op, init: acc.init }
    case 'group': case 'count': case 'union': return { kind: acc.op }
    case 'max_from_none': case 'min_from_none': return { kind: 'replay', op: acc.op === 'max_from_none' ? 'max' : 'min', init: 'None', fromNone: true }
    case 'best': return bestPartial(acc, block.accumulators)
    case 'kbest': return { kind: 'kbest', step: acc.best as BestStep }
    case 'last': return { kind: 'last', init: acc.init }
    default: return { kind: 'fold', op: acc.op as '+' | '*' | '|' | '&' | '^', init: acc.init }
  }
}

/**
 * Rewrites a builtin reduction (`x = max(…)`, `return sum(…)`) to call the chunk-side partial function,
 * and a fused `return expr` to bind the result variable. The call must be the whole value, so only the
 * statement's head changes.
 */
function rewriteStatement (node: DdgNode, layout: MainLayout, acc: Accumulator, reduce: boolean): string[] | undefined {
  const text = layout.lines.slice(node.line - 1, node.endLine).join('\n').slice(layout.indent.length)
  const target = acc.variable === 'return' ? String.raw`return\b` : `(${IDENTIFIER})\\s*=(?!=)`
  const call = reduce ? String.raw`\s*((?:\(\s*)*)(${[...REDUCE_BUILTINS].join('|')})\s*\(` : ''
  const m = new RegExp(`^${target}${call}`, 'u').exec(text)
  if (m === null) return undefined
  const name = acc.variable === 'return' ? RESULT_VARIABLE : m[1]
  if (acc.variable !== 'return' && name !== acc.variable) return undefined
  let head = `${name as string} =`
  if (reduce) {
    const parens = m[acc.variable === 'return' ? 1 : 2] ?? ''
    const op = m[acc.variable === 'return' ? 2 : 3]
    if (op !== acc.op) return undefined
    head = `${head} ${parens}_runsurge_${op}(`
  } else head += ' '
  const tail = text.slice(m[0].length)
  return (layout.indent + head + (reduce ? tail : tail.replace(/^[ \t]+/, ''))).split('\n')
}

/**
 * A keyed reduction written as one expression, for a chunk: `Counter(…)` stays as it is (its value is the partial);
 * `set(…)` and `{… for …}` build a `_RunsurgeOrderedSet`, which keeps the order elements arrived in.
 */
function rewriteKeyed (node: DdgNode, layout: MainLayout, acc: Accumulator): string[] | undefined {
  const text = layout.lines.slice(node.line - 1, node.endLine).join('\n').slice(layout.indent.length)
  const masked = layout.masked.slice(node.line - 1, node.endLine).join('\n').slice(layout.indent.length)
  const target = acc.variable === 'return' ? String.raw`return\b` : `(${IDENTIFIER})\\s*=(?!=)`
  const m = new RegExp(`^${target}\\s*`, 'u').exec(masked)
  if (m === null || (acc.variable !== 'return' && m[1] !== acc.variable)) return undefined
  const name = acc.variable === 'return' ? RESULT_VARIABLE : acc.variable
  const value = text.slice(m[0].length)
  const head = `${layout.indent}${name} = `
  if (acc.op === 'count') return (head + value).split('\n')
  if (acc.op !== 'union') return undefined
  const call = /^set\s*\(/.exec(value)
  if (call !== null) return (head + '_RunsurgeOrderedSet(' + value.slice(call[0].length)).split('\n')
  const close = masked.lastIndexOf('}')
  if (!value.startsWith('{') || close === -1 || masked.slice(close + 1).trim() !== '') return undefined
  const inner = text.slice(m[0].length + 1, close)
  return (head + '_RunsurgeOrderedSet(' + inner + ')' + text.slice(close + 1)).split('\n')
}

function safeInit (init: string): boolean {
  if (/[\n;:=]/.test(init)) return false
  const names = init
    .replace(/(['"]).*?\1/g, '""')
    .replace(/(?<![\p{L}\p{N}_.])\d[\d_]*(\.[\d_]*)?([eE][+-]?\d+)?[jJ]?/gu, '0')
    .match(new RegExp(IDENTIFIER, 'gu')) ?? []
  return names.every(n => INIT_NAMES.has(n)) && !/\.\s*(?!inf\b|nan\b)[\p{L}_]/u.test(init)
}

/**
 * A loop's first line with its `enumerate(over)` / `enumerate(over, START)` numbering from `offset` (a Python name)
 * on: `enumerate(over, (START) + offset)`; undefined unless the line holds exactly one such call.
 */
export function positionsHeader (line: string, over: string, start: string, offset = '_runsurge_offset'): string | undefined {
  const call = new RegExp(`\\benumerate\\(\\s*${over}\\s*(?:,\\s*(-?[\\d_]+)\\s*)?\\)`, 'gu')
  const found = [...line.matchAll(call)]
  if (found.length !== 1 || (found[0]?.[1] ?? '0').replace(/_/g, '') !== start) return undefined
  return line.replace(call, `enumerate(${over}, (${start}) + ${offset})`)
}

/**
 * Reductions where they stand: calls of `sum`, `len`, `min`, `max`, `any`, `all` over one of main's local
 * collections anywhere inside main's statements (a returned dict, arithmetic, a call's argument), and, per
 * statement, which locals it reads outside of them. A planner may compute such a reduction on each chunk of a split
 * collection and combine the partial values, instead of shipping the collection: when every read of the collection
 * after the split part is inside one.
 *
 * ```python
 * return {"n": len(ys), "total": sum(ys), "max": max(ys, key=abs)}   # three sites over ys
 * var = sum((x - m) ** 2 for x in data) / n                          # a site over data reading m
 * ```
 */
import type { FunctionSummary } from './classify.ts'
import type { DdgWithSyntax } from './ddg.ts'
import type { EffectContext } from './effects.ts'
import { effectsOf, targetNames } from './effects.ts'
import { afterToken, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/**
 * The reductions a site may be: the builtins; `xs[0]` and `xs[-1]` (`first`, `last`); a collection's truth in a
 * condition (`if not xs:`, `truth`); the k largest or smallest elements (`heapq.nlargest(k, xs, key=…)`,
 * `sorted(xs, key=…, reverse=…)[:k]`: `nlargest`, `nsmallest`); the first or last k elements (`xs[:k]`, `xs[-k:]`:
 * `head`, `tail`); the set of distinct elements (`set(…)`, `{… for …}`: `union`); `xs.count(v)` (`count`); a call of a
 * loop helper over the collection (`total(xs)`, `count_if(xs, limit)`, `tally(rows, "k")`: `sum` when it adds from
 * 0, `counts` or `groups` when it counts or groups by key; `best` when it keeps a running best element from None: the
 * aggregator calls it again on the chunks' bests, in order), computed on each chunk by the helper itself. A planner
 * may add `loop`: one accumulator of a whole reduce loop over a local collection (never found here).
 */
export type SiteOp = 'sum' | 'len' | 'min' | 'max' | 'any' | 'all' | 'first' | 'last' | 'truth' | 'nlargest' | 'nsmallest' | 'head' | 'tail' | 'union' | 'count' | 'counts' | 'groups' | 'best' | 'loop'

const OPS: ReadonlySet<string> = new Set(['sum', 'len', 'min', 'max', 'any', 'all'])

/** A reduction over a local collection, where it stands in a statement of main. */
export interface ReductionSite {
  /** The DDG statement that holds it. */
  statement: number
  op: SiteOp
  /** The collection (a parameter or local of main) it iterates. */
  over: string
  /** The call's source span: offsets into the source text (UTF-16 code units, as JS strings index), end exclusive. */
  start: number
  end: number
  line: number
  endLine: number
  text: string
  /** `sum(xs, start)`: the start value's source (a number literal). */
  startValue?: string
  /** `min(…, default=…)`, `max(…)`: the default's source, evaluated by the aggregator where the call stands. */
  defaultText?: string
  /** `best`: the helper the aggregator calls on the list of the chunks' values (each chunk's best, in chunk order). */
  helper?: string
  /**
   * Python computing the site's partial value on one chunk (the chunk's `over` bound as on the whole), with the
   * partials runtime's functions (`_runsurge_sum(…)`, `_runsurge_top('nlargest', k, xs, key)`, …).
   */
  chunk: string
  /**
   * Free names the element code reads besides the loop variables and the collection itself: main's locals among
   * them are values it needs from earlier statements; the others are module names and builtins.
   */
  reads: string[]
  /** Why it cannot be computed on chunks apart from where it stands; absent when it can. */
  problem?: string
}

/**
 * `name = [expr for x in xs if cond]` in main: a list built element by element from a local collection, which a
 * planner may build on each chunk of xs (when its only other reads are values known before it).
 */
export interface ChunkMap {
  statement: number
  target: string
  over: string
  line: number
  /** Free names its element code reads besides its loop variables and `over` (sites inside it excluded). */
  reads: string[]
  /** Sites inside it (indexes into `sites`): loop-invariant reductions it reads. */
  sites: number[]
  problem?: string
}

/** Sites of main, and per statement the locals it reads outside of every site. */
export interface ReductionSites {
  sites: ReductionSite[]
  maps: ChunkMap[]
  /** `outside[s]`: main's locals statement `s` mentions outside its sites (reads, writes, attribute roots). */
  outside: string[][]
}

/** Finds every reduction site and chunk map in main's statements. */
export function findSites (graph: DdgWithSyntax, ctx: EffectContext, functions: FunctionSummary[] = []): ReductionSites {
  const helpers = new Map(functions.map(f => [f.name, f]))
  const locals = new Set(graph.ddg.params)
  for (const n of graph.ddg.nodes) for (const w of n.writes) locals.add(w)
  const sites: ReductionSite[] = []
  const maps: ChunkMap[] = []
  const outside: string[][] = []
  graph.statements.forEach((stmt, statement) => {
    const mentioned = new Set<string>()
    const first = sites.length
    walk(stmt, [], (node, enclosing) => {
      const site = siteOf(node, enclosing, statement, locals, ctx, helpers)
      if (site === undefined) {
        if (node.kind === 'identifier' && locals.has(node.text)) mentioned.add(node.text)
        return true
      }
      // Where it stands matters: in a comprehension or a lambda it runs once per element, or not at all: the same
      // value each time unless it reads a name bound there; in a nested function or class, whenever that is called.
      // Reading a name bound by an enclosing loop of its statement, its value changes from one pass to the next.
      const scope = enclosing.find(e => e.kind === 'function_definition' || e.kind === 'class_definition')
      const perElement = new Set(enclosing.flatMap(boundBy))
      const loopBound = new Set(enclosing.flatMap(e => e.kind === 'for_statement' ? targetNames(afterToken(e, 'for') ?? e) : []))
      const varying = [site.over, ...site.reads].filter(r => loopBound.has(r) || perElement.has(r))
      if (site.problem === undefined && scope !== undefined) site.problem = `inside a ${scope.kind.replaceAll('_', ' ')}, which may run at any time`
      if (site.problem === undefined && varying.length > 0) site.problem = `reads ${varying.join(', ')}, which changes from one element or iteration to the next`
      sites.push(site)
      return false
    })
    outside.push([...mentioned].sort())
    const map = mapOf(stmt, statement, locals, ctx, sites, first)
    if (map !== undefined) maps.push(map)
  })
  return { sites, maps, outside }
}

/** Names a comprehension or lambda binds for the code inside it. */
function boundBy (node: PyNode): string[] {
  if (node.kind === 'lambda') {
    const params = namedChildren(node).find(c => c.kind === 'lambda_parameters')
    return params === undefined ? [] : namedChildren(params).flatMap(p => p.kind === 'identifier' ? [p.text] : namedChildren(p).filter(c => c.kind === 'identifier').slice(0, 1).map(c => c.text))
  }
  if (COMPREHENSIONS.has(node.kind)) {
    return namedChildren(node).filter(c => c.kind === 'for_in_clause').flatMap(c => targetNames(afterToken(c, 'for') ?? c))
  }
  return []
}

const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression'])

/** `name = [expr for x in local …]` as a chunk map, or undefined. */
function mapOf (stmt: PyNode, statement: number, locals: ReadonlySet<string>, ctx: EffectContext, sites: ReductionSite[], firstSite: number): ChunkMap | undefined {
  if (stmt.kind !== 'expression_statement') return undefined
  const assignment = namedChildren(stmt)[0]
  if (assignment?.kind !== 'assignment' || namedChildren(stmt).length !== 1) return undefined
  const [left, right] = namedChildren(assignment)
  const comp = right === undefined ? undefined : unparen(right)
  if (left?.kind !== 'identifier' || comp?.kind !== 'list_comprehension' || assignment.children.filter(c => c.kind === '=').length !== 1) return undefined
  const element = elementCode(comp, ctx)
  if (element === undefined || !locals.has(element.over)) return undefined
  // Reads inside its sites are the sites' own (their values reach the chunk as one value each); its iterable is `over`.
  const inner = sites.slice(firstSite).map((site, i) => ({ site, index: firstSite + i })).filter(x => x.site.statement === statement)
  const base = comp.sg.range().start.index
  const blanks = [...inner.map(x => [x.site.start, x.site.end]), [element.at, element.at + element.over.length]].sort((a, b) => (b[0] ?? 0) - (a[0] ?? 0))
  let stripped = textOf(comp)
  for (const [from = 0, to = 0] of blanks) stripped = stripped.slice(0, from - base) + ' '.repeat(to - from) + stripped.slice(to - base)
  const occurs = (name: string): boolean => new RegExp(`(?<![\\p{L}\\p{N}_.])${name}(?![\\p{L}\\p{N}_])`, 'u').test(stripped)
  const reads = element.reads.filter(occurs)
  let problem = element.problem
  if (problem === undefined && occurs(element.over)) problem = `its element code reads all of ${element.over}`
  if (problem === undefined && left.text === element.over) problem = `it rebinds ${element.over}`
  if (problem === undefined && inner.some(x => x.site.defaultText !== undefined)) problem = 'a reduction with a default inside it'
  return {
    statement,
    target: left.text,
    over: element.over,
    line: comp.sg.range().start.line + 1,
    reads: reads.sort(),
    sites: inner.map(x => x.index),
    ...(problem !== undefined ? { problem } : {})
  }
}

/** A comprehension's collection (its first `for`'s iterable, a name) and the free names its element code reads. */
function elementCode (comp: PyNode, ctx: EffectContext): { over: string, at: number, reads: string[], problem?: string } | undefined {
  const clauses = namedChildren(comp)
  const firstFor = clauses.find(c => c.kind === 'for_in_clause')
  const iterable = firstFor === undefined ? undefined : afterToken(firstFor, 'in')
  const src = iterable === undefined ? undefined : unparen(iterable)
  if (firstFor === undefined || firstFor.children[0]?.kind === 'async' || src?.kind !== 'identifier') return undefined
  const reads = new Reads(ctx)
  const add = (code: PyNode, bound: ReadonlySet<string>): void => { reads.add(code, bound) }
  const bound = new Set(targetNames(afterToken(firstFor, 'for') ?? firstFor))
  for (const clause of clauses) {
    if (clause === firstFor) continue
    if (clause.kind === 'for_in_clause') {
      const right = afterToken(clause, 'in')
      if (right !== undefined) add(right, bound)
      for (const n of targetNames(afterToken(clause, 'for') ?? clause)) bound.add(n)
    }
  }
  for (const clause of clauses) if (clause.kind !== 'for_in_clause') add(clause, bound)
  return { over: src.text, at: src.sg.range().start.index, reads: [...reads.names], ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
}

/** Visits nodes depth first; `visit` returns false to skip a node's children. `enclosing` is the path above. */
function walk (node: PyNode, enclosing: PyNode[], visit: (node: PyNode, enclosing: PyNode[]) => boolean): void {
  if (!visit(node, enclosing)) return
  // An attribute's name (`x.total`) and a keyword argument's name (`key=`) are not reads of a local.
  const children = node.kind === 'attribute' ? node.children.slice(0, 1) : node.kind === 'keyword_argument' ? node.children.slice(1) : node.children
  const path = [...enclosing, node]
  for (const child of children) walk(child, path, visit)
}

/** The site a node is, or undefined when it is not a reduction over one of main's locals. */
function siteOf (node: PyNode, enclosing: PyNode[], statement: number, locals: ReadonlySet<string>, ctx: EffectContext, helpers: ReadonlyMap<string, FunctionSummary>): ReductionSite | undefined {
  const parent = enclosing.at(-1)
  const found = node.kind === 'call'
    ? builtinSite(node, locals, ctx) ?? heapqSite(node, locals, ctx) ?? setSite(node, locals, ctx) ?? countSite(node, locals, ctx) ?? helperSite(node, locals, ctx, helpers)
    : node.kind === 'subscript'
      ? indexSite(node, parent, locals) ?? sortedSite(node, locals, ctx) ?? sliceSite(node, parent, locals)
      : node.kind === 'identifier'
        ? truthSite(node, parent, locals)
        : node.kind === 'set_comprehension' ? setSite(node, locals, ctx) : undefined
  if (found === undefined || !locals.has(found.over)) return undefined
  const { op, over, chunk, reads, problem, startValue, defaultText, helper } = found
  if (reads.has(over) && problem === undefined) found.problem = `its element code reads all of ${over}`
  const range = node.sg.range()
  return {
    statement,
    op,
    over,
    start: range.start.index,
    end: range.end.index,
    line: range.start.line + 1,
    endLine: range.end.line + 1,
    text: textOf(node),
    chunk,
    ...(startValue !== undefined ? { startValue } : {}),
    ...(defaultText !== undefined ? { defaultText } : {}),
    ...(helper !== undefined ? { helper } : {}),
    reads: [...reads].filter(r => r !== over).sort(),
    ...(found.problem ?? problem) !== undefined ? { problem: found.problem ?? problem } : {}
  }
}

interface Found {
  op: SiteOp
  over: string
  chunk: string
  reads: Set<string>
  problem?: string
  startValue?: string
  defaultText?: string
  helper?: string
}

/** Reads and purity of a site's element code and arguments. */
class Reads {
  readonly names = new Set<string>()
  problem?: string
  constructor (private readonly ctx: EffectContext) {}
  add (code: PyNode, bound: ReadonlySet<string> = new Set()): void {
    const eff = effectsOf(code, this.ctx, bound)
    for (const r of eff.reads) this.names.add(r)
    if (this.problem === undefined && eff.impure.length > 0) this.problem = `its element code is impure: ${eff.impure[0] ?? ''}`
    if (this.problem === undefined && (eff.writes.size > 0 || eff.yields)) this.problem = `its element code changes ${[...eff.writes].join(', ')}`
  }
}

/** What an iterable argument iterates: a local by name, or a comprehension over one (its element code read). */
function iterated (arg: PyNode, reads: Reads, ctx: EffectContext): string | undefined {
  const first = unparen(arg)
  if (first.kind === 'identifier') return first.text
  if (first.kind !== 'generator_expression' && first.kind !== 'list_comprehension') return undefined
  const element = elementCode(first, ctx)
  if (element === undefined) return undefined
  for (const r of element.reads) reads.names.add(r)
  if (reads.problem === undefined && element.problem !== undefined) reads.problem = element.problem
  return element.over
}

/** `sum(…)`, `len(xs)`, `min(…, key=…, default=…)`, `max(…)`, `any(…)`, `all(…)`. */
function builtinSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext): Found | undefined {
  const fn = unparen(node.children[0] ?? node)
  const args = node.children[1]
  if (fn.kind !== 'identifier' || !OPS.has(fn.text) || locals.has(fn.text) || args === undefined) return undefined
  const op = fn.text as SiteOp
  const argList = args.kind === 'generator_expression' ? [args] : namedChildren(args)
  const positional = argList.filter(a => a.kind !== 'keyword_argument')
  const keywords = argList.filter(a => a.kind === 'keyword_argument')
  if (positional[0] === undefined || positional.some(a => a.kind === 'list_splat' || a.kind === 'dictionary_splat')) return undefined
  const reads = new Reads(ctx)
  const enumerated = op === 'min' || op === 'max' ? enumerateSite(op, positional, keywords, locals, reads) : undefined
  if (enumerated !== undefined) return enumerated
  // len(xs), or len([… for x in xs if …]): a count of the elements a filter keeps.
  const over = op === 'len' && unparen(positional[0]).kind !== 'list_comprehension' ? (unparen(positional[0]).kind === 'identifier' ? unparen(positional[0]).text : undefined) : iterated(positional[0], reads, ctx)
  if (over === undefined) return undefined
  let startValue: string | undefined
  let defaultText: string | undefined
  if (op === 'len' && (positional.length !== 1 || keywords.length > 0)) return undefined
  if (op === 'sum') {
    if (keywords.length > 0 || positional.length > 2) return undefined
    if (positional[1] !== undefined) {
      startValue = textOf(positional[1])
      if (!/^-?\d+(\.\d+)?$/.test(startValue)) return undefined
    }
  }
  if ((op === 'any' || op === 'all') && (positional.length !== 1 || keywords.length > 0)) return undefined
  if (op === 'min' || op === 'max') {
    if (positional.length !== 1) return undefined
    for (const k of keywords) {
      const name = namedChildren(k)[0]?.text
      const value = namedChildren(k)[1]
      if ((name !== 'key' && name !== 'default') || value === undefined) return undefined
      if (name === 'default') defaultText = textOf(value)
      else reads.add(value)
    }
  }
  const text = textOf(node)
  // The default is evaluated where the call stands, by the aggregator; the chunks never need it.
  const chunk = `_runsurge_${op}${text.slice(textOf(fn).length)}`
  return { op, over, chunk: defaultText === undefined ? chunk : `_runsurge_${op}(${textOf(positional[0])}${keywords.filter(k => namedChildren(k)[0]?.text === 'key').map(k => `, ${textOf(k)}`).join('')})`, reads: reads.names, ...(reads.problem !== undefined ? { problem: reads.problem } : {}), ...(startValue !== undefined ? { startValue } : {}), ...(defaultText !== undefined ? { defaultText } : {}) }
}

/** `xs[0]`, `xs[-1]` read (not assigned or deleted). */
function indexSite (node: PyNode, parent: PyNode | undefined, locals: ReadonlySet<string>): Found | undefined {
  const [value, index] = namedChildren(node)
  if (value?.kind !== 'identifier' || !locals.has(value.text) || index === undefined || namedChildren(node).length !== 2) return undefined
  if (parent !== undefined && (parent.kind === 'assignment' || parent.kind === 'augmented_assignment') && parent.children[0] === node) return undefined
  if (parent?.kind === 'delete_statement' || parent?.kind === 'expression_list' || parent?.kind === 'pattern_list') return undefined
  const i = index.kind === 'integer' ? index.text : index.kind === 'unary_operator' && textOf(index).replace(/\s+/g, '') === '-1' ? '-1' : undefined
  if (i !== '0' && i !== '-1') return undefined
  return { op: i === '0' ? 'first' : 'last', over: value.text, chunk: `_runsurge_${i === '0' ? 'first' : 'last'}(${value.text})`, reads: new Set() }
}

/** A collection's truth where it is a condition: `if xs:`, `while xs:`, `not xs`, `a if xs else b`. */
function truthSite (node: PyNode, parent: PyNode | undefined, locals: ReadonlySet<string>): Found | undefined {
  if (!locals.has(node.text) || parent === undefined) return undefined
  const condition = parent.kind === 'not_operator' ||
    ((parent.kind === 'if_statement' || parent.kind === 'elif_clause' || parent.kind === 'while_statement') && namedChildren(parent)[0] === node) ||
    (parent.kind === 'conditional_expression' && namedChildren(parent)[1] === node)
  return condition ? { op: 'truth', over: node.text, chunk: `_runsurge_truth(${node.text})`, reads: new Set() } : undefined
}

/** `heapq.nlargest(k, xs, key=…)`, `heapq.nsmallest(…)` (or imported by name). */
function heapqSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext): Found | undefined {
  const fn = unparen(node.children[0] ?? node)
  const name = fn.kind === 'attribute' ? textOf(fn).replace(/\s+/g, '') : fn.kind === 'identifier' ? fn.text : ''
  const [head, op] = name.includes('.') ? name.split('.') : [undefined, name]
  const module = head === undefined ? ctx.module.imports.get(op ?? '') : ctx.module.imports.get(head)
  const resolved = head === undefined ? module : `${module ?? ''}.${op ?? ''}`
  if ((resolved !== 'heapq.nlargest' && resolved !== 'heapq.nsmallest') || (head !== undefined && locals.has(head)) || (head === undefined && locals.has(op ?? ''))) return undefined
  const args = namedChildren(node.children[1] ?? node)
  const positional = args.filter(a => a.kind !== 'keyword_argument')
  const keywords = args.filter(a => a.kind === 'keyword_argument')
  if (positional.length !== 2 || keywords.some(k => namedChildren(k)[0]?.text !== 'key')) return undefined
  const reads = new Reads(ctx)
  const [k, iterable] = positional as [PyNode, PyNode]
  const over = iterated(iterable, reads, ctx)
  if (over === undefined) return undefined
  reads.add(k)
  const key = keywords[0] === undefined ? undefined : namedChildren(keywords[0])[1]
  if (key !== undefined) reads.add(key)
  const kind = resolved === 'heapq.nlargest' ? 'nlargest' : 'nsmallest'
  return { op: kind, over, chunk: `_runsurge_top('${kind}', (${textOf(k)}), ${textOf(iterable)}, ${key === undefined ? 'None' : `(${textOf(key)})`})`, reads: reads.names, ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
}

/** `sorted(xs, key=…, reverse=True|False)[:k]` with k a non-negative integer literal. */
function sortedSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext): Found | undefined {
  const [value, slice] = namedChildren(node)
  const call = value === undefined ? undefined : unparen(value)
  if (call?.kind !== 'call' || slice?.kind !== 'slice' || namedChildren(node).length !== 2) return undefined
  const fn = unparen(call.children[0] ?? call)
  if (fn.kind !== 'identifier' || fn.text !== 'sorted' || locals.has('sorted')) return undefined
  // `[:k]`: a colon, then the stop; no start, no step.
  const parts = slice.children.map(c => c.kind)
  const stop = namedChildren(slice)[0]
  if (parts.length !== 2 || parts[0] !== ':' || stop?.kind !== 'integer') return undefined
  const args = namedChildren(call.children[1] ?? call)
  const positional = args.filter(a => a.kind !== 'keyword_argument')
  if (positional.length !== 1 || positional[0] === undefined) return undefined
  const reads = new Reads(ctx)
  const over = iterated(positional[0], reads, ctx)
  if (over === undefined) return undefined
  let key: PyNode | undefined
  let reverse = false
  for (const k of args.filter(a => a.kind === 'keyword_argument')) {
    const [name, v] = namedChildren(k)
    if (name?.text === 'key' && v !== undefined) key = v
    else if (name?.text === 'reverse' && (v?.kind === 'true' || v?.kind === 'false')) reverse = v.kind === 'true'
    else return undefined
  }
  if (key !== undefined) reads.add(key)
  const kind = reverse ? 'nlargest' : 'nsmallest'
  return { op: kind, over, chunk: `_runsurge_top('${kind}', ${stop.text}, ${textOf(positional[0])}, ${key === undefined ? 'None' : `(${textOf(key)})`})`, reads: reads.names, ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
}

/**
 * `set(xs)`, `set(… for x in xs)`, `{… for x in xs}`: each chunk's distinct elements in the order they arrived
 * (`_runsurge_distinct`), added in chunk order, build the set one run builds.
 */
function setSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext): Found | undefined {
  const reads = new Reads(ctx)
  let iterable: string
  let over: string | undefined
  if (node.kind === 'set_comprehension') {
    const element = elementCode(node, ctx)
    if (element === undefined) return undefined
    for (const r of element.reads) reads.names.add(r)
    if (element.problem !== undefined) reads.problem = element.problem
    over = element.over
    const text = textOf(node)
    iterable = `(${text.slice(1, -1)})`
  } else {
    const fn = unparen(node.children[0] ?? node)
    const args = namedChildren(node.children[1] ?? node)
    if (fn.kind !== 'identifier' || fn.text !== 'set' || locals.has('set')) return undefined
    const arg = node.children[1]?.kind === 'generator_expression' ? node.children[1] : args[0]
    if (arg === undefined || (node.children[1]?.kind !== 'generator_expression' && args.length !== 1) || arg.kind === 'keyword_argument' || arg.kind === 'list_splat') return undefined
    over = iterated(arg, reads, ctx)
    iterable = textOf(arg)
  }
  if (over === undefined) return undefined
  return { op: 'union', over, chunk: `_runsurge_distinct(${iterable})`, reads: reads.names, ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
}

/** `xs[:k]` and `xs[-k:]` read, k a positive integer literal (`xs[-0:]` is all of xs). */
function sliceSite (node: PyNode, parent: PyNode | undefined, locals: ReadonlySet<string>): Found | undefined {
  const [value, slice] = namedChildren(node)
  if (value?.kind !== 'identifier' || !locals.has(value.text) || slice?.kind !== 'slice' || namedChildren(node).length !== 2) return undefined
  if (parent !== undefined && (parent.kind === 'assignment' || parent.kind === 'augmented_assignment') && parent.children[0] === node) return undefined
  if (parent?.kind === 'delete_statement') return undefined
  const parts = slice.children.map(c => c.kind)
  const bound = namedChildren(slice)[0]
  if (bound === undefined || namedChildren(slice).length !== 1) return undefined
  if (parts.length === 2 && parts[0] === ':' && bound.kind === 'integer') {
    return { op: 'head', over: value.text, chunk: `[${bound.text}, ${value.text}[:${bound.text}]]`, reads: new Set() }
  }
  const k = bound.kind === 'unary_operator' ? /^-\s*(\d+)$/.exec(textOf(bound))?.[1] : undefined
  if (parts.length === 2 && parts[1] === ':' && k !== undefined && Number(k) > 0) {
    return { op: 'tail', over: value.text, chunk: `[${k}, ${value.text}[-${k}:]]`, reads: new Set() }
  }
  return undefined
}

/**
 * `min(enumerate(xs), key=lambda t: t[1])` (or max): the first best element with its index in the whole collection.
 * The key may read only the element (`t[1]`), so each chunk's best keeps its rank once its indexes are shifted by the
 * lengths of the chunks before it (`_runsurge_enumerated` sends the chunk's length with its candidates).
 */
function enumerateSite (op: 'min' | 'max', positional: PyNode[], keywords: PyNode[], locals: ReadonlySet<string>, reads: Reads): Found | undefined {
  const call = positional[0] === undefined ? undefined : unparen(positional[0])
  if (call?.kind !== 'call' || positional.length !== 1 || keywords.length !== 1) return undefined
  const fn = unparen(call.children[0] ?? call)
  const args = namedChildren(call.children[1] ?? call)
  const arg = args[0] === undefined ? undefined : unparen(args[0])
  if (fn.kind !== 'identifier' || fn.text !== 'enumerate' || locals.has('enumerate') || args.length !== 1 || arg?.kind !== 'identifier') return undefined
  const [name, key] = namedChildren(keywords[0] as PyNode)
  if (name?.text !== 'key' || key?.kind !== 'lambda') return undefined
  const params = namedChildren(key).find(c => c.kind === 'lambda_parameters')
  const param = params === undefined ? [] : namedChildren(params)
  const body = namedChildren(key).at(-1)
  if (param.length !== 1 || param[0]?.kind !== 'identifier' || body === undefined || body === params) return undefined
  // Every use of the parameter is `t[1]`.
  const p = param[0].text
  const uses = (node: PyNode): boolean => {
    if (node.kind === 'subscript' && node.children[0]?.kind === 'identifier' && node.children[0].text === p) {
      const index = namedChildren(node)[1]
      return index?.kind === 'integer' && index.text === '1' && namedChildren(node).length === 2
    }
    if (node.kind === 'identifier' && node.text === p) return false
    if (node.kind === 'lambda') return false
    return node.children.every(uses)
  }
  if (!uses(body)) return undefined
  reads.add(key)
  return { op, over: arg.text, chunk: `_runsurge_enumerated('${op}', ${arg.text}, ${textOf(key)})`, reads: reads.names, ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
}

/** `xs.count(v)`, v read the same on every chunk: the chunks' counts added. */
function countSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext): Found | undefined {
  const fn = unparen(node.children[0] ?? node)
  const args = namedChildren(node.children[1] ?? node)
  const receiver = fn.kind === 'attribute' ? fn.children[0] : undefined
  if (fn.kind !== 'attribute' || fn.children.at(-1)?.text !== 'count' || receiver?.kind !== 'identifier' || !locals.has(receiver.text)) return undefined
  if (args.length !== 1 || args[0] === undefined || args[0].kind === 'keyword_argument' || args[0].kind === 'list_splat') return undefined
  const reads = new Reads(ctx)
  reads.add(args[0])
  return { op: 'count', over: receiver.text, chunk: `${receiver.text}.count(${textOf(args[0])})`, reads: reads.names, ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
}

/**
 * `f(xs, a, …)`, f a pure loop helper of the module that reduces its parameter at xs's position with one accumulator
 * and returns it: adding from 0 (`sum`: each chunk's total, then added), counting or grouping by key (`counts`,
 * `groups`: merged by key as the loop merges them). Each chunk calls the helper itself on its elements; the other
 * arguments are read as they are where the call stands.
 */
function helperSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext, helpers: ReadonlyMap<string, FunctionSummary>): Found | undefined {
  const fn = unparen(node.children[0] ?? node)
  if (fn.kind !== 'identifier' || locals.has(fn.text)) return undefined
  const summary = helpers.get(fn.text)
  const acc = summary?.accumulator
  if (summary === undefined || acc === undefined || !summary.pure || summary.over === undefined) return undefined
  // A running best from None over the elements themselves: the fold from None over the chunks' bests, in chunk order,
  // is the fold over all the elements (its first step takes the first value as it is, None included).
  const best = (acc.op === 'max_from_none' || acc.op === 'min_from_none') && acc.elements === true && summary.params.length === 1
  const op = acc.op === '+' && /^0(\.0*)?$/.test(acc.init) ? 'sum' : acc.op === 'count' ? 'counts' : acc.op === 'group' ? 'groups' : best ? 'best' : undefined
  if (op === undefined) return undefined
  const args = namedChildren(node.children[1] ?? node)
  if (args.length !== summary.params.length || args.some(a => a.kind === 'keyword_argument' || a.kind === 'list_splat' || a.kind === 'dictionary_splat')) return undefined
  const index = summary.params.indexOf(summary.over)
  const collection = args[index] === undefined ? undefined : unparen(args[index] as PyNode)
  if (collection?.kind !== 'identifier') return undefined
  const reads = new Reads(ctx)
  args.forEach((a, i) => { if (i !== index) reads.add(a) })
  return { op, over: collection.text, chunk: textOf(node), reads: reads.names, ...(op === 'sum' ? { startValue: '0' } : {}), ...(op === 'best' ? { helper: fn.text } : {}), ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
}

/**
 * The forms a reduction site takes (see sites.ts): each recogniser reads one call, subscript or name and says which
 * reduction it is, over which collection, what a chunk computes for it and what else its element code reads.
 */
import type { FunctionSummary } from './classify.ts'
import type { EffectContext } from './effects.ts'
import { effectsOf, targetNames } from './effects.ts'
import { qualified } from './loop-keys.ts'
import type { InlineHelper, LaterPass } from './inline-sites.ts'
import { afterToken, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/**
 * The reductions a site may be: the builtins; `xs[0]` and `xs[-1]` (`first`, `last`); a collection's truth in a
 * condition (`if not xs:`, `truth`); the k largest or smallest elements (`heapq.nlargest(k, xs, key=…)`,
 * `sorted(xs, key=…, reverse=…)[:k]`: `nlargest`, `nsmallest`; `sorted(…)[-k:]`, the last k of the stable sort: `sortedtail`); the first or last k elements (`xs[:k]`, `xs[-k:]`:
 * `head`, `tail`); the set of distinct elements (`set(…)`, `{… for …}`: `union`); `xs.count(v)` (`count`); a call of a
 * loop helper over the collection (`total(xs)`, `count_if(xs, limit)`, `tally(rows, "k")`: `sum` when it adds from
 * 0, `counts` or `groups` when it counts or groups by key; `best` when it keeps a running best element from None: the
 * aggregator calls it again on the chunks' bests, in order), computed on each chunk by the helper itself. A planner
 * may add `loop`: one accumulator of a whole reduce loop over a local collection (never found here).
 */
export type SiteOp = 'sum' | 'len' | 'min' | 'max' | 'any' | 'all' | 'first' | 'last' | 'truth' | 'nlargest' | 'nsmallest' | 'sortedtail' | 'head' | 'tail' | 'union' | 'count' | 'counts' | 'groups' | 'best' | 'loop' | 'lengths' |
  'inline' | StatisticsOp

/**
 * `math.fsum(…)` and the statistics module's `fmean`, `mean`, `pvariance`, `pstdev`, `variance`, `stdev` of one
 * argument: each chunk sends an exact sum (floats adding up to it exactly for fsum and fmean; the count, the types and
 * the exact sums of x and x * x for the others), and the aggregator finishes as the function itself would.
 */
export type StatisticsOp = 'fsum' | 'fmean' | 'mean' | 'pvariance' | 'pstdev' | 'variance' | 'stdev'

const STATISTICS: ReadonlyMap<string, StatisticsOp> = new Map([
  ['math.fsum', 'fsum'], ['statistics.fmean', 'fmean'], ['statistics.mean', 'mean'], ['statistics.pvariance', 'pvariance'],
  ['statistics.pstdev', 'pstdev'], ['statistics.variance', 'variance'], ['statistics.stdev', 'stdev']
])

const OPS: ReadonlySet<string> = new Set(['sum', 'len', 'min', 'max', 'any', 'all'])

/**
 * The reduction form a node has by itself, without the job's helpers (before checking that it reduces one of
 * `locals`), or undefined. `sites.ts` adds the helpers' forms (see `helperSite` and inline-sites.ts).
 */
export function reductionForm (node: PyNode, parent: PyNode | undefined, locals: ReadonlySet<string>, ctx: EffectContext): Found | undefined {
  return node.kind === 'call'
    ? builtinSite(node, locals, ctx) ?? statisticsSite(node, locals, ctx) ?? heapqSite(node, locals, ctx) ?? setSite(node, locals, ctx) ?? countSite(node, locals, ctx)
    : node.kind === 'subscript'
      ? indexSite(node, parent, locals) ?? sortedSite(node, locals, ctx) ?? sliceSite(node, parent, locals)
      : node.kind === 'identifier'
        ? truthSite(node, parent, locals)
        : node.kind === 'set_comprehension' ? setSite(node, locals, ctx) : undefined
}

/** A comprehension's collection (its first `for`'s iterable, a name) and the free names its element code reads. */
export function elementCode (comp: PyNode, ctx: EffectContext): { over: string, at: number, reads: string[], problem?: string } | undefined {
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

export interface Found {
  op: SiteOp
  over: string
  chunk: string
  reads: Set<string>
  problem?: string
  startValue?: string
  defaultText?: string
  helper?: string
  inline?: InlineHelper
  /** `inline` with statements: the helper's later passes (sites of their own). */
  passes?: LaterPass[]
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

/** `statistics.pstdev(xs)`, `math.fsum(x for x in xs)`, `fmean(xs)` (imported by name)…: one positional argument. */
function statisticsSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext): Found | undefined {
  const fn = unparen(node.children[0] ?? node)
  const args = node.children[1]
  if ((fn.kind !== 'identifier' && fn.kind !== 'attribute') || args === undefined) return undefined
  const name = textOf(fn).replace(/\s+/g, '')
  const root = name.split('.')[0] ?? ''
  if (!ctx.module.imports.has(root) || locals.has(root)) return undefined
  const op = STATISTICS.get(qualified(name, ctx))
  const argList = args.kind === 'generator_expression' ? [args] : namedChildren(args)
  const arg = argList[0]
  if (op === undefined || arg === undefined || argList.length !== 1 || arg.kind === 'keyword_argument' || arg.kind === 'list_splat') return undefined
  const reads = new Reads(ctx)
  const over = iterated(arg, reads, ctx)
  if (over === undefined) return undefined
  const partial = op === 'fsum' || op === 'fmean' ? '_runsurge_fsum_partial' : '_runsurge_moments_partial'
  return { op, over, chunk: `${partial}(${textOf(arg)}${op === 'mean' ? ', False' : ''})`, reads: reads.names, ...(reads.problem !== undefined ? { problem: reads.problem } : {}) }
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
  // `[:k]`: a colon, then the stop; no start, no step. `[-k:]`: a negative start, then a colon.
  const parts = slice.children.map(c => c.kind)
  const bound = namedChildren(slice)[0]
  const head = parts.length === 2 && parts[0] === ':' && bound?.kind === 'integer'
  const negative = bound?.kind === 'unary_operator' && bound.children[0]?.kind === '-' && bound.children[1]?.kind === 'integer' && Number(bound.children[1].text) > 0
  const tail = parts.length === 2 && parts[1] === ':' && negative
  if ((!head && !tail) || bound === undefined) return undefined
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
  const keyText = key === undefined ? 'None' : `(${textOf(key)})`
  const problem = reads.problem !== undefined ? { problem: reads.problem } : {}
  if (tail) {
    const k = bound.children[1]?.text ?? '0'
    // The aggregator sorts the candidates the same way (the site's start value says which way).
    const way = reverse ? 'True' : 'False'
    return { op: 'sortedtail', over, chunk: `_runsurge_sorted_tail(${k}, ${textOf(positional[0])}, ${keyText}, ${way})`, startValue: way, reads: reads.names, ...problem }
  }
  const kind = reverse ? 'nlargest' : 'nsmallest'
  return { op: kind, over, chunk: `_runsurge_top('${kind}', ${bound.text}, ${textOf(positional[0])}, ${keyText})`, reads: reads.names, ...problem }
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
export function helperSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext, helpers: ReadonlyMap<string, FunctionSummary>): Found | undefined {
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

/** The start value (Python) the aggregator combines a site's partials from: 0 for counts, else its own or 0. */
export function siteStart (site: { op: SiteOp, startValue?: string }): string {
  return site.op === 'len' || site.op === 'count' ? '0' : site.startValue ?? '0'
}

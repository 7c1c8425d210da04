/**
 * Function classes, conservative: when the analyzer cannot prove a class, the answer is `opaque`.
 *
 * - `map`: one output per input element, filters included, so f(a + b) == f(a) + f(b) for a split input
 *   (list comprehensions, `list(map(f, xs))`, loops that only `append`/`extend`/`d[k] = v` per element,
 *   helpers whose body is one of those). Element code must be pure; names it reads besides the element are
 *   broadcast (e.g. a mean computed earlier).
 * - `reduce`: associative accumulation: `sum`, `len`, `min`, `max`, `any`, `all` over a collection or a
 *   map of it, and loops of the form `acc = acc OP g(x)` with associative OP (`+ * | & ^`, `min`, `max`).
 * - `opaque`: anything else (sorting, prefix sums, dedupe with a seen-set, indexes, early exits, …).
 */
import { ASSOCIATIVE_BUILTINS, PURE_BUILTINS } from './builtins.ts'
import type { DdgWithSyntax } from './ddg.ts'
import type { EffectContext } from './effects.ts'
import { effectsOf, impurityOf, isPureFunction, targetNames } from './effects.ts'
import { assignmentOf, loopForm } from './loops.ts'
import type { Accumulator, AccumulatorOp, Form } from './loops.ts'
import { afterToken, isDocstring, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'
import type { FunctionDef } from './template.ts'

/** The three classes. */
export type FunctionClass = 'map' | 'reduce' | 'opaque'

export type { Accumulator, AccumulatorOp, BestStep } from './loops.ts'

/** Class of one DDG statement of `main`. */
export interface StatementClass {
  statement: number
  class: FunctionClass
  /** The collection iterated element by element (map/reduce only). */
  source?: string
  /** What a split run combines: `concat` (lists, in order), `merge` (dicts, in order), `reduce` (partials with the accumulator's op). */
  combine?: 'concat' | 'merge' | 'reduce'
  accumulators: Accumulator[]
  /** Variables read whole by every element (scalars computed earlier, lookup tables). */
  broadcast: string[]
  /** For a loop: the statements that initialise its accumulators (part of the same block). */
  initStatements: number[]
  /** The statement is one of those initialisers; the loop's id. */
  initOf?: number
  /** Why this class (for opaque: what prevented map/reduce). */
  reason: string
  /** A loop over `enumerate(source, START)`: START (see `Form.positions`). */
  positions?: string
}

/** Class of a helper function, with respect to a collection passed as its parameter `over`. */
export interface FunctionSummary {
  name: string
  line: number
  params: string[]
  /** Calling it changes nothing the caller can see; a pure helper may run per element inside a map. */
  pure: boolean
  /** Why not pure. */
  impurity: string[]
  class: FunctionClass
  /** The parameter it maps or reduces over. */
  over?: string
  combine?: 'concat' | 'merge' | 'reduce'
  /**
   * A loop helper (`acc = init; for x in xs: …; return acc`) whose loop has one accumulator and returns it: how it
   * accumulates, so a call of it can be computed per chunk and combined.
   */
  accumulator?: Accumulator
  reason: string
}

const IDENTITY: Partial<Record<AccumulatorOp, string>> = { sum: '0', len: '0', any: 'False', all: 'True' }

/** Classifies every helper function of the module. */
export function classifyFunctions (functions: Iterable<FunctionDef>, ctx: EffectContext): FunctionSummary[] {
  const out: FunctionSummary[] = []
  const memo = new Map<string, FunctionSummary>()
  for (const fn of functions) out.push(classifyFunction(fn, ctx, memo))
  return out.sort((a, b) => a.line - b.line)
}

function classifyFunction (fn: FunctionDef, ctx: EffectContext, memo: Map<string, FunctionSummary>): FunctionSummary {
  const cached = memo.get(fn.name)
  if (cached !== undefined) return cached
  const impurity = impurityOf(fn, ctx)
  const pure = impurity.length === 0
  const base = { name: fn.name, line: fn.line, params: fn.params, pure, impurity }
  // Provisional entry: a recursive helper is opaque.
  const provisional: FunctionSummary = { ...base, class: 'opaque', reason: 'recursive' }
  memo.set(fn.name, provisional)
  let summary: FunctionSummary = { ...base, class: 'opaque', reason: pure ? 'pure, usable per element inside a map; not itself a map or reduction over a parameter' : 'not a map or reduction over one of its parameters' }
  if (!pure) summary = { ...base, class: 'opaque', reason: `impure: ${impurity.join('; ')}` }
  else {
    const body = fn.node.children.find(c => c.kind === 'block')
    const stmts = body === undefined ? [] : namedChildren(body).filter((s, i) => !(i === 0 && isDocstring(s)))
    const collections = new Set(fn.params)
    const last = stmts.at(-1)
    if (stmts.length === 1 && last?.kind === 'return_statement') {
      const expr = namedChildren(last)[0]
      const form = expr === undefined ? undefined : expressionForm(expr, collections, ctx, memo)
      if (form !== undefined) summary = { ...base, class: form.class, over: form.source, combine: form.combine, reason: `returns a ${form.class} over ${form.source}` }
    } else if (last?.kind === 'return_statement' && stmts.length >= 2) {
      const returned = unparen(namedChildren(last)[0] ?? last)
      const loopIndex = stmts.length - 2
      const loop = stmts[loopIndex]
      if (returned.kind === 'identifier' && loop?.kind === 'for_statement') {
        const result = loopForm(stmts, loopIndex, collections, ctx, new Set())
        const initsOnly = result.form !== undefined && result.inits.length === loopIndex
        // A loop that numbers its elements gives each chunk's own numbers: not a helper that reduces per chunk.
        if (result.form?.positions !== undefined) summary = { ...base, class: 'opaque', reason: 'its loop numbers the elements (enumerate), whose positions a chunk does not know' }
        else if (result.form !== undefined && initsOnly && result.form.accumulators.some(a => a.variable === returned.text)) {
          const only = result.form.accumulators.length === 1 ? result.form.accumulators[0] : undefined
          summary = { ...base, class: result.form.class, over: result.form.source, combine: result.form.combine, ...(only !== undefined ? { accumulator: only } : {}), reason: `its loop is a ${result.form.class} over ${result.form.source}` }
        } else if (result.form === undefined) summary = { ...base, class: 'opaque', reason: result.reason }
      }
    }
  }
  memo.set(fn.name, summary)
  return summary
}

/** Classifies each statement of `main`'s DDG. */
export function classifyStatements (graph: DdgWithSyntax, functions: FunctionSummary[], ctx: EffectContext): StatementClass[] {
  const { ddg, statements } = graph
  const memo = new Map(functions.map(f => [f.name, f]))
  const locals = new Set(ddg.params)
  for (const n of ddg.nodes) for (const w of n.writes) locals.add(w)
  const classes: StatementClass[] = ddg.nodes.map(n => ({ statement: n.id, class: 'opaque', accumulators: [], broadcast: [], initStatements: [], reason: '' }))
  statements.forEach((stmt, id) => {
    const current = classes[id]
    if (current === undefined || current.initOf !== undefined) return
    let form: Form | undefined
    let reason = 'not a map or reduction'
    let inits: number[] = []
    if (stmt.kind === 'for_statement') {
      const laterReads = new Set(ddg.nodes.slice(id + 1).flatMap(n => n.reads))
      const result = loopForm(statements, id, locals, ctx, laterReads)
      form = result.form
      reason = result.reason
      inits = result.inits
    } else {
      const assigned = assignmentOf(stmt)
      const expr = assigned?.value ?? (stmt.kind === 'return_statement' ? namedChildren(stmt)[0] : undefined)
      if (expr !== undefined) {
        form = expressionForm(expr, locals, ctx, memo)
        const target = assigned?.target ?? 'return'
        // Reading the target's previous value (`xs = [x * 2 for x in xs]`) reads an earlier definition,
        // which the DDG keys separately (xs:12 vs xs:14), so it does not prevent a map.
        if (form !== undefined) form.accumulators = form.accumulators.map(a => ({ ...a, variable: target }))
        else reason = stmt.kind === 'return_statement' ? 'assembles the job\'s result' : describeOpaque(expr)
      } else reason = describeOpaque(stmt)
    }
    if (form === undefined) {
      current.reason = ddg.nodes[id]?.exits === true ? 'may leave main early, so every later statement waits for it' : reason
      return
    }
    Object.assign(current, {
      class: form.class,
      source: form.source,
      combine: form.combine,
      accumulators: form.accumulators,
      broadcast: form.broadcast.filter(b => locals.has(b)).sort(),
      initStatements: inits,
      reason: `${form.class} over ${form.source}`,
      ...(form.positions !== undefined ? { positions: form.positions } : {})
    })
    for (const i of inits) {
      const init = classes[i]
      if (init !== undefined) Object.assign(init, { class: form.class, initOf: id, reason: `initialises the accumulator of line ${ddg.nodes[id]?.line ?? 0}` })
    }
  })
  return classes
}

function describeOpaque (node: PyNode): string {
  const expr = unparen(node)
  if (expr.kind === 'call') {
    const fn = textOf(expr.children[0] ?? expr)
    if (fn === 'sorted' || fn.endsWith('.sort')) return 'sorting needs the whole collection'
    const hasArgs = namedChildren(expr.children[1] ?? expr).length > 0
    if ((fn === 'set' || fn === 'frozenset') && hasArgs) return 'building a set (dedupe) needs the whole collection'
    return `call to ${fn}() is not a recognised map or reduction`
  }
  if (expr.kind === 'subscript') return 'indexing or slicing depends on positions in the whole collection'
  return `${expr.kind.replaceAll('_', ' ')} is not a recognised map or reduction`
}

/** A map or reduce expression over one of `collections`, or undefined. */
function expressionForm (node: PyNode, collections: ReadonlySet<string>, ctx: EffectContext, memo: Map<string, FunctionSummary>, consumed = false): Form | undefined {
  const expr = unparen(node)
  // A bare generator is lazy and single-use: replacing it by a list of chunks would change what a second
  // consumer sees. Generators count only where they are consumed at once (list(…), sum(…), …).
  if (expr.kind === 'list_comprehension' || expr.kind === 'dictionary_comprehension' || (expr.kind === 'generator_expression' && consumed)) {
    return comprehensionForm(expr, collections, ctx)
  }
  if (expr.kind === 'set_comprehension') return keyedForm(comprehensionForm(expr, collections, ctx), 'union')
  const call = callParts(expr)
  if (call === undefined) return undefined
  const { name, positional, keywords } = call
  if ((name === 'list' || name === 'tuple') && positional.length === 1 && keywords.length === 0) {
    return collectedForm(unparen(positional[0] ?? expr), collections, ctx)
  }
  const counter = ctx.module.imports.get(name) === 'collections.Counter' || (name === 'collections.Counter' && ctx.module.imports.get('collections') === 'collections')
  if ((name === 'set' || counter) && positional.length === 1 && keywords.length === 0) {
    // set(xs) / Counter(xs): one element at a time, in order, like the loop with add / += 1.
    const inner = unparen(positional[0] ?? expr)
    const op = name === 'set' ? 'union' : 'count'
    if (inner.kind === 'identifier' && collections.has(inner.text)) return keyedForm({ class: 'map', source: inner.text, combine: 'concat', accumulators: [], broadcast: [] }, op)
    return keyedForm(expressionForm(inner, collections, ctx, memo, true), op)
  }
  if (ASSOCIATIVE_BUILTINS.has(name) && positional.length >= 1) return builtinReductionForm(call, collections, ctx, memo)
  const helper = ctx.module.functions.get(name)
  if (helper !== undefined && keywords.length === 0) return helperForm(helper, call, collections, ctx, memo)
  return undefined
}

/** A call of a name (or of `collections.Counter`): the name and its arguments, or undefined for any other expression. */
interface CallParts {
  name: string
  positional: PyNode[]
  keywords: PyNode[]
}

function callParts (expr: PyNode): CallParts | undefined {
  if (expr.kind !== 'call') return undefined
  const fn = unparen(expr.children[0] ?? expr)
  const args = expr.children[1]
  if (args === undefined || (fn.kind !== 'identifier' && !(fn.kind === 'attribute' && textOf(fn) === 'collections.Counter'))) return undefined
  const argList = args.kind === 'generator_expression' ? [args] : namedChildren(args)
  return { name: textOf(fn), positional: argList.filter(a => a.kind !== 'keyword_argument'), keywords: argList.filter(a => a.kind === 'keyword_argument') }
}

/** `list(…)` / `tuple(…)` of `inner`: a generator expression, or `map(f, xs)` / `filter(f, xs)` with f pure. */
function collectedForm (inner: PyNode, collections: ReadonlySet<string>, ctx: EffectContext): Form | undefined {
  if (inner.kind === 'generator_expression') return comprehensionForm(inner, collections, ctx)
  if (inner.kind !== 'call') return undefined
  const innerFn = textOf(inner.children[0] ?? inner)
  const innerArgs = namedChildren(inner.children[1] ?? inner)
  if ((innerFn !== 'map' && innerFn !== 'filter') || innerArgs.length !== 2) return undefined
  const [f, source] = innerArgs
  const src = source === undefined ? undefined : unparen(source)
  if (f === undefined || src?.kind !== 'identifier' || !collections.has(src.text) || !isPureCallable(f, ctx)) return undefined
  const eff = effectsOf(f, ctx)
  if (eff.reads.has(src.text)) return undefined
  return { class: 'map', source: src.text, combine: 'concat', accumulators: [{ variable: '', op: 'collect', init: '[]' }], broadcast: [...eff.reads] }
}

/** `sum(…)`, `min(…, key=f)`, `any(…)`…: an associative builtin over a collection or a map of it. */
function builtinReductionForm (call: CallParts, collections: ReadonlySet<string>, ctx: EffectContext, memo: Map<string, FunctionSummary>): Form | undefined {
  const { name, positional, keywords } = call
  const [first, start] = positional
  if (first === undefined) return undefined
  if (start !== undefined && !(name === 'sum' && /^-?\d+(\.\d+)?$/.test(textOf(start)))) return undefined
  if (positional.length > 2 || (name !== 'min' && name !== 'max' && keywords.length > 0)) return undefined
  for (const k of keywords) {
    // min/max(key=f) keep the first of equal elements, split or not; default= would change the result per chunk.
    const kname = namedChildren(k)[0]?.text
    if (kname !== 'key' || !isPureCallable(namedChildren(k)[1] ?? k, ctx)) return undefined
  }
  const op = name as AccumulatorOp
  const inner = unparen(first)
  const init = start !== undefined ? textOf(start) : IDENTITY[op] ?? 'None'
  const keyReads = keywords.flatMap(k => [...effectsOf(k, ctx).reads])
  if (inner.kind === 'identifier' && collections.has(inner.text)) {
    if (keyReads.includes(inner.text)) return undefined
    return { class: 'reduce', source: inner.text, combine: 'reduce', accumulators: [{ variable: '', op, init }], broadcast: keyReads }
  }
  const mapped = expressionForm(inner, collections, ctx, memo, true)
  if (mapped?.class === 'map' && mapped.combine === 'concat' && !keyReads.includes(mapped.source)) {
    return { class: 'reduce', source: mapped.source, combine: 'reduce', accumulators: [{ variable: '', op, init }], broadcast: [...new Set([...mapped.broadcast, ...keyReads])] }
  }
  return undefined
}

/** A call of the job's own helper that maps or reduces one of its parameters, given a collection there. */
function helperForm (helper: FunctionDef, call: CallParts, collections: ReadonlySet<string>, ctx: EffectContext, memo: Map<string, FunctionSummary>): Form | undefined {
  const { positional } = call
  const summary = memo.get(call.name) ?? classifyFunction(helper, ctx, memo)
  if (summary.class === 'opaque' || summary.over === undefined || !summary.pure) return undefined
  const index = summary.params.indexOf(summary.over)
  const arg = positional[index] === undefined ? undefined : unparen(positional[index] as PyNode)
  if (arg?.kind !== 'identifier' || !collections.has(arg.text) || positional.length !== summary.params.length) return undefined
  const others = positional.filter((_, i) => i !== index)
  const broadcast = others.flatMap(o => [...effectsOf(o, ctx).reads])
  if (broadcast.includes(arg.text)) return undefined
  return {
    class: summary.class,
    source: arg.text,
    combine: summary.combine ?? (summary.class === 'map' ? 'concat' : 'reduce'),
    accumulators: [{ variable: '', op: summary.class === 'map' ? 'collect' : 'sum', init: summary.class === 'map' ? '[]' : '0' }],
    broadcast
  }
}

/** A keyed reduction (set union, counts) of the elements a map form produces, or undefined. */
function keyedForm (mapped: Form | undefined, op: 'union' | 'count'): Form | undefined {
  if (mapped?.class !== 'map' || mapped.combine !== 'concat') return undefined
  return { class: 'reduce', source: mapped.source, combine: 'reduce', accumulators: [{ variable: '', op, init: op === 'union' ? 'set()' : 'Counter()' }], broadcast: mapped.broadcast }
}

function isPureCallable (f: PyNode, ctx: EffectContext): boolean {
  const fn = unparen(f)
  if (fn.kind === 'identifier') {
    const helper = ctx.module.functions.get(fn.text)
    if (helper !== undefined) return isPureFunction(helper, ctx)
    return PURE_BUILTINS.has(fn.text) && fn.text !== 'print'
  }
  if (fn.kind === 'lambda') {
    const eff = effectsOf(fn, ctx)
    return eff.impure.length === 0 && eff.writes.size === 0
  }
  if (fn.kind === 'attribute') {
    const root = fn.children[0]
    return root?.kind === 'identifier' && ctx.module.imports.has(root.text)
  }
  return false
}

function comprehensionForm (expr: PyNode, collections: ReadonlySet<string>, ctx: EffectContext): Form | undefined {
  const clauses = namedChildren(expr)
  const firstFor = clauses.find(c => c.kind === 'for_in_clause')
  if (firstFor === undefined || firstFor.children[0]?.kind === 'async') return undefined
  const iterable = afterToken(firstFor, 'in')
  const src = iterable === undefined ? undefined : unparen(iterable)
  if (src?.kind !== 'identifier' || !collections.has(src.text)) return undefined
  const eff = effectsOf(expr, ctx)
  if (eff.impure.length > 0 || eff.writes.size > 0 || eff.yields) return undefined
  // The element code must not see the whole collection (len(xs) inside a map differs per chunk).
  const elementReads = elementReadsOf(expr, firstFor, ctx)
  if (elementReads.has(src.text)) return undefined
  const dict = expr.kind === 'dictionary_comprehension'
  return {
    class: 'map',
    source: src.text,
    combine: dict ? 'merge' : 'concat',
    accumulators: [{ variable: '', op: 'collect', init: dict ? '{}' : '[]' }],
    broadcast: [...elementReads]
  }
}

/** Free reads of a comprehension other than its first iterable. */
function elementReadsOf (expr: PyNode, firstFor: PyNode, ctx: EffectContext): Set<string> {
  const bound = new Set(targetNames(afterToken(firstFor, 'for') ?? firstFor))
  const reads = new Set<string>()
  for (const clause of namedChildren(expr)) {
    if (clause === firstFor) continue
    if (clause.kind === 'for_in_clause') {
      const right = afterToken(clause, 'in')
      if (right !== undefined) for (const r of effectsOf(right, ctx, bound).reads) reads.add(r)
      for (const n of targetNames(afterToken(clause, 'for') ?? clause)) bound.add(n)
    }
  }
  for (const clause of namedChildren(expr)) {
    if (clause.kind === 'for_in_clause') continue
    for (const r of effectsOf(clause, ctx, bound).reads) reads.add(r)
  }
  return reads
}

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
import { ASSOCIATIVE_BUILTINS, ASSOCIATIVE_OPERATORS, PURE_BUILTINS } from './builtins.ts'
import type { DdgWithSyntax } from './ddg.ts'
import type { EffectContext, Effects } from './effects.ts'
import { effectsOf, impurityOf, isPureFunction, targetNames } from './effects.ts'
import { afterToken, lineOf, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'
import type { FunctionDef } from './template.ts'

/** The three classes. */
export type FunctionClass = 'map' | 'reduce' | 'opaque'

/**
 * How a loop or expression accumulates. Map operations: `append`, `extend` (flat map), `setitem`
 * (`d[k] = v`, merged in order), `collect` (a comprehension or `map`/`filter`). Reductions: the operator
 * (`+`, `*`, `|`, `&`, `^`) or builtin (`sum`, `len`, `min`, `max`, `any`, `all`).
 */
export type AccumulatorOp = 'append' | 'extend' | 'setitem' | 'collect' | '+' | '*' | '|' | '&' | '^' | 'sum' | 'len' | 'min' | 'max' | 'any' | 'all'

/** A variable a map or reduce produces. */
export interface Accumulator {
  variable: string
  op: AccumulatorOp
  /** Source of the initial value (`0`, `[]`, `float('inf')`); for builtins, the identity used to combine partials. */
  init: string
}

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
  reason: string
}

const LIST_INITS = /^(\[\s*\]|list\(\s*\))$/
const DICT_INITS = /^(\{\s*\}|dict\(\s*\))$/
const IDENTITY: Partial<Record<AccumulatorOp, string>> = { sum: '0', len: '0', any: 'False', all: 'True' }

interface Form {
  class: 'map' | 'reduce'
  source: string
  combine: 'concat' | 'merge' | 'reduce'
  accumulators: Accumulator[]
  broadcast: string[]
}

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
        if (result.form !== undefined && initsOnly && result.form.accumulators.some(a => a.variable === returned.text)) {
          summary = { ...base, class: result.form.class, over: result.form.source, combine: result.form.combine, reason: `its loop is a ${result.form.class} over ${result.form.source}` }
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
      reason: `${form.class} over ${form.source}`
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

function assignmentOf (stmt: PyNode): { target: string, value: PyNode } | undefined {
  if (stmt.kind !== 'expression_statement') return undefined
  const a = namedChildren(stmt)[0]
  if (a?.kind !== 'assignment') return undefined
  const target = a.children[0]
  const value = afterToken(a, '=')
  if (target?.kind !== 'identifier' || value === undefined || value.kind === 'assignment') return undefined
  return { target: target.text, value }
}

/** A map or reduce expression over one of `collections`, or undefined. */
function expressionForm (node: PyNode, collections: ReadonlySet<string>, ctx: EffectContext, memo: Map<string, FunctionSummary>, consumed = false): Form | undefined {
  const expr = unparen(node)
  // A bare generator is lazy and single-use: replacing it by a list of chunks would change what a second
  // consumer sees. Generators count only where they are consumed at once (list(…), sum(…), …).
  if (expr.kind === 'list_comprehension' || expr.kind === 'dictionary_comprehension' || (expr.kind === 'generator_expression' && consumed)) {
    return comprehensionForm(expr, collections, ctx)
  }
  if (expr.kind !== 'call') return undefined
  const fn = unparen(expr.children[0] ?? expr)
  const args = expr.children[1]
  if (fn.kind !== 'identifier' || args === undefined) return undefined
  const name = fn.text
  const argList = args.kind === 'generator_expression' ? [args] : namedChildren(args)
  const positional = argList.filter(a => a.kind !== 'keyword_argument')
  const keywords = argList.filter(a => a.kind === 'keyword_argument')

  if ((name === 'list' || name === 'tuple') && positional.length === 1 && keywords.length === 0) {
    const inner = unparen(positional[0] ?? expr)
    if (inner.kind === 'generator_expression') return comprehensionForm(inner, collections, ctx)
    if (inner.kind === 'call') {
      const innerFn = textOf(inner.children[0] ?? inner)
      const innerArgs = namedChildren(inner.children[1] ?? inner)
      if ((innerFn === 'map' || innerFn === 'filter') && innerArgs.length === 2) {
        const [f, source] = innerArgs
        const src = source === undefined ? undefined : unparen(source)
        if (f !== undefined && src?.kind === 'identifier' && collections.has(src.text) && isPureCallable(f, ctx)) {
          const eff = effectsOf(f, ctx)
          if (eff.reads.has(src.text)) return undefined
          return { class: 'map', source: src.text, combine: 'concat', accumulators: [{ variable: '', op: 'collect', init: '[]' }], broadcast: [...eff.reads] }
        }
      }
    }
    return undefined
  }
  if (ASSOCIATIVE_BUILTINS.has(name) && positional.length >= 1) {
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
  const helper = ctx.module.functions.get(name)
  if (helper !== undefined && keywords.length === 0) {
    const summary = memo.get(name) ?? classifyFunction(helper, ctx, memo)
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
  return undefined
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

interface LoopResult {
  form?: Form
  inits: number[]
  reason: string
}

interface LoopEnv {
  bound: Set<string>
  temps: Set<string>
  accumulators: Map<string, AccumulatorOp>
  reads: Set<string>
  fail?: string
}

/** Recognises `acc = init …; for x in xs: <append/update acc per element>`. */
function loopForm (stmts: PyNode[], index: number, collections: ReadonlySet<string>, ctx: EffectContext, laterReads: ReadonlySet<string>): LoopResult {
  const loop = stmts[index]
  if (loop === undefined) return { inits: [], reason: 'no loop' }
  if (loop.children[0]?.kind === 'async') return { inits: [], reason: 'async loop' }
  if (loop.children.some(c => c.kind === 'else_clause')) return { inits: [], reason: 'for…else depends on how the loop ended' }
  const left = afterToken(loop, 'for')
  const right = afterToken(loop, 'in')
  const src = right === undefined ? undefined : unparen(right)
  if (src?.kind !== 'identifier' || !collections.has(src.text)) {
    return { inits: [], reason: `the loop does not iterate over a collection variable directly (${right === undefined ? '?' : textOf(right)})` }
  }
  const targets = left === undefined ? [] : targetNames(left)
  if (targets.length === 0) return { inits: [], reason: 'unsupported loop target' }
  const env: LoopEnv = { bound: new Set(targets), temps: new Set(), accumulators: new Map(), reads: new Set() }
  const body = loop.children.find(c => c.kind === 'block')
  if (body !== undefined) walkBody(body, env, ctx)
  if (env.fail !== undefined) return { inits: [], reason: env.fail }
  if (env.accumulators.size === 0) return { inits: [], reason: 'the loop accumulates nothing' }
  for (const name of [...targets, ...env.temps]) {
    if (laterReads.has(name)) return { inits: [], reason: `${name} is read after the loop, where it holds the last element's value` }
  }
  if (env.reads.has(src.text)) return { inits: [], reason: `the loop body reads all of ${src.text} per element` }
  for (const acc of env.accumulators.keys()) {
    if (env.reads.has(acc)) return { inits: [], reason: `the loop reads ${acc} while accumulating it (a prefix dependence)` }
    if (env.temps.has(acc)) return { inits: [], reason: `${acc} is both a per-element temporary and an accumulator` }
  }
  const ops = [...env.accumulators.values()]
  const mapOps = ops.filter(o => o === 'append' || o === 'extend' || o === 'setitem')
  if (mapOps.length > 0 && mapOps.length < ops.length) return { inits: [], reason: 'the loop mixes a map (append) with a reduction' }
  const kind: 'map' | 'reduce' = mapOps.length > 0 ? 'map' : 'reduce'
  if (kind === 'map' && ops.includes('setitem') && ops.some(o => o !== 'setitem')) return { inits: [], reason: 'the loop fills both lists and dicts' }

  // Each accumulator needs an initialiser before the loop, with nothing touching it in between.
  const inits: number[] = []
  const accumulators: Accumulator[] = []
  for (const [acc, op] of env.accumulators) {
    let found: number | undefined
    for (let j = index - 1; j >= 0; j--) {
      const stmt = stmts[j]
      if (stmt === undefined) continue
      const eff = effectsOf(stmt, ctx)
      if (eff.writes.has(acc)) {
        found = j
        break
      }
      if (eff.reads.has(acc)) return { inits: [], reason: `${acc} is used between its initialisation and the loop` }
    }
    const initStmt = found === undefined ? undefined : stmts[found]
    const assigned = initStmt === undefined ? undefined : assignmentOf(initStmt)
    if (found === undefined || assigned === undefined || assigned.target !== acc) return { inits: [], reason: `${acc} is not initialised by a plain assignment before the loop` }
    const init = textOf(assigned.value)
    const initEff = effectsOf(assigned.value, ctx)
    if (op === 'append' || op === 'extend' ? !LIST_INITS.test(init) : op === 'setitem' ? !DICT_INITS.test(init) : initEff.impure.length > 0) {
      return { inits: [], reason: `${acc} must start empty (${op === 'setitem' ? '{}' : '[]'}) for the loop to be a map; it starts as ${init}` }
    }
    if ([...initEff.reads].some(r => env.accumulators.has(r))) return { inits: [], reason: `${acc}'s initial value depends on another accumulator` }
    inits.push(found)
    accumulators.push({ variable: acc, op, init })
  }
  const broadcast = [...env.reads].filter(r => !env.accumulators.has(r) && r !== src.text)
  for (const b of broadcast) {
    if (env.temps.has(b)) return { inits: [], reason: `${b} carries a value from one element to the next` }
  }
  return {
    form: {
      class: kind,
      source: src.text,
      combine: kind === 'reduce' ? 'reduce' : ops.includes('setitem') ? 'merge' : 'concat',
      accumulators,
      broadcast
    },
    inits: inits.sort((a, b) => a - b),
    reason: `${kind} over ${src.text}`
  }
}

/** Checks a loop body statement by statement; records accumulators, temporaries and element reads. */
function walkBody (block: PyNode, env: LoopEnv, ctx: EffectContext): void {
  for (const stmt of namedChildren(block)) {
    if (env.fail !== undefined) return
    switch (stmt.kind) {
      case 'pass_statement':
        continue
      case 'continue_statement':
        continue
      case 'if_statement': {
        const condition = namedChildren(stmt)[0]
        if (condition !== undefined) readPure(condition, env, ctx)
        // A temporary bound in one branch is not bound after the if: reading it there may see the value
        // of an earlier element, which the broadcast check then rejects.
        const branch = (block: PyNode): void => {
          const saved = new Set(env.bound)
          walkBody(block, env, ctx)
          env.bound = saved
        }
        for (const part of namedChildren(stmt).slice(1)) {
          if (part.kind === 'block') branch(part)
          else if (part.kind === 'elif_clause') {
            const [cond, ...rest] = namedChildren(part)
            if (cond !== undefined) readPure(cond, env, ctx)
            for (const r of rest) if (r.kind === 'block') branch(r)
          } else if (part.kind === 'else_clause') {
            for (const r of namedChildren(part)) if (r.kind === 'block') branch(r)
          }
        }
        continue
      }
      case 'for_statement': {
        if (stmt.children.some(c => c.kind === 'else_clause')) {
          env.fail = 'nested for…else'
          return
        }
        const right = afterToken(stmt, 'in')
        const left = afterToken(stmt, 'for')
        if (right !== undefined) readPure(right, env, ctx)
        const saved = new Set(env.bound)
        for (const n of left === undefined ? [] : targetNames(left)) {
          env.bound.add(n)
          env.temps.add(n)
        }
        const body = stmt.children.find(c => c.kind === 'block')
        if (body !== undefined) walkBody(body, env, ctx)
        // The inner loop may not run: its variables are not bound after it.
        env.bound = saved
        continue
      }
      case 'expression_statement':
        accumulate(namedChildren(stmt)[0], env, ctx)
        continue
      default:
        env.fail = `a ${stmt.kind.replaceAll('_', ' ')} inside the loop (line ${lineOf(stmt)}) is not a per-element step`
        return
    }
  }
}

function readPure (expr: PyNode, env: LoopEnv, ctx: EffectContext): Effects {
  const eff = effectsOf(expr, ctx, env.bound)
  if (eff.impure.length > 0) env.fail = `element code is impure: ${eff.impure[0] ?? ''}`
  else if (eff.writes.size > 0 || eff.yields) env.fail = `element code changes ${[...eff.writes].join(', ')}`
  for (const r of eff.reads) env.reads.add(r)
  return eff
}

function addAccumulator (name: string, op: AccumulatorOp, env: LoopEnv): void {
  const previous = env.accumulators.get(name)
  if (env.bound.has(name)) {
    env.fail = `${name} is a per-element variable, not an accumulator`
    return
  }
  if (previous !== undefined && previous !== op && !(isAppendLike(previous) && isAppendLike(op))) {
    env.fail = `${name} is updated with both ${previous} and ${op}`
    return
  }
  env.accumulators.set(name, previous === 'extend' ? previous : op)
}

function isAppendLike (op: AccumulatorOp): boolean {
  return op === 'append' || op === 'extend'
}

function accumulate (expr: PyNode | undefined, env: LoopEnv, ctx: EffectContext): void {
  if (expr === undefined) return
  if (expr.kind === 'call') {
    const fn = expr.children[0]
    const args = namedChildren(expr.children[1] ?? expr)
    if (fn?.kind === 'attribute' && fn.children[0]?.kind === 'identifier' && args.length === 1 && args[0]?.kind !== 'keyword_argument') {
      const receiver = fn.children[0].text
      const method = fn.children.at(-1)?.text
      if ((method === 'append' || method === 'extend') && !env.bound.has(receiver)) {
        readPure(args[0] as PyNode, env, ctx)
        addAccumulator(receiver, method, env)
        return
      }
    }
    // Any other call is allowed only when it changes nothing (print, a pure helper whose value is dropped).
    readPure(expr, env, ctx)
    return
  }
  if (expr.kind === 'augmented_assignment') {
    const [target, value] = namedChildren(expr)
    const op = expr.children.find(c => !c.named)?.kind.replace('=', '') ?? ''
    if (target?.kind === 'identifier' && value !== undefined && ASSOCIATIVE_OPERATORS.has(op)) {
      readPure(value, env, ctx)
      addAccumulator(target.text, op as AccumulatorOp, env)
      return
    }
    env.fail = `${textOf(expr)} is not an associative update (only + * | & ^ are)`
    return
  }
  if (expr.kind === 'assignment') {
    const target = expr.children[0]
    const value = afterToken(expr, '=')
    if (target === undefined || value === undefined) return
    if (target.kind === 'subscript' && target.children[0]?.kind === 'identifier' && !env.bound.has(target.children[0].text)) {
      const index = namedChildren(target).slice(1)
      for (const i of index) readPure(i, env, ctx)
      readPure(value, env, ctx)
      addAccumulator(target.children[0].text, 'setitem', env)
      return
    }
    if (target.kind !== 'identifier') {
      env.fail = `assignment to ${textOf(target)} inside the loop`
      return
    }
    const name = target.text
    const v = unparen(value)
    // acc = acc OP g(x)
    if (v.kind === 'binary_operator') {
      const [l, r] = namedChildren(v)
      const op = v.children.find(c => !c.named)?.kind ?? ''
      if (l?.kind === 'identifier' && l.text === name && r !== undefined && ASSOCIATIVE_OPERATORS.has(op) && !env.bound.has(name)) {
        readPure(r, env, ctx)
        addAccumulator(name, op as AccumulatorOp, env)
        return
      }
    }
    // acc = min(acc, g(x)) / max(g(x), acc)
    if (v.kind === 'call' && !env.bound.has(name)) {
      const fn = textOf(v.children[0] ?? v)
      const args = namedChildren(v.children[1] ?? v)
      if ((fn === 'min' || fn === 'max') && args.length === 2 && args.every(a => a.kind !== 'keyword_argument')) {
        const accIndex = args.findIndex(a => a.kind === 'identifier' && a.text === name)
        const other = args[1 - accIndex]
        if (accIndex !== -1 && other !== undefined) {
          readPure(other, env, ctx)
          addAccumulator(name, fn, env)
          return
        }
      }
    }
    // A per-element temporary.
    readPure(value, env, ctx)
    if (env.accumulators.has(name)) {
      env.fail = `${name} is overwritten inside the loop`
      return
    }
    env.temps.add(name)
    env.bound.add(name)
    return
  }
  env.fail = `${textOf(expr)} is not a per-element step`
}

function isDocstring (stmt: PyNode): boolean {
  const expr = namedChildren(stmt)[0]
  return stmt.kind === 'expression_statement' && expr !== undefined && (expr.kind === 'string' || expr.kind === 'concatenated_string')
}

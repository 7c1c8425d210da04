/**
 * Memory model. Every estimate is a linear function of the input's element count `n` (`len(data)`):
 * `bytes(n) = fixed + perElement × n`. Two sources feed it:
 *
 * - a static estimate, from CPython 3.11 object sizes: the sample's elements are sized the way `json.loads`
 *   (or csv, or line splitting) would allocate them, and each statement's output is sized from the shape of
 *   its expression (a projection of the element costs nothing, arithmetic costs a float, a container its
 *   header and slots, …);
 * - calibration (see `calibration.ts`), which runs the job on growing prefixes of the real input under
 *   tracemalloc and fits the same linear functions to what it measures. When present it replaces the static
 *   numbers; a margin keeps the estimate above every measured point.
 *
 * CPython keeps a function's locals alive until it returns, so the live set after a statement is every
 * variable bound so far (the latest value of each); a statement's peak is that plus its own temporaries.
 */
import type { StatementClass } from './classify.ts'
import type { Ddg } from './ddg.ts'
import { KEYED_OPS } from './loops.ts'
import type { EffectContext } from './effects.ts'
import { afterToken, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/** `bytes(n) = fixed + perElement × n`, with n the number of input elements. */
export interface MemoryFunction {
  fixed: number
  perElement: number
}

/** How the runtime turns the input file into `data` (DESIGN.md, job contract). */
export type InputFormat = 'json' | 'jsonl' | 'csv' | 'lines'

/** Evaluates a memory function at `n` elements, rounded up to whole bytes. */
export function evaluate (fn: MemoryFunction, n: number): number {
  return Math.ceil(fn.fixed + fn.perElement * n)
}

/** Sum of memory functions. */
export function add (...fns: MemoryFunction[]): MemoryFunction {
  return { fixed: fns.reduce((s, f) => s + f.fixed, 0), perElement: fns.reduce((s, f) => s + f.perElement, 0) }
}

const ZERO: MemoryFunction = { fixed: 0, perElement: 0 }

// CPython 3.11, 64-bit.
const POINTER = 8
const LIST_HEADER = 56
/** list.append over-allocates by ~1/8; a list built element by element holds up to this many slots per item. */
const LIST_GROWTH = 1.125
const FLOAT = 24
const TUPLE_HEADER = 40
/** A number produced by arithmetic: a float (24) or a multi-digit int (28–32). */
const NUMBER = 32
/**
 * Margins on static peaks. Static shapes miss what only running reveals (how many words a line splits into,
 * how much a helper allocates), so the static estimate leans safe: ×1.25 and 64 KiB on every peak. On the
 * test corpus it lands between 1.2× and 5.8× of the measured peak; calibration is what makes it tight.
 */
export const STATIC_MARGIN = 1.25
export const STATIC_FIXED_MARGIN = 64 * 1024

/** Bytes per element assumed when no sample of the input is available. */
export const DEFAULT_ELEMENT_BYTES = 128

/** Size of a str object holding `s`, as CPython lays it out (compact ASCII, Latin-1, UCS-2 or UCS-4). */
export function strSize (s: string): number {
  let max = 0
  let length = 0
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0
    if (cp > max) max = cp
    length++
  }
  // '' and one-character Latin-1 strings are cached singletons.
  if (length === 0 || (length === 1 && max < 256)) return 0
  if (max < 128) return 49 + length
  if (max < 256) return 73 + length
  if (max < 65536) return 74 + 2 * length
  return 76 + 4 * length
}

function intSize (v: number): number {
  if (Number.isInteger(v) && v >= -5 && v <= 256) return 0 // small-int cache
  const bits = Math.ceil(Math.log2(Math.abs(v) + 1))
  return 24 + 4 * Math.max(1, Math.ceil(bits / 30))
}

/** Bytes of a dict with `k` str keys (3.11 split-free table: 2/3 of a power-of-two table usable). */
export function dictSize (k: number): number {
  if (k === 0) return 64
  let size = 8
  while (Math.floor((size * 2) / 3) < k) size *= 2
  return 96 + size + Math.floor((size * 2) / 3) * 16
}

/**
 * Deep size in bytes of a value as CPython would hold it after loading. `sharedKeys` holds dict keys already
 * paid for: `json.loads` memoizes keys within one document, and csv's DictReader reuses the header strings.
 */
export function pySizeOf (value: unknown, sharedKeys?: Set<string>): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 0
  if (typeof value === 'number') return Number.isInteger(value) ? intSize(value) : FLOAT
  if (typeof value === 'string') return strSize(value)
  if (Array.isArray(value)) {
    let total = LIST_HEADER + Math.ceil(value.length * LIST_GROWTH) * POINTER
    for (const v of value) total += pySizeOf(v, sharedKeys)
    return total
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    let total = dictSize(entries.length)
    for (const [k, v] of entries) {
      if (sharedKeys === undefined || !sharedKeys.has(k)) {
        total += strSize(k)
        sharedKeys?.add(k)
      }
      total += pySizeOf(v, sharedKeys)
    }
    return total
  }
  return 0
}

/**
 * Memory of `data` as loaded by the runtime, from a sample of its elements: the list's slots plus each
 * element's objects, and the keys shared across elements as a fixed cost.
 */
export function inputMemory (sample: readonly unknown[] | undefined, format: InputFormat): MemoryFunction {
  if (sample === undefined || sample.length === 0) return { fixed: LIST_HEADER, perElement: LIST_GROWTH * POINTER + DEFAULT_ELEMENT_BYTES }
  // json: one document, keys memoized across elements; csv: header strings reused; jsonl: one document per line.
  const shared = format === 'jsonl' ? undefined : new Set<string>()
  let elements = 0
  for (const v of sample) elements += pySizeOf(v, shared)
  let fixed = LIST_HEADER
  if (shared !== undefined) for (const k of shared) fixed += strSize(k)
  return { fixed, perElement: round(LIST_GROWTH * POINTER + elements / sample.length) }
}

/** Static memory of one statement of `main`. */
export interface StatementMemory {
  statement: number
  /** Retained by the variables the statement binds (their new values). */
  output: MemoryFunction
  /** Peak of the statement's own allocations while it runs (outputs and temporaries). */
  working: MemoryFunction
  /** Peak of the whole process while it runs: everything live before it plus `working`. */
  peak: MemoryFunction
  /** Calibrated only: deep sizes of the keyed accumulators and appended lists it builds, by variable. */
  variables?: Record<string, MemoryFunction>
}

/** Static estimate for every statement, given the memory of `data`. */
export function staticEstimate (ddg: Ddg, statements: PyNode[], classes: StatementClass[], data: MemoryFunction, ctx: EffectContext): StatementMemory[] {
  const elementBytes = Math.max(0, data.perElement - LIST_GROWTH * POINTER)
  // Size of each variable's current value; params are the input.
  const sizes = new Map<string, MemoryFunction>()
  for (const p of ddg.params) sizes.set(p, data)
  // Element bytes of collections (for projections of their elements).
  const elementOf = new Map<string, number>(ddg.params.map(p => [p, elementBytes]))
  const live = (): MemoryFunction => add(...sizes.values())
  const out: StatementMemory[] = []
  statements.forEach((stmt, id) => {
    const node = ddg.nodes[id]
    const cls = classes[id]
    if (node === undefined || cls === undefined) return
    const before = live()
    const sourceElem = cls.source !== undefined ? elementOf.get(cls.source) ?? elementBytes : elementBytes
    let output = ZERO
    let working = ZERO
    const collectionRead = node.reads.some(r => elementOf.has(r)) && buildsFromCollections(stmt)
    if (cls.class === 'map') {
      const element = elementCost(stmt, ctx, sourceElem)
      const perElement = cls.combine === 'merge' ? 2 * 16 * 1.5 + element + NUMBER : LIST_GROWTH * POINTER + element
      output = { fixed: cls.combine === 'merge' ? 96 : LIST_HEADER, perElement }
      working = add(output, { fixed: 4096, perElement: 0 })
      for (const a of cls.accumulators) elementOf.set(a.variable === 'return' ? '' : a.variable, element)
    } else if (cls.class === 'reduce' && cls.accumulators.some(a => KEYED_OPS.has(a.op) || a.op === 'append' || a.op === 'extend')) {
      // Keyed: at most one entry per element (a key and its count, or a grouped value); usually far fewer. Lists
      // appended to next to reductions: one item per element, like a map's.
      let perElement = 0
      let fixed = 96
      for (const a of cls.accumulators) {
        // `[0] * 20`: a fixed number of positions, whatever the input.
        const positions = a.op === 'count' ? /^\[\s*0(?:\.0*)?\s*\]\s*\*\s*(\d+)$/.exec(a.init)?.[1] : undefined
        if (positions !== undefined) fixed += LIST_HEADER + Number(positions) * (POINTER + NUMBER)
        else if (a.op === 'group') perElement += LIST_GROWTH * POINTER + NUMBER + 2 * 16
        else if (a.op === 'count' || a.op === 'union' || a.op === 'kbest') perElement += 2 * 16 * 1.5 + NUMBER
        else if (a.op === 'append' || a.op === 'extend') {
          const element = elementCost(stmt, ctx, sourceElem)
          perElement += LIST_GROWTH * POINTER + element
          elementOf.set(a.variable, element)
        }
      }
      output = { fixed, perElement }
      working = add(output, { fixed: 4096, perElement: 0 })
    } else if (cls.class === 'reduce') {
      output = { fixed: NUMBER, perElement: 0 }
      // sum([... for x in xs]) materializes the list before reducing it.
      const materialized = some(stmt, n => n.kind === 'list_comprehension')
      working = add(output, { fixed: 4096, perElement: materialized ? LIST_GROWTH * POINTER + NUMBER : 0 })
    } else if (collectionRead) {
      // Opaque over a collection: assume it builds something as large as what it reads (sorted copy, set, …),
      // holding both the new container and new element objects.
      const largest = Math.max(...node.reads.filter(r => elementOf.has(r)).map(r => elementOf.get(r) ?? 0))
      output = { fixed: LIST_HEADER + 4096, perElement: 4 * POINTER + largest + NUMBER }
      working = add(output, { fixed: 4096, perElement: 2 * POINTER })
      for (const w of node.writes) elementOf.set(w, largest + NUMBER)
    } else {
      output = { fixed: 256, perElement: 0 }
      working = { fixed: 4096, perElement: 0 }
    }
    const rebinds = node.writes.filter(w => !ddg.params.includes(w))
    for (const w of rebinds) sizes.set(w, output)
    const peak = add(before, working)
    out.push({ statement: id, output, working, peak: { fixed: Math.ceil(peak.fixed * STATIC_MARGIN + STATIC_FIXED_MARGIN), perElement: round(peak.perElement * STATIC_MARGIN) } })
  })
  return out
}

// Calls that return a scalar whatever the size of their argument.
const SCALAR_CALLS = /^(len|sum|min|max|any|all|abs|round|int|float|bool|isinstance|math\.\w+|statistics\.\w+)$/

/**
 * Whether an opaque statement may build something as large as the collections it reads: it loops, slices,
 * comprehends or calls something that is not a known scalar function. `return {"a": xs, "n": len(xs)}`
 * only references what exists.
 */
function buildsFromCollections (stmt: PyNode): boolean {
  const visit = (n: PyNode): boolean => {
    switch (n.kind) {
      case 'for_statement': case 'while_statement': case 'list_comprehension': case 'set_comprehension':
      case 'dictionary_comprehension': case 'generator_expression': case 'slice': case 'list_splat': case 'dictionary_splat':
        return true
      case 'call':
        if (!SCALAR_CALLS.test(textOf(n.children[0] ?? n))) return true
        break
      case 'binary_operator':
        // xs + ys concatenates collections; arithmetic on scalars is cheap but cannot be told apart here.
        return true
    }
    return n.children.some(visit)
  }
  return visit(stmt)
}

/**
 * Bytes of one output element, from the expression that produces it. Projections (`x`, `x['k']`, `x.attr`)
 * reference objects the input already holds; arithmetic makes a number; literals cost their container plus
 * their parts; anything else is assumed as large as an input element.
 */
function elementCost (stmt: PyNode, ctx: EffectContext, sourceElem: number): number {
  const produced = producedExpressions(stmt)
  const single = produced.length === 0 ? sourceElem : Math.max(...produced.map(e => exprCost(e, ctx, sourceElem, 0)))
  // A flat map (a second `for`, or `extend`) emits several outputs per input element; how many is data
  // dependent (words per line), so assume a fan-out that covers splitting text into words.
  const flat = some(stmt, n =>
    n.children.filter(c => c.kind === 'for_in_clause').length > 1 ||
    (n.kind === 'for_statement' && n !== stmt) ||
    (n.kind === 'call' && n.children[0]?.kind === 'attribute' && n.children[0].children.at(-1)?.text === 'extend'))
  return flat ? FLAT_MAP_FANOUT * (single + POINTER) : single
}

/** Outputs per input element assumed for a flat map (see `elementCost`). */
const FLAT_MAP_FANOUT = 4

/** The per-element expressions a map statement stores: comprehension bodies, append arguments, d[k] values. */
function producedExpressions (stmt: PyNode): PyNode[] {
  const out: PyNode[] = []
  const visit = (n: PyNode): void => {
    if (n.kind === 'list_comprehension' || n.kind === 'generator_expression') {
      const body = namedChildren(n)[0]
      if (body !== undefined) out.push(body)
      return
    }
    if (n.kind === 'dictionary_comprehension') {
      const pair = namedChildren(n)[0]
      for (const part of pair === undefined ? [] : namedChildren(pair)) out.push(part)
      return
    }
    if (n.kind === 'call') {
      const fn = n.children[0]
      const method = fn?.kind === 'attribute' ? fn.children.at(-1)?.text : undefined
      if (method === 'append' || method === 'extend') {
        for (const a of namedChildren(n.children[1] ?? n)) out.push(a)
        return
      }
    }
    if (n.kind === 'assignment' && n.children[0]?.kind === 'subscript') {
      const value = afterToken(n, '=')
      if (value !== undefined) out.push(value)
      for (const k of namedChildren(n.children[0]).slice(1)) out.push(k)
    }
    for (const c of n.children) visit(c)
  }
  visit(stmt)
  return out
}

function exprCost (node: PyNode, ctx: EffectContext, sourceElem: number, depth: number): number {
  const e = unparen(node)
  switch (e.kind) {
    case 'identifier': case 'attribute': case 'subscript': case 'true': case 'false': case 'none':
    case 'comparison_operator': case 'not_operator': case 'boolean_operator':
      return 0
    case 'integer': case 'float':
      return NUMBER
    case 'string': case 'concatenated_string':
      return e.children.some(c => c.kind === 'interpolation') ? sourceElem : 0
    case 'binary_operator': case 'unary_operator':
      return NUMBER
    case 'tuple': case 'expression_list':
      return TUPLE_HEADER + namedChildren(e).reduce((s, c) => s + POINTER + exprCost(c, ctx, sourceElem, depth), 0)
    case 'list':
      return LIST_HEADER + namedChildren(e).reduce((s, c) => s + POINTER + exprCost(c, ctx, sourceElem, depth), 0)
    case 'dictionary': {
      const pairs = namedChildren(e)
      return dictSize(pairs.length) + pairs.reduce((s, p) => s + namedChildren(p).reduce((t, c) => t + exprCost(c, ctx, sourceElem, depth), 0), 0)
    }
    case 'conditional_expression':
      return Math.max(...namedChildren(e).map(c => exprCost(c, ctx, sourceElem, depth)))
    case 'call': {
      const fn = textOf(e.children[0] ?? e)
      if (/^(float|int|abs|round|len|sum|min|max|pow|divmod|math\.\w+|ord)$/.test(fn)) return NUMBER
      if (fn === 'bool' || fn === 'isinstance') return 0
      const helper = ctx.module.functions.get(fn)
      if (helper !== undefined && depth < 3) {
        const returns = all(helper.node, n => n.kind === 'return_statement')
        const expr = returns.length === 1 ? namedChildren(returns[0] as PyNode)[0] : undefined
        if (expr !== undefined) return exprCost(expr, ctx, sourceElem, depth + 1) + NUMBER
      }
      return sourceElem
    }
    default:
      return sourceElem
  }
}

/** Whether any node of the subtree satisfies `test` (walked in JS, not through napi). */
function some (node: PyNode, test: (n: PyNode) => boolean): boolean {
  return test(node) || node.children.some(c => some(c, test))
}

function all (node: PyNode, test: (n: PyNode) => boolean, out: PyNode[] = []): PyNode[] {
  if (test(node)) out.push(node)
  for (const c of node.children) all(c, test, out)
  return out
}

function round (v: number): number {
  return Math.round(v * 1000) / 1000
}

/**
 * The vocabulary of reduce loops (see loops.ts): how an accumulator is updated, the state a loop's walk keeps, and
 * the keyed steps — what a dict, Counter or set may start as, and `d[k]`, `d.setdefault(k, [])`, `d.get(k, 0) + v`.
 */
import type { EffectContext, Effects } from './effects.ts'
import { effectsOf } from './effects.ts'
import { namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/**
 * How a loop or expression accumulates. Map operations: `append`, `extend` (flat map), `setitem`
 * (`d[k] = v`, merged in order), `collect` (a comprehension or `map`/`filter`). Reductions: the operator
 * (`+`, `*`, `|`, `&`, `^`) or builtin (`sum`, `len`, `min`, `max`, `any`, `all`), and the keyed ones:
 * - `group`: lists per key, `d.setdefault(k, []).append(v)` or `d[k].append(v)` (a `defaultdict(list)`, or keys
 *   fixed by the initial value); partials merge by key in first-occurrence order, each key's lists concatenated;
 * - `count`: numbers per key or per position, `d[k] += v`, `d[k] = d.get(k, 0) + v`, `counter.update(xs)`,
 *   `Counter(xs)`, `bins[i] += 1` on `[0] * n`; partials added by key (first-occurrence order) or element-wise;
 * - `union`: a set, `s.add(x)`, `s.update(xs)`, `set(…)`, `{… for …}`; partials keep the order elements first
 *   arrived in, so the union is built exactly as one run builds it (same iteration order).
 * And `max_from_none` / `min_from_none`: `best = None` then `if best is None or x > best: best = x` (or `x < best`),
 * which is exactly `max(xs, default=None)` (the same comparisons, the first of ties).
 */
export type AccumulatorOp = 'append' | 'extend' | 'setitem' | 'collect' | '+' | '*' | '|' | '&' | '^' | 'sum' | 'len' | 'min' | 'max' | 'any' | 'all' | 'group' | 'count' | 'union' | 'max_from_none' | 'min_from_none' | 'best' | 'kbest' | 'last'

/**
 * A running best kept by a guarded replacement (op `best`): `if len(w) > len(longest): longest = w`, or
 * `if s > best_score: best_score = s; best = x`. The element side of the comparison (`len(w)`, `s`) is the new
 * element's key; the state side is the key of what the variables hold: one of them (`best_score`, whose new value
 * is that same key) or an expression of one of them that gives the element side when it is replaced by its new
 * value (`len(longest)` with `longest = w`). The variables are replaced together, all or none.
 */
export interface BestStep {
  /** The variables the branch replaces, in the order it assigns them. */
  variables: string[]
  /**
   * The comparison operator, as written; `first` for `if V is None and C: …` (the first element for which C holds:
   * `element` is C, `state` is V).
   */
  operator: '<' | '>' | '<=' | '>=' | 'first'
  /** Whether the element's key is the left operand (`len(w) > len(longest)`), else the right (`best_score < s`). */
  elementFirst: boolean
  /** The element's key and the state's key (an expression of the variables), as written. */
  element: string
  state: string
  /** The new values, one per variable. */
  values: string[]
  /** `V is None or …`: the variable whose None takes an element without comparing (the first one, from None). */
  noneCheck?: string
  /**
   * Per key (op `kbest`, `if K not in D or V > D[K]: D[K] = V`): the key K. The one variable is the dict D; each key is
   * a running best from "missing", and `state` is the key of its current value, written with D standing for it.
   */
  keyed?: string
  /** The if statement's lines (1-based, inclusive) and its indentation. */
  line: number
  endLine: number
  indent: string
}

export const LIST_INITS = /^(\[\s*\]|list\(\s*\))$/

/** What the loop does with `acc.update(…)`: a set's union or a Counter's count, told apart by the initial value. */
export type LoopOp = AccumulatorOp | 'update'

export interface LoopEnv {
  bound: Set<string>
  temps: Set<string>
  accumulators: Map<string, LoopOp>
  reads: Set<string>
  /** Keyed accumulators some step may add a key to (`setdefault`, `.get` updates, `if k not in d: d[k] = 0`). */
  inserting: Set<string>
  /** Names only tested for membership (`k in d`) in conditions. */
  memberships: Set<string>
  /** `if k not in d: d[k] = []` / `= 0` steps, by accumulator: the op they prepare. */
  ensured: Map<string, 'group' | 'count'>
  /** Running bests from None that are set to the loop variable itself. */
  bestOfElements: Set<string>
  /** Counts per key whose value is a record of zeros (`if k not in d: d[k] = {"n": 0, "total": 0.0}`), per field. */
  records: Set<string>
  /** Guarded replacements (op `best`), by variable. */
  bests: Map<string, BestStep>
  fail?: string
}

/**
 * The op of a keyed accumulator from its initial value, or what is wrong with that value (a sentence about the
 * accumulator); undefined for the other ops. Every chunk runs the initial value itself and its partial is the value
 * after its elements, so the initial value may hold only identities: no key (a dict, Counter, defaultdict), or every
 * value empty (`[]` for group) or zero (`[0] * n`, `{k: 0 for k in …}` for count). With `k in d` tests (`tested`) the
 * keys must stay those of the initial value (neither `defaultdict` nor `Counter`, which add keys on access).
 */
export function keyedStart (op: LoopOp, value: PyNode, ctx: EffectContext, tested: boolean): { op: AccumulatorOp } | string | undefined {
  if (op !== 'group' && op !== 'count' && op !== 'union' && op !== 'update') return undefined
  const v = unparen(value)
  const text = textOf(v).replace(/\s+/g, '')
  const call = v.kind === 'call' ? qualified(textOf(v.children[0] ?? v), ctx) : undefined
  const args = v.kind === 'call' ? namedChildren(v.children[1] ?? v) : []
  const argText = args.map(a => textOf(a).replace(/\s+/g, '')).join(',')
  const pure = effectsOf(v, ctx).impure.length === 0
  const starts = `starts as ${textOf(v)}`
  if (op === 'union' || op === 'update') {
    if (call === 'set' && args.length === 0) return { op: 'union' }
    if (op === 'update' && call === 'collections.Counter' && args.length === 0 && !tested) return { op: 'count' }
    return `is updated with ${op === 'union' ? 'add' : 'update'} but ${starts}, not set()${op === 'update' ? ' or Counter()' : ''}`
  }
  const emptyDict = text === '{}' || text === 'dict()'
  if (emptyDict) return { op }
  if (!pure) return `${starts}, which has effects`
  const filled = v.kind === 'dictionary_comprehension' ? dictComprehensionValue(v) : v.kind === 'dictionary' ? dictionaryValue(v) : undefined
  if (op === 'group') {
    if (call === 'collections.defaultdict' && argText === 'list' && !tested) return { op }
    if (filled !== undefined && LIST_INITS.test(filled)) return { op }
    return `collects lists per key but ${starts}; it must start as {}, defaultdict(list) or {k: [] for k in …}`
  }
  if (!tested && ((call === 'collections.Counter' && args.length === 0) || (call === 'collections.defaultdict' && (argText === 'int' || argText === 'float')))) return { op }
  if (filled !== undefined && /^0(\.0*)?$/.test(filled)) return { op }
  if (v.kind === 'binary_operator' && /^\[(0|0\.0*)\]\*/.test(text)) return { op }
  return `adds up values per key but ${starts}; it must start as {}, Counter(), defaultdict(int), [0] * n or {k: 0 for k in …}`
}

/** `{k: VALUE for k in …}`: VALUE's text when it is the comprehension's only clause besides one for. */
function dictComprehensionValue (v: PyNode): string | undefined {
  const [pair, ...clauses] = namedChildren(v)
  if (pair?.kind !== 'pair' || clauses.length !== 1 || clauses[0]?.kind !== 'for_in_clause') return undefined
  const value = namedChildren(pair)[1]
  return value === undefined ? undefined : textOf(value).replace(/\s+/g, '')
}

/** `{K1: VALUE, K2: VALUE, …}`: VALUE's text when every pair has the same value and there is no `**` unpacking. */
function dictionaryValue (v: PyNode): string | undefined {
  const values = new Set<string>()
  for (const item of namedChildren(v)) {
    const value = item.kind === 'pair' ? namedChildren(item)[1] : undefined
    if (value === undefined) return undefined
    values.add(textOf(value).replace(/\s+/g, ''))
  }
  return values.size === 1 ? [...values][0] : undefined
}

/** A called name with its import resolved (`Counter` from collections → `collections.Counter`). */
export function qualified (name: string, ctx: EffectContext): string {
  const [root = '', ...rest] = name.split('.')
  if (ctx.module.functions.has(root) || ctx.module.classes.has(root)) return `module.${name}`
  return [ctx.module.imports.get(root) ?? root, ...rest].join('.')
}

/** `NAME[KEY]` with NAME an accumulator candidate (not a per-element variable). */
export function keyOf (target: PyNode, env: LoopEnv): { name: string, key: PyNode } | undefined {
  const t = unparen(target)
  if (t.kind !== 'subscript') return undefined
  const [receiver, key, ...more] = namedChildren(t)
  if (receiver?.kind !== 'identifier' || key === undefined || more.length > 0 || key.kind === 'slice' || env.bound.has(receiver.text)) return undefined
  return { name: receiver.text, key }
}

/** The list a group step appends to: `NAME.setdefault(KEY, [])` (which may add the key) or `NAME[KEY]`. */
export function groupTarget (receiver: PyNode | undefined, env: LoopEnv): { name: string, key: PyNode, inserts: boolean } | undefined {
  if (receiver === undefined) return undefined
  const r = unparen(receiver)
  if (r.kind === 'subscript') {
    const k = keyOf(r, env)
    return k === undefined ? undefined : { ...k, inserts: false }
  }
  if (r.kind !== 'call') return undefined
  const fn = r.children[0]
  const args = namedChildren(r.children[1] ?? r)
  const [key, start] = args
  if (fn?.kind !== 'attribute' || fn.children[0]?.kind !== 'identifier' || fn.children.at(-1)?.text !== 'setdefault') return undefined
  if (args.length !== 2 || key === undefined || start === undefined || key.kind === 'keyword_argument' || !LIST_INITS.test(textOf(start).replace(/\s+/g, ''))) return undefined
  const name = fn.children[0].text
  return env.bound.has(name) ? undefined : { name, key, inserts: true }
}

/** `NAME[KEY] = NAME.get(KEY, 0) + ADDED`, the same KEY text twice. */
export function countByGet (target: PyNode, value: PyNode, env: LoopEnv): { name: string, key: PyNode, added: PyNode } | undefined {
  const keyed = keyOf(target, env)
  const v = unparen(value)
  if (keyed === undefined || v.kind !== 'binary_operator' || v.children.find(c => !c.named)?.kind !== '+') return undefined
  const [left, added] = namedChildren(v)
  const get = left === undefined ? undefined : unparen(left)
  if (get?.kind !== 'call' || added === undefined) return undefined
  const fn = get.children[0]
  const [key, start, ...more] = namedChildren(get.children[1] ?? get)
  if (fn?.kind !== 'attribute' || fn.children[0]?.kind !== 'identifier' || fn.children[0].text !== keyed.name || fn.children.at(-1)?.text !== 'get') return undefined
  if (key === undefined || start === undefined || more.length > 0 || textOf(key) !== textOf(keyed.key) || !/^0(\.0*)?$/.test(textOf(start))) return undefined
  return { ...keyed, added }
}

/** `{"a": 0, "b": 0.0, …}`: a dict literal of constant string keys, each starting at zero (a record of counts). */
export function zeroRecord (value: PyNode): boolean {
  const v = unparen(value)
  if (v.kind !== 'dictionary') return false
  const items = namedChildren(v)
  return items.length > 0 && items.every(item => {
    const [key, zero, ...more] = item.kind === 'pair' ? namedChildren(item) : []
    return key?.kind === 'string' && !/[{}]/.test(textOf(key)) && zero !== undefined && more.length === 0 && /^0(\.0*)?$/.test(textOf(zero))
  })
}

/** `NAME[KEY]["field"]` with NAME a record count: the field's key and the record's. */
export function recordField (target: PyNode, env: LoopEnv): { name: string, key: PyNode, field: PyNode } | undefined {
  const t = unparen(target)
  if (t.kind !== 'subscript') return undefined
  const [inner, field, ...more] = namedChildren(t)
  const keyed = inner === undefined ? undefined : keyOf(inner, env)
  if (keyed === undefined || field?.kind !== 'string' || more.length > 0 || !env.records.has(keyed.name)) return undefined
  return { ...keyed, field }
}

/** Reads per-element code, which must be pure and change nothing; its reads are recorded. */
export function readPure (expr: PyNode, env: LoopEnv, ctx: EffectContext): Effects {
  const eff = effectsOf(expr, ctx, env.bound)
  if (eff.impure.length > 0) env.fail = `element code is impure: ${eff.impure[0] ?? ''}`
  else if (eff.writes.size > 0 || eff.yields) env.fail = `element code changes ${[...eff.writes].join(', ')}`
  for (const r of eff.reads) env.reads.add(r)
  return eff
}

/** Records `name` as an accumulator updated by `op` (the same op each time; append and extend mix). */
export function addAccumulator (name: string, op: LoopOp, env: LoopEnv): void {
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

function isAppendLike (op: LoopOp): boolean {
  return op === 'append' || op === 'extend'
}

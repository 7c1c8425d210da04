/**
 * Loops that map or reduce a collection element by element: `acc = init …; for x in xs: <update acc per element>`.
 * The loop body may bind per-element temporaries, branch, nest inner loops over per-element values and call pure
 * code; each accumulator must start from a plain initial value right before the loop and be updated only in one way
 * (see `AccumulatorOp`), never read while the loop runs.
 */
import { ASSOCIATIVE_OPERATORS } from './builtins.ts'
import type { EffectContext } from './effects.ts'
import { effectsOf, targetNames } from './effects.ts'
import { bestStep, firstStep, guardedAssignment, keyedMinMaxStep, keyedReplacementStep, replacementStep } from './loop-bests.ts'
import { LIST_INITS, addAccumulator, countByGet, groupTarget, keyOf, keyedStart, readPure, recordField, zeroRecord } from './loop-keys.ts'
import type { AccumulatorOp, BestStep, LoopEnv } from './loop-keys.ts'
import { afterToken, lineOf, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

export type { AccumulatorOp, BestStep } from './loop-keys.ts'

/** The keyed reductions: each chunk starts from the same initial value, which must hold only identities. */
export const KEYED_OPS: ReadonlySet<AccumulatorOp> = new Set(['group', 'count', 'union', 'kbest'])

/** A variable a map or reduce produces. */
export interface Accumulator {
  variable: string
  op: AccumulatorOp
  /** Source of the initial value (`0`, `[]`, `float('inf')`); for builtins, the identity used to combine partials. */
  init: string
  /** A running best from None (`max_from_none`, `min_from_none`) that holds the loop's elements themselves. */
  elements?: boolean
  /** For op `best`: the guarded replacement it is one of the variables of. */
  best?: BestStep
}

const DICT_INITS = /^(\{\s*\}|dict\(\s*\))$/

export interface Form {
  class: 'map' | 'reduce'
  source: string
  combine: 'concat' | 'merge' | 'reduce'
  accumulators: Accumulator[]
  broadcast: string[]
  /**
   * `for i, x in enumerate(xs, START)`: START (an integer literal, `0` when absent). The element code may read the
   * elements' positions in the whole collection, which a chunk learns only from a first round (its elements' offset).
   */
  positions?: string
}

export interface LoopResult {
  form?: Form
  inits: number[]
  reason: string
}

/** Recognises `acc = init …; for x in xs: <append/update acc per element>`. */
export function loopForm (stmts: PyNode[], index: number, collections: ReadonlySet<string>, ctx: EffectContext, laterReads: ReadonlySet<string>): LoopResult {
  const loop = stmts[index]
  if (loop === undefined) return { inits: [], reason: 'no loop' }
  if (loop.children[0]?.kind === 'async') return { inits: [], reason: 'async loop' }
  if (loop.children.some(c => c.kind === 'else_clause')) return { inits: [], reason: 'for…else depends on how the loop ended' }
  const left = afterToken(loop, 'for')
  const right = afterToken(loop, 'in')
  const numbered = right === undefined ? undefined : enumerated(unparen(right), left)
  const src = numbered?.over ?? (right === undefined ? undefined : unparen(right))
  if (src?.kind !== 'identifier' || !collections.has(src.text)) {
    return { inits: [], reason: `the loop does not iterate over a collection variable directly (${right === undefined ? '?' : textOf(right)})` }
  }
  const targets = left === undefined ? [] : targetNames(left)
  if (targets.length === 0) return { inits: [], reason: 'unsupported loop target' }
  const env: LoopEnv = { bound: new Set(targets), temps: new Set(), accumulators: new Map(), reads: new Set(), inserting: new Set(), memberships: new Set(), ensured: new Map(), bestOfElements: new Set(), records: new Set(), bests: new Map() }
  const body = loop.children.find(c => c.kind === 'block')
  if (body !== undefined) walkBody(body, env, ctx)
  if (env.fail !== undefined) return { inits: [], reason: env.fail }
  // A name the body binds and main reads after the loop holds what its last binding gave (op `last`): each chunk
  // sends its own last one, or none. Not the loop's variables, which would hold the last element.
  for (const name of env.temps) {
    if (!laterReads.has(name) || targets.includes(name) || env.accumulators.has(name)) continue
    env.temps.delete(name)
    env.accumulators.set(name, 'last')
  }
  const problem = prefixDependence(env, targets, laterReads, src.text)
  if (problem !== undefined) return { inits: [], reason: problem }
  const ops = [...env.accumulators.values()]
  const mapOps = ops.filter(o => o === 'append' || o === 'extend' || o === 'setitem')
  // Lists appended to next to reductions (`sizes.append(q)` and `total += q`): a reduce loop whose lists concatenate.
  if (mapOps.length > 0 && mapOps.length < ops.length && mapOps.includes('setitem')) return { inits: [], reason: 'the loop mixes a dict filled by key (d[k] = v) with a reduction' }
  const kind: 'map' | 'reduce' = mapOps.length === ops.length ? 'map' : 'reduce'
  if (kind === 'map' && ops.includes('setitem') && ops.some(o => o !== 'setitem')) return { inits: [], reason: 'the loop fills both lists and dicts' }
  const initialised = initialisers(stmts, index, env, ctx)
  if (typeof initialised === 'string') return { inits: [], reason: initialised }
  const broadcast = [...env.reads].filter(r => !env.accumulators.has(r) && r !== src.text)
  for (const b of broadcast) {
    if (env.temps.has(b)) return { inits: [], reason: `${b} carries a value from one element to the next` }
  }
  return {
    form: {
      class: kind,
      source: src.text,
      combine: kind === 'reduce' ? 'reduce' : ops.includes('setitem') ? 'merge' : 'concat',
      accumulators: initialised.accumulators,
      broadcast,
      ...(numbered !== undefined ? { positions: numbered.start } : {})
    },
    inits: initialised.inits.sort((a, b) => a - b),
    reason: `${kind} over ${src.text}`
  }
}

/**
 * Why the loop's steps depend on the elements before them, or undefined: an accumulator read while it accumulates,
 * a temporary read after the loop, a key tested while keys are added, the whole collection read per element.
 */
function prefixDependence (env: LoopEnv, targets: string[], laterReads: ReadonlySet<string>, source: string): string | undefined {
  if (env.accumulators.size === 0) return 'the loop accumulates nothing'
  for (const name of [...targets, ...env.temps]) {
    if (laterReads.has(name)) return `${name} is read after the loop, where it holds the last element's value`
  }
  for (const [acc, op] of env.ensured) {
    if (env.accumulators.get(acc) !== op) return `${acc} gets a starting value per key but is not then updated as a ${op === 'group' ? 'list' : 'count'} per key`
  }
  for (const name of env.memberships) {
    const op = env.accumulators.get(name)
    // `k in d` sees the same keys on every chunk only when no step of the loop adds a key.
    if (op === undefined) env.reads.add(name)
    else if (env.inserting.has(name) || (op !== 'group' && op !== 'count')) return `the loop tests whether a key is in ${name} while adding keys to it (a prefix dependence)`
  }
  if (env.reads.has(source)) return `the loop body reads all of ${source} per element`
  for (const acc of env.accumulators.keys()) {
    if (env.reads.has(acc)) return `the loop reads ${acc} while accumulating it (a prefix dependence)`
    if (env.temps.has(acc)) return `${acc} is both a per-element temporary and an accumulator`
  }
  return undefined
}

/**
 * Each accumulator's initialiser: a plain assignment before the loop (stmts[index]) with nothing touching the
 * accumulator in between, starting from a value the accumulator's op can start from. Why not, as a string.
 */
function initialisers (stmts: PyNode[], index: number, env: LoopEnv, ctx: EffectContext): { inits: number[], accumulators: Accumulator[] } | string {
  const inits: number[] = []
  const accumulators: Accumulator[] = []
  for (const [acc, loopOp] of env.accumulators) {
    let found: number | undefined
    for (let j = index - 1; j >= 0; j--) {
      const stmt = stmts[j]
      if (stmt === undefined) continue
      const eff = effectsOf(stmt, ctx)
      if (eff.writes.has(acc)) {
        found = j
        break
      }
      if (eff.reads.has(acc)) return `${acc} is used between its initialisation and the loop`
    }
    const initStmt = found === undefined ? undefined : stmts[found]
    const assigned = initStmt === undefined ? undefined : assignmentOf(initStmt)
    if (found === undefined || assigned === undefined || assigned.target !== acc) return `${acc} is not initialised by a plain assignment before the loop`
    const init = textOf(assigned.value)
    const initEff = effectsOf(assigned.value, ctx)
    const keyed = keyedStart(loopOp, assigned.value, ctx, env.memberships.has(acc))
    if (typeof keyed === 'string') return `${acc} ${keyed}`
    const op = keyed?.op ?? loopOp as AccumulatorOp
    if (op === 'kbest' && !DICT_INITS.test(init)) return `${acc} keeps a running best per key but starts as ${init}, not {}`
    if ((op === 'max_from_none' || op === 'min_from_none') && init !== 'None') return `${acc} keeps a running best (if ${acc} is None or …) but starts as ${init}, not None`
    if (keyed === undefined && (op === 'append' || op === 'extend' ? !LIST_INITS.test(init) : op === 'setitem' ? !DICT_INITS.test(init) : initEff.impure.length > 0)) {
      return `${acc} must start empty (${op === 'setitem' ? '{}' : '[]'}) for the loop to be a map; it starts as ${init}`
    }
    if ([...initEff.reads].some(r => env.accumulators.has(r))) return `${acc}'s initial value depends on another accumulator`
    inits.push(found)
    const best = env.bests.get(acc)
    accumulators.push({ variable: acc, op, init, ...(env.bestOfElements.has(acc) ? { elements: true } : {}), ...(best !== undefined ? { best } : {}) })
  }
  return { inits, accumulators }
}

/**
 * `enumerate(xs)` or `enumerate(xs, START)` (START an integer literal) iterated as `i, x` (the index a name, the
 * element any target): the collection and START.
 */
function enumerated (iterable: PyNode, left: PyNode | undefined): { over: PyNode, start: string } | undefined {
  if (iterable.kind !== 'call' || textOf(iterable.children[0] ?? iterable) !== 'enumerate') return undefined
  const args = namedChildren(iterable.children[1] ?? iterable)
  const [over, start, ...more] = args
  if (over === undefined || more.length > 0 || args.some(a => a.kind === 'keyword_argument' || a.kind === 'list_splat')) return undefined
  if (start !== undefined && !/^-?\d+$/.test(textOf(start).replace(/[\s_]/g, ''))) return undefined
  const target = left === undefined ? undefined : unparen(left)
  const parts = target?.kind === 'pattern_list' || target?.kind === 'tuple_pattern' ? namedChildren(target) : []
  if (parts.length !== 2 || parts[0]?.kind !== 'identifier') return undefined
  return { over: unparen(over), start: start === undefined ? '0' : textOf(start).replace(/[\s_]/g, '') }
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
        if (ensureStep(stmt, env, ctx) || bestStep(stmt, env, ctx) || replacementStep(stmt, env, ctx) || firstStep(stmt, env, ctx) || keyedReplacementStep(stmt, env, ctx)) continue
        const condition = namedChildren(stmt)[0]
        if (condition !== undefined) readCondition(condition, env, ctx)
        // A temporary bound in one branch only is not bound after the if: reading it there may see the value of
        // an earlier element, which the broadcast check then rejects. One that every branch binds (with an else;
        // a branch ending in continue does not reach past the if) is.
        const before = new Set(env.bound)
        const reaching: Array<Set<string>> = []
        const branch = (block: PyNode): void => {
          walkBody(block, env, ctx)
          if (namedChildren(block).at(-1)?.kind !== 'continue_statement') reaching.push(env.bound)
          env.bound = new Set(before)
        }
        let otherwise = false
        for (const part of namedChildren(stmt).slice(1)) {
          if (part.kind === 'block') branch(part)
          else if (part.kind === 'elif_clause') {
            const [cond, ...rest] = namedChildren(part)
            if (cond !== undefined) readCondition(cond, env, ctx)
            for (const r of rest) if (r.kind === 'block') branch(r)
          } else if (part.kind === 'else_clause') {
            otherwise = true
            for (const r of namedChildren(part)) if (r.kind === 'block') branch(r)
          }
        }
        if (otherwise) for (const name of reaching[0] ?? []) if (reaching.every(b => b.has(name))) env.bound.add(name)
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

/**
 * `if K not in ACC: ACC[K] = []` (or `= 0`), alone: starts a key with the identity before the step that updates it.
 * Records it and returns true; false when the statement is anything else.
 */
function ensureStep (stmt: PyNode, env: LoopEnv, ctx: EffectContext): boolean {
  const guarded = guardedAssignment(stmt)
  if (guarded === undefined) return false
  const { target, value } = guarded
  const test = membership(guarded.condition)
  if (test === undefined || !test.negated) return false
  if (target?.kind !== 'subscript' || value === undefined) return false
  const [receiver, index, ...more] = namedChildren(target)
  if (receiver?.kind !== 'identifier' || receiver.text !== test.container || index === undefined || more.length > 0 || textOf(index) !== textOf(test.element)) return false
  if (env.bound.has(test.container)) return false
  const start = textOf(value).replace(/\s+/g, '')
  const record = zeroRecord(value)
  const op = LIST_INITS.test(start) ? 'group' : /^0(\.0*)?$/.test(start) || record ? 'count' : undefined
  if (op === undefined) return false
  if (record) env.records.add(test.container)
  readPure(test.element, env, ctx)
  env.ensured.set(test.container, op)
  env.inserting.add(test.container)
  return true
}

/** `X in NAME` / `X not in NAME`. */
function membership (expr: PyNode): { element: PyNode, container: string, negated: boolean } | undefined {
  const e = unparen(expr)
  if (e.kind !== 'comparison_operator') return undefined
  const operands = e.children.filter(c => c.named && c.kind !== 'not in')
  const operator = e.children.find(c => c.kind === 'in' || c.kind === 'not in')
  const [element, container] = operands
  if (operands.length !== 2 || operator === undefined || element === undefined || container?.kind !== 'identifier') return undefined
  return { element, container: container.text, negated: operator.kind === 'not in' }
}

/** A condition: membership tests of a name are recorded apart (`k in d` reads only d's keys), the rest is read. */
function readCondition (expr: PyNode, env: LoopEnv, ctx: EffectContext): void {
  const e = unparen(expr)
  if (e.kind === 'boolean_operator' || e.kind === 'not_operator') {
    for (const part of namedChildren(e)) readCondition(part, env, ctx)
    return
  }
  const test = membership(e)
  if (test !== undefined && !env.bound.has(test.container)) {
    readPure(test.element, env, ctx)
    env.memberships.add(test.container)
    return
  }
  readPure(e, env, ctx)
}

/** One expression statement of the loop body: an accumulator's update, a temporary, or a call that changes nothing. */
function accumulate (expr: PyNode | undefined, env: LoopEnv, ctx: EffectContext): void {
  if (expr === undefined) return
  if (expr.kind === 'call') return callStep(expr, env, ctx)
  if (expr.kind === 'augmented_assignment') return augmentedStep(expr, env, ctx)
  if (expr.kind === 'assignment') return assignmentStep(expr, env, ctx)
  env.fail = `${textOf(expr)} is not a per-element step`
}

/** `acc.append(v)`, `s.add(v)`, `d.setdefault(k, []).append(v)`, or a call that changes nothing. */
function callStep (expr: PyNode, env: LoopEnv, ctx: EffectContext): void {
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
    if ((method === 'add' || method === 'update') && !env.bound.has(receiver)) {
      readPure(args[0] as PyNode, env, ctx)
      addAccumulator(receiver, method === 'add' ? 'union' : 'update', env)
      return
    }
  }
  // d.setdefault(k, []).append(v) / d[k].append(v)
  const group = fn?.kind === 'attribute' && fn.children.at(-1)?.text === 'append' && args.length === 1 && args[0]?.kind !== 'keyword_argument' ? groupTarget(fn.children[0], env) : undefined
  if (group !== undefined) {
    readPure(group.key, env, ctx)
    readPure(args[0] as PyNode, env, ctx)
    if (group.inserts) env.inserting.add(group.name)
    addAccumulator(group.name, 'group', env)
    return
  }
  // Any other call is allowed only when it changes nothing (print, a pure helper whose value is dropped).
  readPure(expr, env, ctx)
}

/** `acc OP= v` with an associative OP, or `d[k] += v` (also on a field of a record of zeros). */
function augmentedStep (expr: PyNode, env: LoopEnv, ctx: EffectContext): void {
  const [target, value] = namedChildren(expr)
  const op = expr.children.find(c => !c.named)?.kind.replace('=', '') ?? ''
  if (target?.kind === 'identifier' && value !== undefined && ASSOCIATIVE_OPERATORS.has(op)) {
    readPure(value, env, ctx)
    addAccumulator(target.text, op as AccumulatorOp, env)
    return
  }
  // `d[k] += v`, or `d[k]["field"] += v` on a record of zeros (added field by field, key by key).
  const keyed = target === undefined ? undefined : recordField(target, env) ?? keyOf(target, env)
  if (keyed !== undefined && value !== undefined && op === '+') {
    readPure(keyed.key, env, ctx)
    readPure(value, env, ctx)
    addAccumulator(keyed.name, 'count', env)
    return
  }
  env.fail = `${textOf(expr)} is not an associative update (only + * | & ^ are)`
}

/** An assignment: a keyed update (`d[k] = d.get(k, 0) + 1`, `d[k] = v`), temporaries unpacked, or one name's step. */
function assignmentStep (expr: PyNode, env: LoopEnv, ctx: EffectContext): void {
  const target = expr.children[0]
  const value = afterToken(expr, '=')
  if (target === undefined || value === undefined) return
  if (keyedMinMaxStep(expr, env, ctx)) return
  const counted = countByGet(target, value, env)
  if (counted !== undefined) {
    readPure(counted.key, env, ctx)
    readPure(counted.added, env, ctx)
    env.inserting.add(counted.name)
    addAccumulator(counted.name, 'count', env)
    return
  }
  if (target.kind === 'subscript' && target.children[0]?.kind === 'identifier' && !env.bound.has(target.children[0].text)) {
    const index = namedChildren(target).slice(1)
    for (const i of index) readPure(i, env, ctx)
    readPure(value, env, ctx)
    addAccumulator(target.children[0].text, 'setitem', env)
    return
  }
  // `a, b = f(x)`: per-element temporaries unpacked (a mismatch raises for that element, as in one run).
  const unpacked = target.kind === 'pattern_list' || target.kind === 'tuple_pattern' || target.kind === 'list_pattern' ? namedChildren(target) : []
  if (unpacked.length > 0 && unpacked.every(n => n.kind === 'identifier')) {
    readPure(value, env, ctx)
    bindTemporaries(unpacked.map(n => n.text), env)
    return
  }
  if (target.kind !== 'identifier') {
    env.fail = `assignment to ${textOf(target)} inside the loop`
    return
  }
  nameStep(target.text, value, env, ctx)
}

/** `name = v`: `acc = acc OP g(x)`, `acc = min(acc, g(x))`, or a per-element temporary. */
function nameStep (name: string, value: PyNode, env: LoopEnv, ctx: EffectContext): void {
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
  bindTemporaries([name], env)
}

/** Binds per-element temporaries; an accumulator among them would be overwritten. */
function bindTemporaries (names: string[], env: LoopEnv): void {
  const overwritten = names.find(n => env.accumulators.has(n))
  if (overwritten !== undefined) {
    env.fail = `${overwritten} is overwritten inside the loop`
    return
  }
  for (const n of names) {
    env.temps.add(n)
    env.bound.add(n)
  }
}

export function assignmentOf (stmt: PyNode): { target: string, value: PyNode } | undefined {
  if (stmt.kind !== 'expression_statement') return undefined
  const a = namedChildren(stmt)[0]
  if (a?.kind !== 'assignment') return undefined
  const target = a.children[0]
  const value = afterToken(a, '=')
  if (target?.kind !== 'identifier' || value === undefined || value.kind === 'assignment') return undefined
  return { target: target.text, value }
}

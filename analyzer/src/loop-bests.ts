/**
 * Running bests in a loop body: `if best is None or x > best: best = x` (from None, over the values themselves) and
 * guarded replacements by key, `if len(w) > len(longest): longest = w` or `if s >= top: top = s; word = w`
 * (`BestStep`), which the chunks keep as candidates and the aggregator replays (planner/src/bests.ts).
 */
import { PURE_BUILTINS } from './builtins.ts'
import type { EffectContext } from './effects.ts'
import { effectsOf } from './effects.ts'
import { addAccumulator, readPure } from './loop-keys.ts'
import type { BestStep, LoopEnv } from './loop-keys.ts'
import { afterToken, endLineOf, lineOf, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/**
 * `if ACC is None or X > ACC: ACC = X` alone (or `ACC < X`, `<` for min; X a per-element name): the running best
 * from no value. Records it and returns true; false when the statement is anything else.
 */
export function bestStep (stmt: PyNode, env: LoopEnv, ctx: EffectContext): boolean {
  const guarded = guardedAssignment(stmt)
  if (guarded === undefined) return false
  const { target, value } = guarded
  const cond = unparen(guarded.condition)
  if (cond.kind !== 'boolean_operator' || cond.children.find(c => !c.named)?.kind !== 'or') return false
  const [isNone, compare] = namedChildren(cond).map(unparen)
  if (target?.kind !== 'identifier' || value?.kind !== 'identifier' || env.bound.has(target.text) || !env.bound.has(value.text)) return false
  const acc = target.text
  const x = value.text
  if (isNone?.kind !== 'comparison_operator' || textOf(isNone).replace(/\s+/g, ' ') !== `${acc} is None`) return false
  if (compare?.kind !== 'comparison_operator') return false
  const [left, right, ...more] = namedChildren(compare)
  const operator = compare.children.find(c => !c.named)?.kind
  if (left === undefined || right === undefined || more.length > 0) return false
  // x > acc or acc < x: the new one wins when strictly greater (max); x < acc or acc > x: strictly smaller (min).
  const xFirst = left.kind === 'identifier' && left.text === x && right.kind === 'identifier' && right.text === acc
  const accFirst = left.kind === 'identifier' && left.text === acc && right.kind === 'identifier' && right.text === x
  if (!xFirst && !accFirst) return false
  const max = (xFirst && operator === '>') || (accFirst && operator === '<')
  const min = (xFirst && operator === '<') || (accFirst && operator === '>')
  if (!max && !min) return false
  readPure(value, env, ctx)
  addAccumulator(acc, max ? 'max_from_none' : 'min_from_none', env)
  if (!env.temps.has(x)) env.bestOfElements.add(acc)
  return true
}

const COMPARISONS = new Set(['<', '>', '<=', '>='])

/** Text without white space, to compare two pieces of code. */
function compact (code: PyNode | string): string {
  return (typeof code === 'string' ? code : textOf(code)).replace(/\s+/g, '')
}

/** The names `n` reads that the loop's body has not bound before it. */
function readsOf (n: PyNode, env: LoopEnv, ctx: EffectContext): Set<string> {
  return effectsOf(n, ctx, env.bound).reads
}

/** A builtin or a name of the module (a function, constant, import or class): the same wherever the code runs. */
function moduleName (name: string, ctx: EffectContext): boolean {
  const { module } = ctx
  return PURE_BUILTINS.has(name) || module.functions.has(name) || module.constants.has(name) || module.imports.has(name) || module.classes.has(name)
}

/** `V is None`: V. */
function noneTested (test: PyNode | undefined): string | undefined {
  return test?.kind === 'comparison_operator' ? /^([\p{L}_][\p{L}\p{N}_]*) is None$/u.exec(textOf(test).replace(/\s+/g, ' '))?.[1] : undefined
}

/** `if CONDITION:` and its block's statements, alone (no elif or else). */
function guardedSteps (stmt: PyNode): { condition: PyNode, steps: PyNode[] } | undefined {
  const [condition, block, ...others] = namedChildren(stmt)
  return condition === undefined || block?.kind !== 'block' || others.length > 0 ? undefined : { condition, steps: namedChildren(block) }
}

/**
 * `if KEY(x) > KEY(acc): acc = x` or `if k > best_k: best_k = k; best = x` alone (any of < > <= >=, either way
 * round): a running best by key (see `BestStep`). Records its variables as `best` accumulators and returns true;
 * false when the statement is anything else.
 */
export function replacementStep (stmt: PyNode, env: LoopEnv, ctx: EffectContext): boolean {
  const guarded = guardedSteps(stmt)
  const assigned = guarded === undefined ? undefined : replacements(guarded.steps, env)
  if (guarded === undefined || assigned === undefined) return false
  const names = new Set(assigned.map(x => x.name))
  // `V is None or …`: taken at once while V is None (its first element, unless a value taken is None).
  let cond = unparen(guarded.condition)
  let noneCheck: string | undefined
  if (cond.kind === 'boolean_operator' && cond.children.find(c => !c.named)?.kind === 'or') {
    const [isNone, compare, ...rest] = namedChildren(cond).map(unparen)
    const checked = noneTested(isNone)
    if (checked === undefined || !names.has(checked) || compare === undefined || rest.length > 0) return false
    noneCheck = checked
    cond = compare
  }
  const operator = cond.children.find(c => !c.named)?.kind ?? ''
  const [left, right, ...more] = namedChildren(cond)
  if (cond.kind !== 'comparison_operator' || !COMPARISONS.has(operator) || left === undefined || right === undefined || more.length > 0) return false
  const leftState = [...readsOf(left, env, ctx)].filter(r => names.has(r))
  const rightState = [...readsOf(right, env, ctx)].filter(r => names.has(r))
  if ((leftState.length === 0) === (rightState.length === 0)) return false
  const elementFirst = leftState.length === 0
  const [element, state] = elementFirst ? [left, right] : [right, left]
  const stateReads = elementFirst ? rightState : leftState
  if (assigned.some(x => [...readsOf(x.value, env, ctx)].some(r => names.has(r) || env.accumulators.has(r)))) return false
  if ([...readsOf(element, env, ctx)].some(r => env.accumulators.has(r))) return false
  const keyVariable = stateReads[0] as string
  const keyed = assigned.find(x => x.name === keyVariable)
  if (stateReads.length !== 1 || keyed === undefined) return false
  const st = unparen(state)
  if (st.kind === 'identifier') {
    // `best_k` itself: its new value must be the element's key.
    if (compact(keyed.value) !== compact(element)) return false
  } else {
    // `len(longest)`: the element's key is that expression of the new value. It is evaluated on the state after the
    // element's key, as written, so that the first exception either raises is the one one run meets.
    if (!elementFirst || ![...readsOf(st, env, ctx)].every(r => r === keyVariable || moduleName(r, ctx)) || effectsOf(st, ctx, env.bound).impure.length > 0) return false
    const isKey = (n: PyNode): boolean => n.kind === 'identifier' && n.text === keyVariable
    if (!tupleItemKey(st, isKey, keyed.value, element) && compact(substitute(st, keyVariable, textOf(keyed.value))) !== compact(element)) return false
  }
  readPure(element, env, ctx)
  for (const x of assigned) readPure(x.value, env, ctx)
  if (env.fail !== undefined) return true
  return recordBest(stmt, env, 'best', assigned, {
    operator: operator as BestStep['operator'],
    elementFirst,
    element: textOf(element),
    state: textOf(st),
    ...(noneCheck !== undefined ? { noneCheck } : {})
  })
}

/** Records the variables `stmt` replaces as one running best (op `best`, or `kbest` per key); true. */
function recordBest (stmt: PyNode, env: LoopEnv, op: 'best' | 'kbest', assigned: Array<{ name: string, value: PyNode }>, step: Omit<BestStep, 'variables' | 'values' | 'line' | 'endLine' | 'indent'>): boolean {
  const best: BestStep = {
    variables: assigned.map(x => x.name),
    values: assigned.map(x => textOf(x.value)),
    ...step,
    line: lineOf(stmt),
    endLine: endLineOf(stmt),
    indent: ' '.repeat(stmt.sg.range().start.column)
  }
  for (const x of assigned) {
    addAccumulator(x.name, op, env)
    env.bests.set(x.name, best)
  }
  return true
}

/**
 * `best[1]` (or `d[k][1]`) as the state's key where the new value is a tuple whose item 1 is the element's key
 * (`best = (x, s)` with `s > best[1]`): the key of the new value is that item.
 */
function tupleItemKey (state: PyNode, isVariable: (n: PyNode) => boolean, value: PyNode, element: PyNode): boolean {
  if (state.kind !== 'subscript') return false
  const [receiver, index, ...more] = namedChildren(state)
  const v = unparen(value)
  if (receiver === undefined || !isVariable(unparen(receiver)) || index === undefined || more.length > 0 || !/^-?\d+$/.test(textOf(index).trim())) return false
  if (v.kind !== 'tuple' && v.kind !== 'list') return false
  const items = namedChildren(v)
  if (items.some(i => i.kind === 'list_splat' || i.kind === 'parenthesized_list_splat')) return false
  const at = Number(textOf(index).trim())
  const item = items[at < 0 ? items.length + at : at]
  return item !== undefined && compact(item) === compact(element)
}

/** The text of `expr` with every read of `name` replaced by `value` (parenthesised unless it is a name or a call). */
function substitute (expr: PyNode, name: string, value: string): string {
  return replaced(expr, (n, parent) => {
    if (n.kind !== 'identifier' || n.text !== name) return false
    // Not an attribute's name (`o.name`) or a keyword argument's (`f(name=…)`).
    const isField = parent?.kind === 'attribute' && parent.children.at(-1) === n
    const isKeyword = parent?.kind === 'keyword_argument' && parent.children[0] === n
    return !isField && !isKeyword
  }, value)
}

/** The text of `expr` with each node `match` picks (outermost first) replaced by `value`, parenthesised unless simple. */
function replaced (expr: PyNode, match: (n: PyNode, parent: PyNode | undefined) => boolean, value: string): string {
  const simple = /^[\p{L}_][\p{L}\p{N}_.]*(\(.*\))?$/su.test(value.trim())
  const replacement = simple ? value : `(${value})`
  const base = expr.sg.range().start.index
  const text = textOf(expr)
  const spots: Array<[number, number]> = []
  const visit = (n: PyNode, parent: PyNode | undefined): void => {
    if (match(n, parent)) {
      spots.push([n.sg.range().start.index - base, n.sg.range().end.index - base])
      return
    }
    for (const c of n.children) visit(c, n)
  }
  visit(expr, undefined)
  let out = ''
  let at = 0
  for (const [start, end] of spots) {
    out += text.slice(at, start) + replacement
    at = end
  }
  return out + text.slice(at)
}

/**
 * A branch of plain assignments to distinct names that are neither per-element nor accumulated by another step (the
 * variables a running best replaces together), or undefined.
 */
function replacements (steps: PyNode[], env: LoopEnv): Array<{ name: string, value: PyNode }> | undefined {
  const assigned: Array<{ name: string, value: PyNode }> = []
  for (const step of steps) {
    const a = step.kind === 'expression_statement' && namedChildren(step).length === 1 ? namedChildren(step)[0] : undefined
    const target = a?.kind === 'assignment' ? a.children[0] : undefined
    const value = a === undefined ? undefined : afterToken(a, '=')
    if (target?.kind !== 'identifier' || value === undefined || value.kind === 'assignment' || a?.children.some(c => c.kind === 'type') === true) return undefined
    if (env.bound.has(target.text) || assigned.some(x => x.name === target.text)) return undefined
    assigned.push({ name: target.text, value })
  }
  return assigned.length === 0 || assigned.some(x => env.accumulators.has(x.name)) ? undefined : assigned
}

/**
 * `if V is None and C: V = E; …` alone: the first element for which C holds, while V is None (op `best`, operator
 * `first`): C is not even evaluated once V is set. Records it and returns true; false when the statement is anything
 * else.
 */
export function firstStep (stmt: PyNode, env: LoopEnv, ctx: EffectContext): boolean {
  const guarded = guardedSteps(stmt)
  const assigned = guarded === undefined ? undefined : replacements(guarded.steps, env)
  if (guarded === undefined || assigned === undefined) return false
  const names = new Set(assigned.map(x => x.name))
  // `a and b and c` is ((a and b) and c): its operands, left to right.
  const operands: PyNode[] = []
  let cond = unparen(guarded.condition)
  while (cond.kind === 'boolean_operator' && cond.children.find(c => !c.named)?.kind === 'and') {
    const [left, right] = namedChildren(cond)
    if (left === undefined || right === undefined) return false
    operands.unshift(right)
    cond = unparen(left)
  }
  operands.unshift(cond)
  const [isNone, ...rest] = operands
  const checked = noneTested(isNone)
  if (checked === undefined || !names.has(checked)) return false
  if ([...rest, ...assigned.map(x => x.value)].some(n => [...readsOf(n, env, ctx)].some(r => names.has(r) || env.accumulators.has(r)))) return false
  for (const c of rest) readPure(c, env, ctx)
  for (const x of assigned) readPure(x.value, env, ctx)
  if (env.fail !== undefined) return true
  return recordBest(stmt, env, 'best', assigned, {
    operator: 'first',
    elementFirst: true,
    element: rest.length === 0 ? 'True' : rest.map(c => `(${textOf(c)})`).join(' and '),
    state: checked,
    noneCheck: checked
  })
}

/**
 * `if K not in D or V > D[K]: D[K] = V` alone (any of < > <= >=, either way round; or `if K not in D or len(w) >
 * len(D[K]): D[K] = w`, the key of the state second): a running best per key (op `kbest`), D starting empty. Each key
 * is a running best from "missing" (see `BestStep.keyed`). Records it and returns true; false when the statement is
 * anything else.
 */
export function keyedReplacementStep (stmt: PyNode, env: LoopEnv, ctx: EffectContext): boolean {
  const guarded = guardedSteps(stmt)
  if (guarded === undefined) return false
  const { condition, steps } = guarded
  const a = steps.length === 1 && steps[0]?.kind === 'expression_statement' ? namedChildren(steps[0])[0] : undefined
  const target = a?.kind === 'assignment' ? a.children[0] : undefined
  const value = a === undefined ? undefined : afterToken(a, '=')
  if (target?.kind !== 'subscript' || value === undefined || value.kind === 'assignment') return false
  const [receiver, index, ...more] = namedChildren(target)
  if (receiver?.kind !== 'identifier' || index === undefined || more.length > 0) return false
  const name = receiver.text
  if (env.bound.has(name) || env.accumulators.has(name)) return false
  const key = compact(index)
  const cond = unparen(condition)
  if (cond.kind !== 'boolean_operator' || cond.children.find(c => !c.named)?.kind !== 'or') return false
  const [test, compare, ...rest] = namedChildren(cond).map(unparen)
  if (test?.kind !== 'comparison_operator' || compare?.kind !== 'comparison_operator' || rest.length > 0) return false
  const missing = test.children.filter(c => c.named && c.kind !== 'not in')
  if (!test.children.some(c => c.kind === 'not in') || missing.length !== 2 || compact(missing[0] as PyNode) !== key || textOf(missing[1] as PyNode) !== name) return false
  const operator = compare.children.find(c => !c.named)?.kind ?? ''
  const [left, right, ...extra] = namedChildren(compare)
  if (!COMPARISONS.has(operator) || left === undefined || right === undefined || extra.length > 0) return false
  const leftState = readsOf(left, env, ctx).has(name)
  if (leftState === readsOf(right, env, ctx).has(name)) return false
  const elementFirst = !leftState
  const [element, state] = elementFirst ? [left, right] : [right, left]
  // The state's side reads D only as D[K]; in the aggregator it is an expression of the key's current value (named D).
  const isCurrent = (n: PyNode): boolean => n.kind === 'subscript' && compact(n) === `${name}[${key}]`
  const st = unparen(state)
  if ([...readsOf(index, env, ctx), ...readsOf(value, env, ctx), ...readsOf(element, env, ctx)].some(r => r === name || env.accumulators.has(r))) return false
  const current = replaced(st, isCurrent, name)
  if (isCurrent(st)) {
    if (compact(value) !== compact(element)) return false
  } else {
    // Outside D[K] (D itself included), the state's side may name only the module's names and builtins: it runs in
    // the aggregator.
    let plain = true
    const names = (n: PyNode, parent: PyNode | undefined): void => {
      if (isCurrent(n)) return
      if (n.kind === 'lambda' || n.kind.endsWith('comprehension') || n.kind === 'generator_expression') plain = false
      const field = parent?.kind === 'attribute' && parent.children.at(-1) === n
      const keyword = parent?.kind === 'keyword_argument' && parent.children[0] === n
      if (n.kind === 'identifier' && !field && !keyword && (n.text === name || !moduleName(n.text, ctx))) plain = false
      for (const c of n.children) names(c, n)
    }
    names(st, undefined)
    if (!elementFirst || !plain || effectsOf(st, ctx, env.bound).impure.length > 0) return false
    if (!tupleItemKey(st, isCurrent, value, element) && compact(replaced(st, isCurrent, textOf(value))) !== compact(element)) return false
  }
  readPure(index, env, ctx)
  readPure(element, env, ctx)
  readPure(value, env, ctx)
  if (env.fail !== undefined) return true
  return recordBest(stmt, env, 'kbest', [{ name, value }], { operator: operator as BestStep['operator'], elementFirst, element: textOf(element), state: current, keyed: textOf(index) })
}

/** `if CONDITION: TARGET = VALUE`, alone (no elif or else): its parts. */
export function guardedAssignment (stmt: PyNode): { condition: PyNode, target: PyNode | undefined, value: PyNode | undefined } | undefined {
  const guarded = guardedSteps(stmt)
  if (guarded === undefined) return undefined
  const { condition, steps } = guarded
  const assignment = steps.length === 1 && steps[0]?.kind === 'expression_statement' ? namedChildren(steps[0])[0] : undefined
  if (assignment?.kind !== 'assignment') return undefined
  return { condition, target: assignment.children[0], value: afterToken(assignment, '=') }
}

/**
 * `D[K] = max(D.get(K, V), V)` (or min): a running best per key (op `kbest`) written as one assignment; max keeps the
 * current value unless V > it (min: V < it). Records it and returns true; false when the assignment is anything else.
 */
export function keyedMinMaxStep (assignment: PyNode, env: LoopEnv, ctx: EffectContext): boolean {
  const target = assignment.children[0]
  const value = afterToken(assignment, '=')
  const v = value === undefined ? undefined : unparen(value)
  if (target?.kind !== 'subscript' || v?.kind !== 'call') return false
  const [receiver, index, ...more] = namedChildren(target)
  if (receiver?.kind !== 'identifier' || index === undefined || more.length > 0) return false
  const name = receiver.text
  if (env.bound.has(name) || env.accumulators.has(name)) return false
  const fn = textOf(v.children[0] ?? v)
  const [get, element, ...rest] = namedChildren(v.children[1] ?? v)
  if ((fn !== 'max' && fn !== 'min') || get === undefined || element === undefined || rest.length > 0 || element.kind === 'keyword_argument') return false
  const call = unparen(get)
  const method = call.kind === 'call' ? call.children[0] : undefined
  const [key, fallback, ...others] = call.kind === 'call' ? namedChildren(call.children[1] ?? call) : []
  if (method?.kind !== 'attribute' || method.children[0]?.kind !== 'identifier' || method.children[0].text !== name || method.children.at(-1)?.text !== 'get') return false
  if (key === undefined || fallback === undefined || others.length > 0 || compact(key) !== compact(index) || compact(fallback) !== compact(element)) return false
  if ([...readsOf(index, env, ctx), ...readsOf(element, env, ctx)].some(r => r === name || env.accumulators.has(r))) return false
  readPure(index, env, ctx)
  readPure(element, env, ctx)
  if (env.fail !== undefined) return true
  return recordBest(assignment, env, 'kbest', [{ name, value: element }], { operator: fn === 'max' ? '>' : '<', elementFirst: true, element: textOf(element), state: name, keyed: textOf(index) })
}

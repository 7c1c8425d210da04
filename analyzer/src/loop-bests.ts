/**
 * Running bests in a loop body: `if best is None or x > best: best = x` (from None, over the values themselves) and
 * guarded replacements by key, `if len(w) > len(longest): longest = w` or `if s >= top: top = s; word = w`
 * (`BestStep`), which the chunks keep as candidates and the aggregator replays (coordinator/src/planner/bests.ts).
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

/**
 * `if KEY(x) > KEY(acc): acc = x` or `if k > best_k: best_k = k; best = x` alone (any of < > <= >=, either way
 * round): a running best by key (see `BestStep`). Records its variables as `best` accumulators and returns true;
 * false when the statement is anything else.
 */
export function replacementStep (stmt: PyNode, env: LoopEnv, ctx: EffectContext): boolean {
  const [condition, block, ...others] = namedChildren(stmt)
  if (condition === undefined || block?.kind !== 'block' || others.length > 0) return false
  const assigned: Array<{ name: string, value: PyNode }> = []
  for (const step of namedChildren(block)) {
    const a = step.kind === 'expression_statement' && namedChildren(step).length === 1 ? namedChildren(step)[0] : undefined
    const target = a?.kind === 'assignment' ? a.children[0] : undefined
    const value = a === undefined ? undefined : afterToken(a, '=')
    if (target?.kind !== 'identifier' || value === undefined || value.kind === 'assignment' || a?.children.some(c => c.kind === 'type') === true) return false
    if (env.bound.has(target.text) || assigned.some(x => x.name === target.text)) return false
    assigned.push({ name: target.text, value })
  }
  // A variable another step already accumulates is not one running best's.
  if (assigned.length === 0 || assigned.some(x => env.accumulators.has(x.name))) return false
  const names = new Set(assigned.map(x => x.name))
  // `V is None or …`: taken at once while V is None (its first element, unless a value taken is None).
  let cond = unparen(condition)
  let noneCheck: string | undefined
  if (cond.kind === 'boolean_operator' && cond.children.find(c => !c.named)?.kind === 'or') {
    const [isNone, compare, ...rest] = namedChildren(cond).map(unparen)
    const checked = isNone?.kind === 'comparison_operator' ? /^([\p{L}_][\p{L}\p{N}_]*) is None$/u.exec(textOf(isNone).replace(/\s+/g, ' '))?.[1] : undefined
    if (checked === undefined || !names.has(checked) || compare === undefined || rest.length > 0) return false
    noneCheck = checked
    cond = compare
  }
  const operator = cond.children.find(c => !c.named)?.kind ?? ''
  const [left, right, ...more] = namedChildren(cond)
  if (cond.kind !== 'comparison_operator' || !COMPARISONS.has(operator) || left === undefined || right === undefined || more.length > 0) return false
  const readsOf = (n: PyNode): Set<string> => effectsOf(n, ctx, env.bound).reads
  const leftState = [...readsOf(left)].filter(r => names.has(r))
  const rightState = [...readsOf(right)].filter(r => names.has(r))
  if ((leftState.length === 0) === (rightState.length === 0)) return false
  const elementFirst = leftState.length === 0
  const [element, state] = elementFirst ? [left, right] : [right, left]
  const stateReads = elementFirst ? rightState : leftState
  if (assigned.some(x => [...readsOf(x.value)].some(r => names.has(r) || env.accumulators.has(r)))) return false
  if ([...readsOf(element)].some(r => env.accumulators.has(r))) return false
  const compact = (t: string): string => t.replace(/\s+/g, '')
  const keyVariable = stateReads[0] as string
  const keyed = assigned.find(x => x.name === keyVariable)
  if (stateReads.length !== 1 || keyed === undefined) return false
  const st = unparen(state)
  if (st.kind === 'identifier') {
    // `best_k` itself: its new value must be the element's key.
    if (compact(textOf(keyed.value)) !== compact(textOf(element))) return false
  } else {
    // `len(longest)`: the element's key is that expression of the new value. It is evaluated on the state after the
    // element's key, as written, so that the first exception either raises is the one one run meets.
    const { module } = ctx
    const known = (r: string): boolean => r === keyVariable || PURE_BUILTINS.has(r) || module.functions.has(r) || module.constants.has(r) || module.imports.has(r) || module.classes.has(r)
    if (!elementFirst || ![...readsOf(st)].every(known) || effectsOf(st, ctx, env.bound).impure.length > 0) return false
    if (compact(substitute(st, keyVariable, textOf(keyed.value))) !== compact(textOf(element))) return false
  }
  readPure(element, env, ctx)
  for (const x of assigned) readPure(x.value, env, ctx)
  if (env.fail !== undefined) return true
  const best: BestStep = {
    variables: assigned.map(x => x.name),
    operator: operator as BestStep['operator'],
    elementFirst,
    element: textOf(element),
    state: textOf(st),
    values: assigned.map(x => textOf(x.value)),
    ...(noneCheck !== undefined ? { noneCheck } : {}),
    line: lineOf(stmt),
    endLine: endLineOf(stmt),
    indent: ' '.repeat(stmt.sg.range().start.column)
  }
  for (const x of assigned) {
    addAccumulator(x.name, 'best', env)
    env.bests.set(x.name, best)
  }
  return true
}

/** The text of `expr` with every read of `name` replaced by `value` (parenthesised unless it is a name or a call). */
function substitute (expr: PyNode, name: string, value: string): string {
  const simple = /^[\p{L}_][\p{L}\p{N}_.]*(\(.*\))?$/su.test(value.trim())
  const replacement = simple ? value : `(${value})`
  const base = expr.sg.range().start.index
  const text = textOf(expr)
  const spots: Array<[number, number]> = []
  const visit = (n: PyNode, parent: PyNode | undefined): void => {
    if (n.kind === 'identifier' && n.text === name) {
      // Not an attribute's name (`o.name`) or a keyword argument's (`f(name=…)`).
      const isField = parent?.kind === 'attribute' && parent.children.at(-1) === n
      const isKeyword = parent?.kind === 'keyword_argument' && parent.children[0] === n
      if (!isField && !isKeyword) spots.push([n.sg.range().start.index - base, n.sg.range().end.index - base])
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

/** `if CONDITION: TARGET = VALUE`, alone (no elif or else): its parts. */
export function guardedAssignment (stmt: PyNode): { condition: PyNode, target: PyNode | undefined, value: PyNode | undefined } | undefined {
  const [condition, block, ...others] = namedChildren(stmt)
  if (condition === undefined || block?.kind !== 'block' || others.length > 0) return undefined
  const steps = namedChildren(block)
  const assignment = steps.length === 1 && steps[0]?.kind === 'expression_statement' ? namedChildren(steps[0])[0] : undefined
  if (assignment?.kind !== 'assignment') return undefined
  return { condition, target: assignment.children[0], value: afterToken(assignment, '=') }
}

/**
 * Which names a piece of code reads, binds and mutates, and whether it has effects beyond that. The DDG is
 * built from these sets; the classifier uses them to prove element functions pure. Unknown calls count as
 * mutating their arguments, and unknown methods as mutating their receiver: the analysis may only ever
 * over-approximate effects.
 */
import { MUTATING_MODULE_FUNCTIONS, PURE_BUILTINS, PURE_METHODS } from './builtins.ts'
import { empty, iterationRoot, maybe, mayNotRun, mutate, mutateFirst, mutateRoots, rootName, sourcesOf, targetNames } from './effect-sets.ts'
import type { Defined, EffectContext, Effects } from './effect-sets.ts'
import { afterToken, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'
import type { FunctionDef } from './template.ts'
import { parameterNames } from './template.ts'

export { effectContext, rootName, targetNames } from './effect-sets.ts'
export type { EffectContext, Effects } from './effect-sets.ts'

/** Effects of `node`; names in `bound` are local to an enclosing expression and not reported as reads. */
export function effectsOf (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string> = new Set()): Effects {
  const eff = empty()
  visit(node, ctx, bound, eff, new Set())
  return eff
}

function visitAll (nodes: PyNode[], ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  for (const n of nodes) visit(n, ctx, bound, eff, defined)
}

/** Visits code that may not run (a branch, a loop body): its bindings are not definite afterwards. */
function visitMaybe (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  visit(node, ctx, bound, eff, maybe(defined))
}

function store (target: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  const t = unparen(target)
  switch (t.kind) {
    case 'identifier':
      if (bound.has(t.text)) eff.impure.push(`assigns to the comprehension variable ${t.text}`)
      else {
        eff.writes.add(t.text)
        defined.add(t.text)
        if (!mayNotRun(defined)) eff.definite.add(t.text)
      }
      return
    case 'subscript':
    case 'attribute': {
      // x[i] = v and x.a = v mutate x: read it (and the index), and record a write.
      visit(t, ctx, bound, eff, defined)
      const root = rootName(t)
      if (root !== undefined) mutate(root, bound, eff)
      return
    }
    default:
      for (const c of namedChildren(t)) store(c, ctx, bound, eff, defined)
  }
}

function visit (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  switch (node.kind) {
    case 'identifier':
      if (!bound.has(node.text) && !defined.has(node.text)) eff.reads.add(node.text)
      return
    case 'comment': case 'string_content': case 'escape_sequence':
      return
    case 'attribute':
      visit(node.children[0] ?? node, ctx, bound, eff, defined)
      return
    case 'keyword_argument':
      visit(namedChildren(node)[1] ?? node, ctx, bound, eff, defined)
      return
    case 'assignment':
      return visitAssignment(node, ctx, bound, eff, defined)
    case 'augmented_assignment':
      return visitAugmentedAssignment(node, ctx, bound, eff, defined)
    case 'named_expression': {
      const [name, value] = namedChildren(node)
      if (value !== undefined) visit(value, ctx, bound, eff, defined)
      if (name !== undefined) store(name, ctx, bound, eff, defined)
      return
    }
    case 'for_statement':
      return visitFor(node, ctx, bound, eff, defined)
    case 'list_comprehension': case 'set_comprehension': case 'dictionary_comprehension': case 'generator_expression':
      return visitComprehension(node, ctx, bound, eff, defined)
    case 'lambda': {
      const params = node.children.find(c => c.kind === 'lambda_parameters')
      const inner = new Set(bound)
      if (params !== undefined) for (const p of namedChildren(params)) for (const n of targetNames(p.kind === 'identifier' ? p : namedChildren(p)[0] ?? p)) inner.add(n)
      const body = node.children.at(-1)
      if (body !== undefined) visit(body, ctx, inner, eff, defined)
      return
    }
    case 'call':
      visitCall(node, ctx, bound, eff, defined)
      return
    case 'function_definition':
      return visitFunctionDefinition(node, ctx, bound, eff)
    case 'class_definition':
      eff.impure.push('class defined inside a function')
      return
    case 'if_statement': case 'while_statement': {
      const [condition, ...rest] = namedChildren(node)
      if (condition !== undefined) visit(condition, ctx, bound, eff, defined)
      for (const part of rest) visitMaybe(part, ctx, bound, eff, defined)
      return
    }
    case 'try_statement': {
      // Any part of a try may be cut short by an exception and resumed in a handler.
      for (const c of node.children) if (c.named) visitMaybe(c, ctx, bound, eff, defined)
      return
    }
    case 'with_statement': case 'except_clause': case 'as_pattern': {
      // `as` targets bind names; everything else is visited normally.
      for (const c of node.children) {
        if (c.kind === 'as_pattern_target') for (const n of targetNames(namedChildren(c)[0] ?? c)) eff.writes.add(n)
        else visit(c, ctx, bound, eff, defined)
      }
      return
    }
    case 'typed_parameter': case 'type':
      return
    default:
      if (!visitControl(node, ctx, bound, eff, defined)) for (const c of node.children) if (c.named) visit(c, ctx, bound, eff, defined)
  }
}

/** Statements that bind or leave without assigning: `del`, `global`, `return`, `raise`, `break`, `yield`. False for any other node. */
function visitControl (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): boolean {
  switch (node.kind) {
    case 'delete_statement':
      for (const target of namedChildren(node)) {
        const names = targetNames(target)
        if (names.length > 0) for (const n of names) eff.writes.add(n)
        else store(target, ctx, bound, eff, defined)
      }
      return true
    case 'global_statement': case 'nonlocal_statement':
      eff.impure.push(`${node.kind === 'global_statement' ? 'global' : 'nonlocal'} statement`)
      for (const n of namedChildren(node)) eff.writes.add(n.text)
      return true
    case 'return_statement':
      eff.returns = true
      visitAll(namedChildren(node), ctx, bound, eff, defined)
      return true
    case 'raise_statement':
      eff.raises = true
      visitAll(namedChildren(node), ctx, bound, eff, defined)
      return true
    case 'break_statement': case 'continue_statement':
      eff.breaks = true
      return true
    case 'yield':
      eff.yields = true
      visitAll(namedChildren(node), ctx, bound, eff, defined)
      return true
    default:
      return false
  }
}

function visitAssignment (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  const right = afterToken(node, '=')
  if (right !== undefined) visit(right, ctx, bound, eff, defined)
  const aliased = right === undefined ? undefined : rootName(right)
  const aliasSource = aliased === undefined ? undefined : sourcesOf(eff).get(aliased)
  if (aliasSource !== undefined && node.children[0] !== undefined) for (const n of targetNames(node.children[0])) sourcesOf(eff).set(n, aliasSource)
  // Chained `a = b = v`: tree-sitter nests assignments on the right; the left is always children[0].
  const left = node.children[0]
  if (left !== undefined && right !== undefined) store(left, ctx, bound, eff, defined)
}

function visitAugmentedAssignment (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  const [left, right] = namedChildren(node)
  if (right !== undefined) visit(right, ctx, bound, eff, defined)
  if (left !== undefined) {
    visit(left, ctx, bound, eff, defined)
    const root = rootName(left)
    if (unparen(left).kind === 'identifier') store(left, ctx, bound, eff, defined)
    else if (root !== undefined) mutate(root, bound, eff)
  }
}

function visitFor (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  const left = afterToken(node, 'for')
  const right = afterToken(node, 'in')
  if (right !== undefined) visit(right, ctx, bound, eff, defined)
  // The loop variables are bound inside the body; after the loop nothing is definite (it may not run).
  const inside = maybe(defined)
  if (left !== undefined) store(left, ctx, bound, eff, inside)
  const iterated = right === undefined ? undefined : iterationRoot(right)
  if (left !== undefined && iterated !== undefined) for (const n of targetNames(left)) sourcesOf(eff).set(n, iterated)
  for (const c of node.children) if (c.kind === 'block' || c.kind === 'else_clause') visitMaybe(c, ctx, bound, eff, inside)
}

function visitComprehension (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  const inner = new Set(bound)
  const clauses = namedChildren(node)
  // The first iterable is evaluated in the enclosing scope; the rest see the comprehension variables.
  let firstIterable = true
  for (const clause of clauses) {
    if (clause.kind !== 'for_in_clause') continue
    const right = afterToken(clause, 'in')
    if (right !== undefined) visit(right, ctx, firstIterable ? bound : inner, eff, defined)
    firstIterable = false
    const left = afterToken(clause, 'for')
    const iterated = right === undefined ? undefined : iterationRoot(right)
    if (left !== undefined) {
      for (const n of targetNames(left)) {
        inner.add(n)
        if (iterated !== undefined) sourcesOf(eff).set(n, iterated)
      }
    }
  }
  for (const clause of clauses) {
    if (clause.kind === 'for_in_clause') continue
    visit(clause, ctx, inner, eff, defined)
  }
}

function visitFunctionDefinition (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects): void {
  const name = namedChildren(node).find(c => c.kind === 'identifier')
  if (name !== undefined) eff.writes.add(name.text)
  const inner = new Set([...bound, ...parameterNames(node)])
  const body = node.children.find(c => c.kind === 'block')
  // A nested function may read enclosing locals; its own assignments stay inside it.
  if (body !== undefined) {
    const nested = effectsOf(body, ctx, inner)
    for (const r of nested.reads) eff.reads.add(r)
    for (const m of nested.mutated) mutate(m, bound, eff)
    eff.impure.push(...nested.impure)
  }
}

function visitCall (node: PyNode, ctx: EffectContext, bound: ReadonlySet<string>, eff: Effects, defined: Defined): void {
  const fn = node.children[0]
  const args = node.children[1]
  if (fn === undefined) return
  if (args !== undefined) visit(args, ctx, bound, eff, defined)
  const callee = unparen(fn)
  const argNodes = args === undefined ? [] : args.kind === 'argument_list' ? namedChildren(args) : []
  if (callee.kind === 'identifier') {
    const name = callee.text
    if (!bound.has(name)) eff.reads.add(name)
    const helper = ctx.module.functions.get(name)
    if (helper !== undefined) {
      eff.calls.add(name)
      // A helper reading a module-level object that main changes in place depends on that change.
      for (const g of moduleReadsOf(helper, ctx)) if (!bound.has(g)) eff.reads.add(g)
      if (!isPureFunction(helper, ctx)) {
        eff.impure.push(`calls ${name}(), which has side effects`)
        mutateRoots(argNodes, bound, eff)
      }
      return
    }
    if (PURE_BUILTINS.has(name) || ctx.module.classes.has(name)) return
    const imported = ctx.module.imports.get(name)
    if (imported !== undefined) {
      if (MUTATING_MODULE_FUNCTIONS.has(imported)) mutateFirst(argNodes, bound, eff)
      return
    }
    // A local callable (lambda bound to a name, a function parameter) or an unknown builtin.
    eff.impure.push(`calls ${name}(), which the analyzer cannot see`)
    mutateRoots(argNodes, bound, eff)
    return
  }
  if (callee.kind === 'attribute') {
    const receiver = callee.children[0]
    const method = callee.children.at(-1)?.text ?? ''
    if (receiver === undefined) return
    visit(receiver, ctx, bound, eff, defined)
    const root = rootName(receiver)
    const modulePath = root !== undefined && !bound.has(root) && ctx.module.imports.has(root) && unparen(receiver).kind !== 'subscript'
      ? `${ctx.module.imports.get(root) ?? root}${textOf(receiver).slice(root.length)}.${method}`
      : undefined
    if (modulePath !== undefined) {
      // A function of an allowed (pure) module.
      if (MUTATING_MODULE_FUNCTIONS.has(modulePath)) mutateFirst(argNodes, bound, eff)
      return
    }
    if (PURE_METHODS.has(method)) return
    // An unknown method may mutate its receiver; a receiver that is a fresh value (a call result or a
    // literal) is nobody else's, so only receivers rooted at a name count.
    if (root !== undefined) mutate(root, bound, eff)
    return
  }
  visit(callee, ctx, bound, eff, defined)
  eff.impure.push(`calls ${textOf(callee)}, which the analyzer cannot see`)
}

/** Module-level names a helper reads, directly or through the helpers it calls. */
export function moduleReadsOf (fn: FunctionDef, ctx: EffectContext): Set<string> {
  const cached = ctx.globalReads.get(fn.name)
  if (cached !== undefined) return cached
  const reads = new Set<string>()
  ctx.globalReads.set(fn.name, reads) // recursion: the partial set
  const body = fn.node.children.find(c => c.kind === 'block')
  if (body !== undefined) {
    const eff = effectsOf(body, ctx, new Set(fn.params))
    for (const r of eff.reads) if (ctx.module.constants.has(r) && !eff.writes.has(r)) reads.add(r)
  }
  return reads
}

/**
 * A helper is pure when calling it changes nothing its caller can see: no global/nonlocal, no mutation of
 * its parameters or of module-level names, and only pure calls. Locals it creates fresh may be mutated.
 */
export function isPureFunction (fn: FunctionDef, ctx: EffectContext): boolean {
  if (ctx.purity.has(fn.name)) return ctx.purity.get(fn.name) ?? true
  ctx.purity.set(fn.name, undefined)
  const pure = impurityOf(fn, ctx).length === 0
  ctx.purity.set(fn.name, pure)
  return pure
}

/** Reasons a helper is impure; empty when pure. */
export function impurityOf (fn: FunctionDef, ctx: EffectContext): string[] {
  const body = fn.node.children.find(c => c.kind === 'block')
  if (body === undefined) return []
  const eff = effectsOf(body, ctx)
  const reasons = [...eff.impure]
  if (eff.yields) reasons.push('is a generator')
  const params = new Set(fn.params)
  const aliases = aliasesOfShared(body, params)
  for (const m of eff.mutated) {
    if (params.has(m)) reasons.push(`mutates its argument ${m}`)
    else if (!eff.writes.has(m) || ctx.module.constants.has(m)) reasons.push(`mutates the module-level ${m}`)
    else if (aliases.has(m)) reasons.push(`mutates ${m}, which may alias its arguments`)
  }
  return [...new Set(reasons)]
}

/** Locals that may point at a parameter's objects: assigned from a name, subscript or attribute of one, or a loop over one. */
function aliasesOfShared (body: PyNode, params: Set<string>): Set<string> {
  const shared = new Set(params)
  let changed = true
  while (changed) {
    changed = false
    const visitNode = (n: PyNode): void => {
      let target: PyNode | undefined
      let source: PyNode | undefined
      if (n.kind === 'assignment') {
        target = n.children[0]
        source = afterToken(n, '=')
      } else if (n.kind === 'for_statement' || n.kind === 'for_in_clause') {
        target = afterToken(n, 'for')
        source = afterToken(n, 'in')
      }
      if (target !== undefined && source !== undefined) {
        const root = rootName(source)
        const iterRoot = source.kind === 'call' ? rootName(source.children[1]?.children.find(c => c.named) ?? source) : undefined
        if ((root !== undefined && shared.has(root)) || (iterRoot !== undefined && shared.has(iterRoot))) {
          for (const name of targetNames(target)) {
            if (!shared.has(name)) {
              shared.add(name)
              changed = true
            }
          }
        }
      }
      for (const c of n.children) visitNode(c)
    }
    visitNode(body)
  }
  return shared
}

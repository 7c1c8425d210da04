/**
 * What an effect analysis records (see `effects.ts`): the sets of names code reads, binds and mutates, the context
 * names are resolved against, and the primitives that record into the sets — a mutation followed back to the
 * collection an element came from, and code that may not run (whose bindings are not definite).
 */
import { namedChildren, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'
import type { ModuleInfo } from './template.ts'

/** Effects of a statement or expression. */
export interface Effects {
  /** Free names read (not bound inside the code itself, e.g. comprehension variables). */
  reads: Set<string>
  /** Names bound or mutated. */
  writes: Set<string>
  /** Names mutated in place (`x.append`, `x[i] = …`, passed to an impure call); a subset of `writes`. */
  mutated: Set<string>
  /** Collections whose elements are changed in place (through a loop variable: `for r in xs: r['k'] = v`). */
  elementMutated: Set<string>
  /**
   * Names bound on every path through the code. A name in `writes` but not here is bound only sometimes
   * (in a branch, a loop body, a loop target), so its previous value may flow through.
   */
  definite: Set<string>
  /** Why the code is not pure beyond its writes (global statements, unknown calls, …). */
  impure: string[]
  /** Contains `return`, `raise`, `break`, `continue` or `yield` (changes control flow of the enclosing code). */
  returns: boolean
  raises: boolean
  breaks: boolean
  yields: boolean
  /** User-defined functions called. */
  calls: Set<string>
}

/** What the effect analysis resolves names against. */
export interface EffectContext {
  module: ModuleInfo
  /** Memo of helper purity; `undefined` while a helper is being analyzed (recursion counts as pure). */
  purity: Map<string, boolean | undefined>
  /** Memo of the module-level names each helper reads, directly or through the helpers it calls. */
  globalReads: Map<string, Set<string>>
}

/** Creates a context for one module. */
export function effectContext (module: ModuleInfo): EffectContext {
  return { module, purity: new Map(), globalReads: new Map() }
}

/**
 * Names definitely bound earlier in the code being analyzed. A read of such a name sees that binding, not
 * one from an earlier statement, so it is not an upward-exposed read (`for v in xs: use(v)` reads xs, not v).
 */
export type Defined = Set<string>

// `Defined` sets of code that may not run (branches, loop bodies, loop targets, try bodies): bindings made
// there are not definite.
const maybeContexts = new WeakSet<Defined>()

export function maybe (defined: Defined, extra: string[] = []): Defined {
  const set = new Set([...defined, ...extra])
  maybeContexts.add(set)
  return set
}

// Names bound by iterating a collection (loop targets, comprehension variables) and the collection's root
// name: changing an element in place changes the collection other statements read.
const elementSources = new WeakMap<Effects, Map<string, string>>()

export function sourcesOf (eff: Effects): Map<string, string> {
  let map = elementSources.get(eff)
  if (map === undefined) {
    map = new Map()
    elementSources.set(eff, map)
  }
  return map
}

export function empty (): Effects {
  return { reads: new Set(), writes: new Set(), mutated: new Set(), elementMutated: new Set(), definite: new Set(), impure: [], returns: false, raises: false, breaks: false, yields: false, calls: new Set() }
}

/** Whether bindings made with `defined` happen only sometimes (see {@link maybe}). */
export function mayNotRun (defined: Defined): boolean {
  return maybeContexts.has(defined)
}

/** Root identifier of `a.b[c].d`, if the chain starts at a name. */
export function rootName (node: PyNode): string | undefined {
  let current = unparen(node)
  for (;;) {
    if (current.kind === 'identifier') return current.text
    if (current.kind === 'attribute' || current.kind === 'subscript') {
      const first = current.children[0]
      if (first === undefined) return undefined
      current = unparen(first)
    } else return undefined
  }
}

/** The root name of what a loop iterates: `xs`, `xs.items()`, `enumerate(xs)`, `zip(xs, ys)` → `xs`. */
export function iterationRoot (iterable: PyNode): string | undefined {
  const node = unparen(iterable)
  const direct = rootName(node)
  if (direct !== undefined) return direct
  if (node.kind === 'call') {
    const fn = node.children[0]
    if (fn?.kind === 'attribute') return rootName(fn.children[0] ?? fn)
    const first = namedChildren(node.children[1] ?? node)[0]
    return first === undefined ? undefined : rootName(first)
  }
  return undefined
}

/** Names bound by an assignment or loop target (`a`, `a, b`, `(a, [b, c])`). Store targets like `x[i]` bind nothing. */
export function targetNames (target: PyNode): string[] {
  const t = unparen(target)
  if (t.kind === 'identifier') return [t.text]
  if (t.kind === 'pattern_list' || t.kind === 'tuple_pattern' || t.kind === 'list_pattern' || t.kind === 'tuple' || t.kind === 'list' || t.kind === 'expression_list') {
    return namedChildren(t).flatMap(targetNames)
  }
  if (t.kind === 'list_splat_pattern' || t.kind === 'list_splat') return namedChildren(t).flatMap(targetNames)
  return []
}

/** Records that `name` is changed in place, and with it the collection its elements came from. */
export function mutate (name: string, bound: ReadonlySet<string>, eff: Effects): void {
  const source = sourcesOf(eff).get(name)
  if (bound.has(name)) {
    eff.impure.push(`mutates ${name}, an element of its input`)
  } else {
    eff.writes.add(name)
    eff.mutated.add(name)
  }
  if (source !== undefined && source !== name) {
    if (!bound.has(source)) eff.elementMutated.add(source)
    mutate(source, bound, eff)
  }
}

/** The first argument of a module function that changes it in place (`heapq.heappush(h, x)`). */
export function mutateFirst (args: PyNode[], bound: ReadonlySet<string>, eff: Effects): void {
  const first = args[0]
  const root = first === undefined ? undefined : rootName(first)
  if (root !== undefined) mutate(root, bound, eff)
}

/** Every argument rooted at a name, for a call that may change its arguments. */
export function mutateRoots (args: PyNode[], bound: ReadonlySet<string>, eff: Effects): void {
  for (const a of args) {
    const root = rootName(a)
    if (root !== undefined) mutate(root, bound, eff)
  }
}

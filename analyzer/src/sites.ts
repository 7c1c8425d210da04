/**
 * Reductions where they stand: calls of `sum`, `len`, `min`, `max`, `any`, `all` over one of main's local
 * collections anywhere inside main's statements (a returned dict, arithmetic, a call's argument), and, per
 * statement, which locals it reads outside of them. A planner may compute such a reduction on each chunk of a split
 * collection and combine the partial values, instead of shipping the collection: when every read of the collection
 * after the split part is inside one.
 *
 * ```python
 * return {"n": len(ys), "total": sum(ys), "max": max(ys, key=abs)}   # three sites over ys
 * var = sum((x - m) ** 2 for x in data) / n                          # a site over data reading m
 * ```
 */
import type { DdgWithSyntax } from './ddg.ts'
import type { EffectContext } from './effects.ts'
import { effectsOf, targetNames } from './effects.ts'
import { afterToken, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/** The reductions a site may be. */
export type SiteOp = 'sum' | 'len' | 'min' | 'max' | 'any' | 'all'

const OPS: ReadonlySet<string> = new Set(['sum', 'len', 'min', 'max', 'any', 'all'])

/** A reduction over a local collection, where it stands in a statement of main. */
export interface ReductionSite {
  /** The DDG statement that holds it. */
  statement: number
  op: SiteOp
  /** The collection (a parameter or local of main) it iterates. */
  over: string
  /** The call's source span: offsets into the source text (UTF-16 code units, as JS strings index), end exclusive. */
  start: number
  end: number
  line: number
  endLine: number
  text: string
  /** `sum(xs, start)`: the start value's source (a number literal). */
  startValue?: string
  /**
   * Free names the element code reads besides the loop variables and the collection itself: main's locals among
   * them are values it needs from earlier statements; the others are module names and builtins.
   */
  reads: string[]
  /** Why it cannot be computed on chunks apart from where it stands; absent when it can. */
  problem?: string
}

/** Sites of main, and per statement the locals it reads outside of every site. */
export interface ReductionSites {
  sites: ReductionSite[]
  /** `outside[s]`: main's locals statement `s` mentions outside its sites (reads, writes, attribute roots). */
  outside: string[][]
}

/** Scopes inside a statement where code may run once per element, or not at all. */
const NESTED_SCOPES = new Set(['lambda', 'function_definition', 'class_definition', 'list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression'])

/** Finds every reduction site in main's statements. */
export function findSites (graph: DdgWithSyntax, ctx: EffectContext): ReductionSites {
  const locals = new Set(graph.ddg.params)
  for (const n of graph.ddg.nodes) for (const w of n.writes) locals.add(w)
  const sites: ReductionSite[] = []
  const outside: string[][] = []
  graph.statements.forEach((stmt, statement) => {
    const mentioned = new Set<string>()
    walk(stmt, [], (node, enclosing) => {
      const site = siteOf(node, statement, locals, ctx)
      if (site === undefined) {
        if (node.kind === 'identifier' && locals.has(node.text)) mentioned.add(node.text)
        return true
      }
      // Where it stands matters: inside a lambda, a comprehension or a nested function it runs per element or not at
      // all; reading a name bound by an enclosing loop of its statement, its value changes from one pass to the next.
      const scope = enclosing.find(e => NESTED_SCOPES.has(e.kind))
      const loopBound = new Set(enclosing.flatMap(e => e.kind === 'for_statement' ? targetNames(afterToken(e, 'for') ?? e) : []))
      const varying = site.reads.filter(r => loopBound.has(r))
      if (site.problem === undefined && scope !== undefined) site.problem = `inside a ${scope.kind.replaceAll('_', ' ')}, where it may run once per element or not at all`
      if (site.problem === undefined && varying.length > 0) site.problem = `reads ${varying.join(', ')}, which changes from one iteration of its loop to the next`
      sites.push(site)
      return false
    })
    outside.push([...mentioned].sort())
  })
  return { sites, outside }
}

/** Visits nodes depth first; `visit` returns false to skip a node's children. `enclosing` is the path above. */
function walk (node: PyNode, enclosing: PyNode[], visit: (node: PyNode, enclosing: PyNode[]) => boolean): void {
  if (!visit(node, enclosing)) return
  // An attribute's name (`x.total`) and a keyword argument's name (`key=`) are not reads of a local.
  const children = node.kind === 'attribute' ? node.children.slice(0, 1) : node.kind === 'keyword_argument' ? node.children.slice(1) : node.children
  const path = [...enclosing, node]
  for (const child of children) walk(child, path, visit)
}

/** The site a call node is, or undefined when it is not a reduction over a local collection. */
function siteOf (node: PyNode, statement: number, locals: ReadonlySet<string>, ctx: EffectContext): ReductionSite | undefined {
  if (node.kind !== 'call') return undefined
  const fn = unparen(node.children[0] ?? node)
  const args = node.children[1]
  if (fn.kind !== 'identifier' || !OPS.has(fn.text) || locals.has(fn.text) || args === undefined) return undefined
  const op = fn.text as SiteOp
  const argList = args.kind === 'generator_expression' ? [args] : namedChildren(args)
  const positional = argList.filter(a => a.kind !== 'keyword_argument')
  const keywords = argList.filter(a => a.kind === 'keyword_argument')
  const first = positional[0] === undefined ? undefined : unparen(positional[0])
  if (first === undefined) return undefined
  // What it iterates, and the element code: the comprehension without its first iterable, and a key function.
  let over: string | undefined
  const reads = new Set<string>()
  let problem: string | undefined
  const addReads = (code: PyNode, bound: ReadonlySet<string>): void => {
    const eff = effectsOf(code, ctx, bound)
    for (const r of eff.reads) reads.add(r)
    if (problem === undefined && eff.impure.length > 0) problem = `its element code is impure: ${eff.impure[0] ?? ''}`
    if (problem === undefined && (eff.writes.size > 0 || eff.yields)) problem = `its element code changes ${[...eff.writes].join(', ')}`
  }
  if (first.kind === 'identifier') {
    over = first.text
  } else if (op !== 'len' && (first.kind === 'generator_expression' || first.kind === 'list_comprehension')) {
    const clauses = namedChildren(first)
    const firstFor = clauses.find(c => c.kind === 'for_in_clause')
    const iterable = firstFor === undefined ? undefined : afterToken(firstFor, 'in')
    const src = iterable === undefined ? undefined : unparen(iterable)
    if (firstFor === undefined || firstFor.children[0]?.kind === 'async' || src?.kind !== 'identifier') return undefined
    over = src.text
    const bound = new Set(targetNames(afterToken(firstFor, 'for') ?? firstFor))
    for (const clause of clauses) {
      if (clause === firstFor) continue
      if (clause.kind === 'for_in_clause') {
        const right = afterToken(clause, 'in')
        if (right !== undefined) addReads(right, bound)
        for (const n of targetNames(afterToken(clause, 'for') ?? clause)) bound.add(n)
      }
    }
    for (const clause of clauses) if (clause.kind !== 'for_in_clause') addReads(clause, bound)
  } else {
    return undefined
  }
  if (!locals.has(over)) return undefined
  let startValue: string | undefined
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
      if (name !== 'key' || value === undefined) return undefined
      addReads(value, new Set())
    }
  }
  if (reads.has(over) && problem === undefined) problem = `its element code reads all of ${over}`
  const range = node.sg.range()
  return {
    statement,
    op,
    over,
    start: range.start.index,
    end: range.end.index,
    line: range.start.line + 1,
    endLine: range.end.line + 1,
    text: textOf(node),
    ...(startValue !== undefined ? { startValue } : {}),
    reads: [...reads].filter(r => r !== over).sort(),
    ...(problem !== undefined ? { problem } : {})
  }
}

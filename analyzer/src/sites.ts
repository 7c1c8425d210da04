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
import type { FunctionSummary } from './classify.ts'
import type { DdgWithSyntax } from './ddg.ts'
import type { EffectContext } from './effects.ts'
import { targetNames } from './effects.ts'
import { elementCode, helperSite, reductionForm } from './site-forms.ts'
import type { Found, SiteOp } from './site-forms.ts'
import { inlineSite } from './inline-sites.ts'
import type { InlineHelper } from './inline-sites.ts'
import { afterToken, namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

export type { InlineHelper } from './inline-sites.ts'
export type { SiteOp } from './site-forms.ts'
export { siteStart } from './site-forms.ts'

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
  /** `sum(xs, start)`: the start value's source (a number literal); `sorted(…)[-k:]`: `True` or `False`, its reverse. */
  startValue?: string
  /** `min(…, default=…)`, `max(…)`: the default's source, evaluated by the aggregator where the call stands. */
  defaultText?: string
  /** `best`: the helper the aggregator calls on the list of the chunks' values (each chunk's best, in chunk order). */
  helper?: string
  /** `inline`: the helper's return expression over its reductions' combined values, and those reductions. */
  inline?: InlineHelper
  /**
   * A later pass of a helper's reductions (`inline` with `level` ≥ 2, which has no span of its own: `start` and `end`
   * are -1): the site of the pass before, whose round must be over before this one's starts.
   */
  after?: number
  /**
   * Python computing the site's partial value on one chunk (the chunk's `over` bound as on the whole), with the
   * partials runtime's functions (`_runsurge_sum(…)`, `_runsurge_top('nlargest', k, xs, key)`, …).
   */
  chunk: string
  /**
   * Free names the element code reads besides the loop variables and the collection itself: main's locals among
   * them are values it needs from earlier statements; the others are module names and builtins.
   */
  reads: string[]
  /** Why it cannot be computed on chunks apart from where it stands; absent when it can. */
  problem?: string
}

/**
 * `name = [expr for x in xs if cond]` in main: a list built element by element from a local collection, which a
 * planner may build on each chunk of xs (when its only other reads are values known before it).
 */
export interface ChunkMap {
  statement: number
  target: string
  over: string
  line: number
  /** Free names its element code reads besides its loop variables and `over` (sites inside it excluded). */
  reads: string[]
  /** Sites inside it (indexes into `sites`): loop-invariant reductions it reads. */
  sites: number[]
  problem?: string
}

/** Sites of main, and per statement the locals it reads outside of every site. */
export interface ReductionSites {
  sites: ReductionSite[]
  maps: ChunkMap[]
  /** `outside[s]`: main's locals statement `s` mentions outside its sites (reads, writes, attribute roots). */
  outside: string[][]
}

/** Finds every reduction site and chunk map in main's statements. */
export function findSites (graph: DdgWithSyntax, ctx: EffectContext, functions: FunctionSummary[] = []): ReductionSites {
  const helpers = new Map(functions.map(f => [f.name, f]))
  const locals = new Set(graph.ddg.params)
  for (const n of graph.ddg.nodes) for (const w of n.writes) locals.add(w)
  const sites: ReductionSite[] = []
  const maps: ChunkMap[] = []
  const outside: string[][] = []
  graph.statements.forEach((stmt, statement) => {
    const mentioned = new Set<string>()
    const first = sites.length
    walk(stmt, [], (node, enclosing) => {
      const found = siteOf(node, enclosing, statement, locals, ctx, helpers, sites.length)
      if (found.length === 0) {
        if (node.kind === 'identifier' && locals.has(node.text)) mentioned.add(node.text)
        return true
      }
      // Where it stands matters: in a comprehension or a lambda it runs once per element, or not at all: the same
      // value each time unless it reads a name bound there; in a nested function or class, whenever that is called.
      // Reading a name bound by an enclosing loop of its statement, its value changes from one pass to the next.
      const scope = enclosing.find(e => e.kind === 'function_definition' || e.kind === 'class_definition')
      const perElement = new Set(enclosing.flatMap(boundBy))
      const loopBound = new Set(enclosing.flatMap(e => e.kind === 'for_statement' ? targetNames(afterToken(e, 'for') ?? e) : []))
      for (const site of found) {
        const varying = [site.over, ...site.reads].filter(r => loopBound.has(r) || perElement.has(r))
        if (site.problem === undefined && scope !== undefined) site.problem = `inside a ${scope.kind.replaceAll('_', ' ')}, which may run at any time`
        if (site.problem === undefined && varying.length > 0) site.problem = `reads ${varying.join(', ')}, which changes from one element or iteration to the next`
        sites.push(site)
      }
      return false
    })
    outside.push([...mentioned].sort())
    const map = mapOf(stmt, statement, locals, ctx, sites, first)
    if (map !== undefined) maps.push(map)
  })
  return { sites, maps, outside }
}

/** Names a comprehension or lambda binds for the code inside it. */
function boundBy (node: PyNode): string[] {
  if (node.kind === 'lambda') {
    const params = namedChildren(node).find(c => c.kind === 'lambda_parameters')
    return params === undefined ? [] : namedChildren(params).flatMap(p => p.kind === 'identifier' ? [p.text] : namedChildren(p).filter(c => c.kind === 'identifier').slice(0, 1).map(c => c.text))
  }
  if (COMPREHENSIONS.has(node.kind)) {
    return namedChildren(node).filter(c => c.kind === 'for_in_clause').flatMap(c => targetNames(afterToken(c, 'for') ?? c))
  }
  return []
}

const COMPREHENSIONS = new Set(['list_comprehension', 'set_comprehension', 'dictionary_comprehension', 'generator_expression'])

/** `name = [expr for x in local …]` as a chunk map, or undefined. */
function mapOf (stmt: PyNode, statement: number, locals: ReadonlySet<string>, ctx: EffectContext, sites: ReductionSite[], firstSite: number): ChunkMap | undefined {
  if (stmt.kind !== 'expression_statement') return undefined
  const assignment = namedChildren(stmt)[0]
  if (assignment?.kind !== 'assignment' || namedChildren(stmt).length !== 1) return undefined
  const [left, right] = namedChildren(assignment)
  const comp = right === undefined ? undefined : unparen(right)
  if (left?.kind !== 'identifier' || comp?.kind !== 'list_comprehension' || assignment.children.filter(c => c.kind === '=').length !== 1) return undefined
  const element = elementCode(comp, ctx)
  if (element === undefined || !locals.has(element.over)) return undefined
  // Reads inside its sites are the sites' own (their values reach the chunk as one value each); its iterable is `over`.
  const inner = sites.slice(firstSite).map((site, i) => ({ site, index: firstSite + i })).filter(x => x.site.statement === statement)
  const base = comp.sg.range().start.index
  const blanks = [...inner.filter(x => x.site.start >= 0).map(x => [x.site.start, x.site.end]), [element.at, element.at + element.over.length]].sort((a, b) => (b[0] ?? 0) - (a[0] ?? 0))
  let stripped = textOf(comp)
  for (const [from = 0, to = 0] of blanks) stripped = stripped.slice(0, from - base) + ' '.repeat(to - from) + stripped.slice(to - base)
  const occurs = (name: string): boolean => new RegExp(`(?<![\\p{L}\\p{N}_.])${name}(?![\\p{L}\\p{N}_])`, 'u').test(stripped)
  const reads = element.reads.filter(occurs)
  let problem = element.problem
  if (problem === undefined && occurs(element.over)) problem = `its element code reads all of ${element.over}`
  if (problem === undefined && left.text === element.over) problem = `it rebinds ${element.over}`
  if (problem === undefined && inner.some(x => x.site.defaultText !== undefined)) problem = 'a reduction with a default inside it'
  return {
    statement,
    target: left.text,
    over: element.over,
    line: comp.sg.range().start.line + 1,
    reads: reads.sort(),
    sites: inner.map(x => x.index),
    ...(problem !== undefined ? { problem } : {})
  }
}

/** Visits nodes depth first; `visit` returns false to skip a node's children. `enclosing` is the path above. */
function walk (node: PyNode, enclosing: PyNode[], visit: (node: PyNode, enclosing: PyNode[]) => boolean): void {
  if (!visit(node, enclosing)) return
  // An attribute's name (`x.total`) and a keyword argument's name (`key=`) are not reads of a local.
  const children = node.kind === 'attribute' ? node.children.slice(0, 1) : node.kind === 'keyword_argument' ? node.children.slice(1) : node.children
  const path = [...enclosing, node]
  for (const child of children) walk(child, path, visit)
}

/**
 * The reduction form a node has (before checking that it reduces one of `locals`), or undefined: a form of its own
 * (site-forms.ts), else a call of one of the job's helpers that reduces its argument (`helperSite`) or is reductions
 * in disguise (inline-sites.ts).
 */
function siteForm (node: PyNode, parent: PyNode | undefined, locals: ReadonlySet<string>, ctx: EffectContext, helpers: ReadonlyMap<string, FunctionSummary>): Found | undefined {
  return reductionForm(node, parent, locals, ctx) ??
    (node.kind === 'call' ? helperSite(node, locals, ctx, helpers) ?? inlineSite(node, locals, ctx, helpers) : undefined)
}

/**
 * The site a node is (numbered `k` on), with the later passes of a helper's reductions after it; none when it is not
 * a reduction over one of main's locals.
 */
function siteOf (node: PyNode, enclosing: PyNode[], statement: number, locals: ReadonlySet<string>, ctx: EffectContext, helpers: ReadonlyMap<string, FunctionSummary>, k: number): ReductionSite[] {
  const found = siteForm(node, enclosing.at(-1), locals, ctx, helpers)
  if (found === undefined || !locals.has(found.over)) return []
  const { op, over, chunk, reads, problem, startValue, defaultText, helper, inline } = found
  if (reads.has(over) && problem === undefined) found.problem = `its element code reads all of ${over}`
  const range = node.sg.range()
  const site: ReductionSite = {
    statement,
    op,
    over,
    start: range.start.index,
    end: range.end.index,
    line: range.start.line + 1,
    endLine: range.end.line + 1,
    text: textOf(node),
    chunk,
    ...(startValue !== undefined ? { startValue } : {}),
    ...(defaultText !== undefined ? { defaultText } : {}),
    ...(helper !== undefined ? { helper } : {}),
    ...(inline !== undefined ? { inline } : {}),
    reads: [...reads].filter(r => r !== over).sort(),
    ...(found.problem ?? problem) !== undefined ? { problem: found.problem ?? problem } : {}
  }
  const passes = (found.passes ?? []).map((pass, i): ReductionSite => ({
    ...site,
    start: -1,
    end: -1,
    text: `${site.text} (pass ${i + 2})`,
    chunk: pass.chunk(k + i + 1),
    startValue: pass.startValue,
    inline: pass.inline,
    after: k + i
  }))
  return [site, ...passes]
}

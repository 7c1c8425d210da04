/**
 * Helpers that are reductions in disguise: a call `f(xs)` of a pure one-parameter helper of the module whose body
 * uses its parameter only through reductions (see site-forms.ts), so each chunk computes those reductions on its part
 * and the aggregator evaluates the helper's code on their combined values, where the call stands.
 *
 * ```python
 * def mean(xs):                       # one expression: one site (op `inline`), one pass
 *     return sum(xs) / len(xs)
 *
 * def stdev(xs):                      # statements first: a pass per value a reduction reads
 *     m = mean(xs)                    # pass 1: sum(xs), len(xs) (mean's own reductions, inlined)
 *     return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))   # pass 2 reads m; len(xs) is pass 1
 * ```
 */
import type { FunctionSummary } from './classify.ts'
import type { EffectContext } from './effects.ts'
import { reductionForm, siteStart } from './site-forms.ts'
import type { Found, SiteOp } from './site-forms.ts'
import { namedChildren, textOf, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/**
 * `inline`: the helper's code over the combined values of its reductions, each replaced by `_runsurge_s(j)`.
 *
 * One expression (`def mean(xs): return sum(xs) / len(xs)`): `text` is it, `inner` its reductions; the aggregator
 * evaluates it where the call stands.
 *
 * Statements first (`m = mean(xs)`, then `return … sum((x - m) ** 2 for x in xs) …`): the helper's reductions come in
 * **passes**: a reduction reading none of the helper's values is pass 1, one reading a value known after pass p is
 * pass p + 1. The call is one site per pass (the later ones with `level` ≥ 2, each in a later round than the one before,
 * its chunks receiving the helper's values it reads); `inner` lists the reductions of the site's own pass. On the first
 * site, `statements` are the helper's assignments and `positions[j]` says where reduction j is ([pass - 1, index in
 * that pass]); the aggregator runs the statements and the return expression in a function of their own, so they raise
 * in the helper's own order.
 */
export interface InlineHelper {
  text: string
  /** The site's reductions, in order: each one's op and start value (Python), for combining its partials. */
  inner: Array<{ op: SiteOp, start: string }>
  /** The helper's assignments (`name = E`, E's reductions replaced), in order, with the pass after which each is known (0: a constant). */
  statements?: Array<{ name: string, text: string, level: number }>
  /** The pass this site computes (a helper with statements; 1 on the call's own site). */
  level?: number
  positions?: Array<[number, number]>
}

/** Reductions a helper's code may hold: one value each, no helper of their own. */
const INLINE_OPS: ReadonlySet<SiteOp> = new Set<SiteOp>([
  'sum', 'len', 'min', 'max', 'any', 'all', 'first', 'last', 'truth', 'nlargest', 'nsmallest', 'sortedtail', 'head', 'tail', 'union', 'count',
  'fsum', 'fmean', 'mean', 'pvariance', 'pstdev', 'variance', 'stdev'
])

/** A reduction of the helper's parameter: its chunk code (over the parameter) and the free names it reads. */
interface Inner {
  op: SiteOp
  start: string
  chunk: string
  reads: ReadonlySet<string>
}

/** An inline site's later passes, for the caller to number (a pass's chunk code reads its own site's broadcast). */
export interface LaterPass {
  chunk: (self: number) => string
  startValue: string
  inline: InlineHelper
}

/** What an inline site found carries besides `Found`'s fields. */
export interface InlineFound extends Found {
  inline: InlineHelper
  /** The reductions with their chunk code, over `param` (to inline this helper into another). */
  reductions: { param: string, inner: Inner[] }
  passes: LaterPass[]
}

/**
 * `f(xs)` with f a helper as described above, or undefined. `avoid`: names a helper's code must not read (main's
 * locals, and the calling helper's values when nested: its reductions run where those are bound). `nested`: a helper
 * called by another may be one expression only.
 */
export function inlineSite (node: PyNode, locals: ReadonlySet<string>, ctx: EffectContext, helpers: ReadonlyMap<string, FunctionSummary>, avoid: ReadonlySet<string> = locals, nested = false): InlineFound | undefined {
  const fn = unparen(node.children[0] ?? node)
  if (fn.kind !== 'identifier' || locals.has(fn.text)) return undefined
  const def = ctx.module.functions.get(fn.text)
  const summary = helpers.get(fn.text)
  const args = namedChildren(node.children[1] ?? node)
  const arg = args[0] === undefined ? undefined : unparen(args[0])
  if (def === undefined || summary?.pure !== true || def.params.length !== 1 || args.length !== 1 || arg?.kind !== 'identifier') return undefined
  const param = def.params[0] as string
  const body = namedChildren(def.node).find(c => c.kind === 'block')
  const statements = namedChildren(body ?? def.node).filter(st => st.kind !== 'comment')
  const docstring = statements[0]?.kind === 'expression_statement' && namedChildren(statements[0])[0]?.kind === 'string'
  const code = docstring ? statements.slice(1) : statements
  const ret = code.at(-1)
  const expr = ret?.kind === 'return_statement' ? namedChildren(ret)[0] : undefined
  if (ret === undefined || expr === undefined || (nested && code.length > 1)) return undefined
  const assignments = code.slice(0, -1).map(assignmentOf)
  if (assignments.some(a => a === undefined)) return undefined

  // The helper's values: the pass after which each is known.
  const level = new Map<string, number>()
  const inner: Array<Inner & { level: number }> = []
  const innerAvoid = new Set([...avoid, ...assignments.map(a => a?.name ?? '')])
  const texts: Array<{ name: string, text: string, level: number }> = []
  for (const a of assignments as Array<{ name: string, value: PyNode }>) {
    if (a.name === param || level.has(a.name) || a.name.startsWith('_runsurge')) return undefined
    const found = reductionsIn(a.value, param, level, innerAvoid, avoid, ctx, helpers, inner)
    if (found === undefined) return undefined
    texts.push({ name: a.name, text: found.text, level: found.level })
    level.set(a.name, found.level)
  }
  const returned = reductionsIn(expr, param, level, innerAvoid, avoid, ctx, helpers, inner, ret)
  if (returned === undefined || inner.length === 0) return undefined
  const passes = Math.max(...inner.map(x => x.level))
  const at = (l: number): Array<Inner & { level: number }> => inner.filter(x => x.level === l)
  const guarded = (x: Inner, values: string[] = []): string =>
    values.length === 0 ? `_runsurge_guard(lambda: ${x.chunk})` : `_runsurge_guard(lambda: (lambda ${values.join(', ')}: ${x.chunk})(${values.map(v => `_runsurge_l['${v}']`).join(', ')}))`
  const startList = (xs: Inner[]): string => `[${xs.map(x => `('${x.op}', ${x.start})`).join(', ')}]`
  const reads = new Set<string>()
  for (const x of inner) for (const r of x.reads) if (r !== param && !level.has(r)) reads.add(r)
  const one = texts.length === 0
  const first: InlineHelper = one
    ? { text: returned.text, inner: inner.map(x => ({ op: x.op, start: x.start })) }
    : {
        text: returned.text,
        inner: at(1).map(x => ({ op: x.op, start: x.start })),
        statements: texts,
        level: 1,
        positions: inner.map(x => [x.level - 1, at(x.level).indexOf(x)])
      }
  return {
    op: 'inline',
    over: arg.text,
    chunk: `(lambda ${param}: [${at(1).map(x => guarded(x)).join(', ')}])(${arg.text})`,
    startValue: startList(at(1)),
    inline: first,
    reads,
    reductions: { param, inner },
    // Pass l's chunks read the helper's values from the stage's broadcast, as `_runsurge_site(-1 - self)`: a dict of
    // those computed without an exception (a reduction reading one that is missing is never reached by the aggregator).
    passes: Array.from({ length: passes - 1 }, (_, i) => {
      const xs = at(i + 2)
      return {
        chunk: (self: number) => `(lambda ${param}, _runsurge_l: [${xs.map(x => guarded(x, [...x.reads].filter(r => level.has(r)).sort())).join(', ')}])(${arg.text}, _runsurge_site(${-1 - self}))`,
        startValue: startList(xs),
        inline: { text: returned.text, inner: xs.map(x => ({ op: x.op, start: x.start })), level: i + 2 }
      }
    })
  }
}

/** `name = E` (one target, one `=`), or undefined. */
function assignmentOf (st: PyNode): { name: string, value: PyNode } | undefined {
  const assignment = st.kind === 'expression_statement' && namedChildren(st).length === 1 ? namedChildren(st)[0] : undefined
  if (assignment?.kind !== 'assignment' || assignment.children.filter(c => c.kind === '=').length !== 1) return undefined
  const [left, right] = namedChildren(assignment)
  return left?.kind === 'identifier' && right !== undefined && namedChildren(assignment).length === 2 ? { name: left.text, value: right } : undefined
}

/**
 * The reductions of `param` in `expr` (appended to `inner`, numbered on from it) and `expr`'s text with each replaced
 * by `_runsurge_s(j)`; the pass after which its value is known. Undefined when it uses `param` other than through a
 * reduction, reads a name of `avoid` or one of the helper's values before it is bound, or cannot be copied onto one
 * line (a comment, a string across lines, a backslash).
 */
function reductionsIn (expr: PyNode, param: string, level: ReadonlyMap<string, number>, innerAvoid: ReadonlySet<string>, avoid: ReadonlySet<string>, ctx: EffectContext, helpers: ReadonlyMap<string, FunctionSummary>, inner: Array<Inner & { level: number }>, parentOfExpr?: PyNode): { text: string, level: number } | undefined {
  const text = textOf(expr)
  let unsafe = text.includes('\\\n') || text.includes('#') || text.includes('_runsurge')
  let known = 0
  const spans: Array<{ start: number, end: number, text: string }> = []
  const add = (x: Inner): void => {
    const after = [...x.reads].filter(r => level.has(r))
    if ([...x.reads].some(r => r === param || (innerAvoid.has(r) && !level.has(r)))) unsafe = true
    const l = 1 + Math.max(0, ...after.map(r => level.get(r) ?? 0))
    inner.push({ ...x, level: l })
    known = Math.max(known, l)
  }
  const walk = (n: PyNode, parent: PyNode | undefined): void => {
    if (n.kind === 'comment' || (n.kind === 'string' && textOf(n).includes('\n'))) unsafe = true
    if (n.kind === 'identifier' && n.text !== param) {
      if (level.has(n.text)) known = Math.max(known, level.get(n.text) ?? 0)
      else if (innerAvoid.has(n.text)) unsafe = true
    }
    const found = n.kind === 'call' || n.kind === 'subscript' || n.kind === 'identifier' || n.kind === 'set_comprehension'
      ? reductionForm(n, parent, new Set([param]), ctx)
      : undefined
    const range = n.sg.range()
    if (found !== undefined && found.over === param) {
      if (!INLINE_OPS.has(found.op) || found.problem !== undefined || found.defaultText !== undefined) unsafe = true
      spans.push({ start: range.start.index, end: range.end.index, text: `_runsurge_s(${inner.length})` })
      add({ op: found.op, start: siteStart(found), chunk: found.chunk, reads: found.reads })
      return
    }
    // Another helper of one expression over the parameter: its reductions join these, its expression is copied in.
    const helper = n.kind === 'call' ? inlineSite(n, new Set([param, ...level.keys()]), ctx, helpers, new Set([...avoid, ...innerAvoid]), true) : undefined
    if (helper !== undefined && helper.over === param) {
      const offset = inner.length
      const { param: own, inner: theirs } = helper.reductions
      for (const x of theirs) add({ ...x, chunk: own === param ? x.chunk : `(lambda ${own}: ${x.chunk})(${param})` })
      spans.push({ start: range.start.index, end: range.end.index, text: `(${helper.inline.text.replace(/_runsurge_s\((\d+)\)/g, (_, j: string) => `_runsurge_s(${offset + Number(j)})`)})` })
      return
    }
    for (const child of n.children) walk(child, n)
  }
  walk(expr, parentOfExpr)
  if (unsafe) return undefined
  const base = expr.sg.range().start.index
  let replaced = ''
  let at = base
  for (const span of spans) {
    replaced += text.slice(at - base, span.start - base) + span.text
    at = span.end
  }
  replaced += text.slice(at - base)
  // Every use of the parameter is inside one of them.
  if (new RegExp(`(?<![\\p{L}\\p{N}_.])${param}(?![\\p{L}\\p{N}_])`, 'u').test(replaced.replace(/(['"])(?:\\.|(?!\1).)*\1/g, '""'))) return undefined
  return { text: replaced.replace(/\s*\n\s*/g, ' '), level: known }
}

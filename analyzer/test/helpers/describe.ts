/**
 * Compact, readable renderings of report parts, so corpus expectations fit on a line each.
 */
import type { AnalysisReport } from '../../src/index.ts'

/** `s0 L5 R[data] W[squares] M[] exit` */
export function nodes (r: AnalysisReport): string[] {
  return (r.ddg?.nodes ?? []).map(n => `s${n.id} L${n.line} R[${n.reads.join(',')}] W[${n.writes.join(',')}] M[${n.mutates.join(',')}]${n.exits ? ' exit' : ''}`)
}

/** `0->1 squares:5 flow` */
export function edges (r: AnalysisReport): string[] {
  return (r.ddg?.edges ?? []).map(e => `${e.from}->${e.to} ${e.key} ${e.kind}`)
}

/** `xs@12,14` */
export function hazards (r: AnalysisReport): string[] {
  return (r.ddg?.hazards ?? []).map(h => `${h.variable}@${h.lines.join(',')}`)
}

/** `s0 map data` / `s1 opaque` */
export function classes (r: AnalysisReport): string[] {
  return (r.classes ?? []).map(c => `s${c.statement} ${c.class}${c.source !== undefined ? ` ${c.source}` : ''}`)
}

/** `b0 [0,1] map data concat paid:append=[] bc[] deps[] ind[] L0` */
export function blocks (r: AnalysisReport): string[] {
  return (r.blocks ?? []).map(b => [
    `b${b.id}`,
    `[${b.statements.join(',')}]`,
    b.class,
    ...(b.source !== undefined ? [b.source] : []),
    ...(b.combine !== undefined ? [b.combine] : []),
    ...(b.accumulators.length > 0 ? [b.accumulators.map(a => `${a.variable}:${a.op}=${a.init}`).join(',')] : []),
    `bc[${b.broadcast.join(',')}]`,
    `deps[${b.dependsOn.map(d => d.block).join(',')}]`,
    `ind[${b.independentOf.join(',')}]`,
    `L${b.level}`
  ].join(' '))
}

/** `clean map rows pure` / `tag opaque impure` */
export function functions (r: AnalysisReport): string[] {
  return (r.functions ?? []).map(f => `${f.name} ${f.class}${f.over !== undefined ? ` ${f.over}` : ''} ${f.pure ? 'pure' : 'impure'}`)
}

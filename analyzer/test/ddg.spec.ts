import { describe, expect, it } from 'vitest'
import { analyze } from '../src/index.ts'
import type { AnalysisReport } from '../src/index.ts'
import { blocks, edges, nodes } from './helpers/describe.ts'

function job (body: string, prelude = ''): AnalysisReport {
  const report = analyze(`${prelude}\n\ndef main(data):\n${body.split('\n').map(l => `    ${l}`).join('\n')}\n`)
  if (report.status !== 'accepted') throw new Error(report.error?.message)
  return report
}

/** Block ids each block depends on, as `b<id>:<deps>`. */
function blockDeps (r: AnalysisReport): string[] {
  return (r.blocks ?? []).map(b => `b${b.id}:${b.dependsOn.map(d => d.block).join(',')}`)
}

describe('data-dependency graph', () => {
  it('keys edges by variable and definition line (x:3)', () => {
    const r = job('a = len(data)\nb = a * 2\na = b + 1\nreturn a')
    // Sorted by target statement, then source, then key.
    expect(edges(r)).toEqual([
      '0->1 a:4 flow',
      '0->2 a:4 output',
      '1->2 a:4 anti',
      '1->2 b:5 flow',
      '2->3 a:6 flow'
    ])
    expect(r.ddg?.hazards).toEqual([{ variable: 'a', lines: [4, 6] }])
  })

  it('counts a loop variable read inside its own loop as no read of an earlier definition', () => {
    const r = job('v = 0\nfor v in data:\n    print(v)\nreturn 1')
    expect(nodes(r)[1]).toBe('s1 L5 R[data] W[v] M[]')
  })

  it('passes a value through a conditional binding when it is read later', () => {
    const r = job('x = 0\nif data:\n    x = 1\ny = x + 1\nreturn y')
    expect(edges(r)).toEqual(['0->1 x:4 flow', '1->2 x:5 flow', '2->3 y:7 flow'])
    expect(nodes(r)[1]).toBe('s1 L5 R[data,x] W[x] M[]')
  })

  it('does not chain loops that merely reuse a loop variable nobody reads afterwards', () => {
    const r = job('a = 0\nfor r in data:\n    a += r\nb = 0\nfor r in data:\n    b += r * r\nreturn [a, b]')
    expect(blockDeps(r)).toEqual(['b0:', 'b1:', 'b2:0,1'])
    expect(r.blocks?.[0]?.independentOf).toEqual([1])
  })

  it('orders in-place changes: append and item assignment are mutations', () => {
    const r = job('xs = []\nn = len(xs)\nxs.append(1)\nxs[0] = 2\nreturn [n, xs]')
    expect(nodes(r)).toEqual([
      's0 L4 R[] W[xs] M[]',
      's1 L5 R[xs] W[n] M[]',
      's2 L6 R[xs] W[xs] M[xs]',
      's3 L7 R[xs] W[xs] M[xs]',
      's4 L8 R[n,xs] W[] M[]'
    ])
    // n = len(xs) must run before xs.append: an anti edge on a mutated object orders blocks.
    expect(blockDeps(r)).toEqual(['b0:', 'b1:0', 'b2:0,1', 'b3:2', 'b4:1,3'])
  })

  it('treats changing elements through a loop variable as changing the collection and its aliases', () => {
    const r = job('ys = [r for r in data]\nfor r in ys:\n    r["seen"] = True\nreturn data')
    expect(nodes(r)[1]).toBe('s1 L5 R[ys] W[data,r,ys] M[data,r,ys]')
    expect(blockDeps(r)).toEqual(['b0:', 'b1:0', 'b2:1'])
  })

  it('sees module-level objects that main changes and a helper reads', () => {
    const r = job('LIMITS.append(5)\nys = [x for x in data if ok(x)]\nreturn ys', 'LIMITS = []\n\n\ndef ok(x):\n    return x in LIMITS\n')
    expect(edges(r)).toContain('0->1 LIMITS:9 flow')
  })

  it('makes every statement after an early exit wait for it', () => {
    const r = job('if not data:\n    raise ValueError("empty")\nt = sum(data)\nreturn t')
    expect(edges(r)).toEqual(['0->1 return:4 control', '0->2 return:4 control', '1->2 t:6 flow'])
    expect(r.ddg?.nodes[0]?.exits).toBe(true)
    expect(r.classes?.[0]?.reason).toBe('may leave main early, so every later statement waits for it')
  })

  it('marks independent branches and levels', () => {
    const r = job('a = [x + 1 for x in data]\nb = [x * 2 for x in data]\nsa = sum(a)\nsb = sum(b)\nreturn sa + sb')
    expect(blocks(r)).toEqual([
      'b0 [0] map data concat a:collect=[] bc[] deps[] ind[1,3] L0',
      'b1 [1] map data concat b:collect=[] bc[] deps[] ind[0,2] L0',
      'b2 [2] reduce a reduce sa:sum=0 bc[] deps[0] ind[1,3] L1',
      'b3 [3] reduce b reduce sb:sum=0 bc[] deps[1] ind[0,2] L1',
      'b4 [4] opaque bc[] deps[2,3] ind[] L2'
    ])
  })
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { analyze } from '../src/index.ts'
import { FIXTURES } from '../../corpus/analyzer.ts'
import * as render from './helpers/describe.ts'

/**
 * The DDG, classes and blocks of each fixture, worked out by hand from the programs (each fixture's
 * docstring says what it exercises) and rendered compactly by helpers/describe.ts:
 * - nodes: `s<id> L<line> R[reads] W[writes] M[mutated in place]`, `exit` for an early return;
 * - edges: `<from>-><to> <variable>:<line of the definition> <flow|anti|output|control>`;
 * - blocks: `b<id> [statements] class source combine accumulators bc[broadcast] deps[] ind[] L<level>`.
 */
const EXPECTED: Record<string, Record<'functions' | 'nodes' | 'edges' | 'hazards' | 'classes' | 'blocks', string[]>> = {
  '01-map-squares.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[data] W[squares] M[]',
      's1 L6 R[squares] W[] M[]'
    ],
    edges: [
      '0->1 squares:5 flow'
    ],
    hazards: [],
    classes: [
      's0 map data',
      's1 opaque'
    ],
    blocks: [
      'b0 [0] map data concat squares:collect=[] bc[] deps[] ind[] L0',
      'b1 [1] opaque bc[] deps[0] ind[] L1'
    ],
  },
  '02-filter-loop.py': {
    functions: [
      'main map data pure'
    ],
    nodes: [
      's0 L5 R[] W[paid] M[]',
      's1 L6 R[data,paid] W[order,paid] M[paid]',
      's2 L9 R[paid] W[] M[]'
    ],
    edges: [
      '0->1 paid:5 flow',
      '1->2 paid:6 flow'
    ],
    hazards: [],
    classes: [
      's0 map',
      's1 map data',
      's2 opaque'
    ],
    blocks: [
      'b0 [0,1] map data concat paid:append=[] bc[] deps[] ind[] L0',
      'b1 [2] opaque bc[] deps[0] ind[] L1'
    ],
  },
  '03-chain.py': {
    functions: [
      'clean map rows pure',
      'score opaque pure',
      'main opaque pure'
    ],
    nodes: [
      's0 L14 R[data] W[amounts] M[]',
      's1 L15 R[amounts] W[scored] M[]',
      's2 L16 R[scored] W[kept] M[]',
      's3 L17 R[kept] W[] M[]'
    ],
    edges: [
      '0->1 amounts:14 flow',
      '1->2 scored:15 flow',
      '2->3 kept:16 flow'
    ],
    hazards: [],
    classes: [
      's0 map data',
      's1 map amounts',
      's2 map scored',
      's3 opaque'
    ],
    blocks: [
      'b0 [0] map data concat amounts:collect=[] bc[] deps[] ind[] L0',
      'b1 [1] map amounts concat scored:collect=[] bc[] deps[0] ind[] L1',
      'b2 [2] map scored concat kept:collect=[] bc[] deps[1] ind[] L2',
      'b3 [3] opaque bc[] deps[2] ind[] L3'
    ],
  },
  '04-broadcast.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[data] W[total] M[]',
      's1 L6 R[data] W[count] M[]',
      's2 L7 R[count,total] W[mean] M[]',
      's3 L8 R[data,mean] W[centered] M[]',
      's4 L9 R[centered] W[] M[]'
    ],
    edges: [
      '0->2 total:5 flow',
      '1->2 count:6 flow',
      '2->3 mean:7 flow',
      '3->4 centered:8 flow'
    ],
    hazards: [],
    classes: [
      's0 reduce data',
      's1 reduce data',
      's2 opaque',
      's3 map data',
      's4 opaque'
    ],
    blocks: [
      'b0 [0] reduce data reduce total:sum=0 bc[] deps[] ind[1] L0',
      'b1 [1] reduce data reduce count:len=0 bc[] deps[] ind[0] L0',
      'b2 [2] opaque bc[] deps[0,1] ind[] L1',
      'b3 [3] map data concat centered:collect=[] bc[mean] deps[2] ind[] L2',
      'b4 [4] opaque bc[] deps[3] ind[] L3'
    ],
  },
  '05-reductions.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[data] W[total] M[]',
      's1 L6 R[data] W[heaviest] M[]',
      's2 L7 R[data] W[any_free] M[]',
      's3 L8 R[data] W[n] M[]',
      's4 L9 R[any_free,heaviest,n,total] W[] M[]'
    ],
    edges: [
      '0->4 total:5 flow',
      '1->4 heaviest:6 flow',
      '2->4 any_free:7 flow',
      '3->4 n:8 flow'
    ],
    hazards: [],
    classes: [
      's0 reduce data',
      's1 reduce data',
      's2 reduce data',
      's3 reduce data',
      's4 opaque'
    ],
    blocks: [
      'b0 [0] reduce data reduce total:sum=0 bc[] deps[] ind[1,2,3] L0',
      'b1 [1] reduce data reduce heaviest:max=None bc[] deps[] ind[0,2,3] L0',
      'b2 [2] reduce data reduce any_free:any=False bc[] deps[] ind[0,1,3] L0',
      'b3 [3] reduce data reduce n:len=0 bc[] deps[] ind[0,1,2] L0',
      'b4 [4] opaque bc[] deps[0,1,2,3] ind[] L1'
    ],
  },
  '06-accumulators.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[] W[total] M[]',
      's1 L6 R[] W[count] M[]',
      's2 L7 R[count,data,total] W[count,r,total] M[]',
      's3 L11 R[] W[low] M[]',
      's4 L12 R[data,low] W[low,r] M[]',
      's5 L14 R[count,low,total] W[] M[]'
    ],
    edges: [
      '0->2 total:5 flow',
      '1->2 count:6 flow',
      '2->4 r:7 output',
      '3->4 low:11 flow',
      '2->5 count:7 flow',
      '2->5 total:7 flow',
      '4->5 low:12 flow'
    ],
    hazards: [
      'total@5,7',
      'count@6,7',
      'r@7,12',
      'low@11,12'
    ],
    classes: [
      's0 reduce',
      's1 reduce',
      's2 reduce data',
      's3 reduce',
      's4 reduce data',
      's5 opaque'
    ],
    blocks: [
      'b0 [0,1,2] reduce data reduce total:+=0.0,count:+=0 bc[] deps[] ind[1] L0',
      'b1 [3,4] reduce data reduce low:min=float("inf") bc[] deps[] ind[0] L0',
      'b2 [5] opaque bc[] deps[0,1] ind[] L1'
    ],
  },
  '07-independent.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[data] W[evens] M[]',
      's1 L6 R[data] W[odds] M[]',
      's2 L7 R[evens] W[even_sum] M[]',
      's3 L8 R[odds] W[odd_max] M[]',
      's4 L9 R[even_sum,evens,odd_max,odds] W[] M[]'
    ],
    edges: [
      '0->2 evens:5 flow',
      '1->3 odds:6 flow',
      '0->4 evens:5 flow',
      '1->4 odds:6 flow',
      '2->4 even_sum:7 flow',
      '3->4 odd_max:8 flow'
    ],
    hazards: [],
    classes: [
      's0 map data',
      's1 map data',
      's2 reduce evens',
      's3 reduce odds',
      's4 opaque'
    ],
    blocks: [
      'b0 [0] map data concat evens:collect=[] bc[] deps[] ind[1,3] L0',
      'b1 [1] map data concat odds:collect=[] bc[] deps[] ind[0,2] L0',
      'b2 [2] reduce evens reduce even_sum:sum=0 bc[] deps[0] ind[1,3] L1',
      'b3 [3] reduce odds reduce odd_max:max=None bc[] deps[1] ind[0,2] L1',
      'b4 [4] opaque bc[] deps[0,1,2,3] ind[] L2'
    ],
  },
  '08-prefix-sum.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[] W[running] M[]',
      's1 L6 R[] W[prefix] M[]',
      's2 L7 R[data,prefix,running] W[prefix,running,x] M[prefix]',
      's3 L10 R[prefix] W[doubled] M[]',
      's4 L11 R[doubled] W[] M[]'
    ],
    edges: [
      '0->2 running:5 flow',
      '1->2 prefix:6 flow',
      '2->3 prefix:7 flow',
      '3->4 doubled:10 flow'
    ],
    hazards: [
      'running@5,7'
    ],
    classes: [
      's0 opaque',
      's1 opaque',
      's2 opaque',
      's3 map prefix',
      's4 opaque'
    ],
    blocks: [
      'b0 [0] opaque bc[] deps[] ind[1] L0',
      'b1 [1] opaque bc[] deps[] ind[0] L0',
      'b2 [2] opaque bc[] deps[0,1] ind[] L1',
      'b3 [3] map prefix concat doubled:collect=[] bc[] deps[2] ind[] L2',
      'b4 [4] opaque bc[] deps[3] ind[] L3'
    ],
  },
  '09-dedupe-sort.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[] W[seen] M[]',
      's1 L6 R[] W[unique] M[]',
      's2 L7 R[data,seen,unique] W[seen,unique,word] M[seen,unique]',
      's3 L11 R[unique] W[ordered] M[]',
      's4 L12 R[ordered] W[lengths] M[]',
      's5 L13 R[lengths,ordered] W[] M[]'
    ],
    edges: [
      '0->2 seen:5 flow',
      '1->2 unique:6 flow',
      '2->3 unique:7 flow',
      '3->4 ordered:11 flow',
      '3->5 ordered:11 flow',
      '4->5 lengths:12 flow'
    ],
    hazards: [],
    classes: [
      's0 opaque',
      's1 opaque',
      's2 opaque',
      's3 opaque',
      's4 map ordered',
      's5 opaque'
    ],
    blocks: [
      'b0 [0] opaque bc[] deps[] ind[1] L0',
      'b1 [1] opaque bc[] deps[] ind[0] L0',
      'b2 [2] opaque bc[] deps[0,1] ind[] L1',
      'b3 [3] opaque bc[] deps[2] ind[] L2',
      'b4 [4] map ordered concat lengths:collect=[] bc[] deps[3] ind[] L3',
      'b5 [5] opaque bc[] deps[3,4] ind[] L4'
    ],
  },
  '10-text-lines.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[data] W[words] M[]',
      's1 L6 R[data] W[lengths] M[]',
      's2 L7 R[lengths] W[chars] M[]',
      's3 L8 R[chars,words] W[] M[]'
    ],
    edges: [
      '1->2 lengths:6 flow',
      '0->3 words:5 flow',
      '2->3 chars:7 flow'
    ],
    hazards: [],
    classes: [
      's0 map data',
      's1 map data',
      's2 reduce lengths',
      's3 opaque'
    ],
    blocks: [
      'b0 [0] map data concat words:collect=[] bc[] deps[] ind[1,2] L0',
      'b1 [1] map data concat lengths:collect=[] bc[] deps[] ind[0] L0',
      'b2 [2] reduce lengths reduce chars:sum=0 bc[] deps[1] ind[0] L1',
      'b3 [3] opaque bc[] deps[0,2] ind[] L2'
    ],
  },
  '11-csv-records.py': {
    functions: [
      'main opaque pure'
    ],
    nodes: [
      's0 L5 R[data] W[names] M[]',
      's1 L6 R[data] W[amounts] M[]',
      's2 L7 R[amounts] W[biggest] M[]',
      's3 L8 R[biggest,names] W[] M[]'
    ],
    edges: [
      '1->2 amounts:6 flow',
      '0->3 names:5 flow',
      '2->3 biggest:7 flow'
    ],
    hazards: [],
    classes: [
      's0 map data',
      's1 map data',
      's2 reduce amounts',
      's3 opaque'
    ],
    blocks: [
      'b0 [0] map data merge names:collect={} bc[] deps[] ind[1,2] L0',
      'b1 [1] map data concat amounts:collect=[] bc[] deps[] ind[0] L0',
      'b2 [2] reduce amounts reduce biggest:max=None bc[] deps[1] ind[0] L1',
      'b3 [3] opaque bc[] deps[0,2] ind[] L2'
    ],
  },
  '12-reassign-exit.py': {
    functions: [
      'tag opaque impure',
      'main opaque impure'
    ],
    nodes: [
      's0 L10 R[data] W[] M[] exit',
      's1 L12 R[data] W[xs] M[]',
      's2 L13 R[xs] W[n] M[]',
      's3 L14 R[xs] W[xs] M[]',
      's4 L15 R[xs] W[m] M[]',
      's5 L16 R[xs] W[labels] M[]',
      's6 L17 R[labels] W[labels,size] M[labels]',
      's7 L18 R[m,n,size] W[] M[]'
    ],
    edges: [
      '0->1 return:10 control',
      '0->2 return:10 control',
      '1->2 xs:12 flow',
      '0->3 return:10 control',
      '1->3 xs:12 flow',
      '2->3 xs:12 anti',
      '0->4 return:10 control',
      '3->4 xs:14 flow',
      '0->5 return:10 control',
      '3->5 xs:14 flow',
      '0->6 return:10 control',
      '5->6 labels:16 flow',
      '0->7 return:10 control',
      '2->7 n:13 flow',
      '4->7 m:15 flow',
      '6->7 size:17 flow'
    ],
    hazards: [
      'xs@12,14'
    ],
    classes: [
      's0 opaque',
      's1 map data',
      's2 reduce xs',
      's3 map xs',
      's4 reduce xs',
      's5 map xs',
      's6 opaque',
      's7 opaque'
    ],
    blocks: [
      'b0 [0] opaque bc[] deps[] ind[] L0',
      'b1 [1] map data concat xs:collect=[] bc[] deps[0] ind[] L1',
      'b2 [2] reduce xs reduce n:len=0 bc[] deps[0,1] ind[3,4,5,6] L2',
      'b3 [3] map xs concat xs:collect=[] bc[] deps[0,1] ind[2] L2',
      'b4 [4] reduce xs reduce m:sum=0 bc[] deps[0,3] ind[2,5,6] L3',
      'b5 [5] map xs concat labels:collect=[] bc[] deps[0,3] ind[2,4] L3',
      'b6 [6] opaque bc[] deps[0,5] ind[2,4] L4',
      'b7 [7] opaque bc[] deps[0,2,4,6] ind[] L5'
    ],
  },
}

describe('fixture corpus: DDG, classes and blocks', () => {
  for (const [file, expected] of Object.entries(EXPECTED)) {
    describe(file, () => {
      const report = analyze(readFileSync(join(FIXTURES, file)))
      it('is accepted', () => {
        expect(report.error).toBeUndefined()
        expect(report.status).toBe('accepted')
      })
      for (const part of ['functions', 'nodes', 'edges', 'hazards', 'classes', 'blocks'] as const) {
        it(part, () => {
          expect(render[part](report)).toEqual(expected[part])
        })
      }
    })
  }

  it('covers a dozen programs', () => {
    expect(Object.keys(EXPECTED)).toHaveLength(12)
  })

  it('records why a step is opaque', () => {
    const prefix = analyze(readFileSync(join(FIXTURES, '08-prefix-sum.py')))
    expect(prefix.classes?.[2]?.reason).toBe('the loop reads running while accumulating it (a prefix dependence)')
    const dedupe = analyze(readFileSync(join(FIXTURES, '09-dedupe-sort.py')))
    expect(dedupe.classes?.[3]?.reason).toBe('sorting needs the whole collection')
    const impure = analyze(readFileSync(join(FIXTURES, '12-reassign-exit.py')))
    expect(impure.functions?.[0]?.impurity).toEqual(['mutates its argument items'])
  })

  it('gives the accumulators a split run needs to combine partial results', () => {
    const report = analyze(readFileSync(join(FIXTURES, '06-accumulators.py')))
    expect(report.blocks?.[0]?.accumulators).toEqual([
      { variable: 'total', op: '+', init: '0.0' },
      { variable: 'count', op: '+', init: '0' }
    ])
    expect(report.blocks?.[1]?.accumulators).toEqual([{ variable: 'low', op: 'min', init: 'float("inf")' }])
  })

  it('is deterministic: the same source gives byte-identical JSON', () => {
    const source = readFileSync(join(FIXTURES, '07-independent.py'))
    expect(JSON.stringify(analyze(source))).toBe(JSON.stringify(analyze(source)))
  })
})

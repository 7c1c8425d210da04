import { cleanup, render } from '@solidjs/testing-library'
import { afterEach, describe, expect, it } from 'vitest'
import { PlanGraph } from '../src/components/plan-graph.tsx'
import { MAX_PARALLEL_NODES, buildPlanGraph, groupStatus } from '../src/lib/plan-graph.ts'
import { layers, layoutPlan } from '../src/lib/plan-layout.ts'
import { job, task } from './fixtures.ts'

afterEach(cleanup)

const edgesOf = (graph: { edges: Array<{ from: string, to: string }> }): string[] => graph.edges.map(e => `${e.from}>${e.to}`).sort()

describe('the plan as a graph', () => {
  it('draws a manual job: its input split into tasks, then aggregate(), then the result', () => {
    const tasks = [task(0, { status: 'completed' }), task(1, { status: 'running' }), task(2), task(3, { entry: 'aggregate', status: 'waiting' })]
    const graph = buildPlanGraph({ ...job(), tasks })
    expect(graph.basis).toBe('tasks')
    expect(graph.nodes.map(n => [n.id, n.kind])).toEqual([
      ['in0', 'input'], ['t0', 'task'], ['t1', 'task'], ['t2', 'task'], ['t3', 'aggregate'], ['result', 'result']
    ])
    expect(edgesOf(graph)).toEqual(['in0>t0', 'in0>t1', 'in0>t2', 't0>t3', 't1>t3', 't2>t3', 't3>result'])
    expect(graph.nodes.find(n => n.id === 't1')).toMatchObject({ status: 'running', detail: 'chunk 2' })
  })

  it('reads input i in task i of a grouped job, and follows dependsOn when the API gives it', () => {
    const grouped = job({ mode: 'grouped', inputs: [{ name: 'a.csv', size: 1, chunks: 1 }, { name: 'b.csv', size: 1, chunks: 1 }] })
    const tasks = [task(0), task(1), task(2, { entry: 'aggregate', dependsOn: ['job-1.1'] })]
    const graph = buildPlanGraph({ ...grouped, tasks })
    expect(edgesOf(graph)).toEqual(['in0>t0', 'in1>t1', 't0>result', 't1>t2', 't2>result'])
  })

  it('draws an automatic job of one task, and a listing without tasks from the plan\'s counts', () => {
    const auto = job({ mode: 'auto', plan: { level: 1, tasks: 1 }, inputs: [{ name: 'numbers.json', size: 10, chunks: 1 }] })
    expect(buildPlanGraph({ ...auto, tasks: [task(0, { entry: 'main', status: 'completed' })] }).nodes.map(n => n.label)).toEqual(['numbers.json', 'main(data)', 'result'])
    const listed = buildPlanGraph(job())
    expect(listed.nodes.filter(n => n.kind === 'task')).toHaveLength(3)
    expect(listed.nodes.filter(n => n.kind === 'aggregate')).toHaveLength(1)
    expect(listed.nodes.every(n => n.status === undefined)).toBe(true)
  })

  it('draws a level-2 job\'s parts of main with their lines and what each waits for', () => {
    const parts = [{ lines: [[10, 11], [14, 14]], dependsOn: [] }, { lines: [[12, 12]], dependsOn: [0] }, { lines: [[13, 13]], dependsOn: [0] }, { lines: [[15, 15]], dependsOn: [0, 1, 2] }]
    const auto = job({ mode: 'auto', plan: { level: 2, tasks: 4, parts }, inputs: [{ name: 'numbers.txt', size: 10, chunks: 1 }] })
    const tasks = [
      task(0, { entry: 'segment', status: 'completed' }),
      task(1, { entry: 'segment', status: 'running', dependsOn: ['job-1.0'] }),
      task(2, { entry: 'segment', status: 'running', dependsOn: ['job-1.0'] }),
      task(3, { entry: 'segment', status: 'waiting', dependsOn: ['job-1.0', 'job-1.1', 'job-1.2'] })
    ]
    const graph = buildPlanGraph({ ...auto, tasks })
    expect(graph.nodes.filter(n => n.kind === 'task').map(n => [n.label, n.detail])).toEqual([
      ['part 1 of main', 'lines 10-11, 14'], ['part 2 of main', 'lines 12'], ['part 3 of main', 'lines 13'], ['part 4 of main', 'lines 15']
    ])
    expect(edgesOf(graph)).toEqual(['in0>t0', 't0>t1', 't0>t2', 't0>t3', 't1>t3', 't2>t3', 't3>result'])
  })

  it('collapses a wide layer of parallel tasks into one node with their most pressing status', () => {
    const count = MAX_PARALLEL_NODES + 5
    const tasks = Array.from({ length: count }, (_, i) => task(i, { status: i === 3 ? 'failed' : 'completed' }))
    const graph = buildPlanGraph({ ...job({ plan: { level: 3, tasks: count } }), tasks })
    const group = graph.nodes.find(n => n.kind === 'group')
    expect(group).toMatchObject({ count, status: 'failed', label: `${count} × process()`, detail: `${count - 1} of ${count} done` })
    expect(graph.nodes).toHaveLength(3)
    expect(groupStatus(['completed', 'running', 'queued'])).toBe('running')
  })

  it('draws blocks, their dependencies, reductions and fused stages when the plan has them', () => {
    const plan = {
      level: 3,
      tasks: 5,
      blocks: [
        { id: 0, startLine: 5, endLine: 5, class: 'map', dependsOn: [] },
        { id: 1, startLine: 6, endLine: 8, class: 'filter', dependsOn: [{ block: 0, keys: ['xs:5'] }] },
        { id: 2, startLine: 9, endLine: 9, class: 'reduction', combine: 'reduce', dependsOn: [1] },
        { id: 3, startLine: 10, endLine: 10, class: 'opaque', dependsOn: [{ block: 2 }, { block: 0 }] }
      ],
      stages: [{ id: 'A', blocks: [0, 1, 2], fused: true, tasks: 4 }, { blocks: [3] }]
    }
    const graph = buildPlanGraph({ ...job({ mode: 'auto', plan }), tasks: [] })
    expect(graph.basis).toBe('blocks')
    expect(graph.nodes.find(n => n.id === 'b2')).toMatchObject({ kind: 'reduce', label: 'line 9', detail: 'reduction · combine: reduce' })
    expect(graph.nodes.find(n => n.id === 'b1')?.label).toBe('lines 6–8')
    expect(edgesOf(graph)).toEqual(['b0>b1', 'b0>b3', 'b1>b2', 'b2>b3', 'b3>result', 'in0>b0'])
    expect(graph.clusters).toEqual([
      { id: 'sA', label: 'fused stage A · 4 tasks', members: ['b0', 'b1', 'b2'] },
      { id: 's1', label: 'stage 2', members: ['b3'] }
    ])
  })

  it('has nothing to draw for a rejected job', () => {
    expect(buildPlanGraph({ ...job({ status: 'rejected', plan: { level: 0, tasks: 0 } }), tasks: [] })).toMatchObject({ nodes: [], basis: 'none' })
  })
})

describe('layout', () => {
  it('puts each node one layer after the longest path to it, and survives a cycle', () => {
    const graph = { nodes: ['a', 'b', 'c', 'd'].map(id => ({ id })), edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'a', to: 'c' }, { from: 'c', to: 'd' }] }
    expect(Object.fromEntries(layers(graph as never))).toEqual({ a: 0, b: 1, c: 2, d: 3 })
    const cyclic = { nodes: ['a', 'b', 'c'].map(id => ({ id })), edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'b' }] }
    const placed = layers(cyclic as never)
    expect(placed.size).toBe(3)
    expect(placed.get('a')).toBe(0)
  })

  it('places layers left to right, centres short columns, and draws edges between node sides', () => {
    const graph = buildPlanGraph({ ...job(), tasks: [task(0), task(1), task(2), task(3, { entry: 'aggregate' })] })
    const layout = layoutPlan(graph, { nodeWidth: 100, nodeHeight: 40, columnGap: 50, rowGap: 10, padding: 10 })
    const at = (id: string): { x: number, y: number } => layout.nodes.find(n => n.id === id) as { x: number, y: number }
    expect(at('in0').x).toBe(10)
    expect(at('t0').x).toBe(160)
    expect(at('t3').x).toBe(310)
    expect(at('result').x).toBe(460)
    // Three tasks stacked; the single input and the aggregate sit at the middle task's height.
    expect([at('t0').y, at('t1').y, at('t2').y]).toEqual([10, 60, 110])
    expect(at('in0').y).toBe(60)
    expect(at('t3').y).toBe(60)
    expect(layout.width).toBe(570)
    expect(layout.height).toBe(160)
    const edge = layout.edges.find(e => e.from === 't2' && e.to === 't3')
    expect(edge?.path).toBe('M260,130 C285,130 285,80 310,80')
  })

  it('makes room above the top row for a fused stage\'s label', () => {
    const plan = { level: 3, tasks: 1, blocks: [{ id: 0, startLine: 1, endLine: 1, dependsOn: [] }, { id: 1, startLine: 2, endLine: 2, dependsOn: [0] }], stages: [{ blocks: [0, 1] }] }
    const layout = layoutPlan(buildPlanGraph({ ...job({ mode: 'auto', plan, inputs: [] }), tasks: [] }))
    const cluster = layout.clusters[0]
    expect(cluster).toBeDefined()
    expect(cluster?.y ?? -1).toBeGreaterThanOrEqual(0)
    expect(Math.min(...layout.nodes.map(n => n.y))).toBeGreaterThan(cluster?.y ?? 0)
  })

  it('renders the graph with a label, a legend and the same plan as a list', () => {
    const tasks = [task(0, { status: 'completed' }), task(1, { status: 'completed' }), task(2, { status: 'running' }), task(3, { entry: 'aggregate', status: 'waiting' })]
    render(() => <PlanGraph job={job()} tasks={tasks} />)
    const svg = document.querySelector('svg[role="img"]')
    expect(svg?.getAttribute('aria-labelledby')).toBeTruthy()
    expect(document.querySelectorAll('.plan__node')).toHaveLength(6)
    expect(document.querySelectorAll('.plan__edge')).toHaveLength(7)
    expect(document.querySelector('[data-node="t2"]')?.getAttribute('data-status')).toBe('running')
    expect(document.querySelector('.plan__caption')?.textContent).toContain('Level 1 plan, 4 tasks')
    expect([...document.querySelectorAll('.plan__legend li')].map(li => li.textContent)).toEqual(['input', 'task', 'aggregation', 'result'])
    expect(document.querySelector('.plan__list')?.textContent).toContain('aggregate(results) (aggregation, waiting) — combines 3 results; after process() #0, process() #1, process() #2')
  })
})

describe('an automatic job split by data (level 3)', () => {
  const plan = {
    level: 3,
    tasks: 4,
    mode: 'auto',
    chunks: 3,
    reasons: ['the input does not fit one node: 3 chunks', 'lines 2–3 fused'],
    fused: [{ block: 0, lines: [2, 2] }, { block: 1, lines: [3, 4] }],
    estimate: { peakBytes: 900, perChunkBytes: 300 }
  }
  const tasks = [task(0, { entry: 'main', status: 'completed' }), task(1, { entry: 'main', status: 'running' }), task(2, { entry: 'main' }), task(3, { entry: 'aggregate', status: 'waiting' })]
  const auto = job({ mode: 'auto', plan, inputs: [{ name: 'big.csv', size: 9, chunks: 3 }] })

  it('draws chunk tasks in one fused stage and the reduction of their partials', () => {
    const graph = buildPlanGraph({ ...auto, tasks })
    expect(graph.nodes.map(n => [n.id, n.kind, n.label, n.detail])).toEqual([
      ['in0', 'input', 'big.csv', undefined],
      ['t0', 'task', 'main() #0', 'chunk 1'],
      ['t1', 'task', 'main() #1', 'chunk 2'],
      ['t2', 'task', 'main() #2', 'chunk 3'],
      ['t3', 'reduce', 'combine partials', 'combines 3 partial results'],
      ['result', 'result', 'result', undefined]
    ])
    expect(graph.clusters).toEqual([{ id: 'fused', label: 'fused stage: 2 blocks, lines 2, 3–4', members: ['t0', 't1', 't2'] }])
  })

  it('names a multi-round job\'s stage task and later-round chunk tasks by their role', () => {
    const rounds = [
      task(0, { entry: 'main', status: 'completed' }),
      task(1, { entry: 'main', status: 'completed' }),
      task(2, { entry: 'segment', status: 'completed', role: 'stage', round: 2, dependsOn: ['job-1.0', 'job-1.1'] }),
      task(3, { entry: 'segment', status: 'running', role: 'chunk', round: 2, near: 'job-1.0', dependsOn: ['job-1.2'] }),
      task(4, { entry: 'segment', role: 'chunk', round: 2, near: 'job-1.1', dependsOn: ['job-1.2'] }),
      task(5, { entry: 'aggregate', status: 'waiting', dependsOn: ['job-1.0', 'job-1.1', 'job-1.3', 'job-1.4'] })
    ]
    const graph = buildPlanGraph({ ...auto, tasks: rounds })
    const label = (id: string): unknown[] => graph.nodes.filter(n => n.id === id).map(n => [n.label, n.detail])
    expect(label('t2')).toEqual([['stage before round 2', 'combines, broadcasts']])
    expect(label('t3')).toEqual([['round 2 chunk', 'on its round-1 chunk\'s node']])
    expect(label('t4')).toEqual([['round 2 chunk', 'on its round-1 chunk\'s node']])
  })

  it('shows why the planner chose it, and each chunk task against its estimate', () => {
    render(() => <PlanGraph job={auto} tasks={tasks} />)
    expect([...document.querySelectorAll('.plan__reasons li')].map(li => li.textContent)).toEqual(plan.reasons)
    expect(document.querySelector('[data-cluster="fused"] text')?.textContent).toContain('fused stage')
    expect(document.querySelector('[data-kind="reduce"]')).not.toBeNull()
  })
})

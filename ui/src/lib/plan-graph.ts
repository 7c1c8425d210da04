/**
 * The job's plan as a graph. The plan says as much as the planner recorded: automatic jobs may
 * carry `blocks` (statements of main, with dependencies, classes and how partial results combine) grouped into
 * fused `stages`; otherwise the graph is the job's tasks (inputs → tasks → aggregation → result). Wide layers of
 * identical parallel tasks collapse into one node so a job of a thousand chunks still draws. plan-layout.ts places it.
 */
import type { Job, Plan, Task } from '../api/types.ts'

export type PlanNodeKind = 'input' | 'block' | 'task' | 'group' | 'reduce' | 'aggregate' | 'result'

/** Each kind of node as the page names it (in tooltips, the legend and the list). */
export const PLAN_KIND_NAMES: Record<PlanNodeKind, string> = {
  input: 'input',
  block: 'block',
  task: 'task',
  group: 'parallel tasks',
  reduce: 'reduction',
  aggregate: 'aggregation',
  result: 'result'
}

export interface PlanNode {
  id: string
  kind: PlanNodeKind
  label: string
  detail?: string
  /** A task's status, or the worst of a group's. */
  status?: string
  /** Tasks a group node stands for. */
  count?: number
}

export interface PlanEdge { from: string, to: string }

/** Blocks fused into one stage: one task runs them all on its chunk. */
export interface PlanCluster { id: string, label: string, members: string[] }

export interface PlanGraph {
  nodes: PlanNode[]
  edges: PlanEdge[]
  clusters: PlanCluster[]
  /** What the graph was drawn from. */
  basis: 'blocks' | 'plan' | 'tasks' | 'none'
}

/** Beyond this many parallel tasks of one kind, a layer is drawn as one node. */
export const MAX_PARALLEL_NODES = 12

type JobLike = Pick<Job, 'plan' | 'inputs' | 'mode'> & { tasks?: Task[] }
type Rec = Record<string, unknown>

const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value)
const records = (value: unknown): Rec[] => Array.isArray(value) ? value.filter(isRecord) : []
const text = (value: unknown): string | undefined => typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
const num = (value: unknown): number | undefined => typeof value === 'number' && Number.isFinite(value) ? value : undefined

/** A dependency written as an id, an index, or `{ block: id }` / `{ id }` / `{ task: id }`. */
function dependencyIds (value: unknown): string[] {
  if (!Array.isArray(value)) return []
  return value.map(d => isRecord(d) ? text(d.block) ?? text(d.id) ?? text(d.task) ?? text(d.stage) : text(d)).filter((d): d is string => d !== undefined)
}

const STATUS_WEIGHT: Record<string, number> = { failed: 6, running: 5, assigned: 4, queued: 3, waiting: 2, cancelled: 1, completed: 0 }

/** The status a group shows: the most pressing of its members'. */
export function groupStatus (statuses: string[]): string | undefined {
  if (statuses.length === 0) return undefined
  return [...statuses].sort((a, b) => (STATUS_WEIGHT[b] ?? 0) - (STATUS_WEIGHT[a] ?? 0))[0]
}

export function buildPlanGraph (job: JobLike): PlanGraph {
  const plan: Plan = job.plan
  const blocks = records(plan.blocks)
  if (blocks.length > 0) return fromBlocks(blocks, records(plan.stages), job)
  const planned = records(Array.isArray(plan.tasks) ? plan.tasks : undefined)
  if (planned.length > 0) return fromPlannedTasks(planned, job)
  return fromTasks(job)
}

function fromBlocks (blocks: Rec[], stages: Rec[], job: JobLike): PlanGraph {
  const nodes: PlanNode[] = []
  const edges: PlanEdge[] = []
  const ids = new Set<string>()
  blocks.forEach((block, i) => {
    const id = `b${text(block.id) ?? i}`
    ids.add(id)
    const cls = text(block.class)
    const combine = text(block.combine)
    const start = num(block.startLine)
    const end = num(block.endLine)
    const reduces = combine === 'reduce' || /reduc/i.test(cls ?? '')
    nodes.push({
      id,
      kind: reduces ? 'reduce' : 'block',
      label: start !== undefined ? (end !== undefined && end !== start ? `lines ${start}–${end}` : `line ${start}`) : `block ${text(block.id) ?? i}`,
      detail: [cls, combine !== undefined && combine !== cls ? `combine: ${combine}` : undefined, num(block.chunks) !== undefined ? `${num(block.chunks)} chunks` : undefined]
        .filter(Boolean).join(' · ') || undefined
    })
  })
  blocks.forEach((block, i) => {
    const id = `b${text(block.id) ?? i}`
    for (const dep of dependencyIds(block.dependsOn)) if (ids.has(`b${dep}`)) edges.push({ from: `b${dep}`, to: id })
  })
  const clusters: PlanCluster[] = []
  stages.forEach((stage, i) => {
    const members = dependencyIds(stage.blocks).map(b => `b${b}`).filter(b => ids.has(b))
    if (members.length === 0) return
    const fused = stage.fused === true || members.length > 1
    const tasks = num(stage.tasks) ?? num(stage.chunks)
    const name = text(stage.label) ?? text(stage.name) ?? `${fused ? 'fused stage' : 'stage'} ${text(stage.id) ?? i + 1}`
    clusters.push({ id: `s${text(stage.id) ?? i}`, label: tasks !== undefined ? `${name} · ${tasks} task${tasks === 1 ? '' : 's'}` : name, members })
  })
  addEnds(nodes, edges, job.inputs.map(input => input.name), undefined)
  return { nodes, edges, clusters, basis: 'blocks' }
}

function fromPlannedTasks (planned: Rec[], job: JobLike): PlanGraph {
  const nodes: PlanNode[] = []
  const edges: PlanEdge[] = []
  const ids = new Map<string, string>()
  planned.forEach((task, i) => {
    const key = text(task.id) ?? text(task.index) ?? String(i)
    ids.set(key, `t${key}`)
    if (text(task.index) !== undefined) ids.set(text(task.index) ?? '', `t${key}`)
  })
  const live = new Map((job.tasks ?? []).map(task => [String(task.index), task]))
  planned.forEach((task, i) => {
    const key = text(task.id) ?? text(task.index) ?? String(i)
    const entry = text(task.entry) ?? text(task.kind) ?? 'task'
    const status = live.get(text(task.index) ?? String(i))?.status
    nodes.push({
      id: `t${key}`,
      kind: /aggregat/i.test(entry) ? 'aggregate' : /reduc|combin/i.test(entry) ? 'reduce' : 'task',
      label: `${entry} #${text(task.index) ?? i}`,
      ...(text(task.detail) !== undefined ? { detail: text(task.detail) } : {}),
      ...(status !== undefined ? { status } : {})
    })
    for (const dep of dependencyIds(task.dependsOn)) {
      const from = ids.get(dep)
      if (from !== undefined) edges.push({ from, to: `t${key}` })
    }
  })
  addEnds(nodes, edges, job.inputs.map(input => input.name), undefined)
  return { nodes, edges, clusters: [], basis: 'plan' }
}

function fromTasks (job: JobLike): PlanGraph {
  // The calibration measures the job before it is planned: not a step of the plan.
  const tasks = [...(job.tasks ?? [])].filter(task => task.entry !== 'calibrate').sort((a, b) => a.index - b.index)
  const plan = job.plan
  if (tasks.length === 0) {
    // A listing without tasks: what the plan's counts say.
    const total = typeof plan.tasks === 'number' ? plan.tasks : 0
    if (total === 0) return { nodes: [], edges: [], clusters: [], basis: 'none' }
    const aggregation = plan.aggregation === true
    const work = num(plan.processTasks) ?? total - (aggregation ? 1 : 0)
    const entry = job.mode === 'auto' ? 'main' : 'process'
    for (let i = 0; i < work; i++) tasks.push(placeholder(i, entry))
    if (aggregation) tasks.push(placeholder(work, 'aggregate'))
  }
  const nodes: PlanNode[] = []
  const edges: PlanEdge[] = []
  const idOf = new Map<string, string>()
  const workers = tasks.filter(task => task.entry !== 'aggregate')
  const aggregates = tasks.filter(task => task.entry === 'aggregate')
  if (workers.length > MAX_PARALLEL_NODES) {
    const group = 'g-work'
    const entry = workers[0]?.entry ?? 'process'
    const done = workers.filter(task => task.status === 'completed').length
    nodes.push({
      id: group,
      kind: 'group',
      label: `${workers.length} × ${entry}()`,
      detail: `${done} of ${workers.length} done`,
      count: workers.length,
      ...(job.tasks !== undefined && job.tasks.length > 0 ? { status: groupStatus(workers.map(task => task.status)) ?? 'queued' } : {})
    })
    for (const task of workers) idOf.set(task.id, group)
  } else {
    for (const task of workers) {
      const id = `t${task.index}`
      idOf.set(task.id, id)
      nodes.push({ id, kind: 'task', label: taskLabel(task, workers.length), ...statusOf(task, job), ...detailOf(task, job, workers.length) })
    }
  }
  // An automatic job's aggregator combines the chunks' partial results (a reduction); a grouped or manual job's
  // aggregate() is the user's.
  const auto = job.mode === 'auto'
  for (const task of aggregates) {
    const id = `t${task.index}`
    idOf.set(task.id, id)
    nodes.push({
      id,
      kind: auto ? 'reduce' : 'aggregate',
      label: auto ? 'combine partials' : 'aggregate(results)',
      detail: `combines ${workers.length} ${auto ? 'partial ' : ''}result${workers.length === 1 ? '' : 's'}`,
      ...statusOf(task, job)
    })
  }
  const seen = new Set<string>()
  const link = (from: string | undefined, to: string | undefined): void => {
    if (from === undefined || to === undefined || from === to || seen.has(`${from}>${to}`)) return
    seen.add(`${from}>${to}`)
    edges.push({ from, to })
  }
  for (const task of tasks) {
    const deps = task.dependsOn ?? (task.entry === 'aggregate' ? workers.map(w => w.id) : [])
    for (const dep of deps) link(idOf.get(dep), idOf.get(task.id))
  }
  // Grouped jobs read input i in task i; manual jobs split their one input into the tasks' chunks.
  const inputFor = job.mode === 'grouped' && workers.length <= MAX_PARALLEL_NODES
    ? (node: PlanNode) => { const index = Number(node.id.slice(1)); return job.inputs[index] !== undefined ? index : undefined }
    : undefined
  addEnds(nodes, edges, job.inputs.map(input => input.name), inputFor)
  return { nodes, edges, clusters: fusedCluster(plan, workers.map(task => idOf.get(task.id)).filter((id): id is string => id !== undefined)), basis: 'tasks' }
}

/**
 * The blocks of main() that each chunk task runs together (`plan.fused`: `{ block, lines: [first, last] }`), drawn
 * as one stage around the chunk tasks.
 */
function fusedCluster (plan: Plan, members: string[]): PlanCluster[] {
  const fused = records(plan.fused)
  if (fused.length === 0 || members.length === 0) return []
  const lines = fused.map(entry => {
    const range = Array.isArray(entry.lines) ? entry.lines.map(num) : []
    const [first, last] = [range[0], range[1] ?? range[0]]
    return first === undefined ? undefined : first === last || last === undefined ? `${first}` : `${first}–${last}`
  }).filter((text): text is string => text !== undefined)
  const label = `fused stage: ${fused.length} block${fused.length === 1 ? '' : 's'}${lines.length > 0 ? `, lines ${lines.join(', ')}` : ''}`
  return [{ id: 'fused', label, members: [...new Set(members)] }]
}

function placeholder (index: number, entry: string): Task {
  return { id: `planned-${index}`, index, entry, status: 'queued', attempt: 0, failures: 0 }
}

function taskLabel (task: Task, siblings: number): string {
  if (task.entry === 'main') return siblings > 1 ? `main() #${task.index}` : 'main(data)'
  // Multi-round level 3: a stage task combines the rounds before and broadcasts; a later round's chunk task reruns on a chunk.
  if (task.role === 'stage') return `stage before round ${task.round ?? '?'}`
  if (task.role === 'chunk') return `round ${task.round ?? '?'} chunk`
  if (task.entry === 'segment') return `part ${task.index + 1} of main`
  return `${task.entry}() #${task.index}`
}

function statusOf (task: Task, job: JobLike): { status?: string } {
  return job.tasks !== undefined && job.tasks.length > 0 ? { status: task.status } : {}
}

function detailOf (task: Task, job: JobLike, siblings: number): { detail?: string } {
  if (job.mode === 'grouped') {
    const input = job.inputs[task.index]
    return input !== undefined ? { detail: input.name } : {}
  }
  if (task.role === 'stage') return { detail: 'combines, broadcasts' }
  if (task.role === 'chunk') return { detail: 'on its round-1 chunk\'s node' }
  if (task.entry === 'segment') {
    // Level 2: plan.parts[i].lines holds the [first, last] line runs part i runs.
    const lines = records(job.plan.parts)[task.index]?.lines
    const runs = Array.isArray(lines) ? lines.filter(Array.isArray).map(run => run.map(num)) : []
    return runs.length > 0 ? { detail: `lines ${runs.map(([a, b]) => a === b || b === undefined ? `${a ?? '?'}` : `${a ?? '?'}-${b}`).join(', ')}` } : {}
  }
  if (job.mode === 'manual' || siblings > 1) return { detail: `chunk ${task.index + 1}` }
  return {}
}

/**
 * Adds the input file(s) before the sources and the result after the sinks. `inputFor` maps a source node to the
 * one input it reads; without it every input feeds every source.
 */
function addEnds (nodes: PlanNode[], edges: PlanEdge[], inputs: string[], inputFor: ((node: PlanNode) => number | undefined) | undefined): void {
  if (nodes.length === 0) return
  const hasIncoming = new Set(edges.map(e => e.to))
  const hasOutgoing = new Set(edges.map(e => e.from))
  const sources = nodes.filter(node => !hasIncoming.has(node.id))
  const sinks = nodes.filter(node => !hasOutgoing.has(node.id))
  const inputNodes: PlanNode[] = inputs.length > MAX_PARALLEL_NODES
    ? [{ id: 'in-all', kind: 'input', label: `${inputs.length} input files` }]
    : inputs.map((name, i) => ({ id: `in${i}`, kind: 'input', label: name }))
  nodes.unshift(...inputNodes)
  for (const source of sources) {
    const index = inputFor?.(source)
    const feeding = index !== undefined && inputNodes.length === inputs.length ? [inputNodes[index]] : inputNodes
    for (const input of feeding) if (input !== undefined) edges.push({ from: input.id, to: source.id })
  }
  nodes.push({ id: 'result', kind: 'result', label: 'result' })
  for (const sink of sinks) edges.push({ from: sink.id, to: 'result' })
}

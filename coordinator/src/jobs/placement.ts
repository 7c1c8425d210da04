/**
 * Where tasks go: pure functions over the state and the alive nodes. A task goes to the smallest node whose free
 * memory fits it (ties: fewer running tasks); a straggler gets a copy on an idle node.
 */
import { median } from '../../../protocols/src/index.ts'
import { OWN_FAILURE, SHUN_MS, STRAGGLER_FACTOR, STRAGGLER_MIN_MS } from './policy.ts'
import type { JobRecord, TaskRecord } from './records.ts'
import type { JobState } from './state.ts'
import type { TaskTable } from './task-table.ts'
import type { NodeRecord } from '../store/index.ts'

/** Memory promised and tasks running per node, as the coordinator counts them. */
export interface NodeLoad {
  memory: Map<string, number>
  tasks: Map<string, number>
}

/**
 * What every node holds now: the tasks assigned to or running on it (a backup copy counts on its own node), and the
 * tasks it was told to stop and has not confirmed stopping (`stopping`: node id and memory, one entry per task) —
 * until it does, the node still keeps their memory for them and would refuse a task counted into it.
 */
export function loadOf (table: TaskTable, stopping: Iterable<[string, number]> = []): NodeLoad {
  const load: NodeLoad = { memory: new Map(), tasks: new Map() }
  const add = (nodeId: string, bytes: number): void => {
    load.memory.set(nodeId, (load.memory.get(nodeId) ?? 0) + bytes)
    load.tasks.set(nodeId, (load.tasks.get(nodeId) ?? 0) + 1)
  }
  for (const [nodeId, task] of table.active()) add(nodeId, task.memoryBytes)
  for (const [nodeId, bytes] of stopping) add(nodeId, bytes)
  return load
}

/**
 * The smallest alive node whose free memory fits the task, ties broken by fewer running tasks. Nodes that refused it
 * or could not be reached for it lately are skipped until the sweep declares them dead or they recover (a node that
 * only had no room for it, `busy`, is not: it gets the task once it frees memory); nodes it failed on come last, so
 * a retry runs elsewhere when there is an elsewhere.
 */
export function pickNode (task: TaskRecord, nodes: NodeRecord[], load: NodeLoad, now: number, home?: string): NodeRecord | undefined {
  const shunned = new Set(task.attempts
    .filter(a => (a.outcome === 'unreachable' || a.outcome === 'refused') && now - (a.endedAt ?? now) < SHUN_MS)
    .map(a => a.nodeId))
  const failedOn = new Set(task.attempts.filter(a => a.outcome !== undefined && OWN_FAILURE.test(a.outcome)).map(a => a.nodeId))
  const fits = (node: NodeRecord): boolean => !shunned.has(node.id) && node.memoryBytes - (load.memory.get(node.id) ?? 0) >= task.memoryBytes
  // A task with a home node (where its chunk already is) waits for it while it is alive, big enough and has not failed it.
  const preferred = home === undefined || shunned.has(home) || failedOn.has(home) ? undefined : nodes.find(node => node.id === home)
  if (preferred !== undefined && preferred.memoryBytes >= task.memoryBytes) return fits(preferred) ? preferred : undefined
  // One pass (every queued task looks at every node): the smallest fitting node, the first of equals, among those it
  // has not failed on (`fresh`) and among all.
  const before = (a: NodeRecord, b: NodeRecord | undefined): boolean =>
    b === undefined || a.memoryBytes < b.memoryBytes || (a.memoryBytes === b.memoryBytes && (load.tasks.get(a.id) ?? 0) < (load.tasks.get(b.id) ?? 0))
  let fresh: NodeRecord | undefined
  let any: NodeRecord | undefined
  let untried = false
  for (const node of nodes) {
    if (shunned.has(node.id)) continue
    const failed = failedOn.has(node.id)
    if (!failed) untried = true
    if (!fits(node)) continue
    if (!failed && before(node, fresh)) fresh = node
    if (before(node, any)) any = node
  }
  // Wait for a fresh node to free up rather than retrying where the task already failed, unless every node failed it.
  return fresh ?? (untried ? undefined : any)
}

/**
 * Queued tasks, in queue order, each with the node it goes to; tasks that fit nowhere now stay queued, and so do
 * the tasks of an account that runs `maxPerAccount` tasks already (others' tasks go first).
 */
export function placeQueued (state: JobState, nodes: NodeRecord[], now: number, options: { stopping?: Iterable<[string, number]>, maxPerAccount?: number } = {}): Array<{ task: TaskRecord, node: NodeRecord }> {
  const load = loadOf(state.tasks, options.stopping)
  const maxPerAccount = options.maxPerAccount ?? Number.POSITIVE_INFINITY
  const perAccount = new Map<string, number>()
  const accountOf = (task: TaskRecord): string => state.jobs.get(task.jobId)?.account ?? ''
  if (Number.isFinite(maxPerAccount)) {
    for (const [, task] of state.tasks.active()) perAccount.set(accountOf(task), (perAccount.get(accountOf(task)) ?? 0) + 1)
  }
  const placements: Array<{ task: TaskRecord, node: NodeRecord }> = []
  for (const taskId of state.queue) {
    const task = state.tasks.get(taskId)
    if (task?.status !== 'queued') continue
    const account = accountOf(task)
    if ((perAccount.get(account) ?? 0) >= maxPerAccount) continue
    const node = pickNode(task, nodes, load, now, task.near === undefined ? undefined : state.tasks.get(task.near)?.nodeId)
    if (node === undefined) continue
    load.memory.set(node.id, (load.memory.get(node.id) ?? 0) + task.memoryBytes)
    load.tasks.set(node.id, (load.tasks.get(node.id) ?? 0) + 1)
    perAccount.set(account, (perAccount.get(account) ?? 0) + 1)
    placements.push({ task, node })
  }
  return placements
}

/**
 * Running tasks that take far longer than their completed siblings (same job, same kind), without a copy yet:
 * most overdue first.
 */
export function stragglers (state: JobState, now: number): TaskRecord[] {
  const overdue: Array<{ task: TaskRecord, ratio: number }> = []
  // The median wall time of each job's completed tasks of one kind, computed once per call.
  const typical = new Map<string, number | undefined>()
  const seen = new Set<string>()
  for (const [, task] of state.tasks.active()) {
    if (seen.has(task.id) || task.backup !== undefined) continue
    seen.add(task.id)
    const job = state.jobs.get(task.jobId)
    if (job === undefined || (job.status !== 'running' && job.status !== 'pending_aggregation')) continue
    const key = `${task.jobId}\u0000${task.entry}`
    if (!typical.has(key)) typical.set(key, typicalWallMs(state, job, task.entry))
    const usual = typical.get(key)
    if (usual === undefined) continue
    const elapsed = now - (task.attempts.find(a => a.attempt === task.attempt)?.assignedAt ?? now)
    if (elapsed >= Math.max(STRAGGLER_MIN_MS, STRAGGLER_FACTOR * usual)) overdue.push({ task, ratio: elapsed / Math.max(1, usual) })
  }
  return overdue.sort((a, b) => b.ratio - a.ratio).map(o => o.task)
}

function typicalWallMs (state: JobState, job: JobRecord, entry: TaskRecord['entry']): number | undefined {
  const times = state.tasksOf(job).filter(t => t.entry === entry && t.status === 'completed' && t.metrics !== undefined).map(t => t.metrics?.wallMs ?? 0)
  return times.length > 0 ? median(times) : undefined
}

/**
 * The first straggler that an idle node (one it has not failed on) can take a copy of, and that node. A later round's
 * chunk task (`near`) is copied only to a node that already holds its chunk (one that ran its home task), so the input
 * still crosses the network once.
 */
export function speculation (state: JobState, nodes: NodeRecord[], now: number, stopping: Iterable<[string, number]> = []): { task: TaskRecord, node: NodeRecord } | undefined {
  const load = loadOf(state.tasks, stopping)
  const idle = nodes.filter(node => (load.tasks.get(node.id) ?? 0) === 0)
  // Looking for stragglers reads every running task: not worth it without a node to copy one to.
  if (idle.length === 0) return undefined
  for (const task of stragglers(state, now)) {
    const failedOn = new Set(task.attempts.filter(a => a.outcome !== undefined && a.outcome !== 'superseded').map(a => a.nodeId))
    const home = task.near === undefined ? undefined : state.tasks.get(task.near)
    const holders = home === undefined ? undefined : new Set(home.attempts.map(a => a.nodeId))
    const node = idle.filter(n => n.id !== task.nodeId && !failedOn.has(n.id) && n.memoryBytes >= task.memoryBytes && (holders === undefined || holders.has(n.id))).sort((a, b) => a.memoryBytes - b.memoryBytes)[0]
    if (node !== undefined) return { task, node }
  }
  return undefined
}

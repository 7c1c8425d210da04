/**
 * The job service's tasks by id, with the tasks each node holds now (assigned or running) indexed beside them, and
 * a count of each job's completed tasks.
 * The table keeps every task in the store, finished ones included, while heartbeats (hundreds a second with a
 * thousand nodes), dead nodes and every placement pass ask only what runs where: without the index each of those
 * scanned the whole history.
 */
import type { TaskRecord } from './records.ts'

/** The nodes a task is given to: its node, and its backup copy's (speculative execution). */
export function nodesOf (task: TaskRecord): string[] {
  return [...(task.nodeId !== undefined ? [task.nodeId] : []), ...(task.backup !== undefined ? [task.backup.nodeId] : [])]
}

/** The nodes a task occupies now: those it is given to, while it runs. */
function nodesHeld (task: TaskRecord | undefined): string[] {
  if (task === undefined || (task.status !== 'assigned' && task.status !== 'running')) return []
  return nodesOf(task)
}

export class TaskTable extends Map<string, TaskRecord> {
  private readonly byNode = new Map<string, Map<string, TaskRecord>>()
  /** Completed tasks per job, so a completion need not look at every task of its job to know whether it was the last. */
  private readonly completed = new Map<string, number>()

  override set (id: string, task: TaskRecord): this {
    this.unindex(id)
    if (task.status === 'completed') this.completed.set(task.jobId, (this.completed.get(task.jobId) ?? 0) + 1)
    for (const nodeId of nodesHeld(task)) {
      let held = this.byNode.get(nodeId)
      if (held === undefined) this.byNode.set(nodeId, held = new Map())
      held.set(id, task)
    }
    return super.set(id, task)
  }

  override delete (id: string): boolean {
    this.unindex(id)
    return super.delete(id)
  }

  override clear (): void {
    this.byNode.clear()
    this.completed.clear()
    super.clear()
  }

  /** The tasks assigned to or running on `nodeId`, as the task itself or as its backup copy. */
  activeOn (nodeId: string): TaskRecord[] {
    return [...(this.byNode.get(nodeId)?.values() ?? [])]
  }

  /** How many tasks of the job are completed. */
  completedIn (jobId: string): number {
    return this.completed.get(jobId) ?? 0
  }

  /** Every node and each task it holds (a task with a backup copy is held by two nodes). */
  * active (): Generator<[string, TaskRecord]> {
    for (const [nodeId, held] of this.byNode) for (const task of held.values()) yield [nodeId, task]
  }

  private unindex (id: string): void {
    // `byNode` is undefined while Map's constructor runs (it sets nothing without an iterable; be safe anyway).
    const previous = this.byNode === undefined ? undefined : super.get(id)
    if (previous?.status === 'completed') {
      const count = (this.completed.get(previous.jobId) ?? 1) - 1
      if (count > 0) this.completed.set(previous.jobId, count)
      else this.completed.delete(previous.jobId)
    }
    for (const nodeId of nodesHeld(previous)) {
      const held = this.byNode.get(nodeId)
      held?.delete(id)
      if (held?.size === 0) this.byNode.delete(nodeId)
    }
  }
}

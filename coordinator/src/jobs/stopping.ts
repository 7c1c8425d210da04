/**
 * Tasks nodes were told to stop and have not confirmed stopping, with their memory: a node keeps that memory for them
 * until they stop, so placement counts it as taken too.
 */
export class StoppingTasks {
  private readonly byNode = new Map<string, Map<string, number>>()

  /** `taskId` on `nodeId`, holding `bytes` there, was told to stop. */
  mark (nodeId: string, taskId: string, bytes: number): void {
    let tasks = this.byNode.get(nodeId)
    if (tasks === undefined) this.byNode.set(nodeId, tasks = new Map())
    tasks.set(taskId, bytes)
  }

  /** The node confirmed (or no longer runs) the task. */
  stopped (nodeId: string, taskId: string): void {
    const tasks = this.byNode.get(nodeId)
    tasks?.delete(taskId)
    if (tasks?.size === 0) this.byNode.delete(nodeId)
  }

  /** A heartbeat listed what the node runs: tasks it no longer lists are stopped, whether or not a cancel was answered. */
  runningOn (nodeId: string, running: string[]): void {
    const tasks = this.byNode.get(nodeId)
    if (tasks === undefined) return
    const still = new Set(running)
    for (const taskId of [...tasks.keys()]) if (!still.has(taskId)) this.stopped(nodeId, taskId)
  }

  /** The node is gone: nothing of it is stopping any more. */
  forget (nodeId: string): void {
    this.byNode.delete(nodeId)
  }

  /** Node id and memory, one entry per stopping task. */
  * entries (): Generator<[string, number]> {
    for (const [nodeId, tasks] of this.byNode) for (const bytes of tasks.values()) yield [nodeId, bytes]
  }
}

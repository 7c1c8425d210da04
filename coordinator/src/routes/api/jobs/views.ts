/** What the API shows of a job and of its tasks (the `JobView` and `TaskView` schemas of `schemas/jobs.ts`). */
import type { JobRecord, TaskRecord } from '../../../jobs/records.ts'

export function taskView (task: TaskRecord): Record<string, unknown> {
  return {
    id: task.id,
    index: task.index,
    entry: task.entry,
    status: task.status,
    attempt: task.attempt,
    failures: task.failures,
    ...(task.nodeId !== undefined ? { nodeId: task.nodeId } : {}),
    ...(task.near !== undefined ? { near: task.near } : {}),
    ...(task.script !== undefined ? { role: task.script % 2 === 0 ? 'stage' : 'chunk', round: Math.floor(task.script / 2) + 2 } : {}),
    ...(task.metrics !== undefined ? { metrics: task.metrics } : {}),
    ...(task.error !== undefined ? { error: task.error } : {}),
    ...(task.earning !== undefined ? { earning: task.earning } : {}),
    memoryBytes: task.memoryBytes,
    dependsOn: task.dependsOn,
    attempts: task.attempts
  }
}

export function view (job: JobRecord, tasks: TaskRecord[], withTasks: boolean): any {
  return {
    id: job.id,
    name: job.name,
    mode: job.mode,
    status: job.status,
    createdAt: job.createdAt,
    ...(job.startedAt !== undefined ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
    ...(job.error !== undefined ? { error: job.error } : {}),
    findings: job.findings,
    inputs: job.inputs.map(input => ({ name: input.name, size: input.size, chunks: input.cids.length })),
    plan: job.plan,
    ...(job.cost !== undefined ? { cost: job.cost } : {}),
    ...(job.payment !== undefined ? { payment: job.payment } : {}),
    ...(job.metrics !== undefined ? { metrics: job.metrics } : {}),
    progress: {
      total: tasks.length,
      completed: tasks.filter(t => t.status === 'completed').length,
      running: tasks.filter(t => t.status === 'assigned' || t.status === 'running').length,
      failed: tasks.filter(t => t.status === 'failed').length
    },
    ...(withTasks ? { tasks: tasks.map(taskView) } : {})
  }
}

/** Figures the job pages derive from a job as the API sends it. */
import type { Job, Task } from '../api/types.ts'

/** How long a job has taken: its measured wall time once done, the time since it started while it runs. */
export function jobTime (job: Job, now: number): number | undefined {
  if (job.metrics !== undefined) return job.metrics.wallMs
  if (job.startedAt === undefined) return undefined
  return (job.finishedAt ?? now) - job.startedAt
}

/** What the plan says each task was sized with, when it says. */
export function taskEstimate (job: Pick<Job, 'plan'>, task: Task): number | undefined {
  if (task.memoryBytes !== undefined) return task.memoryBytes
  const plan = job.plan
  const planned = Array.isArray(plan.tasks) ? plan.tasks[task.index] as { memoryBytes?: unknown } | undefined : undefined
  const estimate = plan.estimate as { peakBytes?: unknown, perChunkBytes?: unknown } | undefined
  // Automatic jobs: a chunk task is sized per chunk, a whole-program task by the program's peak; the aggregator of
  // partial results has no estimate of its own.
  const automatic = task.entry === 'aggregate' ? undefined : typeof plan.chunks === 'number' && plan.chunks > 1 ? estimate?.perChunkBytes : estimate?.peakBytes
  const candidates = [planned?.memoryBytes, automatic, plan.taskMemoryBytes, (plan.memory as { peakBytes?: unknown } | undefined)?.peakBytes]
  return candidates.find((value): value is number => typeof value === 'number')
}

/**
 * A job's live events (server-sent: `job` with the whole job, `task` with one task). The coordinator ends the
 * stream once the job is final; the browser would reconnect, so the subscription closes itself on a final job.
 */
import { FINAL_JOB_STATUSES } from './types.ts'
import type { Job, Task } from './types.ts'

export interface JobEventHandlers {
  onJob(job: Job): void
  onTask(task: Task): void
  /** The connection is up (again). */
  onOpen?(): void
  /** The connection dropped; `closed` when the browser gave up retrying. */
  onError?(closed: boolean): void
}

/** Subscribes to a job's events; returns the unsubscribe. */
export function subscribeJobEvents (id: string, handlers: JobEventHandlers): () => void {
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`)
  source.addEventListener('open', () => { handlers.onOpen?.() })
  source.addEventListener('job', (event) => {
    const job = JSON.parse((event as MessageEvent<string>).data) as Job
    handlers.onJob(job)
    if (FINAL_JOB_STATUSES.includes(job.status)) source.close()
  })
  source.addEventListener('task', (event) => { handlers.onTask(JSON.parse((event as MessageEvent<string>).data) as Task) })
  source.addEventListener('error', () => { handlers.onError?.(source.readyState === EventSource.CLOSED) })
  return () => { source.close() }
}

/** GET /api/jobs/:id/events: a job's `job` and `task` updates as server-sent events, until the job ends. */
import { FINAL_JOB_STATUSES } from '../../../jobs/records.ts'
import { taskView, view } from './views.ts'
import type { JobService } from '../../../jobs/service.ts'
import type { JobRecord, TaskRecord } from '../../../jobs/records.ts'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** A comment line this often keeps proxies from closing a quiet stream (ms). */
const KEEP_ALIVE_MS = 15_000

/**
 * Takes the connection over from Fastify and writes the job as it is now, then every update of it, until it reaches a
 * final status or the client goes away.
 */
export function streamJobEvents (jobs: JobService, job: JobRecord, request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack()
  const raw = reply.raw
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
  const send = (event: string, data: unknown): void => { raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) }
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    jobs.off('job', onJob)
    jobs.off('task', onTask)
    clearInterval(keepAlive)
    raw.end()
  }
  const onJob = (updated: JobRecord): void => {
    if (updated.id !== job.id) return
    send('job', view(updated, jobs.tasksOf(updated), false))
    if (FINAL_JOB_STATUSES.includes(updated.status)) end()
  }
  const onTask = (task: TaskRecord): void => {
    if (task.jobId === job.id) send('task', taskView(task))
  }
  jobs.on('job', onJob)
  jobs.on('task', onTask)
  const keepAlive = setInterval(() => { raw.write(': keep-alive\n\n') }, KEEP_ALIVE_MS)
  request.raw.on('close', end)
  const current = jobs.job(job.id) ?? job
  send('job', view(current, jobs.tasksOf(current), true))
  if (FINAL_JOB_STATUSES.includes(current.status)) end()
}

/**
 * The jobs dashboard's store: the account's jobs and payments, kept live. Jobs that are not final are followed
 * through their event streams — at most `MAX_STREAMS` at once, since a browser opens only six connections to one
 * host over HTTP/1.1; the others are refreshed with the list while any job is still moving.
 */
import { createSignal, onCleanup } from 'solid-js'
import { subscribeJobEvents } from '../api/events.ts'
import { listJobs, payJob } from '../api/jobs.ts'
import { payments as loadPayments } from '../api/billing.ts'
import { FINAL_JOB_STATUSES } from '../api/types.ts'
import type { Job, PaymentList } from '../api/types.ts'

export const MAX_STREAMS = 3
/** How often the list is reloaded while some unfollowed job is still moving (ms). */
export const LIST_REFRESH_MS = 5_000

/** The list with one job replaced (or added), newest first; tasks never ride along in the list. */
export function upsertJob (jobs: readonly Job[], job: Job): Job[] {
  const { tasks: _tasks, ...bare } = job
  const rest = jobs.filter(other => other.id !== bare.id)
  return [...rest, bare].sort((a, b) => b.createdAt - a.createdAt)
}

/** Whether the Pay button belongs on a job: completed, with its payment still pending. */
export function canPay (job: Pick<Job, 'status' | 'payment'>): boolean {
  return job.status === 'completed' && job.payment === 'pending'
}

export interface JobsStore {
  jobs(): Job[] | undefined
  payments(): PaymentList | undefined
  error(): Error | undefined
  pay(id: string): Promise<void>
  refresh(): Promise<void>
}

export function createJobsStore (): JobsStore {
  const [jobs, setJobs] = createSignal<Job[]>()
  const [paymentList, setPayments] = createSignal<PaymentList>()
  const [error, setError] = createSignal<Error>()
  const streams = new Map<string, () => void>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let disposed = false

  const refresh = async (): Promise<void> => {
    try {
      const [list, paid] = await Promise.all([listJobs(), loadPayments()])
      if (disposed) return
      setJobs(list)
      setPayments(paid)
      setError(undefined)
      follow()
    } catch (err) {
      setError(err as Error)
    }
  }

  const onUpdate = (job: Job): void => {
    setJobs(current => upsertJob(current ?? [], job))
    if (FINAL_JOB_STATUSES.includes(job.status)) {
      streams.get(job.id)?.()
      streams.delete(job.id)
      // A finished job changes what is owed, and frees a stream for another job.
      refresh().catch(() => {})
    }
  }

  function follow (): void {
    const live = (jobs() ?? []).filter(job => !FINAL_JOB_STATUSES.includes(job.status))
    for (const [id, close] of streams) {
      if (!live.some(job => job.id === id)) {
        close()
        streams.delete(id)
      }
    }
    for (const job of live) {
      if (streams.size >= MAX_STREAMS) break
      if (streams.has(job.id)) continue
      streams.set(job.id, subscribeJobEvents(job.id, { onJob: onUpdate, onTask: () => {} }))
    }
    clearTimeout(timer)
    if (live.some(job => !streams.has(job.id))) timer = setTimeout(() => { refresh().catch(() => {}) }, LIST_REFRESH_MS)
  }

  refresh().catch(() => {})
  onCleanup(() => {
    disposed = true
    clearTimeout(timer)
    for (const close of streams.values()) close()
    streams.clear()
  })

  return {
    jobs,
    payments: paymentList,
    error,
    refresh,
    pay: async (id) => {
      await payJob(id)
      await refresh()
    }
  }
}

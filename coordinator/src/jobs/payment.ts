/**
 * Paying a job: its payment and every earning of its tasks (completed ones, and failed attempts that earned) become
 * `paid` in one change.
 */
import { JobUsageError } from './intake.ts'
import { FINAL_JOB_STATUSES, JobStore } from './records.ts'
import { jobPaid } from './transitions.ts'
import type { EarningRecord, JobRecord, PaymentRecord } from './records.ts'
import type { Change, JobState } from './state.ts'

/**
 * The change that pays `jobId` as the state holds it now, and the payment as it will be stored (already paid: no
 * change). Raises `JobUsageError` for a job that has not ended or has nothing to pay.
 */
export async function payment (state: JobState, jobId: string, now: number): Promise<{ change: Change, paid: PaymentRecord }> {
  const job = state.jobs.get(jobId)
  if (job === undefined || !FINAL_JOB_STATUSES.includes(job.status)) throw new JobUsageError('only a job that ended can be paid: wait for it to complete, fail or be cancelled')
  // The payment and earnings are read from the store: the changes that wrote them must be there first.
  await state.settled()
  const owed = await state.db.payments.get(job.id)
  if (owed === undefined) throw new JobUsageError(`this job has nothing to pay: it ${job.status === 'rejected' ? 'was rejected' : 'ran no billed task'}`)
  if (owed.status === 'paid') return { change: {}, paid: owed }
  const change = jobPaid(job, owed, await earningsOf(state, job), now)
  return { change, paid: change.payments?.[0] ?? owed }
}

/** The stored earnings of a job's tasks: each completed task's, and each failed attempt's that earned. */
async function earningsOf (state: JobState, job: JobRecord): Promise<EarningRecord[]> {
  const earnings: EarningRecord[] = []
  for (const task of state.tasksOf(job)) {
    const keys = [...(task.earning !== undefined ? [task.id] : []), ...task.attempts.filter(a => a.outcome !== 'completed' && a.earning !== undefined).map(a => JobStore.earningKey({ taskId: task.id, attempt: a.attempt }))]
    for (const key of keys) {
      const earning = await state.db.earnings.get(key)
      if (earning !== undefined) earnings.push(earning)
    }
  }
  return earnings
}

/**
 * The task state machine: each function takes the state as it is and an event (a report, a placement, a dead node,
 * a cancel…) and returns the {@link Change} that event makes — the records to store in one batch and what to do
 * after — without touching the store, the mesh or the clock on its own. `JobService` applies the change.
 *
 * A node's report (completion or failure) is in reports.ts; billing's arithmetic in billing.ts.
 */
import { ended } from './billing.ts'
import { FINAL_JOB_STATUSES } from './records.ts'
import { nodesOf } from './task-table.ts'
import type { Billed } from './billing.ts'
import type { Change, Effect, JobState } from './state.ts'
import type {
  EarningRecord, JobError, JobRecord, PaymentRecord, TaskAttempt, TaskRecord
} from './records.ts'
import type { NodeSession } from '../nodes/registry.ts'
import type { NodeRecord } from '../store/index.ts'

/** A task in one of these has ended; any other may still run. */
const ENDED_TASK_STATUSES: ReadonlyArray<TaskRecord['status']> = ['completed', 'failed', 'cancelled']

// -----------------------------------------------------------------------------------------------------------------
// Attempts

/** The attempt number a new assignment of the task gets (after its current one and any backup copy's). */
export function nextAttempt (task: TaskRecord): number {
  return Math.max(task.attempt, task.backup?.attempt ?? 0, ...task.attempts.map(a => a.attempt)) + 1
}

export function closeAttempt (attempts: TaskAttempt[], attempt: number, outcome: string, message: string | undefined, now: number, billed?: Billed): TaskAttempt[] {
  return attempts.map(a => a.attempt === attempt && a.endedAt === undefined
    ? { ...a, endedAt: now, outcome, ...(message !== undefined ? { message: message.slice(0, 2000) } : {}), ...(billed !== undefined ? { earning: billed.earning, metrics: billed.metrics } : {}) }
    : a)
}

/** Back to the queue; `counts` says whether it was the task's own failure (retries are limited) or the node's. */
export function requeued (task: TaskRecord, outcome: string, message: string, counts: boolean, now: number): Change {
  const queued: TaskRecord = { ...task, status: 'queued', failures: task.failures + (counts ? 1 : 0), attempts: closeAttempt(task.attempts, task.attempt, outcome, message, now) }
  delete queued.nodeId
  return { tasks: [queued], log: [{ level: 'info', data: { task: task.id, outcome, failures: queued.failures }, message: 'task re-queued' }] }
}

/** Ends a task's backup copy (it failed, or its node is gone); the original runs on. */
export function backupDropped (task: TaskRecord, outcome: string, message: string, now: number): TaskRecord {
  if (task.backup === undefined) return task
  const updated: TaskRecord = { ...task, attempts: closeAttempt(task.attempts, task.backup.attempt, outcome, message, now) }
  delete updated.backup
  return updated
}

/** The original attempt failed or is lost while a backup copy runs: the copy becomes the task's attempt. */
export function backupPromoted (task: TaskRecord, outcome: string, message: string, now: number): TaskRecord {
  const backup = task.backup
  if (backup === undefined) return task
  const updated: TaskRecord = { ...task, attempt: backup.attempt, nodeId: backup.nodeId, attempts: closeAttempt(task.attempts, task.attempt, outcome, message, now) }
  delete updated.backup
  return updated
}

// -----------------------------------------------------------------------------------------------------------------
// Placement

/** Queued tasks given to nodes: each gets a new attempt; jobs that were only queued start running. */
export function placed (state: JobState, placements: Array<{ task: TaskRecord, nodeId: string }>, now: number): Change {
  const tasks: TaskRecord[] = []
  const jobs = new Map<string, JobRecord>()
  for (const { task, nodeId } of placements) {
    const attempt: TaskAttempt = { attempt: nextAttempt(task), nodeId, assignedAt: now }
    tasks.push({ ...task, status: 'assigned', attempt: attempt.attempt, nodeId, attempts: [...task.attempts, attempt] })
    const job = state.jobs.get(task.jobId)
    if (job?.status === 'queued' && !jobs.has(job.id)) jobs.set(job.id, { ...job, status: 'running', startedAt: now })
  }
  return { tasks, jobs: [...jobs.values()] }
}

/** A straggler's copy on another node (speculative execution). */
export function speculated (task: TaskRecord, nodeId: string, now: number): Change {
  const attempt = nextAttempt(task)
  return {
    tasks: [{ ...task, backup: { attempt, nodeId, assignedAt: now }, attempts: [...task.attempts, { attempt, nodeId, assignedAt: now }] }],
    log: [{ level: 'info', data: { task: task.id, node: nodeId, attempt, straggling: task.nodeId }, message: 'straggler: a copy runs on an idle node' }]
  }
}

/**
 * An assignment the node did not take (it refused, or could not be reached): the copy is dropped, or the task goes
 * back to the queue for another node. Nothing when the attempt is already over.
 */
export function assignmentFailed (task: TaskRecord | undefined, attempt: number, outcome: string, message: string, now: number): Change {
  if (task?.backup?.attempt === attempt) return { tasks: [backupDropped(task, outcome, message, now)] }
  if (task === undefined || task.status !== 'assigned' || task.attempt !== attempt) return {}
  return requeued(task, outcome, message, false, now)
}

// -----------------------------------------------------------------------------------------------------------------
// Reports

/** The node says it started the task. */
export function started (task: TaskRecord | undefined, attempt: number): Change {
  if (task?.status !== 'assigned' || task.attempt !== attempt) return {}
  return { tasks: [{ ...task, status: 'running' }] }
}

// -----------------------------------------------------------------------------------------------------------------
// Jobs

/**
 * A task failed for good: the job fails, its other open tasks are cancelled (and told to stop where they run), and
 * what its tasks were billed (completed tasks, attempts the program failed) is owed.
 */
export function jobFailed (state: JobState, task: TaskRecord, error: JobError, now: number, unitRate: number, updated: TaskRecord[] = []): Change {
  const job = state.jobs.get(task.jobId)
  if (job === undefined) return {}
  // `task` (the one that failed) and `updated` (others changed by the same transition) as they are now.
  const changed = new Map([task, ...updated].map(t => [t.id, t]))
  const tasks = state.allTasksOf(job).map(t => changed.get(t.id) ?? t)
  const others = tasks.filter(t => !changed.has(t.id) && !ENDED_TASK_STATUSES.includes(t.status))
  const cancelled = others.map(t => ({ ...t, status: 'cancelled' as const }))
  const billing = ended({ ...job, status: 'failed', finishedAt: now, error, metrics: jobMetrics(job, tasks, now) }, tasks, unitRate, now)
  return {
    tasks: [...changed.values(), ...cancelled],
    jobs: [billing.job],
    payments: billing.payments,
    effects: stopEffects(others, 'the job ended'),
    log: [{ level: 'warn', data: { job: job.id, error, cost: billing.job.cost }, message: 'job failed' }]
  }
}

/**
 * The submitter cancels a job: its open tasks are cancelled, and those running are told to stop; what its tasks were
 * billed before (completed tasks, attempts the program failed) is owed.
 */
export function jobCancelled (state: JobState, job: JobRecord, now: number, unitRate: number): Change {
  const tasks = state.allTasksOf(job)
  const open = tasks.filter(t => !ENDED_TASK_STATUSES.includes(t.status))
  const billing = ended({ ...job, status: 'cancelled', finishedAt: now, error: { code: 'cancelled', message: 'cancelled by its submitter' } }, tasks, unitRate, now)
  return {
    tasks: open.map(t => ({ ...t, status: 'cancelled' as const })),
    jobs: [billing.job],
    payments: billing.payments,
    effects: stopEffects(open, 'the job ended')
  }
}

/** A job is paid: its payment and the pending earnings of its tasks' billed attempts become `paid`. */
export function jobPaid (job: JobRecord, payment: PaymentRecord, earnings: EarningRecord[], now: number): Change {
  return {
    payments: [{ ...payment, status: 'paid', paidAt: now }],
    earnings: earnings.filter(e => e.status === 'pending').map(e => ({ ...e, status: 'paid' as const, paidAt: now })),
    jobs: [{ ...job, payment: 'paid' }]
  }
}

function stopEffects (tasks: TaskRecord[], reason: string): Effect[] {
  return tasks
    .filter(task => task.status === 'assigned' || task.status === 'running')
    .flatMap(task => nodesOf(task).map((nodeId): Effect => ({ type: 'cancel', taskId: task.id, nodeId, reason })))
}

/**
 * A measured job is planned: its plan's tasks join it, its input is stored as the plan cut it, and what was kept for
 * planning (the staged input, the harness) is dropped. Nothing when the job ended meanwhile (cancelled).
 */
export function planned (state: JobState, planned: { job: JobRecord, tasks: TaskRecord[] }): Change {
  const current = state.jobs.get(planned.job.id)
  if (current === undefined || FINAL_JOB_STATUSES.includes(current.status)) return {}
  const job: JobRecord = { ...planned.job, status: current.status, ...(current.startedAt !== undefined ? { startedAt: current.startedAt } : {}) }
  delete job.staged
  if (job.calibration !== undefined) job.calibration = { ...job.calibration, harness: '' }
  return { jobs: [job], tasks: planned.tasks, log: [{ level: 'info', data: { job: job.id, level: job.plan.level, tasks: planned.tasks.length }, message: 'job planned after calibration' }] }
}

/** A measured job that cannot be planned (it fits no node): it fails, and owes its calibration. */
export function planFailed (state: JobState, job: JobRecord, error: JobError, now: number, unitRate: number): Change {
  const current = state.jobs.get(job.id)
  if (current === undefined || FINAL_JOB_STATUSES.includes(current.status)) return {}
  const tasks = state.allTasksOf(current)
  const failedJob: JobRecord = { ...current, status: 'failed', finishedAt: now, error, plan: { ...current.plan, level: 0, tasks: 0 }, metrics: jobMetrics(current, tasks, now) }
  delete failedJob.staged
  const billing = ended(failedJob, tasks, unitRate, now)
  return { jobs: [billing.job], payments: billing.payments, log: [{ level: 'warn', data: { job: job.id, error }, message: 'job failed' }] }
}

// -----------------------------------------------------------------------------------------------------------------
// Liveness

/**
 * A node is dead, or was removed by its owner (`outcome` `node_removed`): what it ran goes back to the queue, or to the
 * task's other copy. Not the task's failure either way.
 */
export function nodeDied (state: JobState, node: NodeRecord, now: number, outcome: 'node_dead' | 'node_removed' = 'node_dead'): Change {
  const message = outcome === 'node_removed' ? `node ${node.id} was removed by its owner` : `node ${node.id} stopped answering`
  const lost = state.tasks.activeOn(node.id)
  const tasks: TaskRecord[] = []
  const log = []
  for (const task of lost) {
    if (task.backup?.nodeId === node.id) tasks.push(backupDropped(task, outcome, message, now))
    else if (task.backup !== undefined) tasks.push(backupPromoted(task, outcome, message, now))
    else {
      const change = requeued(task, outcome, message, false, now)
      tasks.push(...(change.tasks ?? []))
      log.push(...(change.log ?? []))
    }
  }
  if (lost.length > 0) log.push({ level: 'warn' as const, data: { node: node.id, tasks: lost.map(t => t.id) }, message: `node ${outcome === 'node_removed' ? 'removed' : 'dead'}: its tasks are re-queued` })
  return { tasks, log }
}

/**
 * A heartbeat lists the tasks a node is running. A task assigned to it that it neither runs nor reported
 * (it restarted, or the assignment was lost in a coordinator crash) is re-queued — after a grace period that
 * covers a report in flight.
 */
export function reconciled (state: JobState, session: NodeSession, grace: number, now: number): Change {
  const running = new Set(session.runningTasks)
  const open = state.tasks.activeOn(session.nodeId).filter(task => !running.has(task.id))
  const message = `node ${session.nodeId} is not running it`
  const tasks: TaskRecord[] = []
  const log = []
  for (const task of open) {
    if (task.backup?.nodeId === session.nodeId && now - task.backup.assignedAt > grace) {
      tasks.push(backupDropped(task, 'lost', message, now))
    } else if (task.nodeId === session.nodeId && now - (task.attempts.find(a => a.attempt === task.attempt)?.assignedAt ?? now) > grace) {
      if (task.backup !== undefined) {
        tasks.push(backupPromoted(task, 'lost', message, now))
      } else {
        const change = requeued(task, 'lost', message, false, now)
        tasks.push(...(change.tasks ?? []))
        log.push(...(change.log ?? []))
      }
    }
  }
  return { tasks, log }
}

// -----------------------------------------------------------------------------------------------------------------
// Records

/** A new task of a job, queued, with the job's limits. */
export function newTask (job: JobRecord, fields: { index: number, entry: TaskRecord['entry'], inputName: string, inputCids: string[] }): TaskRecord {
  return {
    id: `${job.id}.${fields.index}`,
    jobId: job.id,
    index: fields.index,
    entry: fields.entry,
    inputName: fields.inputName === '' ? 'input.txt' : `input${extensionOf(fields.inputName)}`,
    inputCids: fields.inputCids,
    dependsOn: [],
    memoryBytes: job.taskMemoryBytes,
    timeoutMs: job.taskTimeoutMs,
    status: 'queued',
    attempt: 0,
    failures: 0,
    attempts: [],
    outputCids: []
  }
}

function extensionOf (name: string): string {
  const match = /\.[A-Za-z0-9]{1,10}$/.exec(name)
  return match === null ? '.txt' : match[0].toLowerCase()
}

export function jobMetrics (job: JobRecord, tasks: TaskRecord[], now: number): JobRecord['metrics'] {
  return {
    wallMs: now - job.createdAt,
    cpuMs: tasks.reduce((sum, t) => sum + (t.metrics?.cpuMs ?? 0), 0),
    taskWallMs: tasks.reduce((sum, t) => sum + (t.metrics?.wallMs ?? 0), 0),
    peakMemoryBytes: tasks.reduce((max, t) => Math.max(max, t.metrics?.peakMemoryBytes ?? 0), 0),
    attempts: tasks.reduce((sum, t) => sum + t.attempts.length, 0)
  }
}

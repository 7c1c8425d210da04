/**
 * The job service's state: every job and task in memory, mirrored from the store, and the queue of tasks waiting
 * for a node. Transitions (`transitions.ts`) compute a {@link Change}; it is applied here and only here: one
 * LevelDB batch, then memory, then events, so memory never runs ahead of what a crash would keep.
 */
import { EventEmitter } from 'node:events'
import { JobStore } from './records.ts'
import { TaskTable } from './task-table.ts'
import type { EarningRecord, JobRecord, PaymentRecord, TaskRecord } from './records.ts'
import type { Store } from '../store/index.ts'

/** Something to do once a change is stored (it touches the mesh, not the state). */
export type Effect =
  /** Tell a node to stop running a task. */
  | { type: 'cancel', taskId: string, nodeId: string, reason: string }
  /** Plan a job whose calibration ended (with the measurements, or on the static estimate when it failed). */
  | { type: 'plan', jobId: string }

/** A log line of a transition, written once its change is stored. */
export interface LogNote {
  level: 'info' | 'warn'
  data: Record<string, unknown>
  message: string
}

/** What one transition changes: records to store (in one batch), and what to do after. */
export interface Change {
  jobs?: JobRecord[]
  tasks?: TaskRecord[]
  earnings?: EarningRecord[]
  payments?: PaymentRecord[]
  effects?: Effect[]
  log?: LogNote[]
}

export interface JobStateEvents {
  job: [JobRecord]
  task: [TaskRecord]
}

export class JobState extends EventEmitter<JobStateEvents> {
  readonly db: JobStore
  readonly jobs = new Map<string, JobRecord>()
  readonly tasks = new TaskTable()
  /** Queued task ids in the order they are placed: oldest job first (a Set keeps insertion order). */
  readonly queue = new Set<string>()
  /** Transitions run one at a time, in order. */
  private serial: Promise<unknown> = Promise.resolve()

  constructor (store: Store) {
    super()
    this.setMaxListeners(Infinity)
    this.db = new JobStore(store)
  }

  /** Loads every job and task from the store; queued tasks enter the queue oldest job first. */
  async load (): Promise<void> {
    for await (const job of this.db.jobs.values()) this.jobs.set(job.id, job)
    const queued: TaskRecord[] = []
    for await (const task of this.db.tasks.values()) {
      this.tasks.set(task.id, task)
      if (task.status === 'queued') queued.push(task)
    }
    queued.sort((a, b) => (this.jobs.get(a.jobId)?.createdAt ?? 0) - (this.jobs.get(b.jobId)?.createdAt ?? 0) || a.index - b.index)
    for (const task of queued) this.queue.add(task.id)
  }

  /** The tasks of the job's plan, in order. */
  tasksOf (job: JobRecord): TaskRecord[] {
    return job.taskIds.map(id => this.tasks.get(id)).filter((task): task is TaskRecord => task !== undefined)
  }

  /** Every task of the job: its calibration task (if it was measured before it was planned) first, then its plan's. */
  allTasksOf (job: JobRecord): TaskRecord[] {
    const calibration = job.calibration === undefined ? undefined : this.tasks.get(job.calibration.taskId)
    return calibration === undefined ? this.tasksOf(job) : [calibration, ...this.tasksOf(job)]
  }

  /**
   * Stores a change in one batch, then mirrors it: a task that became `queued` joins the end of the queue, one
   * that left `queued` leaves it; then the change's events.
   */
  async apply (change: Change): Promise<void> {
    const { db } = this
    const ops = [
      ...(change.tasks ?? []).map(task => db.tasks.putOp(task.id, task)),
      ...(change.earnings ?? []).map(earning => db.earnings.putOp(JobStore.earningKey(earning), earning)),
      ...(change.payments ?? []).map(payment => db.payments.putOp(payment.jobId, payment)),
      ...(change.jobs ?? []).map(job => db.jobs.putOp(job.id, job))
    ]
    if (ops.length === 0) return
    await db.store.batch(ops)
    for (const job of change.jobs ?? []) this.jobs.set(job.id, job)
    for (const task of change.tasks ?? []) {
      this.tasks.set(task.id, task)
      if (task.status === 'queued') this.queue.add(task.id)
      else this.queue.delete(task.id)
    }
    for (const task of change.tasks ?? []) this.emit('task', task)
    for (const job of change.jobs ?? []) this.emit('job', job)
  }

  /** Runs `fn` after every transition before it: the state machine changes one step at a time. */
  async transition<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn)
    this.serial = run.catch(() => {})
    return await run
  }
}

/** Concatenates changes: their records (a later record of the same id wins), effects and log lines. */
export function merge (...changes: Change[]): Change {
  const byId = <T>(records: T[], id: (record: T) => string): T[] => [...new Map(records.map(r => [id(r), r])).values()]
  return {
    jobs: byId(changes.flatMap(c => c.jobs ?? []), job => job.id),
    tasks: byId(changes.flatMap(c => c.tasks ?? []), task => task.id),
    earnings: byId(changes.flatMap(c => c.earnings ?? []), earning => JobStore.earningKey(earning)),
    payments: byId(changes.flatMap(c => c.payments ?? []), payment => payment.jobId),
    effects: changes.flatMap(c => c.effects ?? []),
    log: changes.flatMap(c => c.log ?? [])
  }
}

/**
 * The job service's state: every job and task in memory, mirrored from the store, and the queue of tasks waiting
 * for a node. Transitions (`transitions.ts`) compute a {@link Change}; it is applied here and only here.
 *
 * Transitions are computed one at a time, each on the state every transition before it left, but they are not
 * written one at a time: a LevelDB batch waits for its fsync (about a millisecond), and written one after another
 * they capped the coordinator at about a thousand transitions a second. The changes computed while a batch is on disk
 * are written together in the next one (a group commit), and each transition is answered, its events emitted, only
 * once its batch is durable. So there are two views: `jobs`, `tasks` and `queue` are what transitions compute on (a
 * change is there as soon as it is computed), `stored` is what a crash would keep, and is all that readers outside the
 * state machine see. A batch that fails takes every change computed after it along, and the working view is rebuilt
 * from the stored one.
 */
import { EventEmitter } from 'node:events'
import { JobStore } from './records.ts'
import { TaskTable } from './task-table.ts'
import { StoreIOError } from '../store/index.ts'
import type { EarningRecord, JobRecord, PaymentRecord, TaskRecord } from './records.ts'
import type { Store, StoreOp } from '../store/index.ts'

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

/** Jobs and tasks as stored: what the HTTP API and every reader outside the state machine see. */
export class StoredView {
  readonly jobs = new Map<string, JobRecord>()
  readonly tasks = new Map<string, TaskRecord>()
  private queuedTasks = 0

  /** How many tasks wait in the queue. */
  get queued (): number {
    return this.queuedTasks
  }

  setTask (task: TaskRecord): void {
    if (this.tasks.get(task.id)?.status === 'queued') this.queuedTasks--
    if (task.status === 'queued') this.queuedTasks++
    this.tasks.set(task.id, task)
  }

  /** Every task of the job: its calibration task (if it was measured before it was planned) first, then its plan's. */
  allTasksOf (job: JobRecord): TaskRecord[] {
    return allTasksOf(this.tasks, job)
  }
}

/** Changes written in one batch, and the transitions waiting for it. */
interface Group {
  tasks: Map<string, TaskRecord>
  jobs: Map<string, JobRecord>
  earnings: Map<string, EarningRecord>
  payments: Map<string, PaymentRecord>
  /** Each transition's change, in order, and its answer. */
  members: Array<{ change: Change, stored: PromiseWithResolvers<void> }>
}

export class JobState extends EventEmitter<JobStateEvents> {
  readonly db: JobStore
  readonly jobs = new Map<string, JobRecord>()
  readonly tasks = new TaskTable()
  /** Queued task ids in the order they are placed: oldest job first (a Set keeps insertion order). */
  readonly queue = new Set<string>()
  readonly stored = new StoredView()
  /** Transitions are computed one at a time, in order. */
  private serial: Promise<unknown> = Promise.resolve()
  /** Changes computed while the previous batch is on disk: the next batch. */
  private open: Group | undefined
  private writing = false
  /** Counts failed batches: a transition computed before one failed is refused (it saw changes that are lost). */
  private generation = 0

  constructor (store: Store) {
    super()
    this.setMaxListeners(Infinity)
    this.db = new JobStore(store)
  }

  /** Loads every job and task from the store; queued tasks enter the queue oldest job first. */
  async load (): Promise<void> {
    for await (const job of this.db.jobs.values()) this.stored.jobs.set(job.id, job)
    for await (const task of this.db.tasks.values()) this.stored.setTask(task)
    this.reset()
  }

  /** The tasks of the job's plan, in order. */
  tasksOf (job: JobRecord): TaskRecord[] {
    return tasksOf(this.tasks, job)
  }

  /** Every task of the job: its calibration task (if it was measured before it was planned) first, then its plan's. */
  allTasksOf (job: JobRecord): TaskRecord[] {
    return allTasksOf(this.tasks, job)
  }

  /** Stores a change computed elsewhere, after every transition before it; resolves once it is durable. */
  async apply (change: Change): Promise<void> {
    await this.commit(async () => change)
  }

  /**
   * Runs one transition: `compute` reads the state (after every transition before it) and returns its change, which
   * the next transition sees at once; resolves with it once it is stored, mirrored in `stored` and its events
   * emitted (with the changes of any transitions computed meanwhile, in one batch).
   */
  async commit (compute: () => Promise<Change>): Promise<Change> {
    const staged = this.serial.then(async () => {
      const generation = this.generation
      const change = await compute()
      if (generation !== this.generation) throw new StoreIOError('an earlier change could not be stored, and this one was computed after it: try again')
      return { change, durable: this.stage(change) }
    })
    this.serial = staged.catch(() => {})
    const { change, durable } = await staged
    await durable
    return change
  }

  /** Resolves once every change computed so far is stored (for reads of the store itself, such as earnings). */
  async settled (): Promise<void> {
    if (this.writing) await this.stage({})
  }

  /**
   * Mirrors a change in the working view (a task that became `queued` joins the end of the queue, one that left
   * `queued` leaves it) and adds it to the next batch; resolves once that batch is stored.
   */
  private async stage (change: Change): Promise<void> {
    for (const job of change.jobs ?? []) this.jobs.set(job.id, job)
    for (const task of change.tasks ?? []) {
      this.tasks.set(task.id, task)
      if (task.status === 'queued') this.queue.add(task.id)
      else this.queue.delete(task.id)
    }
    const records = (change.jobs?.length ?? 0) + (change.tasks?.length ?? 0) + (change.earnings?.length ?? 0) + (change.payments?.length ?? 0)
    // Nothing to store and nothing on its way to disk: nothing to wait for.
    if (records === 0 && !this.writing) return
    const group: Group = this.open ??= { tasks: new Map(), jobs: new Map(), earnings: new Map(), payments: new Map(), members: [] }
    // A record changed twice before its batch is written is written once, as it is last.
    for (const task of change.tasks ?? []) group.tasks.set(task.id, task)
    for (const job of change.jobs ?? []) group.jobs.set(job.id, job)
    for (const earning of change.earnings ?? []) group.earnings.set(JobStore.earningKey(earning), earning)
    for (const payment of change.payments ?? []) group.payments.set(payment.jobId, payment)
    const stored = Promise.withResolvers<void>()
    group.members.push({ change, stored })
    if (!this.writing) {
      this.writing = true
      this.write().catch(() => {})
    }
    await stored.promise
  }

  /** Writes the open group, then the one gathered meanwhile, until none is left. */
  private async write (): Promise<void> {
    while (this.open !== undefined) {
      const group = this.open
      this.open = undefined
      try {
        const ops = this.opsOf(group)
        if (ops.length > 0) await this.db.store.batch(ops)
      } catch (err) {
        this.failed([group, ...(this.open === undefined ? [] : [this.open])], err)
        this.open = undefined
        continue
      }
      for (const { change } of group.members) this.show(change)
      for (const { change, stored } of group.members) {
        // A listener that throws fails its own transition's answer, as when each change was written alone.
        try {
          this.announce(change)
          stored.resolve()
        } catch (err) {
          stored.reject(err)
        }
      }
    }
    this.writing = false
  }

  private opsOf (group: Group): StoreOp[] {
    const { db } = this
    const ops: StoreOp[] = []
    for (const [id, task] of group.tasks) ops.push(db.tasks.putOp(id, task))
    for (const [key, earning] of group.earnings) ops.push(db.earnings.putOp(key, earning))
    for (const [jobId, payment] of group.payments) ops.push(db.payments.putOp(jobId, payment))
    for (const [id, job] of group.jobs) ops.push(db.jobs.putOp(id, job))
    return ops
  }

  /** A stored change becomes what readers see. */
  private show (change: Change): void {
    for (const job of change.jobs ?? []) this.stored.jobs.set(job.id, job)
    for (const task of change.tasks ?? []) this.stored.setTask(task)
  }

  /** A stored change's events. */
  private announce (change: Change): void {
    for (const task of change.tasks ?? []) this.emit('task', task)
    for (const job of change.jobs ?? []) this.emit('job', job)
  }

  /** A batch failed: it and every change computed after it are refused, and the working view is the stored one again. */
  private failed (groups: Group[], err: unknown): void {
    this.generation++
    this.reset()
    for (const group of groups) for (const { stored } of group.members) stored.reject(err)
  }

  /** The working view rebuilt from the stored one; queued tasks enter the queue oldest job first. */
  private reset (): void {
    this.jobs.clear()
    this.tasks.clear()
    this.queue.clear()
    for (const [id, job] of this.stored.jobs) this.jobs.set(id, job)
    const queued: TaskRecord[] = []
    for (const [id, task] of this.stored.tasks) {
      this.tasks.set(id, task)
      if (task.status === 'queued') queued.push(task)
    }
    queued.sort((a, b) => (this.jobs.get(a.jobId)?.createdAt ?? 0) - (this.jobs.get(b.jobId)?.createdAt ?? 0) || a.index - b.index)
    for (const task of queued) this.queue.add(task.id)
  }
}

function tasksOf (tasks: Map<string, TaskRecord>, job: JobRecord): TaskRecord[] {
  return job.taskIds.map(id => tasks.get(id)).filter((task): task is TaskRecord => task !== undefined)
}

function allTasksOf (tasks: Map<string, TaskRecord>, job: JobRecord): TaskRecord[] {
  const calibration = job.calibration === undefined ? undefined : tasks.get(job.calibration.taskId)
  return calibration === undefined ? tasksOf(tasks, job) : [calibration, ...tasksOf(tasks, job)]
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

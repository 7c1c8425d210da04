/**
 * Jobs, tasks, payments and earnings as stored in LevelDB (one sublevel each, JSON values). Every state transition
 * of the job → task → payment machine is written as one `Store.batch`, so a crash leaves either the state before
 * or the state after, never half of it.
 */
import type {
  JobCost as JobCostSchema, JobMetrics as JobMetricsSchema, JobStatus, TaskAttempt as TaskAttemptSchema, TaskMetrics as TaskMetricsSchema, TaskStatus
} from '../schemas/jobs.ts'
import type { Static } from 'typebox'
import type { TaskSizing } from '../../../planner/src/index.ts'
import type { Repository, Store } from '../store/index.ts'

export type JobMode = 'auto' | 'manual' | 'grouped'

export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['rejected', 'completed', 'failed', 'cancelled']

export interface JobInput {
  name: string
  size: number
  /** The file's chunks in order (each ends on a line boundary). */
  cids: string[]
}

/** An automatic job's input kept on the coordinator's disk (under `staged/`) until the job is planned. */
export interface StagedInput {
  /** Path under the coordinator's staging directory. */
  file: string
  /** The name the runtime loads it by (a `.json` array is staged as `NAME.jsonl`). */
  name: string
  /** The name it was uploaded as. */
  uploadedName: string
  size: number
  elements?: number
}

export interface JobError {
  code: string
  message: string
  line?: number
}

export interface Finding {
  rule: string
  message: string
  line: number
  severity?: string
}

/** The shapes the API shows as they are stored: one definition, in the schemas. */
export type { JobStatus, TaskStatus }
export type JobCost = Static<typeof JobCostSchema>
export type JobMetrics = Static<typeof JobMetricsSchema>
export type TaskMetrics = Static<typeof TaskMetricsSchema>
export type TaskAttempt = Static<typeof TaskAttemptSchema>

export interface JobRecord {
  id: string
  account: string
  name: string
  mode: JobMode
  status: JobStatus
  createdAt: number
  startedAt?: number
  finishedAt?: number
  script: string
  /** Grouped jobs: the aggregation script. Manual jobs that define `aggregate` use their own script. */
  aggregateScript?: string
  /**
   * Automatic mode: the planner's generated scripts (per-chunk stages, and the aggregator or whole program; for
   * level 2, one script per part of main, task i running `segments[i]`; level 3 with several rounds, each round's
   * stage script then its chunk script, run by the tasks whose `script` points at them).
   */
  generated?: { chunk?: string, final: string, segments?: string[] }
  /**
   * Automatic jobs measured before they are planned: the calibration task (the analyzer's harness run on a sample
   * of the input, on a node) — not one of `taskIds`, which the plan fills once the measurements are in.
   */
  calibration?: { taskId: string, harness: string }
  /** While a job waits for its calibration: its input on the coordinator's disk, and what is known of it. */
  staged?: StagedInput
  /** Automatic csv jobs: the header row's chunk, put in front of every chunk task's input but the first part's. */
  csvHeader?: string
  inputs: JobInput[]
  /** Memory limit of each task (bytes) and its wall-clock limit (ms). */
  taskMemoryBytes: number
  /** The submitter chose `taskMemoryBytes`: automatic mode uses it as is and never raises it. */
  explicitMemory?: boolean
  taskTimeoutMs: number
  /** Ids of the job's tasks in order; the aggregation task (if any) comes last once created. */
  taskIds: string[]
  findings: Finding[]
  error?: JobError
  /** The result as a chunk in the coordinator's store (exact JSON text as Python wrote it). */
  resultCid?: string
  plan: { level: number, tasks: number, [key: string]: unknown }
  cost?: JobCost
  payment?: 'pending' | 'paid'
  metrics?: JobMetrics
}

export interface TaskRecord {
  id: string
  jobId: string
  index: number
  /**
   * What the node calls: `main` (auto), `process` (manual, grouped), `aggregate`, `segment` (auto level 2), or
   * `calibrate` (the analyzer's harness on a sample of an automatic job's input, before the job is planned).
   */
  entry: 'main' | 'process' | 'aggregate' | 'segment' | 'calibrate'
  /** File name handed to the runtime; its extension picks the loader in auto mode. */
  inputName: string
  /**
   * Input chunks, or, for a task that depends on others, filled from their outputs when they complete (a segment
   * keeps its data chunks first and gets one output of each task it depends on after them).
   */
  inputCids: string[]
  /** Tasks whose outputs are this task's inputs, in order. */
  dependsOn: string[]
  /** A `segment` task: the index of its script in the job's `generated.segments` when not its own index (automatic level 3, later rounds). */
  script?: number
  /**
   * The task whose node this one should run on (a later round's chunk task: the node that ran round 1 on the same
   * chunk holds it already), while that node is alive, can hold it and has not failed it.
   */
  near?: string
  /** Automatic level 3 with several rounds: the chunk of the input a chunk task runs on (0-based, in input order). */
  chunk?: number
  memoryBytes: number
  /**
   * Automatic mode, a task receiving the chunks' keyed partials (the aggregator, a stage between rounds):
   * `memoryBytes` is its estimate as if every key were distinct; it is sized again from the bytes its inputs hold
   * when they are known (the planner's `runtimeBytes`).
   */
  sizing?: TaskSizing
  timeoutMs: number
  status: TaskStatus
  /** The current (or last) assignment; 0 before the first. */
  attempt: number
  /** Failures of the task's own making (not dead nodes); after `MAX_FAILURES` the job fails. */
  failures: number
  nodeId?: string
  attempts: TaskAttempt[]
  outputCids: string[]
  /** Byte size of each output, as its node reported it (absent when it did not). */
  outputBytes?: number[]
  /** Automatic mode: what decoding each output takes, as its task measured it and its node reported it. */
  outputMemoryBytes?: number[]
  metrics?: TaskMetrics
  error?: JobError
  /** Earning of the attempt that completed, micro-units; billed once. */
  earning?: number
  machineFactor?: number
  /** How many times this chunk was halved after running out of memory. */
  splitDepth?: number
  /**
   * A second copy of a straggling task, running on another node at the same time (speculative execution): the
   * first of the two to report a result wins, the other is cancelled.
   */
  backup?: { attempt: number, nodeId: string, assignedAt: number }
}

/**
 * A contributor's earning for one attempt that did the work: the task's completed attempt (stored under the task's
 * id), or an attempt its program failed by itself (stored under `taskId/attempt`). `pending` until the job is paid.
 */
export interface EarningRecord {
  taskId: string
  /** Set for a failed attempt's earning; absent for the completed attempt's. */
  attempt?: number
  jobId: string
  nodeId: string
  account: string
  amount: number
  status: 'pending' | 'paid'
  createdAt: number
  paidAt?: number
}

/** What a submitter owes for one job: its completed tasks and the attempts its program failed by itself. */
export interface PaymentRecord {
  jobId: string
  account: string
  amount: number
  contributors: number
  platform: number
  status: 'pending' | 'paid'
  createdAt: number
  paidAt?: number
}

/** The job buckets of the coordinator's database. */
export class JobStore {
  readonly store: Store
  readonly jobs: Repository<JobRecord>
  readonly tasks: Repository<TaskRecord>
  readonly earnings: Repository<EarningRecord>
  readonly payments: Repository<PaymentRecord>

  constructor (store: Store) {
    this.store = store
    this.jobs = store.repository<JobRecord>('jobs')
    this.tasks = store.repository<TaskRecord>('tasks')
    this.earnings = store.repository<EarningRecord>('earnings')
    this.payments = store.repository<PaymentRecord>('payments')
  }

  /** Where an earning is stored: the completed attempt's under the task id, a failed attempt's under `taskId/attempt`. */
  static earningKey (earning: { taskId: string, attempt?: number }): string {
    return earning.attempt === undefined ? earning.taskId : `${earning.taskId}/${earning.attempt}`
  }
}

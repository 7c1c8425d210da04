/**
 * The API's shapes as the UI reads them: from the coordinator's TypeBox schemas (types only; nothing server-side is
 * bundled), with the open objects (`plan`, `metrics`, `cost`) spelled out as far as the UI relies on them.
 */
import type { Static } from 'typebox'
import type * as accounts from '../../../coordinator/src/schemas/accounts.ts'
import type * as analyze from '../../../coordinator/src/schemas/analyze.ts'
import type * as jobs from '../../../coordinator/src/schemas/jobs.ts'
import type * as nodes from '../../../coordinator/src/schemas/nodes.ts'
import type * as tokens from '../../../coordinator/src/schemas/tokens.ts'

export type Account = Static<typeof accounts.AccountView>
export type Stats = Static<typeof jobs.Stats>
export type Payment = Static<typeof jobs.Payment>
export type PaymentList = Static<typeof jobs.PaymentList>
export type Earning = Static<typeof jobs.Earning>
export type EarningList = Static<typeof jobs.EarningList>
export type NodeInfo = Static<typeof nodes.NodeView>
export type MeshInfo = Static<typeof nodes.MeshInfo>
export type CreatedToken = Static<typeof tokens.CreatedToken>
/** A token of the account as listed (never its text); an enrollment token lists the nodes that registered with it. */
export type TokenInfo = Static<typeof tokens.TokenView>
export type AnalyzeRequest = Static<typeof analyze.AnalyzeBody>
export type Analysis = Static<typeof analyze.AnalyzeReply>
export type AnalysisFinding = Analysis['findings'][number]
export type AnalysisBlock = NonNullable<Analysis['blocks']>[number]

/**
 * The statuses of jobs and tasks, from the API's schemas. Each map below names every status, so a status added to a
 * schema must be classed as final or not before the UI compiles.
 */
export type JobStatus = jobs.JobStatus
export type TaskStatus = jobs.TaskStatus

const JOB_STATUS_FINAL = {
  rejected: true, queued: false, running: false, pending_aggregation: false, completed: true, failed: true, cancelled: true
} satisfies Record<JobStatus, boolean>
const TASK_STATUS_FINAL = {
  waiting: false, queued: false, assigned: false, running: false, completed: true, failed: true, cancelled: true, replaced: true
} satisfies Record<TaskStatus, boolean>

const finalOf = (classes: Record<string, boolean>): readonly string[] => Object.keys(classes).filter(status => classes[status] === true)

/** Statuses a job never leaves. */
export const FINAL_JOB_STATUSES: readonly string[] = finalOf(JOB_STATUS_FINAL)
/** Statuses of a task that has stopped running. */
export const FINAL_TASK_STATUSES: readonly string[] = finalOf(TASK_STATUS_FINAL)

export type TaskMetrics = Static<typeof jobs.TaskMetrics>
export type TaskAttempt = Static<typeof jobs.TaskAttempt>
export type JobMetrics = Static<typeof jobs.JobMetrics>
export type JobCost = Static<typeof jobs.JobCost>
/** A task as the API sends it. */
export type Task = Static<typeof jobs.TaskView>

export interface JobFinding {
  rule: string
  message: string
  line: number
  column?: number
  severity?: string
}

/**
 * The job's plan. `level` and `tasks` are always there; the rest depends on how the job was planned (manual and
 * grouped jobs: `mode`, `processTasks`, `aggregation`; automatic jobs may carry `blocks` and `stages`).
 */
export interface Plan {
  level: number
  tasks: number | unknown[]
  [key: string]: unknown
}

export type Job = Omit<Static<typeof jobs.JobView>, 'plan' | 'findings'> & {
  plan: Plan
  findings: JobFinding[]
}

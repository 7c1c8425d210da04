/**
 * The API's shapes as the UI reads them: from the coordinator's TypeBox schemas (types only; nothing server-side is
 * bundled), with the open objects (`plan`, `metrics`, `cost`) spelled out as far as the UI relies on them.
 */
import type { Static } from 'typebox'
import type { AccountView } from '../../../coordinator/src/schemas/accounts.ts'
import type { AnalyzeBody, AnalyzeReply } from '../../../coordinator/src/schemas/analyze.ts'
import type {
  Earning as EarningSchema, EarningList as EarningListSchema, JobCost as JobCostSchema, JobMetrics as JobMetricsSchema, JobView,
  Payment as PaymentSchema, PaymentList as PaymentListSchema, Stats as StatsSchema, TaskAttempt as TaskAttemptSchema,
  TaskMetrics as TaskMetricsSchema, TaskView
} from '../../../coordinator/src/schemas/jobs.ts'
import type { MeshInfo as MeshInfoSchema, NodeView } from '../../../coordinator/src/schemas/nodes.ts'
import type { CreatedToken as CreatedTokenSchema, TokenView } from '../../../coordinator/src/schemas/tokens.ts'

export type Account = Static<typeof AccountView>
export type Stats = Static<typeof StatsSchema>
export type Payment = Static<typeof PaymentSchema>
export type PaymentList = Static<typeof PaymentListSchema>
export type Earning = Static<typeof EarningSchema>
export type EarningList = Static<typeof EarningListSchema>
export type NodeInfo = Static<typeof NodeView>
export type MeshInfo = Static<typeof MeshInfoSchema>
export type CreatedToken = Static<typeof CreatedTokenSchema>
/** A token of the account as listed (never its text); an enrollment token lists the nodes that registered with it. */
export type TokenInfo = Static<typeof TokenView>
export type AnalyzeRequest = Static<typeof AnalyzeBody>
export type Analysis = Static<typeof AnalyzeReply>
export type AnalysisFinding = Analysis['findings'][number]
export type AnalysisBlock = NonNullable<Analysis['blocks']>[number]

export type JobStatus = 'rejected' | 'queued' | 'running' | 'pending_aggregation' | 'completed' | 'failed' | 'cancelled'
export type TaskStatus = 'waiting' | 'queued' | 'assigned' | 'running' | 'completed' | 'failed' | 'cancelled'

export const FINAL_JOB_STATUSES: readonly string[] = ['rejected', 'completed', 'failed', 'cancelled']
export const FINAL_TASK_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled']

export type TaskMetrics = Static<typeof TaskMetricsSchema>
export type TaskAttempt = Static<typeof TaskAttemptSchema>
export type JobMetrics = Static<typeof JobMetricsSchema>
export type JobCost = Static<typeof JobCostSchema>
/** A task as the API sends it. */
export type Task = Static<typeof TaskView>

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

export type Job = Omit<Static<typeof JobView>, 'plan' | 'findings'> & {
  plan: Plan
  findings: JobFinding[]
}

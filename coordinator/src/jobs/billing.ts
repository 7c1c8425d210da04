/**
 * Billing (report §2.3, appendix C.1.7): a contributor earns unit rate × seconds × machine factor × average memory
 * in GB for each task their node completed; the submitter pays 1.2 × the job's sum; the platform keeps the rest.
 * Amounts are integers in micro-units of the currency.
 */
import type { ReportRequest } from '../../../protocols/src/index.ts'
import type { EarningRecord, JobCost, JobRecord, PaymentRecord, TaskMetrics, TaskRecord } from './records.ts'
import type { NodeRecord } from '../store/index.ts'

/** Default unit rate: micro-units per second of one GB on a reference machine (factor 1.0). */
export const DEFAULT_UNIT_RATE = 1_000

/** The submitter pays this multiple of what the contributors earn. */
export const PRICE_FACTOR = 1.2

/** GB as billed: 10^9 bytes. */
export const BYTES_PER_GB = 1e9

/** One task's earning in micro-units, rounded to the nearest unit. */
export function taskEarning (unitRate: number, wallMs: number, machineFactor: number, avgMemoryBytes: number): number {
  return Math.round(unitRate * (wallMs / 1000) * machineFactor * (avgMemoryBytes / BYTES_PER_GB))
}

/** A job's cost from its tasks' earnings. */
export function jobCost (unitRate: number, earnings: number[]): JobCost {
  const contributors = earnings.reduce((sum, amount) => sum + amount, 0)
  // Integer arithmetic: 1.2 × n = 6n / 5, rounded half up.
  const price = Math.floor((contributors * 6 + 2) / 5)
  return { contributors, price, platform: price - contributors, unitRate }
}

/** What an attempt that did the work earns: its measurements and the node's share. */
export interface Billed {
  metrics: TaskMetrics
  earning: number
}

/** Bills the attempt a report describes, on the node that ran it (its machine factor, its owner). */
export function bill (task: TaskRecord, report: ReportRequest, node: NodeRecord, context: { unitRate: number, now: number }, failed: boolean): { billed: Billed, record: EarningRecord } {
  const metrics: TaskMetrics = {
    wallMs: report.metrics?.wallMs ?? 0,
    cpuMs: report.metrics?.cpuMs ?? 0,
    peakMemoryBytes: report.metrics?.peakMemoryBytes ?? 0,
    avgMemoryBytes: report.metrics?.avgMemoryBytes ?? 0
  }
  // An attempt that held the node earns at least one micro-unit: rounding must not make work free (a fork bomb
  // stopped by the process limit in a fraction of a second, with no memory sample, would otherwise cost nothing).
  const earning = Math.max(metrics.wallMs > 0 ? 1 : 0, taskEarning(context.unitRate, metrics.wallMs, node.benchmark, metrics.avgMemoryBytes))
  const record: EarningRecord = {
    taskId: task.id, ...(failed ? { attempt: task.attempt } : {}), jobId: task.jobId, nodeId: node.id, account: node.account, amount: earning, status: 'pending', createdAt: context.now
  }
  return { billed: { metrics, earning }, record }
}

/** Every billed amount of a job's tasks: their completed attempts, and the attempts their program failed. */
export function billedAmounts (tasks: TaskRecord[]): number[] {
  return tasks.flatMap(task => [task.earning ?? 0, ...task.attempts.filter(a => a.outcome !== 'completed').map(a => a.earning ?? 0)]).filter(amount => amount > 0)
}

/** A job that ended: what it costs from what its tasks were billed, and the payment its submitter owes (if any). */
export function ended (job: JobRecord, tasks: TaskRecord[], unitRate: number, now: number): { job: JobRecord, payments: PaymentRecord[] } {
  const amounts = billedAmounts(tasks)
  if (amounts.length === 0) return { job, payments: [] }
  const cost = jobCost(unitRate, amounts)
  const payment: PaymentRecord = {
    jobId: job.id, account: job.account, amount: cost.price, contributors: cost.contributors, platform: cost.platform, status: 'pending', createdAt: now
  }
  return { job: { ...job, cost, payment: 'pending' }, payments: [payment] }
}

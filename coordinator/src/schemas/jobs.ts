import { Type } from 'typebox'
import type { Static } from 'typebox'

/**
 * A job's status: `rejected` (the scanner or the template check refused it; `findings` says why), `queued` (accepted;
 * tasks wait for nodes), `running`, `pending_aggregation` (every task succeeded; the aggregation task runs, the
 * report's Group flow), `completed`, `failed`, `cancelled`.
 */
export const JobStatuses = Type.Union([
  Type.Literal('rejected'), Type.Literal('queued'), Type.Literal('running'), Type.Literal('pending_aggregation'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled')
])
export type JobStatus = Static<typeof JobStatuses>

/** A task's status; `replaced`: a chunk task that ran out of memory, split into two smaller ones (not in the job's list). */
export const TaskStatuses = Type.Union([
  Type.Literal('waiting'), Type.Literal('queued'), Type.Literal('assigned'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled'), Type.Literal('replaced')
])
export type TaskStatus = Static<typeof TaskStatuses>

export const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }) })

export const JobError = Type.Object({ code: Type.String(), message: Type.String(), line: Type.Optional(Type.Integer()) })

/** Measurements of a task's completed attempt; memory is the whole process tree's. */
export const TaskMetrics = Type.Object({
  wallMs: Type.Number(),
  cpuMs: Type.Number(),
  peakMemoryBytes: Type.Number(),
  avgMemoryBytes: Type.Number()
})

/** One assignment of a task to a node. */
export const TaskAttempt = Type.Object({
  attempt: Type.Integer(),
  nodeId: Type.String(),
  assignedAt: Type.Number(),
  endedAt: Type.Optional(Type.Number()),
  outcome: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  /** What the node earned for this attempt (micro-units): the completed one, or one its program failed by itself. */
  earning: Type.Optional(Type.Integer()),
  /** Measurements of a billed attempt. */
  metrics: Type.Optional(TaskMetrics)
})

/** Micro-units: what contributors earn, what the submitter pays (1.2 × that, rounded half up), the platform's share. */
export const JobCost = Type.Object({
  contributors: Type.Integer(),
  price: Type.Integer(),
  platform: Type.Integer(),
  unitRate: Type.Number()
})

export const JobMetrics = Type.Object({
  wallMs: Type.Number(),
  /** Sum over the tasks' winning attempts. */
  cpuMs: Type.Number(),
  taskWallMs: Type.Number(),
  peakMemoryBytes: Type.Number(),
  attempts: Type.Integer()
})

export const TaskView = Type.Object({
  id: Type.String(),
  index: Type.Integer(),
  entry: Type.String(),
  status: TaskStatuses,
  attempt: Type.Integer(),
  failures: Type.Integer(),
  nodeId: Type.Optional(Type.String()),
  metrics: Type.Optional(TaskMetrics),
  error: Type.Optional(JobError),
  earning: Type.Optional(Type.Integer()),
  memoryBytes: Type.Optional(Type.Integer()),
  dependsOn: Type.Optional(Type.Array(Type.String())),
  attempts: Type.Optional(Type.Array(TaskAttempt)),
  /** A later round's chunk task: the round-1 chunk task whose node holds its chunk. */
  near: Type.Optional(Type.String()),
  /** Multi-round plans: `stage` (combines and broadcasts) or `chunk` task of round `round` (2 onwards). */
  role: Type.Optional(Type.String()),
  round: Type.Optional(Type.Integer())
})

/** A job as its submitter sees it (the script and chunk ids stay on the coordinator). */
export const JobView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  mode: Type.String(),
  status: JobStatuses,
  createdAt: Type.Number(),
  startedAt: Type.Optional(Type.Number()),
  finishedAt: Type.Optional(Type.Number()),
  error: Type.Optional(JobError),
  findings: Type.Array(Type.Object({}, { additionalProperties: true })),
  inputs: Type.Array(Type.Object({ name: Type.String(), size: Type.Number(), chunks: Type.Integer() })),
  plan: Type.Object({}, { additionalProperties: true }),
  cost: Type.Optional(JobCost),
  payment: Type.Optional(Type.String()),
  metrics: Type.Optional(JobMetrics),
  progress: Type.Object({ total: Type.Integer(), completed: Type.Integer(), running: Type.Integer(), failed: Type.Integer() }),
  tasks: Type.Optional(Type.Array(TaskView))
})

export const JobList = Type.Object({ jobs: Type.Array(JobView) })

export const Payment = Type.Object({
  jobId: Type.String(),
  amount: Type.Integer(),
  contributors: Type.Integer(),
  platform: Type.Integer(),
  status: Type.String(),
  createdAt: Type.Number(),
  paidAt: Type.Optional(Type.Number())
})

export const PaymentList = Type.Object({ payments: Type.Array(Payment), pending: Type.Integer(), paid: Type.Integer() })

export const Earning = Type.Object({
  taskId: Type.String(),
  /** A failed attempt's earning (its program failed by itself); absent for a completed task's. */
  attempt: Type.Optional(Type.Integer()),
  jobId: Type.String(),
  nodeId: Type.String(),
  amount: Type.Integer(),
  status: Type.String(),
  createdAt: Type.Number(),
  paidAt: Type.Optional(Type.Number())
})

export const EarningList = Type.Object({ earnings: Type.Array(Earning), pending: Type.Integer(), paid: Type.Integer() })

export const Stats = Type.Object({
  activeNodes: Type.Integer(),
  runningJobs: Type.Integer(),
  lifetimeEarnings: Type.Integer(),
  completedJobs: Type.Integer()
})

/**
 * The task state machine: each function takes the state as it is and an event (a report, a placement, a dead node,
 * a cancel…) and returns the {@link Change} that event makes — the records to store in one batch and what to do
 * after — without touching the store, the mesh or the clock on its own. `JobService` applies the change.
 *
 * The few transitions that need bytes (combining manual results, halving a chunk) get them through `ChunkIO`.
 */
import { ReportRequest } from '../../../protocols/src/index.ts'
import { formatBytes } from '../planner/index.ts'
import { jobCost, taskEarning } from './billing.ts'
import { INPUT_CHUNK_SIZE, MAX_INPUT_ATTEMPTS, MAX_RETRIES, MAX_SPLIT_DEPTH, PROGRAM_FAILURES } from './policy.ts'
import { FINAL_JOB_STATUSES } from './records.ts'
import { sizedTask } from './sizing.ts'
import { nodesOf } from './task-table.ts'
import type { Change, Effect, JobState } from './state.ts'
import type {
  EarningRecord, JobError, JobRecord, PaymentRecord, TaskAttempt, TaskMetrics, TaskRecord
} from './records.ts'
import type { NodeSession } from '../nodes/registry.ts'
import type { NodeRecord } from '../store/index.ts'

/** Chunk bytes for the transitions that need them. */
export interface ChunkIO {
  read(cid: string): Promise<Uint8Array>
  /** Stores bytes as an input chunk and announces it in the mesh; resolves to its CID. */
  store(bytes: Uint8Array): Promise<string>
  /** Stores bytes the coordinator serves itself (a combined result), unannounced. */
  put(bytes: Uint8Array): Promise<string>
}

/** What the report-driven transitions need besides the state. */
export interface ReportContext {
  unitRate: number
  /** The most memory any alive node offers (bytes). */
  largestNode: number
  io: ChunkIO
  now: number
}

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

// -----------------------------------------------------------------------------------------------------------------
// Billing

/** What an attempt that did the work earns: its measurements and the node's share. */
interface Billed {
  metrics: TaskMetrics
  earning: number
}

/** Bills the attempt a report describes, on the node that ran it (its machine factor, its owner). */
function bill (task: TaskRecord, report: ReportRequest, node: NodeRecord, context: ReportContext, failed: boolean): { billed: Billed, record: EarningRecord } {
  const metrics: TaskMetrics = {
    wallMs: report.metrics?.wallMs ?? 0,
    cpuMs: report.metrics?.cpuMs ?? 0,
    peakMemoryBytes: report.metrics?.peakMemoryBytes ?? 0,
    avgMemoryBytes: report.metrics?.avgMemoryBytes ?? 0
  }
  const earning = taskEarning(context.unitRate, metrics.wallMs, node.benchmark, metrics.avgMemoryBytes)
  const record: EarningRecord = {
    taskId: task.id, ...(failed ? { attempt: task.attempt } : {}), jobId: task.jobId, nodeId: node.id, account: node.account, amount: earning, status: 'pending', createdAt: context.now
  }
  return { billed: { metrics, earning }, record }
}

/** Every billed amount of a job's tasks: their completed attempts, and the attempts their program failed. */
function billedAmounts (tasks: TaskRecord[]): number[] {
  return tasks.flatMap(task => [task.earning ?? 0, ...task.attempts.filter(a => a.outcome !== 'completed').map(a => a.earning ?? 0)]).filter(amount => amount > 0)
}

/** A job that ended: what it costs from what its tasks were billed, and the payment its submitter owes (if any). */
function ended (job: JobRecord, tasks: TaskRecord[], unitRate: number, now: number): { job: JobRecord, payments: PaymentRecord[] } {
  const amounts = billedAmounts(tasks)
  if (amounts.length === 0) return { job, payments: [] }
  const cost = jobCost(unitRate, amounts)
  const payment: PaymentRecord = {
    jobId: job.id, account: job.account, amount: cost.price, contributors: cost.contributors, platform: cost.platform, status: 'pending', createdAt: now
  }
  return { job: { ...job, cost, payment: 'pending' }, payments: [payment] }
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

/**
 * A node's final report of a task (completed or failed), from the node of its attempt or of its backup copy. Two
 * copies: the first result wins and the other is cancelled; one copy failing leaves the other running alone.
 */
export async function reported (state: JobState, report: ReportRequest, node: NodeRecord, context: ReportContext): Promise<Change> {
  const { now } = context
  let current = state.tasks.get(report.taskId)
  if (current === undefined || (current.status !== 'assigned' && current.status !== 'running')) return {}
  const backup = current.backup
  const fromCopy = backup !== undefined && backup.attempt === report.attempt && backup.nodeId === node.id
  if (!fromCopy && current.attempt !== report.attempt) return {}
  if (report.state !== ReportRequest.State.COMPLETED && backup !== undefined) {
    // One of two copies failed: the other carries on alone (if it fails the same way, that one counts).
    const code = report.errorCode === '' ? 'runtime_error' : report.errorCode
    return { tasks: [fromCopy ? backupDropped(current, code, report.errorMessage, now) : backupPromoted(current, code, report.errorMessage, now)] }
  }
  const effects: Effect[] = []
  const supersede = (nodeId: string | undefined): void => {
    if (nodeId !== undefined) effects.push({ type: 'cancel', taskId: report.taskId, nodeId, reason: 'a copy on another node finished first' })
  }
  if (fromCopy && backup !== undefined) {
    // The copy finished first: it becomes the task's attempt; the straggler is superseded.
    supersede(current.nodeId)
    current = { ...current, attempt: backup.attempt, nodeId: backup.nodeId, attempts: closeAttempt(current.attempts, current.attempt, 'superseded', 'a copy on another node finished first', now) }
    delete current.backup
  } else if (backup !== undefined) {
    supersede(backup.nodeId)
    current = { ...current, attempts: closeAttempt(current.attempts, backup.attempt, 'superseded', 'the original finished first', now) }
    delete current.backup
  }
  const change = report.state === ReportRequest.State.COMPLETED
    ? await completed(state, current, report, node, context)
    : await failed(state, current, report, node, context)
  return { ...change, effects: [...effects, ...(change.effects ?? [])] }
}

/**
 * A task completed: its earning is recorded; tasks waiting for it may be queued (with its outputs as inputs); the
 * aggregation starts, or the job completes and is billed.
 */
export async function completed (state: JobState, task: TaskRecord, report: ReportRequest, node: NodeRecord, context: ReportContext): Promise<Change> {
  const job = state.jobs.get(task.jobId)
  if (job === undefined) return {}
  const { now, unitRate } = context
  const { billed, record } = bill(task, report, node, context, false)
  const done: TaskRecord = {
    ...task,
    status: 'completed',
    outputCids: report.outputCids,
    ...(report.outputBytes.length === report.outputCids.length && report.outputBytes.every(b => Number.isSafeInteger(b) && b >= 0) ? { outputBytes: report.outputBytes } : {}),
    metrics: billed.metrics,
    earning: billed.earning,
    machineFactor: node.benchmark,
    attempts: closeAttempt(task.attempts, task.attempt, 'completed', undefined, now, billed)
  }
  const change: Change = { tasks: [done], earnings: [record] }
  // The measurements are in: the job can be planned.
  if (task.entry === 'calibrate') return { ...change, effects: [{ type: 'plan', jobId: job.id }] }
  // Only the last completions can start the aggregation or end the job: counted, so that the others do not look
  // at every task of the job (a 10,000-task job would look at 10^8). The parts of a level-2 job (a handful) wait
  // for each other in any order: each completion looks.
  const last = job.taskIds.length - (state.tasks.completedIn(job.id) + 1) <= 1
  if ((job.status !== 'running' && job.status !== 'pending_aggregation') || (!last && job.generated?.segments === undefined)) return change
  const view = (id: string): TaskRecord | undefined => id === done.id ? done : state.tasks.get(id)
  const tasks = job.taskIds.map(view).filter((t): t is TaskRecord => t !== undefined)
  const aggregate = tasks.find(t => t.entry === 'aggregate')
  // Tasks waiting for others (the aggregator, parts of main) are queued once all they depend on completed,
  // with those tasks' outputs as their last inputs.
  const ready = tasks
    .filter(t => t.status === 'waiting' && t.dependsOn.every(id => view(id)?.status === 'completed'))
    .map((t): TaskRecord => ({ ...t, status: 'queued', inputCids: [...t.inputCids, ...t.dependsOn.flatMap(id => view(id)?.outputCids ?? [])] }))
  // The aggregator (or a stage) of keyed partials is sized from what the chunks sent, or the job cannot end.
  for (const [i, t] of ready.entries()) {
    const sized = sizedTask(t, t.dependsOn.map(view), context.largestNode, t.entry === 'aggregate' ? 'the aggregator' : `task ${t.index} (a stage between rounds)`)
    if ('error' in sized) {
      const failedTask: TaskRecord = { ...t, status: 'failed', error: sized.error }
      const failure = jobFailed(state, failedTask, sized.error, now, context.unitRate, [done])
      return { ...failure, earnings: [record, ...(failure.earnings ?? [])] }
    }
    ready[i] = sized.task
  }
  change.tasks?.push(...ready)
  if (aggregate !== undefined && ready.some(t => t.id === aggregate.id)) {
    change.jobs = [{ ...job, status: 'pending_aggregation' }]
  } else if (tasks.every(t => t.status === 'completed')) {
    const resultCid = aggregate !== undefined
      ? aggregate.outputCids[0]
      : (job.mode === 'auto' ? tasks.at(-1)?.outputCids[0] : await combine(tasks.filter(t => t.entry !== 'aggregate'), context.io))
    const all = [...(job.calibration !== undefined ? [state.tasks.get(job.calibration.taskId)].filter(t => t !== undefined) : []), ...tasks]
    const billing = ended({ ...job, status: 'completed', finishedAt: now, ...(resultCid !== undefined ? { resultCid } : {}), metrics: jobMetrics(job, all, now) }, all, unitRate, now)
    change.jobs = [billing.job]
    change.payments = billing.payments
    change.log = [{ level: 'info', data: { job: job.id, cost: billing.job.cost }, message: 'job completed' }]
  }
  return change
}

/** Manual mode without aggregate(): the result is the list of the tasks' dicts, in chunk order. */
async function combine (tasks: TaskRecord[], io: ChunkIO): Promise<string> {
  const decoder = new TextDecoder()
  const parts: string[] = []
  for (const task of tasks) {
    const cid = task.outputCids[0]
    parts.push(cid === undefined ? 'null' : decoder.decode(await io.read(cid)))
  }
  return await io.put(new TextEncoder().encode(`[${parts.join(',')}]`))
}

/**
 * A task failed. Lost inputs are retried without counting. A failure of the submitter's own program is billed, and
 * repeats wherever it runs: a level-3 chunk out of memory is halved, an automatic task out of memory runs again with
 * twice the memory where a node offers it (counted as an attempt, never above a `taskMemory` the submitter chose),
 * and otherwise the job fails at once. Other failures (the sandbox's, the node's) are retried elsewhere up to
 * `MAX_RETRIES` times, then fail the job.
 */
export async function failed (state: JobState, task: TaskRecord, report: ReportRequest, node: NodeRecord, context: ReportContext): Promise<Change> {
  const { now } = context
  const code = report.errorCode === '' ? 'runtime_error' : report.errorCode
  const message = report.errorMessage === '' ? `the task failed with ${code}` : report.errorMessage
  const job = state.jobs.get(task.jobId)
  // A node that could not get the inputs (the mesh was briefly without a provider) is not the task's failure,
  // up to a point: a chunk gone for good must still end the job.
  if (code === 'input_unavailable' && task.attempts.length < MAX_INPUT_ATTEMPTS) return requeued(task, code, message, false, now)
  if (task.entry === 'calibrate') return calibrationFailed(task, code, message, node, report, context)
  if (job === undefined || !PROGRAM_FAILURES.has(code)) {
    if (task.failures + 1 > MAX_RETRIES) {
      const failedTask: TaskRecord = { ...task, status: 'failed', failures: task.failures + 1, error: { code, message }, attempts: closeAttempt(task.attempts, task.attempt, code, message, now) }
      return jobFailed(state, failedTask, { code, message: `task ${task.index} failed ${failedTask.failures} times; last: ${message}` }, now, context.unitRate)
    }
    return requeued(task, code, message, true, now)
  }
  // The submitter's program failed by itself: the node did the work, the submitter pays for it.
  const { billed, record } = bill(task, report, node, context, true)
  const closed = closeAttempt(task.attempts, task.attempt, code, message, now, billed)
  const withBill = (change: Change): Change => ({ ...change, earnings: [...(change.earnings ?? []), record] })
  // A job of several rounds keeps its chunks as they are: each later round runs on the same chunks.
  if (code === 'memory_limit' && task.entry === 'main' && job.generated?.chunk !== undefined && job.generated.segments === undefined && (task.splitDepth ?? 0) < MAX_SPLIT_DEPTH) {
    // A chunk of a split job that does not fit is split again: two tasks on its halves take its place.
    const split = await chunkSplit(state, job, { ...task, attempts: closed }, message, context)
    if (split !== undefined) return withBill(split)
  }
  if (code === 'memory_limit' && job.mode === 'auto' && job.explicitMemory !== true && context.largestNode > task.memoryBytes && task.failures + 1 <= MAX_RETRIES) {
    // A node offers more: the task runs again with twice the memory (at most that node's).
    const queued: TaskRecord = { ...task, status: 'queued', failures: task.failures + 1, memoryBytes: Math.min(context.largestNode, task.memoryBytes * 2), attempts: closed }
    delete queued.nodeId
    return withBill({ tasks: [queued], log: [{ level: 'info', data: { task: task.id, memoryBytes: queued.memoryBytes, failures: queued.failures }, message: 'task out of memory: it runs again with more' }] })
  }
  const failedTask: TaskRecord = { ...task, status: 'failed', failures: task.failures + 1, error: { code, message }, attempts: closed }
  return withBill(jobFailed(state, failedTask, programError(job, task, code, message), now, context.unitRate))
}

/**
 * The calibration failed: retried elsewhere when the node or sandbox failed it; when the job's program failed on the
 * sample (billed), or after the retries, the job is planned on the static estimate instead.
 */
function calibrationFailed (task: TaskRecord, code: string, message: string, node: NodeRecord, report: ReportRequest, context: ReportContext): Change {
  const program = PROGRAM_FAILURES.has(code)
  if (!program && task.failures + 1 <= MAX_RETRIES) return requeued(task, code, message, true, context.now)
  const billing = program ? bill(task, report, node, context, true) : undefined
  const failedTask: TaskRecord = {
    ...task, status: 'failed', failures: task.failures + 1, error: { code, message }, attempts: closeAttempt(task.attempts, task.attempt, code, message, context.now, billing?.billed)
  }
  return {
    tasks: [failedTask],
    ...(billing !== undefined ? { earnings: [billing.record] } : {}),
    effects: [{ type: 'plan', jobId: task.jobId }],
    log: [{ level: 'warn', data: { task: task.id, code, message: message.split('\n')[0] }, message: 'calibration failed: the job is planned on the static estimate' }]
  }
}

/** Why a job failed when its program did, in the submitter's terms: what happened, and what they can change. */
function programError (job: JobRecord, task: TaskRecord, code: string, message: string): JobError {
  const what = task.entry === 'aggregate'
    ? (job.mode === 'auto' ? 'the aggregator (combining the chunks\' results and the rest of main)' : 'the aggregation')
    : task.entry === 'segment' ? (task.script !== undefined ? `task ${task.index} (round ${Math.floor(task.script / 2) + 2})` : `part ${task.index + 1} of main`) : job.mode === 'auto' && job.taskIds.length === 1 ? 'the program' : `task ${task.index}`
  if (code === 'memory_limit' && job.mode === 'auto' && job.explicitMemory !== true) {
    return {
      code: 'does_not_fit',
      message: `${what} ran out of memory at its limit of ${formatBytes(task.memoryBytes)}, and no node offers more; the analyzer's estimate was too low. ${message.split('\n')[0] ?? ''}`
    }
  }
  if (code === 'memory_limit') {
    return { code, message: `${what} ran out of memory at its limit of ${formatBytes(task.memoryBytes)} (the task memory you chose): give it more, or leave it unset in automatic mode. ${message.split('\n')[0] ?? ''}` }
  }
  return { code, message: `${what} failed: ${message}` }
}

/**
 * Replaces a level-3 chunk task killed for memory by two tasks on the halves of its input (cut on a line
 * boundary; a csv half gets the header row). The aggregator takes their partial results in the same place, in
 * order, so the combined result is unchanged. Undefined when the chunk cannot be halved (a single record).
 */
async function chunkSplit (state: JobState, job: JobRecord, task: TaskRecord, message: string, context: ReportContext): Promise<Change | undefined> {
  const { io, now } = context
  const header = job.csvHeader
  const own = header !== undefined && task.inputCids[0] === header ? task.inputCids.slice(1) : task.inputCids
  let body = Buffer.concat(await Promise.all(own.map(async cid => await io.read(cid))))
  if (header !== undefined && task.inputCids[0] !== header) body = body.subarray(body.indexOf(0x0a) + 1) // the first part holds the header itself
  const middle = body.indexOf(0x0a, Math.floor(body.byteLength / 2))
  const cut = middle >= 0 && middle + 1 < body.byteLength ? middle + 1 : body.lastIndexOf(0x0a, Math.floor(body.byteLength / 2) - 1) + 1
  if (cut <= 0 || cut >= body.byteLength) return undefined
  const halves: string[][] = []
  for (const half of [body.subarray(0, cut), body.subarray(cut)]) {
    const cids: string[] = []
    for (let offset = 0; offset < half.byteLength; offset += INPUT_CHUNK_SIZE) cids.push(await io.store(half.subarray(offset, offset + INPUT_CHUNK_SIZE)))
    halves.push(header !== undefined ? [header, ...cids] : cids)
  }
  const next = Math.max(...job.taskIds.map(id => state.tasks.get(id)?.index ?? 0), task.index) + 1
  const parts = halves.map((cids, i): TaskRecord => ({
    ...newTask(job, { index: next + i, entry: 'main', inputName: '', inputCids: cids }),
    inputName: task.inputName,
    splitDepth: (task.splitDepth ?? 0) + 1,
    memoryBytes: task.memoryBytes,
    timeoutMs: task.timeoutMs
  }))
  const replaced: TaskRecord = {
    ...task,
    status: 'replaced',
    attempts: closeAttempt(task.attempts, task.attempt, 'memory_limit', message, now),
    error: { code: 'memory_limit', message: `split into tasks ${parts[0]?.index ?? ''} and ${parts[1]?.index ?? ''}` }
  }
  const swap = (ids: string[]): string[] => ids.flatMap(id => id === task.id ? parts.map(p => p.id) : [id])
  const aggregators = state.tasksOf(job).filter(t => t.dependsOn.includes(task.id)).map(t => ({ ...t, dependsOn: swap(t.dependsOn) }))
  const updatedJob: JobRecord = { ...job, taskIds: swap(job.taskIds), plan: { ...job.plan, tasks: job.taskIds.length + 1, resplit: ((job.plan.resplit as number | undefined) ?? 0) + 1 } }
  return {
    tasks: [replaced, ...parts, ...aggregators],
    jobs: [updatedJob],
    log: [{ level: 'warn', data: { task: task.id, into: parts.map(p => p.id) }, message: 'chunk task out of memory: split in two' }]
  }
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

/**
 * A node's report of a task it ran, as transitions of the task state machine (see transitions.ts): a completion (its
 * earning, the tasks waiting for it queued, the aggregation started or the job billed) or a failure (retried,
 * given more memory, halved, or the job failed with the submitter's error).
 */
import { ReportRequest, formatBytes } from '../../../protocols/src/index.ts'
import { bill, ended } from './billing.ts'
import { INPUT_CHUNK_SIZE, MAX_INPUT_ATTEMPTS, MAX_RETRIES, MAX_SPLIT_DEPTH, PROGRAM_FAILURES } from './policy.ts'
import { sizedTask } from './sizing.ts'
import { backupDropped, backupPromoted, closeAttempt, jobFailed, jobMetrics, newTask, requeued } from './transitions.ts'
import type { Change, Effect, JobState } from './state.ts'
import type { JobError, JobRecord, TaskRecord } from './records.ts'
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
    ...(report.outputMemoryBytes.length === report.outputCids.length && report.outputMemoryBytes.every(b => Number.isSafeInteger(b) && b >= 0) ? { outputMemoryBytes: report.outputMemoryBytes } : {}),
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

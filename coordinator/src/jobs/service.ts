/**
 * The job → task state machine: accepts jobs (scanner first), splits their input into content-addressed chunks,
 * places tasks on nodes and pushes the assignments over libp2p, applies reports exactly once, re-queues the tasks
 * of dead nodes, retries failures elsewhere, runs aggregation, and bills. Every transition is one LevelDB batch;
 * memory only mirrors the store, and `start()` rebuilds it after a crash.
 *
 * Events (`job`, `task`) feed the server-sent event streams of the HTTP API.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { createReadStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import PQueue from 'p-queue'
import { analyze, calibrate, formatOf, isBlocking, sampleInput } from '../../../analyzer/src/index.ts'
import { PlanError, planAuto, planView, sequentialBytes } from '../planner/index.ts'
import { ReportRequest, ReportResponse, cutParts, parseCid } from '../../../protocols/src/index.ts'
import { DEFAULT_UNIT_RATE, jobCost, taskEarning } from './billing.ts'
import { NotAJsonArrayError, jsonArrayToLines } from './json-lines.ts'
import { FINAL_JOB_STATUSES, JobStore } from './records.ts'
import { TaskTable, nodesOf } from './task-table.ts'
import type {
  EarningRecord, Finding, JobError, JobMode, JobRecord, PaymentRecord, TaskAttempt, TaskMetrics, TaskRecord
} from './records.ts'
import type { NodeRegistry, NodeSession } from '../nodes/registry.ts'
import type { Mesh } from '../plugins/mesh.ts'
import type { NodeRecord, Store } from '../store/index.ts'
import type { AnalysisReport, CalibrationRunner, InputFormat } from '../../../analyzer/src/index.ts'
import type { RequestContext } from '../../../protocols/src/index.ts'
import type { FastifyBaseLogger } from 'fastify'

/** A task is tried this many times after its first failure, each on another node where one exists. */
export const MAX_RETRIES = 3
/** A node that refused a task or could not be reached for it is not offered that task again for this long (ms). */
const SHUN_MS = 30_000
/**
 * Assignments pushed to one node at once. libp2p resets a peer's streams of one protocol past 32 open at once, and a
 * reset assignment counts as an unreachable node; a node offering much memory can take hundreds of small tasks.
 */
const MAX_PUSHES_PER_NODE = 16
/** Outcomes that are the task's own failures (not the node's or the mesh's). */
const OWN_FAILURE = /^(runtime_error|memory_limit|time_limit|process_limit|output_limit|sandbox_error)$/
/** A chunk task out of memory is halved at most this many times (16 pieces); then it fails like any task. */
const MAX_SPLIT_DEPTH = 4
/** Assignments a task may lose to unavailable inputs before that counts as its failure. */
export const MAX_INPUT_ATTEMPTS = 8
export const DEFAULT_TASK_MEMORY = 512 * 1024 * 1024
export const DEFAULT_TASK_TIMEOUT = 10 * 60_000
/** Inputs are stored as chunks of about this size, cut on line boundaries. */
export const INPUT_CHUNK_SIZE = 8 * 1024 * 1024
export const MAX_TASKS = 10_000
/** Automatic mode: a task gets its estimate × this margin (at least `MIN_AUTO_TASK_MEMORY`, at most its node). */
const AUTO_MEMORY_MARGIN = 1.5
const MIN_AUTO_TASK_MEMORY = 128 * 1024 * 1024
/**
 * Speculative execution: a running task is a straggler once it has run this many times the median wall time of its
 * job's completed tasks of the same kind (and at least `STRAGGLER_MIN_MS`); an idle node then runs a copy of it.
 */
const STRAGGLER_FACTOR = 1.5
const STRAGGLER_MIN_MS = 1_000
/** DHT announcements of input chunks running at once. */
const ANNOUNCE_CONCURRENCY = 16
/** How often running tasks are checked for stragglers (ms). */
const STRAGGLER_CHECK_MS = 500
/** Bytes read from the start of an input to sample its elements for the memory estimate. */
const SAMPLE_BYTES = 256 * 1024
/** Automatic jobs with fewer elements are not calibrated: a split could not pay for the measurement. */
const CALIBRATE_MIN_ELEMENTS = 1000
/** Calibration at submission runs on this many elements: enough for time per element, short enough to wait for. */
const CALIBRATION_ELEMENTS = 400
/**
 * Seconds the calibration's measured runs may take at submission: a CPU-heavy job is measured on fewer elements
 * (at least two prefix sizes) rather than delaying its start.
 */
const CALIBRATION_BUDGET_SECONDS = 0.2

export interface JobServiceOptions {
  store: Store
  mesh: Mesh
  registry: NodeRegistry
  log: FastifyBaseLogger
  /** Micro-units per second × GB on a reference machine. */
  unitRate?: number
  /**
   * Runs the analyzer's calibration harness in a sandbox (the CLI passes the node's bubblewrap runner). Without
   * it, automatic jobs are planned on the static estimate.
   */
  calibrationRunner?: CalibrationRunner
}

/** What a submitter sends; input files are already on the coordinator's disk (uploads stream there). */
export interface JobSubmission {
  account: string
  name: string
  mode: JobMode
  /** The job's source; bytes when they are not valid UTF-8 (the analyzer rejects them). */
  script: string | Uint8Array
  aggregateScript?: string | Uint8Array
  inputs: Array<{ name: string, path: string }>
  /** Manual mode: number of tasks (chunks of the input). */
  tasks?: number
  taskMemoryBytes?: number
  taskTimeoutMs?: number
}

/** Raised for a submission that cannot be a job (400): not the scanner's findings, which make a rejected job. */
export class JobUsageError extends Error {
  override name = 'JobUsageError'
}

export interface JobServiceEvents {
  job: [JobRecord]
  task: [TaskRecord]
}

export class JobService extends EventEmitter<JobServiceEvents> {
  readonly db: JobStore
  private readonly mesh: Mesh
  private readonly registry: NodeRegistry
  private readonly log: FastifyBaseLogger
  private readonly unitRate: number
  private readonly calibrationRunner: CalibrationRunner | undefined
  private readonly jobs = new Map<string, JobRecord>()
  private readonly tasks = new TaskTable()
  /** Queued task ids, oldest first. */
  private readonly queue: string[] = []
  /** Transitions run one at a time, in order. */
  private serial: Promise<unknown> = Promise.resolve()
  private scheduling = false
  private rescheduling = false
  private closed = false
  private retryTimer: NodeJS.Timeout | undefined
  private stragglerTimer: NodeJS.Timeout | undefined
  /** DHT announcements of input chunks, a few at a time. */
  private readonly announcements = new PQueue({ concurrency: ANNOUNCE_CONCURRENCY })
  /** Per node: assignments in flight, and the pushes waiting for one of them to end. */
  private readonly pushSlots = new Map<string, { active: number, waiting: Array<() => void> }>()

  constructor (options: JobServiceOptions) {
    super()
    this.setMaxListeners(Infinity)
    this.db = new JobStore(options.store)
    this.mesh = options.mesh
    this.registry = options.registry
    this.log = options.log
    this.unitRate = options.unitRate ?? DEFAULT_UNIT_RATE
    this.calibrationRunner = options.calibrationRunner
  }

  /** Loads the state machine from the store, hooks node events and places whatever waits. */
  async start (): Promise<void> {
    for await (const job of this.db.jobs.values()) this.jobs.set(job.id, job)
    const queued: TaskRecord[] = []
    for await (const task of this.db.tasks.values()) {
      this.tasks.set(task.id, task)
      if (task.status === 'queued') queued.push(task)
    }
    queued.sort((a, b) => (this.jobs.get(a.jobId)?.createdAt ?? 0) - (this.jobs.get(b.jobId)?.createdAt ?? 0) || a.index - b.index)
    this.queue.push(...queued.map(task => task.id))
    this.registry.on('node:alive', () => { this.schedule() })
    this.registry.on('node:reattached', session => { this.reconcile(session) })
    this.registry.on('node:heartbeat', session => { this.reconcile(session) })
    this.registry.on('node:dead', node => { this.transition(async () => { await this.nodeDied(node) }).catch(err => { this.log.error({ err }, 'requeueing a dead node\'s tasks failed') }) })
    this.reprovide()
    this.stragglerTimer = setInterval(() => { if (this.queue.length === 0 && this.stragglers().length > 0) this.schedule() }, STRAGGLER_CHECK_MS)
    this.stragglerTimer.unref()
    const running = [...this.tasks.values()].filter(task => task.status === 'assigned' || task.status === 'running').length
    this.log.info({ jobs: this.jobs.size, queued: this.queue.length, running }, 'job state loaded')
    this.schedule()
  }

  /**
   * Announces again, in the background, the chunks unfinished tasks need: DHT provider records live in memory, so
   * after a restart the mesh no longer knows the coordinator holds them.
   */
  private reprovide (): void {
    const cids = new Set<string>()
    for (const task of this.tasks.values()) {
      if (['completed', 'failed', 'cancelled'].includes(task.status)) continue
      for (const cid of task.inputCids) cids.add(cid)
    }
    for (const cid of cids) {
      const parsed = parseCid(cid)
      this.announcements.add(async () => {
        if (await this.mesh.chunks.store.has(parsed)) await this.mesh.chunks.provide(parsed)
      }).catch(err => { this.log.debug({ cid, err: err?.message }, 'could not announce a chunk again') })
    }
  }

  close (): void {
    this.closed = true
    clearTimeout(this.retryTimer)
    clearInterval(this.stragglerTimer)
    this.announcements.clear()
  }

  job (id: string): JobRecord | undefined {
    return this.jobs.get(id)
  }

  /** The account's jobs, newest first. */
  list (account: string): JobRecord[] {
    return [...this.jobs.values()].filter(job => job.account === account).sort((a, b) => b.createdAt - a.createdAt)
  }

  tasksOf (job: JobRecord): TaskRecord[] {
    return job.taskIds.map(id => this.tasks.get(id)).filter((task): task is TaskRecord => task !== undefined)
  }

  /** The result exactly as Python wrote it, or undefined while there is none. */
  async resultText (job: JobRecord): Promise<string | undefined> {
    if (job.resultCid === undefined) return undefined
    return new TextDecoder().decode(await this.mesh.chunks.read(parseCid(job.resultCid)))
  }

  /** Counts for the landing page. */
  stats (): { runningJobs: number, queuedTasks: number } {
    let runningJobs = 0
    for (const job of this.jobs.values()) if (job.status === 'running' || job.status === 'pending_aggregation' || job.status === 'queued') runningJobs++
    return { runningJobs, queuedTasks: this.queue.length }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Submission

  /** Scans, stores the input as chunks and the job with its tasks in one batch, then places the tasks. */
  async submit (submission: JobSubmission): Promise<JobRecord> {
    const { mode } = submission
    if (submission.inputs.length === 0 && mode !== 'auto') throw new JobUsageError(`a ${mode} job needs at least one input file`)
    if (mode === 'grouped' && submission.aggregateScript === undefined) throw new JobUsageError('a grouped job needs an aggregation script (--aggregate)')
    if (mode === 'auto' && submission.inputs.length > 1) throw new JobUsageError('an automatic job takes one input file; use --mode grouped for several')
    if (mode === 'manual' && submission.inputs.length > 1) throw new JobUsageError('a manual job takes one input file (split into --tasks chunks); use --mode grouped for several')
    const taskCount = mode === 'manual' ? (submission.tasks ?? 1) : mode === 'grouped' ? submission.inputs.length : 1
    if (!Number.isInteger(taskCount) || taskCount < 1 || taskCount > MAX_TASKS) throw new JobUsageError(`tasks must be an integer from 1 to ${MAX_TASKS}`)

    const id = randomUUID()
    const now = Date.now()
    const base: JobRecord = {
      id,
      account: submission.account,
      name: submission.name,
      mode,
      status: 'queued',
      createdAt: now,
      script: typeof submission.script === 'string' ? submission.script : '',
      ...(typeof submission.aggregateScript === 'string' ? { aggregateScript: submission.aggregateScript } : {}),
      inputs: [],
      taskMemoryBytes: submission.taskMemoryBytes ?? DEFAULT_TASK_MEMORY,
      taskTimeoutMs: submission.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT,
      taskIds: [],
      findings: [],
      plan: { level: 1, tasks: taskCount }
    }

    const rejection = this.scan(submission)
    if (rejection === undefined && (typeof submission.script !== 'string' || (submission.aggregateScript !== undefined && typeof submission.aggregateScript !== 'string'))) {
      throw new JobUsageError('the scripts must be UTF-8 text')
    }
    if (rejection !== undefined) {
      const job: JobRecord = { ...base, status: 'rejected', finishedAt: now, findings: rejection.findings, error: rejection.error, plan: { level: 0, tasks: 0 } }
      await this.transition(async () => {
        await this.db.store.batch([this.db.jobs.putOp(job.id, job)])
        this.jobs.set(job.id, job)
      })
      this.emit('job', job)
      return job
    }

    if (mode === 'auto') {
      let planned: Awaited<ReturnType<JobService['planAutomatic']>>
      try {
        planned = await this.planAutomatic(submission, base)
      } catch (err: any) {
        if (!(err instanceof PlanError)) throw err
        const job: JobRecord = {
          ...base, status: 'failed', finishedAt: now, error: { code: 'does_not_fit', message: err.message, line: err.line }, plan: { level: 0, tasks: 0 }
        }
        await this.transition(async () => {
          await this.db.store.batch([this.db.jobs.putOp(job.id, job)])
          this.jobs.set(job.id, job)
        })
        this.emit('job', job)
        return job
      }
      return await this.accept(planned.job, planned.tasks)
    }

    // Input chunks are written (and provided) before the job exists: an accepted job always has its data.
    const parts: Array<{ name: string, cids: string[] }> = []
    const inputs = []
    for (const input of submission.inputs) {
      const size = (await stat(input.path)).size
      if (mode === 'manual') {
        const pieces = await this.storeSplit(input.path, taskCount)
        inputs.push({ name: input.name, size, cids: pieces.flat() })
        for (const piece of pieces) parts.push({ name: input.name, cids: piece })
      } else {
        const cids = (await this.storeSplit(input.path, 1)).flat()
        inputs.push({ name: input.name, size, cids })
        parts.push({ name: input.name, cids })
      }
    }
    const tasks: TaskRecord[] = parts.map((part, index) => this.newTask(id, index, 'process', part.name, part.cids, base))
    const aggregates = mode === 'grouped' || (mode === 'manual' && definesAggregate(base.script))
    if (aggregates) {
      tasks.push({ ...this.newTask(id, tasks.length, 'aggregate', 'results.json', [], base), status: 'waiting', dependsOn: tasks.map(task => task.id) })
    }
    const job: JobRecord = {
      ...base,
      inputs,
      taskIds: tasks.map(task => task.id),
      plan: { level: 1, tasks: tasks.length, mode, processTasks: parts.length, aggregation: aggregates }
    }
    return await this.accept(job, tasks)
  }

  /**
   * Automatic mode: analyzes the job against its input, lets the planner choose the level (whole program on one
   * node, or a data split of its leading map/reduce chain into K chunk tasks and an aggregator that combines their
   * partial results and runs the rest of main), and stores the input cut for that plan.
   */
  private async planAutomatic (submission: JobSubmission, base: JobRecord): Promise<{ job: JobRecord, tasks: TaskRecord[] }> {
    const uploaded = submission.inputs[0]
    const source = base.script
    // A .json array runs as JSON Lines (the same list in Python, and cut on lines); any other .json stays whole.
    const input = uploaded === undefined ? undefined : await asJsonLines(uploaded)
    const format = input === undefined ? 'text' : plannerFormat(formatOf(input.name))
    const size = input === undefined ? 0 : (await stat(input.path)).size
    const elements = input === undefined ? 0 : await countElements(input.path, format)
    const sample = input === undefined || format === 'json' ? undefined : await readSample(input.path, format)
    const options = {
      mode: 'auto' as const,
      input: { format: analyzerFormat(format), ...(elements !== undefined ? { elements } : {}), ...(sample !== undefined ? { sample: sample.sample } : {}) }
    }
    let report = analyze(source, options)
    // Fit is decided against what nodes offer, not what they have free now: a busy mesh queues the tasks.
    const nodes = (await this.registry.list()).filter(node => node.status === 'alive').map(node => node.memoryBytes)
    // Time per element decides whether idle nodes make the job faster, and a run on a sample which values can be
    // copied between tasks: measured in the sandbox when there is something to decide (several nodes, or a job too
    // big for the largest one, and enough elements).
    const tooBig = report.status === 'accepted' && nodes.length > 0 && sequentialBytes(report, elements ?? 0) > Math.max(...nodes)
    if (this.calibrationRunner !== undefined && report.status === 'accepted' && sample !== undefined && (nodes.length >= 2 || tooBig) &&
        (elements ?? 0) >= CALIBRATE_MIN_ELEMENTS && sample.sample.length > 0) {
      try {
        const small = sampleInput(sample.text, analyzerFormat(format), CALIBRATION_ELEMENTS)
        report = await calibrate(source, { ...options, sampleText: small.text, sampleElements: small.sample.length, runner: this.calibrationRunner, budgetSeconds: CALIBRATION_BUDGET_SECONDS })
      } catch (err: any) {
        this.log.warn({ err: err?.message }, 'calibration failed; planning on the static estimate')
      }
    }
    const plan = planAuto({ source, report, format, inputBytes: size, elements, nodes: nodes.map(memoryBytes => ({ memoryBytes })) })
    const largest = nodes.length > 0 ? Math.max(...nodes) : Number.POSITIVE_INFINITY
    const memoryFor = (estimate: number): number => submission.taskMemoryBytes ?? Math.min(largest, Math.max(MIN_AUTO_TASK_MEMORY, Math.ceil(estimate * AUTO_MEMORY_MARGIN)))
    const view = { ...planView(plan), mode: 'auto' }
    if (plan.segments !== undefined) {
      // Level 2: one task per part of main (the one returning the result last); parts that read the input get it whole.
      const segments = plan.segments
      const cids = input === undefined || !segments.some(seg => seg.readsData) ? [] : (await this.storeSplit(input.path, 1)).flat()
      const job: JobRecord = {
        ...base,
        inputs: input === undefined || uploaded === undefined ? [] : [{ name: uploaded.name, size, cids }],
        plan: view,
        generated: { final: plan.finalTask.script, segments: segments.map(seg => seg.script) }
      }
      const tasks = segments.map((seg, i) => {
        const task = this.newTask(base.id, i, 'segment', input?.name ?? '', seg.readsData ? cids : [], job)
        task.memoryBytes = memoryFor(seg.memoryBytes)
        task.dependsOn = seg.dependsOn.map(d => `${base.id}.${d}`)
        if (task.dependsOn.length > 0) task.status = 'waiting'
        return task
      })
      job.taskIds = tasks.map(task => task.id)
      return { job, tasks }
    }
    if (plan.chunkTask === undefined || input === undefined) {
      const cids = input === undefined ? [] : (await this.storeSplit(input.path, 1)).flat()
      const job: JobRecord = {
        ...base,
        inputs: input === undefined || uploaded === undefined ? [] : [{ name: uploaded.name, size, cids }],
        plan: { ...view, tasks: 1 },
        ...(plan.finalTask.script !== source ? { generated: { final: plan.finalTask.script } } : {})
      }
      const task = this.newTask(base.id, 0, plan.finalTask.entry === 'aggregate' ? 'aggregate' : 'main', input?.name ?? '', cids, job)
      task.memoryBytes = memoryFor(plan.finalTask.memoryBytes)
      job.taskIds = [task.id]
      return { job, tasks: [task] }
    }
    // Level 3: K parts on line boundaries; a csv part after the first gets the header row in front.
    const parts = await this.storeSplit(input.path, plan.chunks)
    const header = format === 'csv' ? await this.storeHeader(input.path) : undefined
    const job: JobRecord = {
      ...base,
      inputs: [{ name: uploaded?.name ?? input.name, size, cids: parts.flat() }],
      plan: { ...view, chunks: parts.length, tasks: parts.length + 1 },
      generated: { chunk: plan.chunkTask.script, final: plan.finalTask.script },
      ...(header !== undefined ? { csvHeader: header } : {})
    }
    const tasks: TaskRecord[] = parts.map((cids, index) => {
      const task = this.newTask(base.id, index, 'main', input.name, index > 0 && header !== undefined ? [header, ...cids] : cids, job)
      task.memoryBytes = memoryFor(plan.chunkTask?.memoryBytes ?? 0)
      return task
    })
    const final = { ...this.newTask(base.id, tasks.length, 'aggregate', 'results.json', [], job), status: 'waiting' as const, dependsOn: tasks.map(task => task.id) }
    final.memoryBytes = memoryFor(plan.finalTask.memoryBytes)
    tasks.push(final)
    job.taskIds = tasks.map(task => task.id)
    return { job, tasks }
  }

  /** The header row of a csv file, stored as its own chunk. */
  private async storeHeader (path: string): Promise<string> {
    let header = Buffer.alloc(0)
    for await (const piece of createReadStream(path, { highWaterMark: 64 * 1024 })) {
      header = Buffer.concat([header, piece as Buffer])
      const end = header.indexOf(0x0a)
      if (end >= 0) {
        header = header.subarray(0, end + 1)
        break
      }
    }
    return await this.storeChunk(header)
  }

  /**
   * Stores one input chunk and announces it in the DHT in the background, a few announcements at a time: each walks
   * the DHT, and a job of 10,000 chunks announcing all of them at once took the coordinator 42 s to submit. Until a
   * chunk is announced, nodes that find no provider fetch it from the coordinator itself.
   */
  private async storeChunk (bytes: Uint8Array): Promise<string> {
    const cid = await this.mesh.chunks.store.put(bytes)
    this.announcements.add(async () => { await this.mesh.chunks.provide(cid) })
      .catch(err => { this.log.warn({ err: err?.message, cid: cid.toString() }, 'could not provide an input chunk') })
    return cid.toString()
  }

  /** Stores an accepted job and its tasks in one batch, then places what can run. */
  private async accept (job: JobRecord, tasks: TaskRecord[]): Promise<JobRecord> {
    await this.transition(async () => {
      await this.db.store.batch([this.db.jobs.putOp(job.id, job), ...tasks.map(task => this.db.tasks.putOp(task.id, task))])
      this.jobs.set(job.id, job)
      for (const task of tasks) {
        this.tasks.set(task.id, task)
        if (task.status === 'queued') this.queue.push(task.id)
      }
    })
    this.log.info({ job: job.id, mode: job.mode, level: job.plan.level, tasks: tasks.length }, 'job accepted')
    this.emit('job', job)
    this.schedule()
    return job
  }

  private newTask (jobId: string, index: number, entry: TaskRecord['entry'], inputName: string, inputCids: string[], job: JobRecord): TaskRecord {
    return {
      id: `${jobId}.${index}`,
      jobId,
      index,
      entry,
      inputName: inputName === '' ? 'input.txt' : `input${extensionOf(inputName)}`,
      inputCids,
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

  /**
   * Splits a file into `parts` parts of about equal size, each ending on a line boundary (fewer when lines are
   * longer than a part), and stores each part as chunks of at most 8 MiB. Streams: never a whole part in memory.
   */
  private async storeSplit (path: string, parts: number): Promise<string[][]> {
    const size = (await stat(path)).size
    const stored: string[][] = []
    let pending: Buffer[] = []
    let pendingBytes = 0
    let current = -1
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return
      stored[current]?.push(await this.storeChunk(Buffer.concat(pending)))
      pending = []
      pendingBytes = 0
    }
    for await (const { part, bytes } of cutParts(createReadStream(path), size, parts)) {
      if (part !== current) {
        await flush()
        current = part
        stored[current] = []
      }
      let rest = bytes
      while (rest.byteLength > 0) {
        const take = Math.min(rest.byteLength, INPUT_CHUNK_SIZE - pendingBytes)
        pending.push(Buffer.from(rest.subarray(0, take)))
        pendingBytes += take
        rest = rest.subarray(take)
        if (pendingBytes === INPUT_CHUNK_SIZE) await flush()
      }
    }
    await flush()
    return stored.filter(cids => cids.length > 0)
  }

  /** Runs the analyzer's scanner and template checks; returns why the job is refused, if it is. */
  private scan (submission: JobSubmission): { error: JobError, findings: Finding[] } | undefined {
    const report = analyze(submission.script, { mode: submission.mode === 'auto' ? 'auto' : 'manual' })
    if (report.status === 'rejected') return rejectionOf(report)
    if (submission.aggregateScript !== undefined) {
      // The aggregation script defines aggregate(results) and needs no process().
      const aggregate = analyze(submission.aggregateScript, { mode: 'manual' })
      const blocking = aggregate.findings.filter(f => isBlocking(f.severity) && f.ruleId !== 'template/process-missing')
      if (aggregate.status === 'rejected' && (blocking.length > 0 || aggregate.error?.code !== 'TEMPLATE_VIOLATION')) {
        const rejection = rejectionOf({ ...aggregate, findings: blocking.length > 0 ? blocking : aggregate.findings })
        return { ...rejection, error: { ...rejection.error, message: `aggregation script: ${rejection.error.message}` } }
      }
      if (typeof submission.aggregateScript === 'string' && !definesAggregate(submission.aggregateScript)) {
        return { error: { code: 'TEMPLATE_VIOLATION', message: 'aggregation script: no aggregate(results) function at module level', line: 1 }, findings: [] }
      }
    }
    return undefined
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Placement and assignment

  /** Places queued tasks on nodes and pushes the assignments; runs again if asked while running. */
  schedule (): void {
    if (this.closed) return
    if (this.scheduling) {
      this.rescheduling = true
      return
    }
    this.scheduling = true
    this.placeAll().catch(err => { this.log.error({ err }, 'scheduling failed') }).finally(() => {
      this.scheduling = false
      // Tasks left waiting only because their nodes are shunned get another chance when the shunning ends.
      if (this.queue.length > 0 && this.retryTimer === undefined && !this.closed) {
        this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.schedule() }, SHUN_MS)
        this.retryTimer.unref()
      }
      if (this.rescheduling) {
        this.rescheduling = false
        this.schedule()
      }
    })
  }

  private async placeAll (): Promise<void> {
    if (this.queue.length === 0) {
      await this.speculate()
      return
    }
    const nodes = this.registry.alive()
    if (nodes.length === 0) return
    const pushes: Array<Promise<void>> = []
    await this.transition(async () => {
      const used = this.memoryInUse()
      const load = this.tasksPerNode()
      const remaining: string[] = []
      const ops = []
      const placed: TaskRecord[] = []
      for (const taskId of this.queue) {
        const task = this.tasks.get(taskId)
        if (task?.status !== 'queued') continue
        const node = this.pick(task, nodes, used, load)
        if (node === undefined) {
          remaining.push(taskId)
          continue
        }
        used.set(node.id, (used.get(node.id) ?? 0) + task.memoryBytes)
        load.set(node.id, (load.get(node.id) ?? 0) + 1)
        const attempt: TaskAttempt = { attempt: nextAttempt(task), nodeId: node.id, assignedAt: Date.now() }
        const updated: TaskRecord = { ...task, status: 'assigned', attempt: attempt.attempt, nodeId: node.id, attempts: [...task.attempts, attempt] }
        ops.push(this.db.tasks.putOp(updated.id, updated))
        placed.push(updated)
      }
      const jobOps = []
      const startedJobs: JobRecord[] = []
      for (const task of placed) {
        const job = this.jobs.get(task.jobId)
        if (job?.status === 'queued') {
          const started: JobRecord = { ...job, status: 'running', startedAt: Date.now() }
          this.jobs.set(job.id, started)
          jobOps.push(this.db.jobs.putOp(job.id, started))
          startedJobs.push(started)
        }
      }
      if (ops.length > 0) await this.db.store.batch([...ops, ...jobOps])
      this.queue.splice(0, this.queue.length, ...remaining)
      for (const task of placed) {
        this.tasks.set(task.id, task)
        this.emit('task', task)
        const node = nodes.find(n => n.id === task.nodeId)
        if (node !== undefined) pushes.push(this.push(task, node))
      }
      for (const job of startedJobs) this.emit('job', job)
    })
    await Promise.all(pushes)
  }

  /**
   * The smallest alive node whose free memory fits the task, ties broken by fewer running tasks. Nodes that refused
   * the task or could not be reached for it lately are skipped (until the sweep declares them dead or they recover);
   * nodes it failed on come last, so a retry runs elsewhere when there is an elsewhere.
   */
  private pick (task: TaskRecord, nodes: NodeRecord[], used: Map<string, number>, load: Map<string, number>): NodeRecord | undefined {
    const now = Date.now()
    const shunned = new Set(task.attempts
      .filter(a => (a.outcome === 'unreachable' || a.outcome === 'refused') && now - (a.endedAt ?? now) < SHUN_MS)
      .map(a => a.nodeId))
    const failedOn = new Set(task.attempts.filter(a => a.outcome !== undefined && OWN_FAILURE.test(a.outcome)).map(a => a.nodeId))
    const fits = nodes.filter(node => !shunned.has(node.id) && node.memoryBytes - (used.get(node.id) ?? 0) >= task.memoryBytes)
    const fresh = fits.filter(node => !failedOn.has(node.id))
    const untried = nodes.filter(node => !shunned.has(node.id) && !failedOn.has(node.id))
    // Wait for a fresh node to free up rather than retrying where the task already failed, unless every node failed it.
    const candidates = fresh.length > 0 ? fresh : (untried.length === 0 ? fits : [])
    candidates.sort((a, b) => a.memoryBytes - b.memoryBytes || (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0))
    return candidates[0]
  }

  private memoryInUse (): Map<string, number> {
    const used = new Map<string, number>()
    for (const [nodeId, task] of this.tasks.active()) used.set(nodeId, (used.get(nodeId) ?? 0) + task.memoryBytes)
    return used
  }

  private tasksPerNode (): Map<string, number> {
    const load = new Map<string, number>()
    for (const [nodeId] of this.tasks.active()) load.set(nodeId, (load.get(nodeId) ?? 0) + 1)
    return load
  }

  /**
   * Running tasks that take far longer than their completed siblings (same job, same kind), without a copy yet:
   * most overdue first.
   */
  private stragglers (): TaskRecord[] {
    const now = Date.now()
    const overdue: Array<{ task: TaskRecord, ratio: number }> = []
    // The median wall time of each job's completed tasks of one kind, computed once per call.
    const typical = new Map<string, number | undefined>()
    const seen = new Set<string>()
    for (const [, task] of this.tasks.active()) {
      if (seen.has(task.id) || task.backup !== undefined) continue
      seen.add(task.id)
      const job = this.jobs.get(task.jobId)
      if (job === undefined || (job.status !== 'running' && job.status !== 'pending_aggregation')) continue
      const key = `${task.jobId}\u0000${task.entry}`
      if (!typical.has(key)) {
        const times = this.tasksOf(job).filter(t => t.entry === task.entry && t.status === 'completed' && t.metrics !== undefined).map(t => t.metrics?.wallMs ?? 0)
        typical.set(key, times.length > 0 ? median(times) : undefined)
      }
      const usual = typical.get(key)
      if (usual === undefined) continue
      const elapsed = now - (task.attempts.find(a => a.attempt === task.attempt)?.assignedAt ?? now)
      if (elapsed >= Math.max(STRAGGLER_MIN_MS, STRAGGLER_FACTOR * usual)) overdue.push({ task, ratio: elapsed / Math.max(1, usual) })
    }
    return overdue.sort((a, b) => b.ratio - a.ratio).map(o => o.task)
  }

  /**
   * Speculative execution: when nothing waits in the queue, a straggler gets a copy on an idle node that fits it
   * (one that has not failed it); the first copy to report a result wins.
   */
  private async speculate (): Promise<void> {
    if (this.stragglers().length === 0) return
    const nodes = this.registry.alive()
    let pushed: { task: TaskRecord, node: NodeRecord, attempt: number } | undefined
    await this.transition(async () => {
      if (this.queue.length > 0) return
      const load = this.tasksPerNode()
      const idle = nodes.filter(node => (load.get(node.id) ?? 0) === 0)
      for (const task of this.stragglers()) {
        const failedOn = new Set(task.attempts.filter(a => a.outcome !== undefined && a.outcome !== 'superseded').map(a => a.nodeId))
        const node = idle.filter(n => n.id !== task.nodeId && !failedOn.has(n.id) && n.memoryBytes >= task.memoryBytes).sort((a, b) => a.memoryBytes - b.memoryBytes)[0]
        if (node === undefined) continue
        const attempt = nextAttempt(task)
        const assignedAt = Date.now()
        await this.saveTask({ ...task, backup: { attempt, nodeId: node.id, assignedAt }, attempts: [...task.attempts, { attempt, nodeId: node.id, assignedAt }] })
        this.log.info({ task: task.id, node: node.id, attempt, straggling: task.nodeId }, 'straggler: a copy runs on an idle node')
        pushed = { task: this.tasks.get(task.id) as TaskRecord, node, attempt }
        return
      }
    })
    if (pushed !== undefined) await this.push(pushed.task, pushed.node, pushed.attempt)
  }

  /**
   * Pushes one assignment (the task's attempt, or its backup copy's); a refusal or an unreachable node puts the task
   * back in the queue for another node, or drops the copy.
   */
  private async push (task: TaskRecord, node: NodeRecord, attempt = task.attempt): Promise<void> {
    const job = this.jobs.get(task.jobId)
    if (job === undefined) return
    const script = task.entry === 'segment'
      ? (job.generated?.segments?.[task.index] ?? '')
      : task.entry === 'aggregate'
        ? (job.generated?.final ?? job.aggregateScript ?? job.script)
        : task.entry === 'main' ? (job.generated?.chunk ?? job.generated?.final ?? job.script) : job.script
    try {
      await this.inPushSlot(node.id, async () => await this.mesh.libp2p.services.assign.call(peerIdFromString(node.peerId), {
        taskId: task.id,
        jobId: task.jobId,
        script,
        inputCids: task.inputCids,
        memoryBytes: task.memoryBytes,
        timeoutMs: task.timeoutMs,
        entry: task.entry,
        attempt,
        inputName: task.inputName,
        resultInputs: task.entry === 'segment' ? task.dependsOn.length : 0
      }))
      this.log.info({ task: task.id, node: node.id, attempt }, 'task assigned')
    } catch (err: any) {
      this.log.warn({ task: task.id, node: node.id, err: err?.message }, 'assignment not accepted; the task goes back to the queue')
      const outcome = err?.name === 'RefusedError' ? 'refused' : 'unreachable'
      await this.transition(async () => {
        const current = this.tasks.get(task.id)
        if (current?.backup?.attempt === attempt) {
          await this.dropBackup(current, outcome, String(err?.message ?? err))
          return
        }
        if (current === undefined || current.status !== 'assigned' || current.attempt !== attempt) return
        await this.requeue(current, outcome, String(err?.message ?? err), false)
      })
      // A refusal (e.g. the node is full) waits for the next event; an unreachable node is swept as dead.
      if (err?.name !== 'RefusedError') this.schedule()
    }
  }

  /** Runs `fn` once fewer than `MAX_PUSHES_PER_NODE` pushes to the node are in flight. */
  private async inPushSlot<T>(nodeId: string, fn: () => Promise<T>): Promise<T> {
    let slots = this.pushSlots.get(nodeId)
    if (slots === undefined) this.pushSlots.set(nodeId, slots = { active: 0, waiting: [] })
    if (slots.active >= MAX_PUSHES_PER_NODE) await new Promise<void>(resolve => slots.waiting.push(resolve))
    slots.active++
    try {
      return await fn()
    } finally {
      slots.active--
      const next = slots.waiting.shift()
      if (next !== undefined) next()
      else if (slots.active === 0) this.pushSlots.delete(nodeId)
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Reports from nodes

  /** The report protocol handler: applies a node's report once, and only from the node the task is assigned to. */
  async report (report: ReportRequest, context: RequestContext): Promise<ReportResponse> {
    const refused = (error: string): ReportResponse => ({ status: ReportResponse.Status.REFUSED, error })
    const task = this.tasks.get(report.taskId)
    if (task === undefined) return refused(`no task ${report.taskId}`)
    // The task's current attempt, or the copy of it running as a backup.
    const copy = task.backup !== undefined && report.attempt === task.backup.attempt
    const nodeId = copy ? task.backup?.nodeId : task.nodeId
    const node = nodeId !== undefined ? this.registry.record(nodeId) ?? await this.db.store.nodes.get(nodeId) : undefined
    if (node === undefined || node.peerId !== context.peer.toString()) return refused(`task ${report.taskId} is not assigned to this node`)
    if (!copy && report.attempt !== task.attempt) return refused(`attempt ${report.attempt} of task ${report.taskId} is over`)
    if (copy && report.state === ReportRequest.State.RUNNING) return { status: ReportResponse.Status.OK, error: '' }
    if (report.state === ReportRequest.State.RUNNING) {
      if (task.status === 'assigned') {
        await this.transition(async () => {
          const current = this.tasks.get(task.id)
          if (current?.status !== 'assigned' || current.attempt !== report.attempt) return
          await this.saveTask({ ...current, status: 'running' })
        })
      }
      return { status: ReportResponse.Status.OK, error: '' }
    }
    if (task.status !== 'assigned' && task.status !== 'running') {
      // Reported twice (a retry after a lost answer): already applied.
      return { status: ReportResponse.Status.OK, error: '' }
    }
    if (report.state === ReportRequest.State.COMPLETED) {
      // Results the coordinator serves or aggregates are pulled before the transition, straight from the reporter.
      try {
        await this.pullOutputs(task, report.outputCids, context)
      } catch (err: any) {
        this.log.warn({ task: task.id, err: err?.message }, 'could not fetch the task\'s output')
        return { status: ReportResponse.Status.ERROR, error: `the coordinator could not fetch the output: ${String(err?.message ?? err)}` }
      }
    }
    const losers: Array<{ task: TaskRecord, nodeId: string }> = []
    await this.transition(async () => {
      let current = this.tasks.get(task.id)
      if (current === undefined || (current.status !== 'assigned' && current.status !== 'running')) return
      const backup = current.backup
      const fromCopy = backup !== undefined && backup.attempt === report.attempt && backup.nodeId === node.id
      if (!fromCopy && current.attempt !== report.attempt) return
      if (report.state !== ReportRequest.State.COMPLETED && backup !== undefined) {
        // One of two copies failed: the other carries on alone (if it fails the same way, that one counts).
        const code = report.errorCode === '' ? 'runtime_error' : report.errorCode
        if (fromCopy) await this.dropBackup(current, code, report.errorMessage)
        else await this.promoteBackup(current, code, report.errorMessage)
        return
      }
      if (fromCopy && backup !== undefined) {
        // The copy finished first: it becomes the task's attempt; the straggler is superseded.
        if (current.nodeId !== undefined) losers.push({ task: current, nodeId: current.nodeId })
        current = { ...current, attempt: backup.attempt, nodeId: backup.nodeId, attempts: closeAttempt(current.attempts, current.attempt, 'superseded', 'a copy on another node finished first') }
        delete current.backup
      } else if (backup !== undefined) {
        losers.push({ task: current, nodeId: backup.nodeId })
        current = { ...current, attempts: closeAttempt(current.attempts, backup.attempt, 'superseded', 'the original finished first') }
        delete current.backup
      }
      if (report.state === ReportRequest.State.COMPLETED) await this.completed(current, report, node)
      else await this.failed(current, report)
    })
    for (const { task: loser, nodeId: where } of losers) this.cancelOn(loser.id, where, 'a copy on another node finished first')
    this.schedule()
    return { status: ReportResponse.Status.OK, error: '' }
  }

  /** Outputs the coordinator needs itself: the final result, or every process result of a job without aggregation. */
  private async pullOutputs (task: TaskRecord, cids: string[], context: RequestContext): Promise<void> {
    const job = this.jobs.get(task.jobId)
    if (job === undefined) return
    // An automatic job's result is its last task's output; other jobs aggregate (the aggregation task is the job's
    // last, records.ts), or combine every task's result.
    const aggregated = this.tasks.get(job.taskIds.at(-1) ?? '')?.entry === 'aggregate'
    if (job.mode === 'auto' ? task.id !== job.taskIds.at(-1) : (aggregated && task.entry !== 'aggregate')) return
    for (const text of cids) {
      const cid = parseCid(text)
      if (await this.mesh.chunks.store.has(cid)) continue
      await this.mesh.chunks.fetchFrom(context.peer, cid).catch(async () => { await this.mesh.chunks.fetch(cid) })
    }
  }

  private async completed (task: TaskRecord, report: ReportRequest, node: NodeRecord): Promise<void> {
    const job = this.jobs.get(task.jobId)
    if (job === undefined) return
    const metrics: TaskMetrics = {
      wallMs: report.metrics?.wallMs ?? 0,
      cpuMs: report.metrics?.cpuMs ?? 0,
      peakMemoryBytes: report.metrics?.peakMemoryBytes ?? 0,
      avgMemoryBytes: report.metrics?.avgMemoryBytes ?? 0
    }
    const earning = taskEarning(this.unitRate, metrics.wallMs, node.benchmark, metrics.avgMemoryBytes)
    const attempts = closeAttempt(task.attempts, task.attempt, 'completed')
    const done: TaskRecord = { ...task, status: 'completed', outputCids: report.outputCids, metrics, earning, machineFactor: node.benchmark, attempts }
    const earningRecord: EarningRecord = {
      taskId: task.id, jobId: job.id, nodeId: node.id, account: node.account, amount: earning, status: 'pending', createdAt: Date.now()
    }
    const ops: any[] = [this.db.tasks.putOp(done.id, done), this.db.earnings.putOp(done.id, earningRecord)]
    const changed: TaskRecord[] = [done]
    this.tasks.set(done.id, done)
    let updatedJob: JobRecord | undefined
    // Only the last completions can start the aggregation or end the job: counted, so that the others do not look
    // at every task of the job (a 10,000-task job would look at 10^8). The parts of a level-2 job (a handful) wait
    // for each other in any order: each completion looks.
    const last = job.taskIds.length - this.tasks.completedIn(job.id) <= 1
    if ((job.status === 'running' || job.status === 'pending_aggregation') && (last || job.generated?.segments !== undefined)) {
      const tasks = this.tasksOf(job)
      const aggregate = tasks.find(t => t.entry === 'aggregate')
      const processTasks = tasks.filter(t => t.entry !== 'aggregate')
      // Tasks waiting for others (the aggregator, parts of main) are queued once all they depend on completed,
      // with those tasks' outputs as their last inputs.
      const ready = tasks
        .filter(t => t.status === 'waiting' && t.dependsOn.every(id => this.tasks.get(id)?.status === 'completed'))
        .map((t): TaskRecord => ({ ...t, status: 'queued', inputCids: [...t.inputCids, ...t.dependsOn.flatMap(id => this.tasks.get(id)?.outputCids ?? [])] }))
      for (const t of ready) {
        ops.push(this.db.tasks.putOp(t.id, t))
        changed.push(t)
        this.tasks.set(t.id, t)
      }
      if (aggregate !== undefined && ready.some(t => t.id === aggregate.id)) {
        updatedJob = { ...job, status: 'pending_aggregation' }
      } else if (tasks.every(t => t.status === 'completed')) {
        const resultCid = aggregate !== undefined
          ? aggregate.outputCids[0]
          : (job.mode === 'auto' ? tasks.at(-1)?.outputCids[0] : await this.combine(processTasks))
        const cost = jobCost(this.unitRate, tasks.map(t => t.earning ?? 0))
        const now = Date.now()
        updatedJob = {
          ...job,
          status: 'completed',
          finishedAt: now,
          ...(resultCid !== undefined ? { resultCid } : {}),
          cost,
          payment: 'pending',
          metrics: jobMetrics(job, tasks, now)
        }
        const payment: PaymentRecord = {
          jobId: job.id, account: job.account, amount: cost.price, contributors: cost.contributors, platform: cost.platform, status: 'pending', createdAt: now
        }
        ops.push(this.db.payments.putOp(job.id, payment))
      }
    }
    if (updatedJob !== undefined) ops.push(this.db.jobs.putOp(updatedJob.id, updatedJob))
    await this.db.store.batch(ops)
    if (updatedJob !== undefined) this.jobs.set(updatedJob.id, updatedJob)
    for (const t of changed) {
      if (t.status === 'queued') this.queue.push(t.id)
      this.emit('task', t)
    }
    if (updatedJob !== undefined) {
      this.emit('job', updatedJob)
      if (updatedJob.status === 'completed') this.log.info({ job: job.id, cost: updatedJob.cost }, 'job completed')
    }
  }

  /** Manual mode without aggregate(): the result is the list of the tasks' dicts, in chunk order. */
  private async combine (tasks: TaskRecord[]): Promise<string> {
    const decoder = new TextDecoder()
    const parts: string[] = []
    for (const task of tasks) {
      const cid = task.outputCids[0]
      parts.push(cid === undefined ? 'null' : decoder.decode(await this.mesh.chunks.read(parseCid(cid))))
    }
    const cid = await this.mesh.chunks.store.put(new TextEncoder().encode(`[${parts.join(',')}]`))
    return cid.toString()
  }

  private async failed (task: TaskRecord, report: ReportRequest): Promise<void> {
    const code = report.errorCode === '' ? 'runtime_error' : report.errorCode
    const message = report.errorMessage === '' ? `the task failed with ${code}` : report.errorMessage
    // A node that could not get the inputs (the mesh was briefly without a provider) is not the task's failure,
    // up to a point: a chunk gone for good must still end the job.
    const inputTrouble = code === 'input_unavailable' && task.attempts.length < MAX_INPUT_ATTEMPTS
    if (inputTrouble) {
      await this.requeue(task, code, message, false)
      return
    }
    if (code === 'memory_limit' && task.entry === 'main' && this.jobs.get(task.jobId)?.generated?.chunk !== undefined && (task.splitDepth ?? 0) < MAX_SPLIT_DEPTH) {
      // A chunk of a split job that does not fit is split again: two tasks on its halves take its place.
      if (await this.splitChunkTask(task, message)) return
    }
    if (code === 'memory_limit' && this.jobs.get(task.jobId)?.mode === 'auto') {
      // The whole program or the aggregator: retrying on a node that offers no more memory cannot help.
      const offered = (await this.registry.list()).filter(node => node.status === 'alive').map(node => node.memoryBytes)
      const largest = Math.max(0, ...offered)
      if (largest > task.memoryBytes) {
        // A node offers more: the task runs again with twice the memory (at most that node's), not as a failure.
        await this.requeue({ ...task, memoryBytes: Math.min(largest, task.memoryBytes * 2) }, code, message, false)
        return
      }
      {
        const attempts = closeAttempt(task.attempts, task.attempt, code, message)
        const what = task.entry === 'aggregate'
          ? 'the aggregator (combining the chunks\' results and the rest of main)'
          : task.entry === 'segment' ? `part ${task.index + 1} of main` : 'the whole program'
        const error = {
          code: 'does_not_fit',
          message: `${what} ran out of memory at its limit of ${formatMiB(task.memoryBytes)}, and no node offers more; the analyzer's estimate was too low. ${message.split('\n')[0] ?? ''}`
        }
        await this.failJob({ ...task, status: 'failed', failures: task.failures + 1, error, attempts }, error)
        return
      }
    }
    if (task.failures + 1 > MAX_RETRIES) {
      const attempts = closeAttempt(task.attempts, task.attempt, code, message)
      const failedTask: TaskRecord = { ...task, status: 'failed', failures: task.failures + 1, error: { code, message }, attempts }
      await this.failJob(failedTask, { code, message: `task ${task.index} failed ${failedTask.failures} times; last: ${message}` })
      return
    }
    await this.requeue(task, code, message, true)
  }

  /**
   * Replaces a level-3 chunk task killed for memory by two tasks on the halves of its input (cut on a line
   * boundary; a csv half gets the header row). The aggregator takes their partial results in the same place, in
   * order, so the combined result is unchanged. Returns false when the chunk cannot be halved (a single record).
   */
  private async splitChunkTask (task: TaskRecord, message: string): Promise<boolean> {
    const job = this.jobs.get(task.jobId)
    if (job === undefined) return false
    const header = job.csvHeader
    const own = header !== undefined && task.inputCids[0] === header ? task.inputCids.slice(1) : task.inputCids
    let body = Buffer.concat(await Promise.all(own.map(async cid => await this.mesh.chunks.read(parseCid(cid)))))
    if (header !== undefined && task.inputCids[0] !== header) body = body.subarray(body.indexOf(0x0a) + 1) // the first part holds the header itself
    const middle = body.indexOf(0x0a, Math.floor(body.byteLength / 2))
    const cut = middle >= 0 && middle + 1 < body.byteLength ? middle + 1 : body.lastIndexOf(0x0a, Math.floor(body.byteLength / 2) - 1) + 1
    if (cut <= 0 || cut >= body.byteLength) return false
    const halves: string[][] = []
    for (const half of [body.subarray(0, cut), body.subarray(cut)]) {
      const cids: string[] = []
      for (let offset = 0; offset < half.byteLength; offset += INPUT_CHUNK_SIZE) cids.push(await this.storeChunk(half.subarray(offset, offset + INPUT_CHUNK_SIZE)))
      halves.push(header !== undefined ? [header, ...cids] : cids)
    }
    const next = Math.max(...job.taskIds.map(id => this.tasks.get(id)?.index ?? 0), task.index) + 1
    const parts = halves.map((cids, i): TaskRecord => ({
      ...this.newTask(job.id, next + i, 'main', '', cids, job),
      inputName: task.inputName,
      splitDepth: (task.splitDepth ?? 0) + 1,
      memoryBytes: task.memoryBytes,
      timeoutMs: task.timeoutMs
    }))
    const replaced: TaskRecord = {
      ...task, status: 'replaced', attempts: closeAttempt(task.attempts, task.attempt, 'memory_limit', message), error: { code: 'memory_limit', message: `split into tasks ${parts[0]?.index ?? ''} and ${parts[1]?.index ?? ''}` }
    }
    const swap = (ids: string[]): string[] => ids.flatMap(id => id === task.id ? parts.map(p => p.id) : [id])
    const aggregators = this.tasksOf(job).filter(t => t.dependsOn.includes(task.id)).map(t => ({ ...t, dependsOn: swap(t.dependsOn) }))
    const updatedJob: JobRecord = { ...job, taskIds: swap(job.taskIds), plan: { ...job.plan, tasks: job.taskIds.length + 1, resplit: ((job.plan.resplit as number | undefined) ?? 0) + 1 } }
    await this.db.store.batch([
      this.db.tasks.putOp(replaced.id, replaced), ...parts.map(p => this.db.tasks.putOp(p.id, p)), ...aggregators.map(a => this.db.tasks.putOp(a.id, a)),
      this.db.jobs.putOp(updatedJob.id, updatedJob)
    ])
    for (const t of [replaced, ...parts, ...aggregators]) this.tasks.set(t.id, t)
    this.jobs.set(updatedJob.id, updatedJob)
    this.queue.push(...parts.map(p => p.id))
    for (const t of [replaced, ...parts]) this.emit('task', t)
    this.emit('job', updatedJob)
    this.log.warn({ task: task.id, into: parts.map(p => p.id) }, 'chunk task out of memory: split in two')
    return true
  }

  /** Ends a task's backup copy (it failed, or its node is gone); the original runs on. */
  private async dropBackup (task: TaskRecord, outcome: string, message: string): Promise<void> {
    if (task.backup === undefined) return
    const updated: TaskRecord = { ...task, attempts: closeAttempt(task.attempts, task.backup.attempt, outcome, message) }
    delete updated.backup
    await this.saveTask(updated)
  }

  /** The original attempt failed or is lost while a backup copy runs: the copy becomes the task's attempt. */
  private async promoteBackup (task: TaskRecord, outcome: string, message: string): Promise<void> {
    const backup = task.backup
    if (backup === undefined) return
    const updated: TaskRecord = { ...task, attempt: backup.attempt, nodeId: backup.nodeId, attempts: closeAttempt(task.attempts, task.attempt, outcome, message) }
    delete updated.backup
    await this.saveTask(updated)
  }

  /** Back to the queue; `counts` says whether it was the task's own failure (retries are limited) or the node's. */
  private async requeue (task: TaskRecord, outcome: string, message: string, counts: boolean): Promise<void> {
    const attempts = closeAttempt(task.attempts, task.attempt, outcome, message)
    const queued: TaskRecord = { ...task, status: 'queued', failures: task.failures + (counts ? 1 : 0), attempts }
    delete queued.nodeId
    await this.saveTask(queued)
    this.queue.push(queued.id)
    this.log.info({ task: task.id, outcome, failures: queued.failures }, 'task re-queued')
  }

  private async failJob (task: TaskRecord, error: JobError): Promise<void> {
    const job = this.jobs.get(task.jobId)
    if (job === undefined) return
    const now = Date.now()
    const others = this.tasksOf(job).filter(t => t.id !== task.id && !['completed', 'failed', 'cancelled'].includes(t.status))
    const cancelled = others.map(t => ({ ...t, status: 'cancelled' as const }))
    const failedJob: JobRecord = { ...job, status: 'failed', finishedAt: now, error, metrics: jobMetrics(job, this.tasksOf(job), now) }
    await this.db.store.batch([
      this.db.tasks.putOp(task.id, task), ...cancelled.map(t => this.db.tasks.putOp(t.id, t)), this.db.jobs.putOp(job.id, failedJob)
    ])
    for (const t of [task, ...cancelled]) this.tasks.set(t.id, t)
    this.jobs.set(job.id, failedJob)
    this.dropFromQueue(new Set(cancelled.map(t => t.id)))
    for (const t of [task, ...cancelled]) this.emit('task', t)
    this.emit('job', failedJob)
    this.cancelOnNodes(others)
    this.log.warn({ job: job.id, error }, 'job failed')
  }

  /** Cancels a job of `account`; its running tasks are told to stop. */
  async cancel (job: JobRecord): Promise<JobRecord> {
    let running: TaskRecord[] = []
    const result = await this.transition(async () => {
      const current = this.jobs.get(job.id)
      if (current === undefined || FINAL_JOB_STATUSES.includes(current.status)) return current ?? job
      const open = this.tasksOf(current).filter(t => !['completed', 'failed', 'cancelled'].includes(t.status))
      running = open.filter(t => t.status === 'assigned' || t.status === 'running')
      const cancelledTasks = open.map(t => ({ ...t, status: 'cancelled' as const }))
      const cancelled: JobRecord = { ...current, status: 'cancelled', finishedAt: Date.now(), error: { code: 'cancelled', message: 'cancelled by its submitter' } }
      await this.db.store.batch([...cancelledTasks.map(t => this.db.tasks.putOp(t.id, t)), this.db.jobs.putOp(cancelled.id, cancelled)])
      for (const t of cancelledTasks) this.tasks.set(t.id, t)
      this.jobs.set(cancelled.id, cancelled)
      this.dropFromQueue(new Set(cancelledTasks.map(t => t.id)))
      this.emit('job', cancelled)
      return cancelled
    })
    this.cancelOnNodes(running)
    this.schedule()
    return result
  }

  private cancelOnNodes (tasks: TaskRecord[]): void {
    for (const task of tasks) {
      if (task.status !== 'assigned' && task.status !== 'running') continue
      for (const nodeId of nodesOf(task)) this.cancelOn(task.id, nodeId, 'the job ended')
    }
  }

  /** Tells one node to stop running a task (best effort: a node that does not hear it reports into the void). */
  private cancelOn (taskId: string, nodeId: string, reason: string): void {
    this.db.store.nodes.get(nodeId).then(async node => {
      if (node === undefined) return
      await this.mesh.libp2p.services.cancel.call(peerIdFromString(node.peerId), { taskId, reason })
    }).catch(err => { this.log.debug({ task: taskId, err: err?.message }, 'cancel not delivered') })
  }

  /** Pays a completed job: its payment and every earning of its tasks become `paid` in one batch. */
  async pay (job: JobRecord): Promise<PaymentRecord> {
    return await this.transition(async () => {
      const current = this.jobs.get(job.id)
      if (current?.status !== 'completed') throw new JobUsageError('only a completed job can be paid')
      const payment = await this.db.payments.get(current.id)
      if (payment === undefined) throw new JobUsageError('this job has nothing to pay')
      if (payment.status === 'paid') return payment
      const now = Date.now()
      const paid: PaymentRecord = { ...payment, status: 'paid', paidAt: now }
      const earnings: EarningRecord[] = []
      for (const task of this.tasksOf(current)) {
        const earning = await this.db.earnings.get(task.id)
        if (earning !== undefined && earning.status === 'pending') earnings.push({ ...earning, status: 'paid', paidAt: now })
      }
      const paidJob: JobRecord = { ...current, payment: 'paid' }
      await this.db.store.batch([this.db.payments.putOp(paid.jobId, paid), ...earnings.map(e => this.db.earnings.putOp(e.taskId, e)), this.db.jobs.putOp(paidJob.id, paidJob)])
      this.jobs.set(paidJob.id, paidJob)
      this.emit('job', paidJob)
      return paid
    })
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Liveness

  private async nodeDied (node: NodeRecord): Promise<void> {
    const message = `node ${node.id} stopped answering`
    const lost = this.tasks.activeOn(node.id)
    for (const task of lost) {
      const current = this.tasks.get(task.id) as TaskRecord
      if (current.backup?.nodeId === node.id) await this.dropBackup(current, 'node_dead', message)
      else if (current.backup !== undefined) await this.promoteBackup(current, 'node_dead', message)
      else await this.requeue(current, 'node_dead', message, false)
    }
    if (lost.length > 0) {
      this.log.warn({ node: node.id, tasks: lost.map(t => t.id) }, 'node dead: its tasks are re-queued')
      this.schedule()
    }
  }

  /**
   * A heartbeat lists the tasks a node is running. A task assigned to it that it neither runs nor reported
   * (it restarted, or the assignment was lost in a coordinator crash) is re-queued — after a grace period that
   * covers a report in flight.
   */
  private reconcile (session: NodeSession): void {
    const grace = 3 * this.registry.heartbeatInterval
    const now = Date.now()
    const running = new Set(session.runningTasks)
    const open = this.tasks.activeOn(session.nodeId).filter(task => !running.has(task.id))
    const lost = open.filter(task => task.nodeId === session.nodeId && now - (task.attempts.find(a => a.attempt === task.attempt)?.assignedAt ?? now) > grace)
    const lostCopies = open.filter(task => task.backup?.nodeId === session.nodeId && now - (task.backup?.assignedAt ?? now) > grace)
    if (lost.length === 0 && lostCopies.length === 0) return
    const message = `node ${session.nodeId} is not running it`
    this.transition(async () => {
      for (const task of lostCopies) {
        const current = this.tasks.get(task.id)
        if (current?.backup !== undefined && current.backup.attempt === task.backup?.attempt) await this.dropBackup(current, 'lost', message)
      }
      for (const task of lost) {
        const current = this.tasks.get(task.id)
        if (current === undefined || current.attempt !== task.attempt || (current.status !== 'assigned' && current.status !== 'running')) continue
        if (current.backup !== undefined) await this.promoteBackup(current, 'lost', message)
        else await this.requeue(current, 'lost', message, false)
      }
    }).then(() => { this.schedule() }, err => { this.log.error({ err }, 'reconciling a node\'s tasks failed') })
  }

  // ---------------------------------------------------------------------------------------------------------------

  private async saveTask (task: TaskRecord): Promise<void> {
    await this.db.store.batch([this.db.tasks.putOp(task.id, task)])
    this.tasks.set(task.id, task)
    this.emit('task', task)
  }

  private dropFromQueue (ids: Set<string>): void {
    const kept = this.queue.filter(id => !ids.has(id))
    this.queue.splice(0, this.queue.length, ...kept)
  }

  /** Runs `fn` after every transition before it: the state machine changes one step at a time. */
  private async transition<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn)
    this.serial = run.catch(() => {})
    return await run
  }
}

type PlannerFormat = 'json' | 'jsonl' | 'csv' | 'text'

/**
 * A `.json` upload whose top level is an array, rewritten beside it as JSON Lines (`NAME.jsonl`): every task then
 * loads the same list, and the input can be split. Anything else is returned as it is.
 */
async function asJsonLines (input: { name: string, path: string }): Promise<{ name: string, path: string }> {
  if (formatOf(input.name) !== 'json') return input
  const path = `${input.path}.jsonl`
  try {
    await jsonArrayToLines(input.path, path)
    return { name: `${input.name}.jsonl`, path }
  } catch (err) {
    await rm(path, { force: true })
    if (err instanceof NotAJsonArrayError) return input
    throw err
  }
}

function plannerFormat (format: InputFormat): PlannerFormat {
  return format === 'lines' ? 'text' : format
}

function analyzerFormat (format: PlannerFormat): InputFormat {
  return format === 'text' ? 'lines' : format
}

/** `len(data)` as the runtime would load the file: lines (non-empty for jsonl, minus the header for csv). */
async function countElements (path: string, format: PlannerFormat): Promise<number | undefined> {
  if (format === 'json') return undefined
  let lines = 0
  let last = 0x0a
  for await (const piece of createReadStream(path)) {
    const bytes = piece as Buffer
    for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) lines++
    if (bytes.byteLength > 0) last = bytes[bytes.byteLength - 1] ?? last
  }
  if (last !== 0x0a) lines++
  return format === 'csv' ? Math.max(0, lines - 1) : lines
}

/** The first elements of an input (whole lines of its first 256 KiB), for the analyzer's size estimates. */
async function readSample (path: string, format: PlannerFormat): Promise<{ sample: unknown[], text: string } | undefined> {
  let text = ''
  for await (const piece of createReadStream(path, { start: 0, end: SAMPLE_BYTES - 1, encoding: 'utf8' })) text += piece as string
  const cut = text.lastIndexOf('\n')
  if (cut < 0) return undefined
  try {
    const { sample, text: sampleText } = sampleInput(text.slice(0, cut + 1), analyzerFormat(format))
    return { sample, text: sampleText }
  } catch {
    return undefined
  }
}

function formatMiB (bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** The attempt number a new assignment of the task gets (after its current one and any backup copy's). */
function nextAttempt (task: TaskRecord): number {
  return Math.max(task.attempt, task.backup?.attempt ?? 0, ...task.attempts.map(a => a.attempt)) + 1
}

function median (xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

function closeAttempt (attempts: TaskAttempt[], attempt: number, outcome: string, message?: string): TaskAttempt[] {
  return attempts.map(a => a.attempt === attempt && a.endedAt === undefined
    ? { ...a, endedAt: Date.now(), outcome, ...(message !== undefined ? { message: message.slice(0, 2000) } : {}) }
    : a)
}

function jobMetrics (job: JobRecord, tasks: TaskRecord[], now: number): JobRecord['metrics'] {
  return {
    wallMs: now - job.createdAt,
    cpuMs: tasks.reduce((sum, t) => sum + (t.metrics?.cpuMs ?? 0), 0),
    taskWallMs: tasks.reduce((sum, t) => sum + (t.metrics?.wallMs ?? 0), 0),
    peakMemoryBytes: tasks.reduce((max, t) => Math.max(max, t.metrics?.peakMemoryBytes ?? 0), 0),
    attempts: tasks.reduce((sum, t) => sum + t.attempts.length, 0)
  }
}

/** A rejected analysis as a job's error and findings (the API's and the CLI's shape). */
export function rejectionOf (report: AnalysisReport): { error: JobError, findings: Finding[] } {
  const findings = report.findings.map(f => ({ rule: f.ruleId, message: f.message, line: f.line, severity: f.severity }))
  const error: JobError = {
    code: report.error?.code ?? 'REJECTED',
    message: report.error?.message ?? 'the job was rejected',
    ...(report.error?.line !== undefined ? { line: report.error.line } : {})
  }
  return { error, findings }
}

/** Whether a script defines `aggregate` at module level. */
export function definesAggregate (script: string): boolean {
  return /^def\s+aggregate\s*\(/m.test(script)
}

function extensionOf (name: string): string {
  const match = /\.[A-Za-z0-9]{1,10}$/.exec(name)
  return match === null ? '.txt' : match[0].toLowerCase()
}

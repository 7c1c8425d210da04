/**
 * Job intake: a submission checked (usage, then the scanner), planned (automatic mode: analyze, calibrate, let the
 * planner choose the level) and its input stored as chunks — turned into a job and its tasks, ready to be stored
 * in one batch. A submission the scanner refuses becomes a `rejected` job, one that cannot fit a `failed` one.
 */
import { randomUUID } from 'node:crypto'
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { analyze, calibrationHarness, isBlocking, sampleInput } from '../../../analyzer/src/index.ts'
import { PlanError, analysisOptions, analyzerFormat, describeInput, inspectInput, prepareAutoJob, sequentialBytes } from '../../../planner/src/index.ts'
import { formatBytes } from '../../../protocols/src/index.ts'
import { autoTasks } from './auto-tasks.ts'
import { DEFAULT_TASK_MEMORY, DEFAULT_TASK_TIMEOUT, MAX_TASKS } from './policy.ts'
import { newTask } from './transitions.ts'
import type { JobChunks } from './chunks.ts'
import type { Finding, JobError, JobMode, JobRecord, TaskRecord } from './records.ts'
import type { NodeRegistry } from '../nodes/registry.ts'
import type { AnalysisReport } from '../../../analyzer/src/index.ts'
import type { AutoInput, PrepareAutoJobOptions } from '../../../planner/src/index.ts'
import type { FastifyBaseLogger } from 'fastify'

/** Automatic jobs with fewer elements are not calibrated: a split could not pay for the measurement. */
const CALIBRATE_MIN_ELEMENTS = 1000
/** Calibration at submission runs on this many elements: enough for time per element, short enough to wait for. */
const CALIBRATION_ELEMENTS = 400
/**
 * Seconds the calibration's measured runs may take at submission: a CPU-heavy job is measured on fewer elements
 * (at least two prefix sizes) rather than delaying its start.
 */
const CALIBRATION_BUDGET_SECONDS = 0.2
/**
 * The calibration task's limits: the harness runs main on a few hundred elements under tracemalloc (a few times
 * main's own memory on them) and a 0.2 s budget of measured runs, plus a warm-up; at most the largest node's memory.
 */
const CALIBRATION_MEMORY = 512 * 1024 * 1024
const CALIBRATION_TIMEOUT_MS = 60_000

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

/** A job as intake made it, with its tasks (none for a job that ended at submission). */
export interface Intake {
  job: JobRecord
  tasks: TaskRecord[]
}

export interface JobIntakeOptions {
  chunks: JobChunks
  registry: NodeRegistry
  log: FastifyBaseLogger
  /** Where automatic jobs' inputs wait while they are measured (`DATA/staged`). */
  stagingDir: string
}

export class JobIntake {
  private readonly chunks: JobChunks
  private readonly registry: NodeRegistry
  private readonly log: FastifyBaseLogger
  private readonly stagingDir: string

  constructor (options: JobIntakeOptions) {
    this.chunks = options.chunks
    this.registry = options.registry
    this.log = options.log
    this.stagingDir = options.stagingDir
  }

  /** Checks, scans, plans and stores the input of a submission. Input chunks exist before the job does. */
  async prepare (submission: JobSubmission): Promise<Intake> {
    const { mode } = submission
    const taskCount = checkUsage(submission)

    const now = Date.now()
    const base: JobRecord = {
      id: randomUUID(),
      account: submission.account,
      name: submission.name,
      mode,
      status: 'queued',
      createdAt: now,
      script: typeof submission.script === 'string' ? submission.script : '',
      ...(typeof submission.aggregateScript === 'string' ? { aggregateScript: submission.aggregateScript } : {}),
      inputs: [],
      taskMemoryBytes: submission.taskMemoryBytes ?? DEFAULT_TASK_MEMORY,
      ...(submission.taskMemoryBytes !== undefined ? { explicitMemory: true } : {}),
      taskTimeoutMs: submission.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT,
      taskIds: [],
      findings: [],
      plan: { level: 1, tasks: taskCount }
    }

    // An automatic job is analyzed once, against its input: the same report is scanned and planned.
    const auto = mode === 'auto' && typeof submission.script === 'string' ? await analyzeAuto(submission.script, submission.inputs[0]) : undefined
    const rejection = scan(submission, auto?.report)
    if (rejection === undefined && (typeof submission.script !== 'string' || (submission.aggregateScript !== undefined && typeof submission.aggregateScript !== 'string'))) {
      throw new JobUsageError('the scripts must be UTF-8 text')
    }
    if (rejection !== undefined) {
      return { job: { ...base, status: 'rejected', finishedAt: now, findings: rejection.findings, error: rejection.error, plan: { level: 0, tasks: 0 } }, tasks: [] }
    }
    // A task no node can take would wait forever: say so now (with no node at all, the job waits for the first).
    const largest = Math.max(0, ...this.registry.alive().map(node => node.memoryBytes))
    if (submission.taskMemoryBytes !== undefined && largest > 0 && submission.taskMemoryBytes > largest) {
      const error = {
        code: 'does_not_fit',
        message: `each task asks for ${formatBytes(submission.taskMemoryBytes)} (taskMemory), more than any node offers (the largest offers ${formatBytes(largest)}): ask for less${mode === 'auto' ? ', or leave it unset and let the planner size the tasks' : ''}`
      }
      return { job: { ...base, status: 'failed', finishedAt: now, error, plan: { level: 0, tasks: 0 } }, tasks: [] }
    }
    if (mode === 'auto') {
      try {
        if (auto === undefined) throw new JobUsageError('the scripts must be UTF-8 text')
        return await this.planAutomatic(base, auto.input, auto.report)
      } catch (err: any) {
        if (!(err instanceof PlanError)) throw err
        return { job: { ...base, status: 'failed', finishedAt: now, error: { code: 'does_not_fit', message: err.message, line: err.line }, plan: { level: 0, tasks: 0 } }, tasks: [] }
      }
    }
    const parts: Array<{ name: string, cids: string[] }> = []
    const inputs = []
    for (const input of submission.inputs) {
      const size = (await stat(input.path)).size
      if (mode === 'manual') {
        const pieces = await this.chunks.storeSplit(input.path, taskCount)
        inputs.push({ name: input.name, size, cids: pieces.flat() })
        for (const piece of pieces) parts.push({ name: input.name, cids: piece })
      } else {
        const cids = (await this.chunks.storeSplit(input.path, 1)).flat()
        inputs.push({ name: input.name, size, cids })
        parts.push({ name: input.name, cids })
      }
    }
    const tasks: TaskRecord[] = parts.map((part, index) => newTask(base, { index, entry: 'process', inputName: part.name, inputCids: part.cids }))
    const aggregates = mode === 'grouped' || (mode === 'manual' && definesAggregate(base.script))
    if (aggregates) {
      tasks.push({ ...newTask(base, { index: tasks.length, entry: 'aggregate', inputName: 'results.json', inputCids: [] }), status: 'waiting', dependsOn: tasks.map(task => task.id) })
    }
    const job: JobRecord = {
      ...base,
      inputs,
      taskIds: tasks.map(task => task.id),
      plan: { level: 1, tasks: tasks.length, mode, processTasks: parts.length, aggregation: aggregates }
    }
    return { job, tasks }
  }

  /**
   * Automatic mode: the job analyzed against its input (once: the same report scanned it), then planned at once, or
   * first measured on a sample (a calibration task on a node, see `calibrating`) when the measurement decides something.
   */
  private async planAutomatic (base: JobRecord, input: AutoInput, report: AnalysisReport): Promise<Intake> {
    // Fit is decided against what nodes offer, not what they have free now: a busy mesh queues the tasks.
    const nodes = this.registry.alive().map(node => node.memoryBytes)
    // Time per element decides whether idle nodes make the job faster, and a run on a sample which values can be
    // copied between tasks: measured when there is something to decide (several nodes, or a job too big for the
    // largest one, and enough elements).
    const tooBig = nodes.length > 0 && sequentialBytes(report, input.elements ?? 0) > Math.max(...nodes)
    if (input.sample !== undefined && input.sample.sample.length > 0 && (nodes.length >= 2 || tooBig) &&
        (input.elements ?? 0) >= CALIBRATE_MIN_ELEMENTS) {
      const measuring = await this.calibrating(base, input, input.sample, nodes)
      if (measuring !== undefined) return measuring
    }
    return await this.plan(base, input, { report }, nodes)
  }

  /**
   * A job to measure before it is planned: its input waits on the coordinator's disk (staged), and its one task for
   * now is the calibration — the analyzer's harness run on a sample of the input, on a node and billed like any
   * task (the coordinator never runs submitted code). `planMeasured` plans it once the measurements are in.
   */
  private async calibrating (base: JobRecord, input: AutoInput, sample: { sample: unknown[], text: string }, nodes: number[]): Promise<Intake | undefined> {
    const small = sampleInput(sample.text, analyzerFormat(input.format), CALIBRATION_ELEMENTS)
    const request = { ...analysisOptions(input), sampleText: small.text, sampleElements: small.sample.length, budgetSeconds: CALIBRATION_BUDGET_SECONDS }
    const harness = calibrationHarness(base.script, request, 'process')
    if (harness === undefined || input.path === undefined) return undefined
    const file = join(base.id, `input${extname(input.name)}`)
    await mkdir(join(this.stagingDir, base.id), { recursive: true })
    await moveFile(input.path, join(this.stagingDir, file))
    const sampleCid = await this.chunks.store(new TextEncoder().encode(small.text))
    const task: TaskRecord = {
      ...newTask(base, { index: -1, entry: 'calibrate', inputName: 'sample.txt', inputCids: [sampleCid] }),
      id: `${base.id}.calibration`,
      memoryBytes: Math.min(Math.max(...nodes), CALIBRATION_MEMORY),
      timeoutMs: CALIBRATION_TIMEOUT_MS
    }
    const job: JobRecord = {
      ...base,
      inputs: [{ name: input.uploadedName ?? input.name, size: input.size, cids: [] }],
      calibration: { taskId: task.id, harness },
      staged: { file, name: input.name, uploadedName: input.uploadedName ?? input.name, size: input.size, ...(input.elements !== undefined ? { elements: input.elements } : {}) },
      plan: { level: 0, tasks: 0, mode: 'auto', calibrating: true, reasons: [`measuring the job on ${small.sample.length} elements of its input before planning it`] }
    }
    return { job, tasks: [task] }
  }

  /**
   * Plans a job whose calibration ended: with the harness's output (`measurements`), or on the static estimate when
   * the calibration failed. Raises `PlanError` when it fits no node.
   */
  async planMeasured (job: JobRecord, measurements: string | undefined): Promise<Intake> {
    const staged = job.staged
    if (staged === undefined) throw new Error(`job ${job.id} has no staged input to plan`)
    const input = await describeInput({ path: join(this.stagingDir, staged.file), name: staged.name, uploadedName: staged.uploadedName, size: staged.size, ...(staged.elements !== undefined ? { elements: staged.elements } : {}) })
    const measure = measurements === undefined
      ? undefined
      : { runner: async () => measurements, elements: CALIBRATION_ELEMENTS, budgetSeconds: CALIBRATION_BUDGET_SECONDS }
    const onWarning = (message: string): void => { this.log.warn({ job: job.id, err: message }, 'the calibration\'s measurements cannot be used; planning on the static estimate') }
    const planned = await this.plan(job, input, { ...(measure !== undefined ? { measure } : {}), onWarning }, this.registry.alive().map(node => node.memoryBytes))
    return { job: { ...planned.job, status: job.status }, tasks: planned.tasks }
  }

  /** Removes a job's staged input (planned, or ended before it could be). */
  async discardStaged (jobId: string): Promise<void> {
    await rm(join(this.stagingDir, jobId), { recursive: true, force: true })
  }

  /**
   * Lets the planner choose the level (whole program on one node, main cut into parts, or a data split of its leading
   * map/reduce chain into K chunk tasks and an aggregator that combines their partial results and runs the rest of
   * main), and stores the input cut for that plan. Raises `PlanError` when it fits no node.
   */
  private async plan (base: JobRecord, input: AutoInput, how: Pick<PrepareAutoJobOptions, 'report' | 'measure' | 'onWarning'>, nodes: number[]): Promise<Intake> {
    const prepared = await prepareAutoJob({ source: base.script, input, nodes, ...how })
    if (prepared.error !== undefined) throw prepared.error
    if (prepared.plan === undefined || prepared.view === undefined) throw new Error(`job ${base.id} was not planned: its analysis is ${prepared.report.status}`)
    return await autoTasks(this.chunks, base, input, prepared.plan, prepared.view, nodes)
  }
}

/** Moves a file (a rename where it can, a copy across file systems). */
async function moveFile (from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (err: any) {
    if (err?.code !== 'EXDEV') throw err
    await copyFile(from, to)
    await rm(from, { force: true })
  }
}

/** The number of tasks a submission asks for; raises `JobUsageError` for one that cannot be a job. */
function checkUsage (submission: JobSubmission): number {
  const { mode } = submission
  if (submission.inputs.length === 0 && mode !== 'auto') throw new JobUsageError(`a ${mode} job needs at least one input file`)
  if (mode === 'grouped' && submission.aggregateScript === undefined) throw new JobUsageError('a grouped job needs an aggregation script (--aggregate)')
  if (mode === 'auto' && submission.inputs.length > 1) throw new JobUsageError('an automatic job takes one input file; use --mode grouped for several')
  if (mode === 'manual' && submission.inputs.length > 1) throw new JobUsageError('a manual job takes one input file (split into --tasks chunks); use --mode grouped for several')
  const taskCount = mode === 'manual' ? (submission.tasks ?? 1) : mode === 'grouped' ? submission.inputs.length : 1
  if (!Number.isInteger(taskCount) || taskCount < 1 || taskCount > MAX_TASKS) throw new JobUsageError(`tasks must be an integer from 1 to ${MAX_TASKS}`)
  return taskCount
}

/** An automatic job's input as the planner reads it, and the script's analysis against it. */
async function analyzeAuto (script: string, uploaded: { name: string, path: string } | undefined): Promise<{ input: AutoInput, report: AnalysisReport }> {
  const input = await inspectInput(uploaded)
  return { input, report: analyze(script, analysisOptions(input)) }
}

/**
 * Runs the analyzer's scanner and template checks (or takes the analysis already made of the job's script);
 * returns why the job is refused, if it is.
 */
function scan (submission: JobSubmission, analyzed?: AnalysisReport): { error: JobError, findings: Finding[] } | undefined {
  const report = analyzed ?? analyze(submission.script, { mode: submission.mode === 'auto' ? 'auto' : 'manual' })
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

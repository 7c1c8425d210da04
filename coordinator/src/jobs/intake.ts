/**
 * Job intake: a submission checked (usage, then the scanner), planned (automatic mode: analyze, calibrate, let the
 * planner choose the level) and its input stored as chunks — turned into a job and its tasks, ready to be stored
 * in one batch. A submission the scanner refuses becomes a `rejected` job, one that cannot fit a `failed` one.
 */
import { randomUUID } from 'node:crypto'
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { analyze, calibrate, calibrationHarness, formatOf, isBlocking, sampleInput } from '../../../analyzer/src/index.ts'
import { PlanError, formatBytes, planAuto, planView, sequentialBytes } from '../planner/index.ts'
import { analyzerFormat, asJsonLines, countElements, plannerFormat, readSample } from './input-files.ts'
import {
  DEFAULT_TASK_MEMORY, DEFAULT_TASK_TIMEOUT, MAX_TASKS, autoTaskMemory
} from './policy.ts'
import { newTask } from './transitions.ts'
import type { JobChunks } from './chunks.ts'
import type { Finding, JobError, JobMode, JobRecord, TaskRecord } from './records.ts'
import type { NodeRegistry } from '../nodes/registry.ts'
import type { AnalysisReport, AnalyzeOptions, CalibrationRunner } from '../../../analyzer/src/index.ts'
import type { PlannerFormat } from './input-files.ts'
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
    if (submission.inputs.length === 0 && mode !== 'auto') throw new JobUsageError(`a ${mode} job needs at least one input file`)
    if (mode === 'grouped' && submission.aggregateScript === undefined) throw new JobUsageError('a grouped job needs an aggregation script (--aggregate)')
    if (mode === 'auto' && submission.inputs.length > 1) throw new JobUsageError('an automatic job takes one input file; use --mode grouped for several')
    if (mode === 'manual' && submission.inputs.length > 1) throw new JobUsageError('a manual job takes one input file (split into --tasks chunks); use --mode grouped for several')
    const taskCount = mode === 'manual' ? (submission.tasks ?? 1) : mode === 'grouped' ? submission.inputs.length : 1
    if (!Number.isInteger(taskCount) || taskCount < 1 || taskCount > MAX_TASKS) throw new JobUsageError(`tasks must be an integer from 1 to ${MAX_TASKS}`)

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

    const rejection = scan(submission)
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
        return await this.planAutomatic(submission, base)
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
   * Automatic mode: analyzes the job against its input, then plans it at once, or first measures it on a sample (a
   * calibration task on a node, see `calibrating`) when the measurement decides something.
   */
  private async planAutomatic (submission: JobSubmission, base: JobRecord): Promise<Intake> {
    const input = await inspect(submission.inputs[0])
    const options = analysisOptions(input)
    const report = analyze(base.script, options)
    // Fit is decided against what nodes offer, not what they have free now: a busy mesh queues the tasks.
    const nodes = this.registry.alive().map(node => node.memoryBytes)
    // Time per element decides whether idle nodes make the job faster, and a run on a sample which values can be
    // copied between tasks: measured when there is something to decide (several nodes, or a job too big for the
    // largest one, and enough elements).
    const tooBig = report.status === 'accepted' && nodes.length > 0 && sequentialBytes(report, input.elements ?? 0) > Math.max(...nodes)
    if (report.status === 'accepted' && input.sample !== undefined && input.sample.sample.length > 0 && (nodes.length >= 2 || tooBig) &&
        (input.elements ?? 0) >= CALIBRATE_MIN_ELEMENTS) {
      const measuring = await this.calibrating(base, input, input.sample, options, nodes)
      if (measuring !== undefined) return measuring
    }
    return await this.plan(base, input, report, nodes)
  }

  /**
   * A job to measure before it is planned: its input waits on the coordinator's disk (staged), and its one task for
   * now is the calibration — the analyzer's harness run on a sample of the input, on a node and billed like any
   * task (the coordinator never runs submitted code). `planMeasured` plans it once the measurements are in.
   */
  private async calibrating (base: JobRecord, input: AutoInput, sample: { sample: unknown[], text: string }, options: AnalyzeOptions, nodes: number[]): Promise<Intake | undefined> {
    const small = sampleInput(sample.text, analyzerFormat(input.format), CALIBRATION_ELEMENTS)
    const request = { ...options, sampleText: small.text, sampleElements: small.sample.length, budgetSeconds: CALIBRATION_BUDGET_SECONDS }
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
    const path = join(this.stagingDir, staged.file)
    const format = plannerFormat(formatOf(staged.name))
    const input: AutoInput = { path, name: staged.name, uploadedName: staged.uploadedName, format, size: staged.size, ...(staged.elements !== undefined ? { elements: staged.elements } : {}) }
    const sample = format === 'json' ? undefined : await readSample(path, format)
    if (sample !== undefined) input.sample = sample
    const options = analysisOptions(input)
    let report = analyze(job.script, options)
    if (measurements !== undefined && sample !== undefined) {
      try {
        const small = sampleInput(sample.text, analyzerFormat(format), CALIBRATION_ELEMENTS)
        const runner: CalibrationRunner = async () => measurements
        report = await calibrate(job.script, { ...options, sampleText: small.text, sampleElements: small.sample.length, budgetSeconds: CALIBRATION_BUDGET_SECONDS, runner })
      } catch (err: any) {
        this.log.warn({ job: job.id, err: err?.message }, 'the calibration\'s measurements cannot be used; planning on the static estimate')
      }
    }
    const planned = await this.plan(job, input, report, this.registry.alive().map(node => node.memoryBytes))
    return { job: { ...planned.job, status: job.status }, tasks: planned.tasks }
  }

  /** Removes a job's staged input (planned, or ended before it could be). */
  async discardStaged (jobId: string): Promise<void> {
    await rm(join(this.stagingDir, jobId), { recursive: true, force: true })
  }

  /**
   * Lets the planner choose the level (whole program on one node, main cut into parts, or a data split of its leading
   * map/reduce chain into K chunk tasks and an aggregator that combines their partial results and runs the rest of
   * main), and stores the input cut for that plan.
   */
  private async plan (base: JobRecord, input: AutoInput, report: AnalysisReport, nodes: number[]): Promise<Intake> {
    const source = base.script
    const { format, size, elements, path } = input
    const plan = planAuto({ source, report, format, inputBytes: size, elements, nodes: nodes.map(memoryBytes => ({ memoryBytes })) })
    const largest = nodes.length > 0 ? Math.max(...nodes) : Number.POSITIVE_INFINITY
    const memoryFor = (estimate: number): number => base.explicitMemory === true ? base.taskMemoryBytes : autoTaskMemory(estimate, largest)
    const view = { ...planView(plan), mode: 'auto' }
    const uploadedName = input.uploadedName ?? input.name
    if (plan.segments !== undefined) {
      // Level 2: one task per part of main (the one returning the result last); parts that read the input get it whole.
      const segments = plan.segments
      const cids = path === undefined || !segments.some(seg => seg.readsData) ? [] : (await this.chunks.storeSplit(path, 1)).flat()
      const job: JobRecord = {
        ...base,
        inputs: path === undefined ? [] : [{ name: uploadedName, size, cids }],
        plan: view,
        generated: { final: plan.finalTask.script, segments: segments.map(seg => seg.script) }
      }
      const tasks = segments.map((seg, i) => {
        const task = newTask(job, { index: i, entry: 'segment', inputName: input.name, inputCids: seg.readsData ? cids : [] })
        task.memoryBytes = memoryFor(seg.memoryBytes)
        task.dependsOn = seg.dependsOn.map(d => `${base.id}.${d}`)
        if (task.dependsOn.length > 0) task.status = 'waiting'
        return task
      })
      job.taskIds = tasks.map(task => task.id)
      return { job, tasks }
    }
    if (plan.chunkTask === undefined || path === undefined) {
      const cids = path === undefined ? [] : (await this.chunks.storeSplit(path, 1)).flat()
      const job: JobRecord = {
        ...base,
        inputs: path === undefined ? [] : [{ name: uploadedName, size, cids }],
        plan: { ...view, tasks: 1 },
        ...(plan.finalTask.script !== source ? { generated: { final: plan.finalTask.script } } : {})
      }
      const task = newTask(job, { index: 0, entry: plan.finalTask.entry === 'aggregate' ? 'aggregate' : 'main', inputName: input.name, inputCids: cids })
      task.memoryBytes = memoryFor(plan.finalTask.memoryBytes)
      job.taskIds = [task.id]
      return { job, tasks: [task] }
    }
    // Level 3: K parts on line boundaries; a csv part after the first gets the header row in front.
    const parts = await this.chunks.storeSplit(path, plan.chunks)
    const header = format === 'csv' ? await this.chunks.storeHeader(path) : undefined
    const job: JobRecord = {
      ...base,
      inputs: [{ name: uploadedName, size, cids: parts.flat() }],
      plan: { ...view, chunks: parts.length, tasks: parts.length + 1 },
      generated: { chunk: plan.chunkTask.script, final: plan.finalTask.script },
      ...(header !== undefined ? { csvHeader: header } : {})
    }
    const tasks: TaskRecord[] = parts.map((cids, index) => {
      const task = newTask(job, { index, entry: 'main', inputName: input.name, inputCids: index > 0 && header !== undefined ? [header, ...cids] : cids })
      task.memoryBytes = memoryFor(plan.chunkTask?.memoryBytes ?? 0)
      if ((plan.rounds ?? []).length > 0) task.chunk = index
      return task
    })
    // Later rounds: a stage task on every earlier round's chunk results, then each chunk again where round 1 ran it.
    const chunkTasks = [...tasks]
    const segments: string[] = []
    for (const round of plan.rounds ?? []) {
      const stage = { ...newTask(job, { index: tasks.length, entry: 'segment', inputName: input.name, inputCids: [] }), status: 'waiting' as const, dependsOn: chunkTasks.map(task => task.id), script: segments.length }
      stage.memoryBytes = memoryFor(round.stage.memoryBytes)
      if (round.stage.sizing !== undefined && base.explicitMemory !== true) stage.sizing = round.stage.sizing
      tasks.push(stage)
      const again = parts.map((_, i): TaskRecord => {
        const first = tasks[i] as TaskRecord
        const task = { ...newTask(job, { index: tasks.length + i, entry: 'segment', inputName: input.name, inputCids: first.inputCids }), status: 'waiting' as const, dependsOn: [stage.id], script: segments.length + 1, near: first.id, chunk: i }
        task.memoryBytes = memoryFor(round.chunk.memoryBytes)
        return task
      })
      tasks.push(...again)
      chunkTasks.push(...again)
      segments.push(round.stage.script, round.chunk.script)
    }
    if (segments.length > 0) job.generated = { ...job.generated, final: plan.finalTask.script, segments }
    const final = { ...newTask(job, { index: tasks.length, entry: 'aggregate', inputName: 'results.json', inputCids: [] }), status: 'waiting' as const, dependsOn: chunkTasks.map(task => task.id) }
    final.memoryBytes = memoryFor(plan.finalTask.memoryBytes)
    if (plan.finalTask.sizing !== undefined && base.explicitMemory !== true) final.sizing = plan.finalTask.sizing
    tasks.push(final)
    job.plan = { ...job.plan, tasks: tasks.length }
    job.taskIds = tasks.map(task => task.id)
    return { job, tasks }
  }
}

/** What is known of an automatic job's input. */
interface AutoInput {
  /** The file to read (the upload, its JSON Lines rewrite, or the staged copy); absent for a job without input. */
  path?: string
  /** The name the runtime loads it by ('' without input). */
  name: string
  /** The name it was uploaded as. */
  uploadedName?: string
  format: PlannerFormat
  size: number
  elements?: number
  /** Its first elements, for the analyzer's size estimates and the calibration. */
  sample?: { sample: unknown[], text: string }
}

/** Reads what the planner needs of an uploaded input (a `.json` array is rewritten as JSON Lines first). */
async function inspect (uploaded: { name: string, path: string } | undefined): Promise<AutoInput> {
  if (uploaded === undefined) return { name: '', format: 'text', size: 0, elements: 0 }
  // A .json array runs as JSON Lines (the same list in Python, and cut on lines); any other .json stays whole.
  const input = await asJsonLines(uploaded)
  const format = plannerFormat(formatOf(input.name))
  const elements = await countElements(input.path, format)
  const sample = format === 'json' ? undefined : await readSample(input.path, format)
  return {
    path: input.path,
    name: input.name,
    uploadedName: uploaded.name,
    format,
    size: (await stat(input.path)).size,
    ...(elements !== undefined ? { elements } : {}),
    ...(sample !== undefined ? { sample } : {})
  }
}

function analysisOptions (input: AutoInput): AnalyzeOptions {
  return {
    mode: 'auto',
    input: { format: analyzerFormat(input.format), ...(input.elements !== undefined ? { elements: input.elements } : {}), ...(input.sample !== undefined ? { sample: input.sample.sample } : {}) }
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

/** Runs the analyzer's scanner and template checks; returns why the job is refused, if it is. */
function scan (submission: JobSubmission): { error: JobError, findings: Finding[] } | undefined {
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

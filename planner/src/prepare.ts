/**
 * The preparation of an automatic job, written once for the coordinator (at submission, and again when a
 * calibration task's measurements come back) and for `runsurge analyze`: the input read as the runtime will load it
 * (a `.json` array as JSON Lines), the script analyzed against it, measured on a sample when a runner is given, and
 * planned on the nodes' memory.
 */
import { stat } from 'node:fs/promises'
import { analyze, calibrate, formatOf, sampleInput } from '../../analyzer/src/index.ts'
import { analyzerFormat, asJsonLines, countElements, plannerFormat, readSample } from './input-files.ts'
import { planAuto } from './plan.ts'
import { PlanError, planView } from './plan-types.ts'
import type { AnalysisReport, AnalyzeOptions, CalibrationRunner } from '../../analyzer/src/index.ts'
import type { AutoPlan, PlanView } from './plan-types.ts'
import type { PlannerFormat } from './input-files.ts'

/** What is known of an automatic job's input. */
export interface AutoInput {
  /** The file to read (the upload, its JSON Lines rewrite, or a staged copy); absent for a job without input. */
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

/**
 * Reads what the planner needs of an input file: a `.json` array is rewritten as JSON Lines first, beside it or in
 * `dir` (the same list in Python, and cut on lines); any other `.json` stays whole and is neither counted nor sampled.
 */
export async function inspectInput (uploaded: { name: string, path: string } | undefined, dir?: string): Promise<AutoInput> {
  if (uploaded === undefined) return { name: '', format: 'text', size: 0, elements: 0 }
  const input = await asJsonLines(uploaded, dir)
  return await describeInput({ path: input.path, name: input.name, uploadedName: uploaded.name })
}

/** Format, size, element count and sample of an input file already in the form the runtime loads. */
export async function describeInput (file: { path: string, name: string, uploadedName?: string, size?: number, elements?: number }): Promise<AutoInput> {
  const format = plannerFormat(formatOf(file.name))
  const elements = file.elements ?? await countElements(file.path, format)
  const sample = format === 'json' ? undefined : await readSample(file.path, format)
  return {
    path: file.path,
    name: file.name,
    ...(file.uploadedName !== undefined ? { uploadedName: file.uploadedName } : {}),
    format,
    size: file.size ?? (await stat(file.path)).size,
    ...(elements !== undefined ? { elements } : {}),
    ...(sample !== undefined ? { sample } : {})
  }
}

/** The analyzer's options for an automatic job on this input. */
export function analysisOptions (input: AutoInput): AnalyzeOptions {
  return {
    mode: 'auto',
    input: { format: analyzerFormat(input.format), ...(input.elements !== undefined ? { elements: input.elements } : {}), ...(input.sample !== undefined ? { sample: input.sample.sample } : {}) }
  }
}

/** How an automatic job is measured before it is planned. */
export interface Measurement {
  /** Runs the calibration harness: in a sandbox (the CLI), or hands back what a calibration task measured. */
  runner: CalibrationRunner
  /** Elements of the input's sample the harness runs on (all of the sample when absent). */
  elements?: number
  /** Seconds the harness's measured runs may take. */
  budgetSeconds?: number
}

export interface PrepareAutoJobOptions {
  source: string | Uint8Array
  input: AutoInput
  /** Memory each alive node offers (bytes). */
  nodes: number[]
  /** The analysis of `source` against `input`, when the caller already has it (it is not made again). */
  report?: AnalysisReport
  /** Measures the job on a sample of its input first; planned on the static estimate when absent or when it fails. */
  measure?: Measurement
  /** Told why a measurement could not be used. */
  onWarning?: (message: string) => void
}

/** An automatic job ready to run: its analysis, and its plan or why it fits no node. */
export interface PreparedAutoJob {
  report: AnalysisReport
  plan?: AutoPlan
  view?: PlanView
  /** Set when no plan fits the nodes (a job that ends as `does_not_fit`): the statement that needs most, and how much. */
  error?: PlanError
}

/** The analysis calibrated on the input's sample; undefined without a sample, or when the measurement failed (said). */
async function measured (options: PrepareAutoJobOptions, analysis: AnalyzeOptions): Promise<AnalysisReport | undefined> {
  const { input, measure } = options
  const sample = input.sample
  if (measure === undefined || sample === undefined || sample.sample.length === 0) return undefined
  const small = measure.elements === undefined ? sample : sampleInput(sample.text, analyzerFormat(input.format), measure.elements)
  try {
    return await calibrate(options.source, {
      ...analysis,
      sampleText: small.text,
      sampleElements: small.sample.length,
      ...(measure.budgetSeconds !== undefined ? { budgetSeconds: measure.budgetSeconds } : {}),
      runner: measure.runner
    })
  } catch (err) {
    options.onWarning?.(`calibration failed, memory is the static estimate: ${(err as Error).message}`)
    return undefined
  }
}

/** Analyzes (unless given), measures (when asked) and plans an automatic job; a rejected script gets no plan. */
export async function prepareAutoJob (options: PrepareAutoJobOptions): Promise<PreparedAutoJob> {
  const { input } = options
  const analysis = analysisOptions(input)
  // Measuring analyzes the script itself (a rejected one is returned as analyzed, never run): the analysis is made
  // once, here or there.
  let report = options.measure !== undefined ? await measured(options, analysis) : undefined
  report ??= options.report ?? analyze(options.source, analysis)
  if (report.status !== 'accepted') return { report }
  const source = typeof options.source === 'string' ? options.source : new TextDecoder().decode(options.source)
  try {
    const plan = planAuto({ source, report, format: input.format, inputBytes: input.size, elements: input.elements, nodes: options.nodes.map(memoryBytes => ({ memoryBytes })) })
    return { report, plan, view: planView(plan) }
  } catch (err) {
    if (!(err instanceof PlanError)) throw err
    return { report, error: err }
  }
}

/**
 * RunSurge analyzer: pure functions from a Python job (and what is known of its input) to a report — the
 * security scan, the template checks, the statement-level DDG of `main`, function classes, blocks and
 * memory estimates. No network, no store; the only side effect is reading the bundled rule files.
 *
 * @example
 * ```ts
 * const report = analyze(source)
 * if (report.status === 'rejected') console.error(report.error)
 * const { sample, text } = sampleInput(inputText, 'json')
 * const calibrated = await calibrate(source, {
 *   input: { format: 'json', elements: 1_000_000, sample }, sampleText: text, sampleElements: sample.length, runner
 * })
 * ```
 */
import { buildHarness, calibrationSizes, parseMeasurements } from './calibration.ts'
import type { CalibrationRunner } from './calibration.ts'
import type { StatementClass } from './classify.ts'
import { KEYED_OPS } from './loops.ts'
import { applyCalibration, runAnalysis } from './report.ts'
import type { AnalysisReport, AnalyzeOptions } from './report.ts'
import { lineOf, endLineOf } from './syntax.ts'

export type { AnalysisReport, AnalyzeOptions, Block, BlockMemory, MemoryReport, ReportError } from './report.ts'
export type { Accumulator, AccumulatorOp, BestStep, FunctionClass, FunctionSummary, StatementClass } from './classify.ts'
export type { Ddg, DdgEdge, DdgEdgeKind, DdgNode, ReassignmentHazard } from './ddg.ts'
export type { Finding, Severity, ScanRule } from './scan.ts'
export type { JobMode } from './template.ts'
export type { InputFormat, MemoryFunction, StatementMemory } from './memory.ts'
export type { CalibrationMeasurements, CalibrationRequest, CalibrationRun, CalibrationRunner, StatementMeasurement } from './calibration.ts'
export type { InputSample } from './input.ts'
export type { ChunkMap, ReductionSite, ReductionSites, SiteOp } from './sites.ts'
export { siteStart } from './sites.ts'
export { ALLOWED_MODULES } from './template.ts'
export { calibrationSizes } from './calibration.ts'
export { MAX_SOURCE_BYTES, parsePython } from './parse.ts'
export { SEVERITIES, isBlocking, loadRules, scan } from './scan.ts'
export { evaluate } from './memory.ts'
export { KEYED_OPS } from './loops.ts'
export { formatOf, sampleInput, DEFAULT_SAMPLE_ELEMENTS } from './input.ts'
export { buildHarness, parseMeasurements, fitUpper, SLOPE_MARGIN, FIXED_MARGIN, DEEP_SIZE_PYTHON } from './calibration.ts'
export {
  SourceRejectedError, EmptySourceError, BinarySourceError, SourceTooLargeError, PythonSyntaxError,
  InvalidRuleError, CalibrationError
} from './errors.ts'
export type { RejectionCode } from './errors.ts'

/**
 * Analyzes a job. Never throws for a bad job: syntax errors, empty/binary/huge files, blocking scanner
 * findings and template violations give `status: 'rejected'` with `error` and every finding.
 *
 * @param source - the job file, as text or raw bytes (bytes are checked for NULs and invalid UTF-8)
 * @param options - `mode` (`auto` by default) and what is known of the input; with `input.sample` the
 *   static memory estimate sizes real elements, and with `input.elements` it is evaluated at that size
 */
export function analyze (source: string | Uint8Array, options: AnalyzeOptions = {}): AnalysisReport {
  return runAnalysis(source, options).report
}

/** What the calibration harness of a job is built from: the job, its input's sample, and how it is run. */
export interface HarnessRequest extends AnalyzeOptions {
  /** The sample's text in the input's own format (see `sampleInput`); the harness loads prefixes of it. */
  sampleText: string
  /** Number of elements in `sampleText`. */
  sampleElements: number
  /** Seconds the harness's measured runs may take (see `HarnessOptions.budgetSeconds`); unlimited when absent. */
  budgetSeconds?: number
}

/** Options of {@link calibrate}. */
export interface CalibrateOptions extends HarnessRequest {
  /** Runs the harness (the CLI uses `python3 -I` in a sandbox; the coordinator a task on a node). */
  runner: CalibrationRunner
  signal?: AbortSignal
  /** Progress: `analyzed`, then `calibrating`, then `done`. */
  onProgress?: (event: { stage: 'analyzed' | 'calibrating' | 'done' }) => void
}

/**
 * The calibration harness of an automatic job (the one {@link calibrate} runs), or undefined for a job that is not
 * calibrated (rejected, or not automatic). `harnessInterface: 'process'` makes it a manual-mode task
 * (`process(input_data)` on the sample's text, returning the measurements) for a node to run.
 */
export function calibrationHarness (source: string | Uint8Array, request: HarnessRequest, harnessInterface: 'stdio' | 'process' = 'stdio'): string | undefined {
  return harnessOf(runAnalysis(source, request), request, harnessInterface)
}

function harnessOf (analysis: ReturnType<typeof runAnalysis>, request: HarnessRequest, harnessInterface: 'stdio' | 'process'): string | undefined {
  const { report, graph, text } = analysis
  if (report.status !== 'accepted' || report.mode !== 'auto' || graph === undefined || text === undefined) return undefined
  return buildHarness({
    source: text,
    entry: 'main',
    format: request.input?.format ?? 'json',
    statements: graph.statements.map(s => [lineOf(s), endLineOf(s)]),
    sizes: calibrationSizes(request.sampleElements),
    variables: splitValues(report.classes ?? []),
    ...(request.budgetSeconds !== undefined ? { budgetSeconds: request.budgetSeconds } : {}),
    interface: harnessInterface
  })
}

/** Per statement, the keyed accumulators and lists appended next to reductions it builds (measured one by one). */
function splitValues (classes: StatementClass[]): Record<number, string[]> {
  const out: Record<number, string[]> = {}
  for (const c of classes) {
    if (c.class !== 'reduce') continue
    const names = c.accumulators.filter(a => a.variable !== 'return' && (KEYED_OPS.has(a.op) || a.op === 'append' || a.op === 'extend')).map(a => a.variable)
    if (names.length > 0) out[c.statement] = names
  }
  return out
}

/**
 * Analyzes a job, then measures it: runs the generated harness (through `options.runner`) on growing
 * prefixes of the sample and replaces the static memory estimate with fitted measurements, which are safe
 * (never below what was measured, with margins for growth) and tight. Rejected jobs and manual-mode jobs
 * are returned as `analyze` returns them, without running anything.
 *
 * @throws CalibrationError when the harness output cannot be used (the job crashed on the sample, …)
 */
export async function calibrate (source: string | Uint8Array, options: CalibrateOptions): Promise<AnalysisReport> {
  const analysis = runAnalysis(source, options)
  options.onProgress?.({ stage: 'analyzed' })
  const { report, graph } = analysis
  const harness = harnessOf(analysis, options, 'stdio')
  if (harness === undefined || graph === undefined) return report
  options.signal?.throwIfAborted()
  options.onProgress?.({ stage: 'calibrating' })
  const stdout = await options.runner({ harness, input: options.sampleText }, { ...(options.signal !== undefined ? { signal: options.signal } : {}) })
  const measurements = parseMeasurements(stdout, graph.ddg.nodes.length)
  const calibrated = applyCalibration(analysis, measurements, measurements.runs.map(r => r.n))
  options.onProgress?.({ stage: 'done' })
  return calibrated
}

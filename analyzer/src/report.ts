/**
 * Assembles the analysis into one JSON-serializable report. The report is versioned (`version: 1`): the
 * scheduler consumes `blocks` (classes, dependencies, independence, memory functions) and the CLI prints it.
 * Field order and sorting are fixed so equal inputs give byte-identical JSON.
 */
import { createHash } from 'node:crypto'
import type { CalibrationMeasurements } from './calibration.ts'
import { FIXED_MARGIN, fitStatements } from './calibration.ts'
import type { Accumulator, FunctionClass, FunctionSummary, StatementClass } from './classify.ts'
import { classifyFunctions, classifyStatements } from './classify.ts'
import type { Ddg, DdgEdgeKind, DdgWithSyntax } from './ddg.ts'
import { buildBlocks, buildDdg } from './ddg.ts'
import { findSites } from './sites.ts'
import type { ReductionSites } from './sites.ts'
import { effectContext } from './effects.ts'
import type { EffectContext } from './effects.ts'
import type { RejectionCode } from './errors.ts'
import { PythonSyntaxError, SourceRejectedError } from './errors.ts'
import type { InputFormat, MemoryFunction, StatementMemory } from './memory.ts'
import { add, evaluate, inputMemory, STATIC_FIXED_MARGIN, STATIC_MARGIN, staticEstimate } from './memory.ts'
import type { ParsedSource } from './parse.ts'
import { parsePython } from './parse.ts'
import type { Finding } from './scan.ts'
import { isBlocking, scan, sortFindings } from './scan.ts'
import { pyTree } from './syntax.ts'
import type { JobMode } from './template.ts'
import { checkTemplate } from './template.ts'

/** Why the job was rejected; `line` and `column` are 1-based when known (the message names them too). */
export interface ReportError {
  code: RejectionCode
  message: string
  line?: number
  column?: number
}

/** Memory of one block, as functions of the input's element count n. */
export interface BlockMemory {
  /** Each variable the block reads from earlier blocks or the input, sized as it is when the block starts. */
  inputs: Record<string, MemoryFunction>
  /** The block's own allocations: outputs and temporaries (sum over its statements, an upper bound). */
  working: MemoryFunction
  /** inputs + working: what a node needs to run this block alone over the whole input. */
  total: MemoryFunction
}

/** A scheduling unit: one statement of main, or a loop together with its accumulator initialisers. */
export interface Block {
  id: number
  /** DDG statement ids, ascending. */
  statements: number[]
  startLine: number
  endLine: number
  class: FunctionClass
  /** Collection the block maps or reduces over element by element (`data` or an earlier block's output). */
  source?: string
  /** How partial results of a split run are combined. */
  combine?: 'concat' | 'merge' | 'reduce'
  accumulators: Accumulator[]
  /** Variables every chunk needs whole (scalars, lookup tables). */
  broadcast: string[]
  /** Variables read that earlier blocks (or the input) define. */
  reads: string[]
  /** Variables the block defines. */
  writes: string[]
  /** Blocks this one waits for, with the DDG keys (`x:3`) and edge kinds behind each dependency. */
  dependsOn: Array<{ block: number, keys: string[], kinds: DdgEdgeKind[] }>
  /** Blocks with no dependency path to or from this one: they may run at the same time. */
  independentOf: number[]
  /** Longest dependency path leading here; blocks of equal level are independent. */
  level: number
  /** Why this class. */
  reason: string
  memory: BlockMemory
  /** Calibrated seconds as a function of n (only after calibration). */
  seconds?: MemoryFunction
  /** A loop over `enumerate(source, START)`: START; its element code may read positions in the whole collection. */
  positions?: string
}

/** The memory part of the report. */
export interface MemoryReport {
  /** `static` from object sizes, or `calibrated` from measured runs on a sample. */
  basis: 'static' | 'calibrated'
  format: InputFormat
  /** Memory of `data` once loaded. */
  data: MemoryFunction
  /** Whole job, upper bound: the largest fixed and per-element parts over loading and every statement. */
  peak: MemoryFunction
  statements: StatementMemory[]
  /** The input size the report was evaluated at, and the peak there (bytes), when the size is known. */
  elements?: number
  peakBytes?: number
  /** Python version, prefix sizes measured, and prefixes on which the job raised (skipped). */
  calibration?: {
    python: string
    sizes: number[]
    skipped: Array<{ n: number, error: string }>
    /** Locals of main seen holding values that cannot be copied to another task (functions, generators, files…). */
    unencodable: string[]
  }
}

/** Everything the analyzer found out about a job. */
export interface AnalysisReport {
  version: 1
  status: 'accepted' | 'rejected'
  mode: JobMode
  /** Present when rejected: the first blocking problem. */
  error?: ReportError
  /** Every scanner and template finding, blocking or not, sorted by position. */
  findings: Finding[]
  source: { bytes: number, lines: number, sha256: string }
  /** The remaining fields are present when accepted. */
  functions?: FunctionSummary[]
  ddg?: Ddg
  classes?: StatementClass[]
  blocks?: Block[]
  /** Automatic mode: reductions where they stand in main's statements (a planner may compute them per chunk). */
  reductions?: ReductionSites
  memory?: MemoryReport
}

/** Options of `analyze`. */
export interface AnalyzeOptions {
  /** `auto` (default): `main(data)`; `manual`: `process(input_data)`. */
  mode?: JobMode
  /** What is known of the input: its format, its element count, and a sample of its first elements. */
  input?: { format?: InputFormat, elements?: number, sample?: unknown[] }
}

/** Internal: everything `calibrate` needs to re-run the memory part. */
export interface Analysis {
  report: AnalysisReport
  graph?: DdgWithSyntax
  text?: string
  ctx?: EffectContext
}

/** Runs parsing, scanning, template checks and analysis; never throws for a bad job (see `status`). */
export function runAnalysis (source: string | Uint8Array, options: AnalyzeOptions = {}): Analysis {
  const mode = options.mode ?? 'auto'
  const bytes = typeof source === 'string' ? Buffer.from(source, 'utf8') : Buffer.from(source)
  const sourceInfo = { bytes: bytes.byteLength, lines: 0, sha256: createHash('sha256').update(bytes).digest('hex') }
  let parsed: ParsedSource
  try {
    parsed = parsePython(source)
  } catch (err) {
    if (err instanceof SourceRejectedError) {
      const column = err instanceof PythonSyntaxError ? err.column : undefined
      return { report: rejected(mode, { code: err.code, message: err.message, ...(err.line !== undefined ? { line: err.line } : {}), ...(column !== undefined ? { column } : {}) }, [], sourceInfo) }
    }
    throw err
  }
  sourceInfo.lines = parsed.lines.length - (parsed.lines.at(-1) === '' ? 1 : 0)
  const scanFindings = scan(parsed)
  const module = pyTree(parsed.root)
  const template = checkTemplate(module, mode)
  const findings = sortFindings([...scanFindings, ...template.findings])
  const blockingScan = scanFindings.find(f => isBlocking(f.severity))
  const blockingTemplate = template.findings.find(f => isBlocking(f.severity))
  if (blockingScan !== undefined || blockingTemplate !== undefined) {
    const first = blockingScan ?? blockingTemplate as Finding
    const others = findings.filter(f => isBlocking(f.severity)).length - 1
    const code: RejectionCode = blockingScan !== undefined ? 'SECURITY_VIOLATION' : 'TEMPLATE_VIOLATION'
    // A finding with no source text (`main` missing) has a line but no real column.
    const placed = first.snippet !== ''
    const message = `line ${first.line}${placed ? `, column ${first.column}` : ''}: ${first.message}${others > 0 ? ` (and ${others} more blocking finding${others > 1 ? 's' : ''})` : ''}`
    return { report: rejected(mode, { code, message, line: first.line, ...(placed ? { column: first.column } : {}) }, findings, sourceInfo) }
  }
  const ctx = effectContext(template.module)
  const entry = template.module.functions.get(mode === 'auto' ? 'main' : 'process')
  if (entry === undefined) throw new Error('template checks passed without an entry function') // unreachable
  const functions = classifyFunctions(template.module.functions.values(), ctx)
  const graph = buildDdg(entry, ctx)
  const classes = classifyStatements(graph, functions, ctx)
  let memory: MemoryReport | undefined
  if (mode === 'auto') {
    const format = options.input?.format ?? 'json'
    const data = inputMemory(options.input?.sample, format)
    const statements = staticEstimate(graph.ddg, graph.statements, classes, data, ctx)
    // Loading holds a little more than the result while json/csv build it (list growth); use the margins.
    const load = { fixed: Math.ceil(data.fixed * STATIC_MARGIN + STATIC_FIXED_MARGIN), perElement: data.perElement * STATIC_MARGIN }
    memory = memoryReport('static', format, data, load, statements, options.input?.elements)
  }
  const report: AnalysisReport = {
    version: 1,
    status: 'accepted',
    mode,
    findings,
    source: sourceInfo,
    functions,
    ddg: graph.ddg,
    classes,
    blocks: assembleBlocks(graph.ddg, classes, memory),
    ...(mode === 'auto' ? { reductions: findSites(graph, ctx, functions) } : {}),
    ...(memory !== undefined ? { memory } : {})
  }
  return { report, graph, text: parsed.text, ctx }
}

function rejected (mode: JobMode, error: ReportError, findings: Finding[], source: AnalysisReport['source']): AnalysisReport {
  return { version: 1, status: 'rejected', mode, error, findings, source }
}

function memoryReport (basis: 'static' | 'calibrated', format: InputFormat, data: MemoryFunction, load: MemoryFunction, statements: StatementMemory[], elements: number | undefined): MemoryReport {
  const all = [load, ...statements.map(s => s.peak)]
  const peak = { fixed: Math.max(...all.map(f => f.fixed)), perElement: Math.max(...all.map(f => f.perElement)) }
  return {
    basis,
    format,
    data,
    peak,
    statements,
    ...(elements !== undefined ? { elements, peakBytes: Math.max(...all.map(f => evaluate(f, elements))) } : {})
  }
}

/**
 * Builds blocks and attaches memory to them. `dataPart` is the input's size without the calibration margin,
 * so a block's total carries the margin once however many inputs it reads.
 */
export function assembleBlocks (ddg: Ddg, classes: StatementClass[], memory: MemoryReport | undefined, seconds?: MemoryFunction[], dataPart?: MemoryFunction): Block[] {
  const margin: MemoryFunction = { fixed: memory?.basis === 'calibrated' ? FIXED_MARGIN : 0, perElement: 0 }
  const graph = buildBlocks(ddg, classes)
  const zero: MemoryFunction = { fixed: 0, perElement: 0 }
  // Size of each variable's value after each statement: the output of the latest statement writing it.
  const sizeAt = (variable: string, beforeStatement: number): MemoryFunction => {
    if (memory === undefined) return zero
    for (let i = beforeStatement - 1; i >= 0; i--) {
      if (ddg.nodes[i]?.writes.includes(variable)) return memory.statements[i]?.output ?? zero
    }
    return ddg.params.includes(variable) ? dataPart ?? memory.data : zero
  }
  return graph.members.map((stmts, id) => {
    const nodes = stmts.map(s => ddg.nodes[s]).filter(n => n !== undefined)
    const owner = stmts.find(s => classes[s]?.initOf === undefined) ?? stmts[0] ?? 0
    const cls = classes[owner]
    const writes = [...new Set(nodes.flatMap(n => n.writes))].sort()
    const defined = new Set<string>()
    const reads: string[] = []
    for (const n of nodes) {
      for (const r of n.reads) if (!defined.has(r) && !reads.includes(r)) reads.push(r)
      for (const w of n.writes) defined.add(w)
    }
    reads.sort()
    const first = stmts[0] ?? 0
    const inputs: Record<string, MemoryFunction> = {}
    for (const r of reads) inputs[r] = sizeAt(r, first)
    const working = memory === undefined ? zero : add(...stmts.map(s => memory.statements[s]?.working ?? zero))
    const block: Block = {
      id,
      statements: stmts,
      startLine: Math.min(...nodes.map(n => n.line)),
      endLine: Math.max(...nodes.map(n => n.endLine)),
      class: cls?.class ?? 'opaque',
      ...(cls?.source !== undefined ? { source: cls.source } : {}),
      ...(cls?.combine !== undefined ? { combine: cls.combine } : {}),
      ...(cls?.positions !== undefined ? { positions: cls.positions } : {}),
      accumulators: cls?.accumulators ?? [],
      broadcast: cls?.broadcast ?? [],
      reads,
      writes,
      dependsOn: graph.dependsOn[id] ?? [],
      independentOf: graph.independentOf[id] ?? [],
      level: graph.level[id] ?? 0,
      reason: cls?.reason ?? '',
      memory: { inputs, working, total: add(margin, working, ...Object.values(inputs)) }
    }
    if (seconds !== undefined) block.seconds = add(...stmts.map(s => seconds[s] ?? zero))
    return block
  })
}

/** Replaces the static memory of an accepted analysis with calibrated measurements. */
export function applyCalibration (analysis: Analysis, measurements: CalibrationMeasurements, sizes: number[]): AnalysisReport {
  const { report, graph } = analysis
  if (report.status !== 'accepted' || graph === undefined || report.memory === undefined || report.classes === undefined) return report
  const count = graph.ddg.nodes.length
  const fitted = fitStatements(measurements, count)
  // A statement that did not run on the sample (after an early return) keeps its static estimate.
  const statements = fitted.statements.map((s, i) => s ?? report.memory?.statements[i] as StatementMemory)
  const memory = memoryReport('calibrated', report.memory.format, fitted.data, fitted.load, statements, report.memory.elements)
  memory.calibration = { python: measurements.python, sizes, skipped: measurements.skipped, unencodable: measurements.unencodable }
  return { ...report, memory, blocks: assembleBlocks(graph.ddg, report.classes, memory, fitted.seconds, fitted.dataPart) }
}

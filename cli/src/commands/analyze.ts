/**
 * `runsurge analyze JOB.py [--input FILE] [--mode auto|manual] [--nodes N] [--node-memory SIZE] [--json]`: scanner
 * findings, function classes, DDG, blocks and memory. With --input, memory is calibrated by running the job on a
 * sample of the input — in the same sandbox a node uses (`--sandbox`, default bubblewrap), since the job is code like
 * any other — and an automatic job is planned as the coordinator would plan it on N nodes offering SIZE each
 * (default: `runsurge run`'s embedded mesh on this machine): level, tasks, chunks, parts and the reason for each choice.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { Command } from 'commander'
import { analyze, evaluate, sampleInput } from '../../../analyzer/src/index.ts'
import { analysisOptions, formatBytes, inspectInput, prepareAutoJob } from '../../../planner/src/index.ts'
import type { AutoInput, PlanView } from '../../../planner/src/index.ts'
import { defaultNodeMemory } from '../mesh.ts'
import { parseSize } from '../options.ts'
import { positiveInteger } from './jobs.ts'
import { sandboxCalibrationRunner } from '../../../node/src/sandbox.ts'
import { createExecutor } from '../../../node/src/sandbox.ts'
import { addSandboxOptions, executorConfigFromOptions } from './sandbox.ts'
import type { AnalysisReport, AnalyzeOptions, CalibrationRunner, JobMode, MemoryFunction } from '../../../analyzer/src/index.ts'
import type { Executor } from '../../../node/src/sandbox.ts'
import type { SandboxCliOptions } from './sandbox.ts'

/** How long calibration may run the job on its sample before it is killed. */
const CALIBRATION_TIMEOUT_MS = 120_000

interface AnalyzeFlags extends SandboxCliOptions {
  input?: string
  mode: string
  json?: boolean
  calibrate: boolean
  nodes?: number
  nodeMemory?: number
}

/** The plan of an automatic job, or why it cannot run anywhere. */
type PlanOutput = (PlanView & { mesh: { nodes: number, nodeMemoryBytes: number } }) |
  { level: 0, tasks: 0, mesh: { nodes: number, nodeMemoryBytes: number }, error: { code: 'does_not_fit', message: string, line: number } }

export function register (program: Command): void {
  const command = program.command('analyze')
    .description('scan and analyze a job: findings, function classes, dependency graph, blocks, memory estimates')
    .argument('<job>', 'the Python job file')
    .option('-i, --input <file>', 'input file (.json, .jsonl, .csv, or text lines): sizes the memory estimate and calibrates it on a sample')
    .option('-m, --mode <mode>', 'auto (main(data)) or manual (process(input_data))', 'auto')
    .option('--no-calibrate', 'with --input, keep the static estimate instead of running the job on a sample')
    .option('--nodes <n>', 'with --input: plan for this many nodes (default: the number of cores, like runsurge run)', positiveInteger)
    .option('--node-memory <size>', 'with --input: plan for nodes offering this much memory each, e.g. 64M', parseSize)
    .option('--json', 'print the report as JSON')
  addSandboxOptions(command)
    .action(async (job: string, flags: AnalyzeFlags) => {
      process.exitCode = await runAnalyze(job, flags)
    })
}

async function runAnalyze (job: string, flags: AnalyzeFlags): Promise<number> {
  if (flags.mode !== 'auto' && flags.mode !== 'manual') return usage(`--mode must be auto or manual, not ${flags.mode}`, flags)
  const mode: JobMode = flags.mode
  let source: Buffer
  try {
    source = await readFile(job)
  } catch (err) {
    return usage(`cannot read ${job}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, flags)
  }
  const scratch = await mkdtemp(join(tmpdir(), 'runsurge-analyze-'))
  try {
    let input: AutoInput | undefined
    if (flags.input !== undefined) {
      try {
        input = await readInput(flags.input, scratch)
      } catch (err) {
        return usage(`cannot use ${flags.input} as input: ${(err as Error).message}`, flags)
      }
    }
    const { report, plan, warnings } = await analyzeJob(source, mode, input, flags)
    if (flags.json === true) {
      const out = report.status === 'rejected'
        ? { status: report.status, error: report.error, findings: report.findings }
        : { ...report, ...(plan !== undefined ? { plan } : {}), ...(warnings.length > 0 ? { warnings } : {}) }
      process.stdout.write(JSON.stringify(out, null, 2) + '\n')
    } else {
      process.stdout.write(formatReport(report, basename(job), warnings, plan))
    }
    return report.status === 'rejected' ? 2 : 0
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/**
 * The input as the coordinator reads it (`inspectInput`): a `.json` array is rewritten as the JSON Lines its tasks
 * would get, in `scratch` (the user's file is left alone).
 */
async function readInput (path: string, scratch: string): Promise<AutoInput> {
  const input = await inspectInput({ name: basename(path), path }, scratch)
  if (input.format !== 'json') return input
  // A .json input that is not one array runs whole: read it as the analyzer's sample to say what is wrong with it.
  const sample = sampleInput(await readFile(path, 'utf8'), 'json')
  return { ...input, elements: sample.elements, sample: { sample: sample.sample, text: sample.text } }
}

/** The analysis, and for an automatic job with an input the plan on `--nodes` nodes, as the coordinator makes them. */
async function analyzeJob (source: Buffer, mode: JobMode, input: AutoInput | undefined, flags: AnalyzeFlags): Promise<{ report: AnalysisReport, plan?: PlanOutput, warnings: string[] }> {
  const warnings: string[] = []
  if (mode !== 'auto' || input === undefined) {
    const options: AnalyzeOptions = { mode, ...(input !== undefined ? { input: analysisOptions(input).input } : {}) }
    return { report: analyze(source, options), warnings }
  }
  const nodes = flags.nodes ?? availableParallelism()
  const nodeMemoryBytes = flags.nodeMemory ?? defaultNodeMemory(nodes)
  const mesh = { nodes, nodeMemoryBytes }
  // The sandbox starts only when the calibration runs: never for a script the analyzer rejects.
  let executor: Executor | undefined
  const runner: CalibrationRunner = async (request, options) => {
    executor ??= createExecutor({ ...executorConfigFromOptions(flags), log: (message: string) => { process.stderr.write(`${message}\n`) } })
    return await sandboxCalibrationRunner(executor, { timeoutMs: CALIBRATION_TIMEOUT_MS })(request, options)
  }
  try {
    const measure = flags.calibrate ? { runner } : undefined
    const prepared = await prepareAutoJob({
      source,
      input,
      nodes: Array.from({ length: nodes }, () => nodeMemoryBytes),
      ...(measure !== undefined ? { measure } : {}),
      onWarning: message => warnings.push(message)
    })
    const plan: PlanOutput | undefined = prepared.report.status !== 'accepted' || input.sample === undefined
      ? undefined
      : prepared.error !== undefined ? { level: 0, tasks: 0, mesh, error: { code: 'does_not_fit', message: prepared.error.message, line: prepared.error.line } } : { ...(prepared.view as PlanView), mesh }
    return { report: prepared.report, ...(plan !== undefined ? { plan } : {}), warnings }
  } finally {
    await executor?.close()
  }
}

function usage (message: string, flags: AnalyzeFlags): number {
  if (flags.json === true) process.stdout.write(JSON.stringify({ status: 'rejected', error: { code: 'USAGE', message }, findings: [] }, null, 2) + '\n')
  else process.stderr.write(`runsurge analyze: ${message}\n`)
  return 2
}

function formatPlan (plan: PlanOutput): string[] {
  const lines = ['', `Plan on ${plan.mesh.nodes} node${plan.mesh.nodes === 1 ? '' : 's'} offering ${formatBytes(plan.mesh.nodeMemoryBytes)} each:`]
  if ('error' in plan) {
    lines.push(`  does not fit: ${plan.error.message}`)
    return lines
  }
  const rounds = plan.rounds ?? 1
  lines.push(`  level ${plan.level}, ${plan.tasks} task${plan.tasks === 1 ? '' : 's'}${plan.level === 3 ? ` (${plan.chunks} chunks${rounds > 1 ? ` in ${rounds} rounds, ${rounds - 1} stage task${rounds === 2 ? '' : 's'}` : ''} and an aggregator)` : ''}`)
  for (const reason of plan.reasons) lines.push(`  - ${reason}`)
  if (plan.sites !== undefined && plan.sites.length > 0) {
    lines.push('  Reductions computed on the chunks:')
    for (const site of plan.sites) lines.push(`    line ${site.line}, round ${site.round}: ${site.text} — each chunk sends ${site.sends}${site.reads.length > 0 ? `; reads ${site.reads.join(', ')} (broadcast)` : ''}`)
  }
  return lines
}

function formatReport (report: AnalysisReport, name: string, warnings: string[], plan?: PlanOutput): string {
  const lines: string[] = []
  lines.push(`${name}: ${report.status.toUpperCase()} (${report.mode} mode, ${report.source.lines} lines)`)
  if (report.error !== undefined) lines.push(`  ${report.error.code}: ${report.error.message}`)
  if (report.findings.length > 0) {
    lines.push('', 'Findings:')
    for (const f of report.findings) {
      lines.push(`  ${String(f.line).padStart(4)}:${String(f.column).padEnd(3)} ${f.severity.padEnd(8)} ${f.ruleId.padEnd(28)} ${f.message}`)
      if (f.note !== undefined) lines.push(`  ${' '.repeat(46)}${f.note}`)
    }
  }
  if (report.status === 'accepted') {
    lines.push('', 'Functions:')
    for (const f of report.functions ?? []) {
      lines.push(`  ${f.name}() line ${f.line}: ${f.class}${f.over !== undefined ? ` over ${f.over}` : ''}, ${f.pure ? 'pure' : 'impure'} — ${f.reason}`)
    }
    const ddg = report.ddg
    if (ddg !== undefined) {
      lines.push('', `Statements of ${ddg.function}(${ddg.params.join(', ')}):`)
      for (const n of ddg.nodes) {
        const cls = report.classes?.[n.id]
        lines.push(`  s${n.id} line ${String(n.line).padEnd(4)} ${(cls?.class ?? '').padEnd(7)} ${n.text}`)
      }
      lines.push('', 'Dependencies (from -> to, variable:line of the definition):')
      for (const e of ddg.edges) lines.push(`  s${e.from} -> s${e.to}  ${e.key} (${e.kind})`)
      if (ddg.hazards.length > 0) {
        lines.push('', 'Re-assigned variables:')
        for (const h of ddg.hazards) lines.push(`  ${h.variable}: lines ${h.lines.join(', ')}`)
      }
    }
    const n = report.memory?.elements
    const heading = report.memory === undefined
      ? ' (manual mode: memory per task is stated by the submitter)'
      : n !== undefined ? ` (memory at n = ${n} elements)` : ' (memory as fixed + per-element bytes)'
    lines.push('', `Blocks${heading}:`)
    for (const b of report.blocks ?? []) {
      const deps = b.dependsOn.length === 0 ? 'no dependencies' : `after ${b.dependsOn.map(d => `b${d.block}`).join(', ')}`
      const over = b.source !== undefined ? ` over ${b.source}` : ''
      const bc = b.broadcast.length > 0 ? `, broadcast ${b.broadcast.join(', ')}` : ''
      const mem = report.memory === undefined ? '' : `; memory ${memory(b.memory.total, n)}`
      lines.push(`  b${b.id} lines ${b.startLine}-${b.endLine}: ${b.class}${over}${bc}; ${deps}; level ${b.level}${mem}`)
      if (b.class === 'opaque') lines.push(`      ${b.reason}`)
      if (b.independentOf.length > 0) lines.push(`      independent of ${b.independentOf.map(i => `b${i}`).join(', ')}`)
    }
    const m = report.memory
    if (m !== undefined) {
      lines.push('', `Memory (${m.basis}${m.calibration !== undefined ? `, python ${m.calibration.python}, sample sizes ${m.calibration.sizes.join('/')}` : ''}):`)
      lines.push(`  input data: ${memory(m.data, n)}`)
      const formula = `${formatBytes(m.peak.fixed)} + ${m.peak.perElement.toFixed(1)} B/element`
      lines.push(m.peakBytes !== undefined
        ? `  job peak:   ${formatBytes(m.peakBytes)} at n = ${n ?? 0} (the largest statement peak; for any n at most ${formula})`
        : `  job peak:   at most ${formula}`)
    }
  }
  if (plan !== undefined) lines.push(...formatPlan(plan))
  for (const w of warnings) lines.push('', `warning: ${w}`)
  return lines.join('\n') + '\n'
}

function memory (fn: MemoryFunction, n: number | undefined): string {
  const formula = `${formatBytes(fn.fixed)} + ${fn.perElement.toFixed(1)} B/element`
  return n === undefined ? formula : `${formatBytes(evaluate(fn, n))} (${formula})`
}

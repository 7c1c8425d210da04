/**
 * `runsurge analyze JOB.py [--input FILE] [--mode auto|manual] [--nodes N] [--node-memory SIZE] [--json]`: scanner
 * findings, function classes, DDG, blocks and memory. With --input, memory is calibrated by running the job on a
 * sample of the input — in the same sandbox a node uses (`--sandbox`, default bubblewrap), since the job is code like
 * any other — and an automatic job is planned as the coordinator would plan it on N nodes offering SIZE each
 * (default: `runsurge run`'s embedded mesh on this machine): level, tasks, chunks, parts and the reason for each choice.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { Command } from 'commander'
import { analyze, calibrate, evaluate, formatOf, sampleInput } from '../../../analyzer/src/index.ts'
import { NotAJsonArrayError, jsonArrayToLines } from '../../../coordinator/src/jobs/json-lines.ts'
import { PlanError, formatBytes, planAuto, planView } from '../../../coordinator/src/planner/index.ts'
import type { PlanView } from '../../../coordinator/src/planner/index.ts'
import { defaultNodeMemory } from '../mesh.ts'
import { parseSize } from '../options.ts'
import { positiveInteger } from './jobs.ts'
import { sandboxCalibrationRunner } from '../../../node/src/calibration.ts'
import { createExecutor } from '../../../node/src/executors/index.ts'
import { addSandboxOptions, executorConfigFromOptions } from './sandbox.ts'
import type { AnalysisReport, AnalyzeOptions, InputSample, JobMode, MemoryFunction } from '../../../analyzer/src/index.ts'
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
  let sample: InputSample | undefined
  let inputBytes = 0
  let scratch: string | undefined
  if (flags.input !== undefined) {
    try {
      // As the coordinator does: a .json array is read as the JSON Lines its tasks would get.
      let path = flags.input
      if (formatOf(path) === 'json') {
        scratch = await mkdtemp(join(tmpdir(), 'runsurge-analyze-'))
        const lines = join(scratch, `${basename(path)}.jsonl`)
        try {
          await jsonArrayToLines(path, lines)
          path = lines
        } catch (err) {
          if (!(err instanceof NotAJsonArrayError)) throw err
        }
      }
      inputBytes = (await stat(path)).size
      sample = sampleInput(await readFile(path, 'utf8'), formatOf(path))
    } catch (err) {
      return usage(`cannot use ${flags.input} as input: ${(err as Error).message}`, flags)
    } finally {
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
    }
  }
  const options: AnalyzeOptions = {
    mode,
    ...(sample !== undefined ? { input: { format: sample.format, elements: sample.elements, sample: sample.sample } } : {})
  }
  let report = analyze(source, options)
  const warnings: string[] = []
  if (report.status === 'accepted' && sample !== undefined && flags.calibrate && mode === 'auto' && sample.sample.length > 0) {
    let executor
    try {
      executor = createExecutor({ ...executorConfigFromOptions(flags), log: (message: string) => { process.stderr.write(`${message}\n`) } })
      const runner = sandboxCalibrationRunner(executor, { timeoutMs: CALIBRATION_TIMEOUT_MS })
      report = await calibrate(source, { ...options, sampleText: sample.text, sampleElements: sample.sample.length, runner })
    } catch (err) {
      warnings.push(`calibration failed, memory is the static estimate: ${(err as Error).message}`)
    } finally {
      await executor?.close()
    }
  }
  const plan = report.status === 'accepted' && mode === 'auto' && sample !== undefined ? planFor(source.toString('utf8'), report, sample, inputBytes, flags) : undefined
  if (flags.json === true) {
    const out = report.status === 'rejected'
      ? { status: report.status, error: report.error, findings: report.findings }
      : { ...report, ...(plan !== undefined ? { plan } : {}), ...(warnings.length > 0 ? { warnings } : {}) }
    process.stdout.write(JSON.stringify(out, null, 2) + '\n')
  } else {
    process.stdout.write(formatReport(report, basename(job), warnings, plan))
  }
  return report.status === 'rejected' ? 2 : 0
}

/** The coordinator's plan for this job on `--nodes` nodes offering `--node-memory` each. */
function planFor (source: string, report: AnalysisReport, sample: InputSample, inputBytes: number, flags: AnalyzeFlags): PlanOutput {
  const nodes = flags.nodes ?? availableParallelism()
  const nodeMemoryBytes = flags.nodeMemory ?? defaultNodeMemory(nodes)
  const mesh = { nodes, nodeMemoryBytes }
  try {
    const plan = planAuto({
      source,
      report,
      format: sample.format === 'lines' ? 'text' : sample.format,
      inputBytes,
      elements: sample.elements,
      nodes: Array.from({ length: nodes }, () => ({ memoryBytes: nodeMemoryBytes }))
    })
    return { ...planView(plan), mesh }
  } catch (err) {
    if (!(err instanceof PlanError)) throw err
    return { level: 0, tasks: 0, mesh, error: { code: 'does_not_fit', message: err.message, line: err.line } }
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
      const formula = `${human(m.peak.fixed)} + ${m.peak.perElement.toFixed(1)} B/element`
      lines.push(m.peakBytes !== undefined
        ? `  job peak:   ${human(m.peakBytes)} at n = ${n ?? 0} (the largest statement peak; for any n at most ${formula})`
        : `  job peak:   at most ${formula}`)
    }
  }
  if (plan !== undefined) lines.push(...formatPlan(plan))
  for (const w of warnings) lines.push('', `warning: ${w}`)
  return lines.join('\n') + '\n'
}

function memory (fn: MemoryFunction, n: number | undefined): string {
  const formula = `${human(fn.fixed)} + ${fn.perElement.toFixed(1)} B/element`
  return n === undefined ? formula : `${human(evaluate(fn, n))} (${formula})`
}

function human (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}

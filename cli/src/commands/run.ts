/**
 * `runsurge run JOB.py --input F …`: with `--coordinator`, submits and waits (like `submit --wait`). Without, starts
 * an embedded mesh — a coordinator in this process and N separate `runsurge node` processes on loopback, exactly as
 * contributors start them, state in a temporary directory — runs the job, prints the result, and tears it all down.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { analyze } from '../../../analyzer/src/index.ts'
import { startCoordinator } from '../../../coordinator/src/index.ts'
import { rejectionOf } from '../../../coordinator/src/jobs/service.ts'
import { createExecutor } from '../../../node/src/executors/index.ts'
import { UsageError, connection } from '../client.ts'
import { localCalibrationRunner } from '../calibration.ts'
import { createLogger } from '../log.ts'
import { defaultNodeMemory, sandboxArgs, waitForNodes } from '../mesh.ts'
import { parseSize } from '../options.ts'
import { renderOutcome } from '../outcome.ts'
import { benchmarkCacheFile, machineFactor } from './node.ts'
import { addJobOptions, guard, modeOf, positiveInteger, submissionOf, submitAndWait } from './jobs.ts'
import { addSandboxOptions, executorConfigFromOptions } from './sandbox.ts'
import type { Connection, JobView } from '../client.ts'
import type { JobFlags } from './jobs.ts'
import type { SandboxCliOptions } from './sandbox.ts'
import type { ChildProcess } from 'node:child_process'
import type { Command } from 'commander'

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'runsurge.js')
/** How long the embedded mesh may take to have every node registered (ms). */
const MESH_START_TIMEOUT = 60_000

interface RunFlags extends JobFlags, SandboxCliOptions {
  nodes?: number
  nodeMemory?: number
  coordinator?: string
  token?: string
}

export function register (program: Command): void {
  const command = program.command('run')
    .description('run a job and print its result: on an embedded local mesh (a coordinator and --nodes node processes), or on --coordinator')
    .argument('<job>', 'the Python file (main(data); process(input_data) with --mode manual)')
    .option('--nodes <n>', 'embedded mesh: number of node processes (default: the number of cores)', positiveInteger)
    .option('--node-memory <size>', 'embedded mesh: memory each node offers, e.g. 512M', parseSize)
    .option('--coordinator <url>', 'run on this coordinator instead of an embedded mesh')
    .option('--token <token>', 'with --coordinator: API token')
  addSandboxOptions(addJobOptions(command))
    .action(async (script: string, flags: RunFlags) => {
      await guard(flags.json, async () => flags.coordinator !== undefined || process.env.RUNSURGE_COORDINATOR !== undefined
        ? await submitAndWait(await connection(flags), submissionOf(script, flags), flags.json === true)
        : await runEmbedded(script, flags), { prefix: 'runsurge run', failureCode: 'mesh' })
    })
}

async function runEmbedded (script: string, flags: RunFlags): Promise<number> {
  // A job the scanner refuses is refused here, before any mesh starts (the coordinator scans it again).
  const early = await rejectEarly(script, flags)
  if (early !== undefined) return early
  const count = flags.nodes ?? availableParallelism()
  const nodeMemory = flags.nodeMemory ?? defaultNodeMemory(count)
  const logger = createLogger('run', process.env.RUNSURGE_LOG_LEVEL ?? 'warn')
  // The machine factor is measured once per machine and executor, before the nodes start, so they share it.
  const executor = createExecutor({ ...executorConfigFromOptions(flags), log: (message: string) => { logger.warn(message) } })
  const benchmarkFile = benchmarkCacheFile()
  try {
    await machineFactor(executor, benchmarkFile, logger)
  } finally {
    await executor.close()
  }
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-run-'))
  const nodes: Array<{ child: ChildProcess, stderr: string[] }> = []
  let coordinator: Awaited<ReturnType<typeof startCoordinator>> | undefined
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }))
    await coordinator?.close()
    await rm(dir, { recursive: true, force: true })
  }
  const interrupt = (): void => { stop().then(() => process.exit(130), () => process.exit(130)) }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    coordinator = await startCoordinator({ dataDir: join(dir, 'coordinator'), logger, calibrationRunner: localCalibrationRunner(logger) })
    const alive = waitForNodes(coordinator, count, MESH_START_TIMEOUT)
    const sandbox = sandboxArgs(flags)
    for (let i = 0; i < count; i++) {
      const child = spawn(process.execPath, [
        BIN, 'node', '--coordinator', join(dir, 'coordinator', 'coordinator.json'), '--data', join(dir, `node-${i}`),
        '--memory', String(nodeMemory), '--benchmark-file', benchmarkFile, ...sandbox
      ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RUNSURGE_LOG_LEVEL: process.env.RUNSURGE_LOG_LEVEL ?? 'warn' } })
      const stderr: string[] = []
      child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr.push(text); if (stderr.length > 50) stderr.shift() })
      nodes.push({ child, stderr })
    }
    await Promise.race([alive, ...nodes.map(async ({ child, stderr }, i) => {
      const [code] = await once(child, 'exit') as [number | null]
      throw new Error(`node ${i} exited (${String(code)}) before joining: ${stderr.join('').trim().slice(-1000)}`)
    })])
    const conn: Connection = { url: coordinator.info.http, token: coordinator.info.adminToken }
    return await submitAndWait(conn, submissionOf(script, flags, { taskMemoryBytes: nodeMemory }), flags.json === true)
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
    await stop()
  }
}

async function rejectEarly (script: string, flags: RunFlags): Promise<number | undefined> {
  let source: Buffer
  try {
    source = await readFile(script)
  } catch {
    throw new UsageError(`cannot read ${script}`)
  }
  const mode = modeOf(flags)
  const report = analyze(source, { mode: mode === 'auto' ? 'auto' : 'manual' })
  if (report.status !== 'rejected') return undefined
  const { error, findings } = rejectionOf(report)
  const view: JobView = { id: '', name: script, mode, status: 'rejected', findings, plan: {}, progress: { total: 0, completed: 0, running: 0, failed: 0 }, error }
  const printed = renderOutcome(view, undefined, flags.json === true)
  process.stdout.write(printed.stdout)
  return printed.exitCode
}

/**
 * `runsurge run JOB.py --input F …`: with `--coordinator`, submits and waits (like `submit --wait`). Without, starts
 * an embedded mesh — a coordinator and N worker nodes in this process, each node with its own libp2p peer on
 * loopback, its own chunk store and its own sandbox executor, as `runsurge node` builds them, state in a temporary
 * directory — runs the job, prints the result, and tears it all down. Nodes in this process start in milliseconds
 * instead of the seconds a process of its own takes to load; tasks still run in their sandboxes, one process each.
 */
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { analyze } from '../../../analyzer/src/index.ts'
import { rejectionOf } from '../../../coordinator/src/index.ts'
import { UsageError, connection } from '../client.ts'
import { embeddedJobDefaults, startEmbeddedMesh } from '../embedded-mesh.ts'
import type { EmbeddedMesh } from '../embedded-mesh.ts'
import { createLogger } from '../log.ts'
import { defaultNodeMemory } from '../mesh.ts'
import { parseSize } from '../options.ts'
import { renderOutcome } from '../outcome.ts'
import { addJobOptions, guard, modeOf, positiveInteger, submissionOf, submitAndWait } from './jobs.ts'
import { addSandboxOptions, executorConfigFromOptions } from './sandbox.ts'
import type { Connection, JobView } from '../client.ts'
import type { JobFlags } from './jobs.ts'
import type { SandboxCliOptions } from './sandbox.ts'
import type { Command } from 'commander'

interface RunFlags extends JobFlags, SandboxCliOptions {
  nodes?: number
  nodeMemory?: number
  coordinator?: string
  token?: string
}

export function register (program: Command): void {
  const command = program.command('run')
    .description('run a job and print its result: on an embedded local mesh (a coordinator and --nodes worker nodes, each its own libp2p peer), or on --coordinator')
    .argument('<job>', 'the Python file (main(data); process(input_data) with --mode manual)')
    .option('--nodes <n>', 'embedded mesh: number of worker nodes (default: the number of cores)', positiveInteger)
    .option('--node-memory <size>', 'embedded mesh: memory each node offers, e.g. 512M', parseSize)
    .option('--coordinator <url>', 'run on this coordinator instead of an embedded mesh')
    .option('--token <token>', 'with --coordinator: API token')
  addSandboxOptions(addJobOptions(command))
    .action(async (script: string, flags: RunFlags) => {
      await guard(flags.json, async () => flags.coordinator !== undefined || process.env.RUNSURGE_COORDINATOR !== undefined
        ? await submitAndWait(await connection(flags), submissionOf(script, flags), flags.json === true)
        : await runEmbedded(script, flags), { prefix: 'runsurge run', failureCode: 'mesh' })
      // Everything is stopped and the result printed (stdout is synchronous for files and pipes on Linux), but
      // timers left by the libp2p stack would keep the process for another second.
      process.exit()
    })
}

async function runEmbedded (script: string, flags: RunFlags): Promise<number> {
  // A job the scanner refuses is refused here, before any mesh starts (the coordinator scans it again).
  const early = await rejectEarly(script, flags)
  if (early !== undefined) return early
  const count = flags.nodes ?? availableParallelism()
  const nodeMemory = flags.nodeMemory ?? defaultNodeMemory(count)
  const logger = createLogger('run', process.env.RUNSURGE_LOG_LEVEL ?? 'warn')
  let mesh: EmbeddedMesh | undefined
  const interrupt = (): void => { (mesh?.stop() ?? Promise.resolve()).then(() => process.exit(130), () => process.exit(130)) }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    mesh = await startEmbeddedMesh({ nodes: count, nodeMemory, executor: executorConfigFromOptions(flags), logger })
    const info = mesh.coordinator.info
    const conn: Connection = { url: info.http, token: info.adminToken }
    return await submitAndWait(conn, submissionOf(script, flags, embeddedJobDefaults(modeOf(flags), nodeMemory)), flags.json === true)
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
    await mesh?.stop()
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

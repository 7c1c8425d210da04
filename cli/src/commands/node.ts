import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { runBenchmark } from '../../../node/src/sandbox.ts'
import { createExecutor } from '../../../node/src/sandbox.ts'
import { createWorker, sandboxTasks } from '../../../node/src/index.ts'
import { readSwarmKey } from '../../../protocols/src/index.ts'
import { createLogger } from '../log.ts'
import { NODE_TOKEN_ENV, resolveNodeAccess } from '../node-access.ts'
import { parseSize } from '../options.ts'
import { onShutdown } from '../shutdown.ts'
import { addSandboxOptions, executorConfigFromOptions } from './sandbox.ts'
import { runSelfTestCommand } from './self-test.ts'
import type { Executor } from '../../../node/src/sandbox.ts'
import type { SandboxCliOptions } from './sandbox.ts'
import type { Command } from 'commander'
import type { Logger } from 'pino'

interface NodeFlags extends SandboxCliOptions {
  selfTest?: boolean
  json?: boolean
  benchmarkFile?: string
  coordinator?: string
  token?: string
  tokenFile?: string
  data: string
  memory?: number
  swarmKey?: string
  mdns?: boolean
  listen: string[]
}

/** Where the machine factor is cached between runs of the embedded mesh: $XDG_CACHE_HOME/runsurge or ~/.cache/runsurge. */
export function benchmarkCacheFile (): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache')
  return join(base, 'runsurge', 'benchmark.json')
}

/**
 * The exit code of a node its owner removed (or whose enrollment token was revoked): starting it again will not help,
 * so a supervisor should not (systemd: `RestartPreventExitStatus=3`).
 */
export const EXIT_REMOVED = 3

/** A machine factor measured less than this long ago (ms) is reused at start. */
const BENCHMARK_MAX_AGE = 7 * 24 * 3600_000

/**
 * The machine factor for billing: measured with the node's own executor, kept in a file so restarts (and the
 * nodes of one embedded mesh, which share the file) do not pay for it again.
 */
export async function machineFactor (executor: Executor, file: string, logger: Logger): Promise<number> {
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { factor: number, executor: string, measuredAt: number }
    if (saved.executor === executor.kind && Date.now() - saved.measuredAt < BENCHMARK_MAX_AGE && saved.factor > 0) return saved.factor
  } catch {}
  const result = await runBenchmark(executor)
  logger.info({ factor: result.factor, bestSeconds: result.bestSeconds }, `machine benchmark: factor ${result.factor} (1.0 = reference machine)`)
  await mkdir(dirname(file), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, JSON.stringify({ factor: result.factor, executor: executor.kind, measuredAt: Date.now() }))
  await rename(temporary, file)
  return result.factor
}

export function register (program: Command): void {
  const command = program.command('node')
    .description('run a worker node: join the coordinator\'s mesh and run tasks in a sandbox')
    .option('--coordinator <multiaddr>', 'the coordinator\'s multiaddr (…/p2p/<peer id>), or a coordinator.json file', process.env.RUNSURGE_COORDINATOR)
    .option('--token-file <file>', `file holding the enrollment token from "add a node" (or set ${NODE_TOKEN_ENV})`)
    .option('--token <token>', 'the enrollment token itself: visible to every user of this machine, prefer --token-file')
    .option('--data <dir>', 'data directory (peer key, chunk store)', '.runsurge/node')
    .option('--memory <size>', 'memory offered to tasks, e.g. 4G (default: 80% of free memory)', parseSize)
    .option('--swarm-key <file>', 'private mesh: the coordinator\'s swarm key')
    .option('--mdns', 'also discover peers on the LAN with mDNS')
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('--self-test', 'run the sandbox probes (file, network, process, environment isolation and limits), print what holds, and exit')
    .option('--json', 'with --self-test: print the report as JSON')
    .option('--benchmark-file <file>', 'where the machine factor is kept (default DATA/benchmark.json)')
  addSandboxOptions(command)
    .action(async (flags: NodeFlags) => {
      if (flags.selfTest === true) {
        process.exitCode = await runSelfTestCommand(flags)
        return
      }
      let access
      try {
        access = await resolveNodeAccess({ coordinator: flags.coordinator, token: flags.token, tokenFile: flags.tokenFile, env: process.env })
      } catch (err: any) {
        if (err?.name !== 'NodeUsageError') throw err
        console.error(`runsurge node: ${String(err.message)}`)
        process.exit(2)
      }
      for (const warning of access.warnings) console.error(`runsurge node: warning: ${warning}`)
      // Read once: the processes this node starts (sandboxes, the benchmark, ssh) do not inherit it.
      delete process.env[NODE_TOKEN_ENV]
      const logger = createLogger('node')
      let executor: Executor
      try {
        executor = createExecutor({ ...executorConfigFromOptions(flags), log: (message: string) => { logger.warn(message) } })
      } catch (err: any) {
        console.error(`runsurge node: ${String(err?.message ?? err)}`)
        process.exit(2)
      }
      if (executor.kind === 'none') {
        logger.warn('UNSAFE: --unsafe-no-sandbox is set; tasks from the coordinator run with full access to this machine and this user\'s files')
      }
      logger.info(`tasks run in: ${executor.describe()}`)
      let worker: Awaited<ReturnType<typeof createWorker>> | undefined
      // The owner removed this node: say so, stop, and exit with a code that tells a supervisor not to restart it.
      const removed = (message: string): void => {
        console.error(`runsurge node: ${message}`)
        Promise.all([worker?.stop(), executor.close()]).finally(() => process.exit(EXIT_REMOVED)).catch(() => {})
      }
      try {
        await mkdir(join(flags.data, 'tasks'), { recursive: true })
        const benchmark = await machineFactor(executor, flags.benchmarkFile ?? join(flags.data, 'benchmark.json'), logger)
        worker = await createWorker({
          dataDir: flags.data,
          coordinator: access.coordinator,
          token: access.token,
          memoryBytes: flags.memory,
          swarmKey: flags.swarmKey != null ? await readSwarmKey(flags.swarmKey) : undefined,
          mdns: flags.mdns,
          listen: flags.listen,
          benchmark,
          runTask: sandboxTasks({ executor, workDir: join(flags.data, 'tasks') }),
          onRemoved: removed,
          log: logger
        })
        const running = worker
        onShutdown(logger, async () => {
          await running.stop()
          await executor.close()
        })
      } catch (err: any) {
        logger.error({ err: { name: err?.name, message: err?.message } }, 'the node could not start')
        console.error(`runsurge node: ${String(err?.message ?? err)}`)
        await executor.close()
        process.exit(err?.name === 'RemovedError' ? EXIT_REMOVED : 1)
      }
    })
}

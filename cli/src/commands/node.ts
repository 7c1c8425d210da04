import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { runBenchmark } from '../../../node/src/benchmark.ts'
import { createExecutor } from '../../../node/src/executors/index.ts'
import { createWorker, sandboxTasks } from '../../../node/src/index.ts'
import { readSwarmKey } from '../../../protocols/src/index.ts'
import { createLogger } from '../log.ts'
import { parseSize } from '../options.ts'
import { onShutdown } from '../shutdown.ts'
import { addSandboxOptions, executorConfigFromOptions } from './sandbox.ts'
import { runSelfTestCommand } from './self-test.ts'
import type { Executor } from '../../../node/src/executors/index.ts'
import type { SandboxCliOptions } from './sandbox.ts'
import type { Command } from 'commander'
import type { Logger } from 'pino'

interface NodeFlags extends SandboxCliOptions {
  selfTest?: boolean
  json?: boolean
  benchmarkFile?: string
  coordinator?: string
  token?: string
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
    .option('--token <token>', 'enrollment token from "add a node"', process.env.RUNSURGE_NODE_TOKEN)
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
      if (flags.coordinator == null) program.error('--coordinator is required: the multiaddr the coordinator printed', { exitCode: 2 })
      let coordinator = flags.coordinator
      let token = flags.token
      if (coordinator.endsWith('.json')) {
        const info = JSON.parse(await readFile(coordinator, 'utf8'))
        coordinator = info.multiaddrs[0]
        token ??= info.nodeToken
      }
      if (token == null) program.error('--token is required: an enrollment token from "add a node" on the coordinator', { exitCode: 2 })
      try {
        await mkdir(join(flags.data, 'tasks'), { recursive: true })
        const benchmark = await machineFactor(executor, flags.benchmarkFile ?? join(flags.data, 'benchmark.json'), logger)
        const worker = await createWorker({
          dataDir: flags.data,
          coordinator,
          token,
          memoryBytes: flags.memory,
          swarmKey: flags.swarmKey != null ? await readSwarmKey(flags.swarmKey) : undefined,
          mdns: flags.mdns,
          listen: flags.listen,
          benchmark,
          runTask: sandboxTasks({ executor, workDir: join(flags.data, 'tasks') }),
          log: logger
        })
        onShutdown(logger, async () => {
          await worker.stop()
          await executor.close()
        })
      } catch (err: any) {
        logger.error({ err: { name: err?.name, message: err?.message } }, 'the node could not start')
        console.error(`runsurge node: ${String(err?.message ?? err)}`)
        await executor.close()
        process.exit(1)
      }
    })
}

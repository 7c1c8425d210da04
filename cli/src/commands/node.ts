import { readFile } from 'node:fs/promises'
import { createWorker } from '../../../node/src/index.ts'
import { readSwarmKey } from '../../../protocols/src/index.ts'
import { createLogger } from '../log.ts'
import { parseSize } from '../options.ts'
import { onShutdown } from '../shutdown.ts'
import type { Command } from 'commander'

interface NodeFlags {
  coordinator?: string
  token?: string
  data: string
  memory?: number
  swarmKey?: string
  mdns?: boolean
  listen: string[]
}

export function register (program: Command): void {
  program.command('node')
    .description('run a worker node: join the coordinator\'s mesh and run tasks in a sandbox')
    .option('--coordinator <multiaddr>', 'the coordinator\'s multiaddr (…/p2p/<peer id>), or a coordinator.json file', process.env.RUNSURGE_COORDINATOR)
    .option('--token <token>', 'enrollment token from "add a node"', process.env.RUNSURGE_NODE_TOKEN)
    .option('--data <dir>', 'data directory (peer key, chunk store)', '.runsurge/node')
    .option('--memory <size>', 'memory offered to tasks, e.g. 4G (default: 80% of free memory)', parseSize)
    .option('--swarm-key <file>', 'private mesh: the coordinator\'s swarm key')
    .option('--mdns', 'also discover peers on the LAN with mDNS')
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .action(async (flags: NodeFlags) => {
      const logger = createLogger('node')
      if (flags.coordinator == null) program.error('--coordinator is required: the multiaddr the coordinator printed', { exitCode: 2 })
      if (flags.token == null) program.error('--token is required: an enrollment token from "add a node" on the coordinator', { exitCode: 2 })
      let coordinator = flags.coordinator
      let token = flags.token
      if (coordinator.endsWith('.json')) {
        const info = JSON.parse(await readFile(coordinator, 'utf8'))
        coordinator = info.multiaddrs[0]
        token ??= info.nodeToken
      }
      try {
        const worker = await createWorker({
          dataDir: flags.data,
          coordinator,
          token,
          memoryBytes: flags.memory,
          swarmKey: flags.swarmKey != null ? await readSwarmKey(flags.swarmKey) : undefined,
          mdns: flags.mdns,
          listen: flags.listen,
          log: logger
        })
        onShutdown(logger, async () => { await worker.stop() })
      } catch (err: any) {
        logger.error({ err: { name: err?.name, message: err?.message } }, 'the node could not start')
        console.error(`runsurge node: ${String(err?.message ?? err)}`)
        process.exit(1)
      }
    })
}

import { startCoordinator } from '../../../coordinator/src/index.ts'
import { readSwarmKey } from '../../../protocols/src/index.ts'
import { localCalibrationRunner } from '../calibration.ts'
import { createLogger } from '../log.ts'
import { parseHostPort, parseMs, parseSize } from '../options.ts'
import { onShutdown } from '../shutdown.ts'
import { InvalidArgumentError } from 'commander'
import type { Command } from 'commander'

interface CoordinatorFlags {
  data: string
  http: { host: string, port: number }
  listen: string[]
  swarmKey?: string
  mdns?: boolean
  heartbeatInterval?: number
  deadAfter?: number
  unitRate?: number
  maxInput?: number
}

export function register (program: Command): void {
  program.command('coordinator')
    .description('run the coordinator: HTTP API, node registry, and the libp2p peer nodes join')
    .option('--data <dir>', 'data directory (LevelDB, peer key, coordinator.json)', '.runsurge/coordinator')
    .option('--http <host:port>', 'HTTP address', parseHostPort, { host: '127.0.0.1', port: 8080 })
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('--swarm-key <file>', 'private mesh: accept only peers holding this key (runsurge keygen)')
    .option('--mdns', 'announce the coordinator on the LAN with mDNS')
    .option('--heartbeat-interval <ms>', 'how often nodes heartbeat', parseMs)
    .option('--dead-after <ms>', 'a node silent this long is dead', parseMs)
    .option('--unit-rate <micro>', 'billing: micro-units per second × GB on a reference machine (default 1000)', (value: string) => {
      const rate = Number(value)
      if (!Number.isFinite(rate) || rate < 0) throw new InvalidArgumentError('a non-negative number')
      return rate
    })
    .option('--max-input <size>', 'largest input file a job may upload (default 1G)', parseSize)
    .action(async (flags: CoordinatorFlags) => {
      const logger = createLogger('coordinator')
      const coordinator = await startCoordinator({
        dataDir: flags.data,
        httpHost: flags.http.host,
        httpPort: flags.http.port,
        listen: flags.listen,
        swarmKey: flags.swarmKey != null ? await readSwarmKey(flags.swarmKey) : undefined,
        mdns: flags.mdns,
        liveness: {
          ...(flags.heartbeatInterval != null ? { heartbeatInterval: flags.heartbeatInterval } : {}),
          ...(flags.deadAfter != null ? { deadAfter: flags.deadAfter } : {})
        },
        ...(flags.unitRate != null ? { unitRate: flags.unitRate } : {}),
        ...(flags.maxInput != null ? { maxInputBytes: flags.maxInput } : {}),
        calibrationRunner: localCalibrationRunner(logger),
        logger
      })
      console.log(JSON.stringify({ http: coordinator.info.http, multiaddrs: coordinator.info.multiaddrs, info: `${flags.data}/coordinator.json` }))
      onShutdown(logger, async () => { await coordinator.close() })
    })
}

/**
 * An embedded mesh (what `runsurge run` starts without `--coordinator`): a coordinator and N worker nodes in this
 * process, each node its own libp2p peer on loopback with its own chunk store and sandbox executor, as `runsurge
 * node` builds them, state in a temporary directory. Nodes in this process start in milliseconds instead of the
 * seconds a process of its own takes to load; tasks still run in their sandboxes, one process each.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCoordinator } from '../../coordinator/src/index.ts'
import { createExecutor } from '../../node/src/sandbox.ts'
import { createWorker, sandboxTasks } from '../../node/src/index.ts'
import { waitForNodes } from './mesh.ts'
import { benchmarkCacheFile, machineFactor } from './commands/node.ts'
import type { Coordinator } from '../../coordinator/src/index.ts'
import type { Executor, ExecutorConfig } from '../../node/src/sandbox.ts'
import type { Worker } from '../../node/src/index.ts'
import type { Logger } from 'pino'

/** How long the embedded mesh may take to have every node registered (ms). */
const MESH_START_TIMEOUT = 60_000

export interface EmbeddedMeshOptions {
  nodes: number
  /** Memory each node offers (bytes). */
  nodeMemory: number
  /** The sandbox every node runs tasks in (without `log`: the mesh's logger is used). */
  executor: Omit<ExecutorConfig, 'log'>
  logger: Logger
}

export interface EmbeddedMesh {
  coordinator: Coordinator
  workers: Worker[]
  /** Stops the nodes, their executors and the coordinator, and removes the state. */
  stop(): Promise<void>
}

/**
 * The task memory a job submitted to an embedded mesh asks for when its flags say none: a manual or grouped task has
 * no estimate and gets what a node offers; an automatic task gets what its plan estimates — asking for the whole
 * node would keep every other task off it.
 */
export function embeddedJobDefaults (mode: string, nodeMemory: number): { taskMemoryBytes?: number } {
  return mode === 'auto' ? {} : { taskMemoryBytes: nodeMemory }
}

export async function startEmbeddedMesh (options: EmbeddedMeshOptions): Promise<EmbeddedMesh> {
  const { logger } = options
  // The machine factor is measured once per machine and executor, before the nodes start, so they share it.
  const executorConfig = { ...options.executor, log: (message: string) => { logger.warn(message) } } as ExecutorConfig
  const probe = createExecutor(executorConfig)
  let benchmark: number
  try {
    benchmark = await machineFactor(probe, benchmarkCacheFile(), logger)
  } finally {
    await probe.close()
  }
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-run-'))
  const nodes: Array<{ worker?: Worker, executor: Executor }> = []
  let coordinator: Coordinator | undefined
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(async ({ worker, executor }) => {
      await worker?.stop()
      await executor.close()
    }))
    await coordinator?.close()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    coordinator = await startCoordinator({ dataDir: join(dir, 'coordinator'), logger })
    const info = coordinator.info
    const alive = waitForNodes(coordinator, options.nodes, MESH_START_TIMEOUT)
    await Promise.all(Array.from({ length: options.nodes }, async (_, i) => {
      const node: { worker?: Worker, executor: Executor } = { executor: createExecutor(executorConfig) }
      nodes.push(node)
      const data = join(dir, `node-${i}`)
      await mkdir(join(data, 'tasks'), { recursive: true })
      node.worker = await createWorker({
        dataDir: data,
        coordinator: info.multiaddrs[0] ?? '',
        token: info.nodeToken,
        memoryBytes: options.nodeMemory,
        benchmark,
        runTask: sandboxTasks({ executor: node.executor, workDir: join(data, 'tasks') }),
        log: logger.child({ node: i })
      })
    }))
    await alive
    return { coordinator, workers: nodes.map(node => node.worker).filter((w): w is Worker => w !== undefined), stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * The contributor's worker: joins the mesh through its coordinator, registers, heartbeats, serves and fetches
 * chunks, and accepts tasks only from its coordinator. What a task does is the `runTask` passed in (the sandbox
 * executors); the worker only moves messages and data.
 */
import { cpus, freemem, loadavg } from 'node:os'
import { join } from 'node:path'
import { setMaxListeners } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  AssignResponse, CancelResponse, ChunkStore, MeshJoinError, RefusedError, RemovedError, ReportRequest, assignService, cancelService,
  chunkExchange, createHost, heartbeatService, loadOrCreateIdentity, registerService, reportService
} from '../../protocols/src/index.ts'
import { RegistrationError } from './errors.ts'
import type {
  AssignRequest, AssignService, BaseServices, CancelService, ChunkExchange, HeartbeatService, RegisterService,
  ReportService, RequestContext
} from '../../protocols/src/index.ts'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'

/** Services of a worker's libp2p host. */
export type WorkerServices = BaseServices & {
  register: RegisterService
  heartbeat: HeartbeatService
  report: ReportService
  assign: AssignService
  cancel: CancelService
  chunks: ChunkExchange
}

/** What a finished task reports. */
export interface TaskResult {
  state: 'completed' | 'failed'
  errorCode?: string
  errorMessage?: string
  outputCids?: string[]
  /** Byte size of each output, in order. */
  outputBytes?: number[]
  /** Automatic mode: what decoding each output takes, as its task measured it (the `memory` its partials begin with). */
  outputMemoryBytes?: number[]
  metrics?: { wallMs: number, cpuMs: number, peakMemoryBytes: number, avgMemoryBytes: number }
}

/** Runs one assigned task: fetch inputs through `chunks`, run in a sandbox, store outputs. */
export type RunTask = (task: AssignRequest, context: { chunks: ChunkExchange, signal: AbortSignal, coordinator: PeerId }) => Promise<TaskResult>

export interface WorkerInit {
  /** Data directory: peer key, chunk store. */
  dataDir: string
  /** The coordinator's multiaddr, ending in `/p2p/<peer id>`. */
  coordinator: string
  /** Enrollment token from the coordinator's "add a node". */
  token: string
  /** Memory offered to tasks, in bytes. Default: 80% of free memory. */
  memoryBytes?: number
  /** CPUs offered. Default: all. */
  cpus?: number
  /** Machine factor from the benchmark (1.0 = reference). Default 1. */
  benchmark?: number
  /** Contents of the swarm key file for a private mesh. */
  swarmKey?: Uint8Array
  /** Multiaddrs to listen on. Default `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  mdns?: boolean
  /** Runs assigned tasks. Without it the node refuses assignments. */
  runTask?: RunTask
  /** How long to try reaching the coordinator at start (ms). Default 15 s. */
  joinTimeout?: number
  /** DHT tuning for tests. */
  dht?: { querySelfInterval?: number, initialQuerySelfInterval?: number }
  /**
   * Called once if the coordinator refuses this node for good while it runs (its owner removed it, or revoked the
   * token it enrolled with), with the coordinator's words. By then the worker has stopped heartbeating and aborted
   * its tasks; the caller stops it. Default: the worker stops itself. (Refused at start, `createWorker` rejects
   * with a `RemovedError` instead.)
   */
  onRemoved?(message: string): void
  log: Logger
}

export interface Worker {
  readonly libp2p: Libp2p<WorkerServices>
  readonly chunks: ChunkExchange
  readonly peerId: PeerId
  /** Node id given by the coordinator at registration. */
  nodeId(): string | undefined
  /** Ids of the tasks running now. */
  runningTasks(): string[]
  stop(): Promise<void>
}

const VERSION = '0.1.0'
/** A report is retried with backoff (up to 5 s apart) this many times: a coordinator restart is minutes at most. */
const REPORT_ATTEMPTS = 60

/** Starts a worker: joins the mesh, registers with the coordinator and starts heartbeating. */
export async function createWorker (init: WorkerInit): Promise<Worker> {
  const log = init.log
  const coordinatorAddr = multiaddr(init.coordinator)
  const coordinatorId = coordinatorAddr.getComponents().findLast(c => c.name === 'p2p')?.value
  if (coordinatorId == null) {
    throw new MeshJoinError(`the coordinator address must end in /p2p/<peer id>: ${init.coordinator}`)
  }
  const coordinatorPeer = peerIdFromString(coordinatorId)
  const privateKey = await loadOrCreateIdentity(join(init.dataDir, 'peer.key'))
  const store = await ChunkStore.open(join(init.dataDir, 'chunks'), {
    onCorrupt: ({ cid, path, reason }) => {
      log.error({ cid: cid.toString(), path, reason }, 'a stored chunk was corrupt (the disk changed it): deleted it, it is fetched again when needed')
    }
  })
  const running = new Map<string, AbortController>()
  /** Memory promised to each running task: a node never accepts more than it offers. */
  const reserved = new Map<string, number>()
  /** Finished tasks whose report the coordinator has not taken yet. */
  const unreported = new Set<string>()
  let nodeId: string | undefined
  let stopping = false
  /** Set once the coordinator refused this node for good: nothing is retried any more. */
  let removed = false

  const memoryBytes = init.memoryBytes ?? Math.floor(freemem() * 0.8)
  const cpuCount = init.cpus ?? cpus().length
  const isCoordinator = (peer: PeerId): boolean => peer.toString() === coordinatorId

  const libp2p: Libp2p<WorkerServices> = await createHost<Omit<WorkerServices, keyof BaseServices>>({
    privateKey,
    listen: init.listen,
    bootstrap: [init.coordinator],
    swarmKey: init.swarmKey,
    mdns: init.mdns,
    dht: init.dht,
    services: {
      register: registerService(),
      heartbeat: heartbeatService(),
      report: reportService(),
      assign: assignService({ authorize: isCoordinator, handler: onAssign }),
      cancel: cancelService({ authorize: isCoordinator, handler: onCancel }),
      chunks: chunkExchange({ store })
    }
  }).catch(async err => {
    await store.close()
    throw err
  })

  async function onAssign (task: AssignRequest, context: RequestContext): Promise<AssignResponse> {
    const refuse = (error: string): AssignResponse => ({ status: AssignResponse.Status.REFUSED, error, memoryFreeBytes: 0 })
    if (init.runTask == null) return refuse('this node does not run tasks')
    if (task.taskId === '') return refuse('the task has no id')
    if (running.has(task.taskId)) return { status: AssignResponse.Status.ACCEPTED, error: '', memoryFreeBytes: memoryFree() }
    if (task.memoryBytes > memoryBytes) return refuse(`the task needs ${task.memoryBytes} bytes, more than the ${memoryBytes} this node offers`)
    const free = memoryFree()
    if (task.memoryBytes > free) {
      // Not a failure: the memory is promised to running tasks; the coordinator tries again once some is released.
      return { status: AssignResponse.Status.BUSY, error: `no room now: the task needs ${task.memoryBytes} bytes, ${free} of ${memoryBytes} are free`, memoryFreeBytes: free }
    }
    reserved.set(task.taskId, task.memoryBytes)
    const controller = new AbortController()
    setMaxListeners(Infinity, controller.signal)
    running.set(task.taskId, controller)
    log.info({ task: task.taskId, job: task.jobId, from: context.peer.toString() }, 'task accepted')
    // The task runs after we answered: the coordinator hears about it through report.
    execute(task, controller).catch(err => { log.error({ err, task: task.taskId }, 'task bookkeeping failed') })
    return { status: AssignResponse.Status.ACCEPTED, error: '', memoryFreeBytes: memoryFree() }
  }

  /** Memory offered and not promised to a running task. */
  function memoryFree (): number {
    let committed = 0
    for (const bytes of reserved.values()) committed += bytes
    return memoryBytes - committed
  }

  async function execute (task: AssignRequest, controller: AbortController): Promise<void> {
    let result: TaskResult
    try {
      result = await init.runTask!(task, { chunks: libp2p.services.chunks, signal: controller.signal, coordinator: coordinatorPeer })
    } catch (err: any) {
      result = { state: 'failed', errorCode: 'sandbox_error', errorMessage: String(err?.message ?? err) }
    } finally {
      running.delete(task.taskId)
      reserved.delete(task.taskId)
    }
    if (controller.signal.aborted) return
    await report(task, result)
  }

  /**
   * Reports until the coordinator takes it: a coordinator that restarts meanwhile gets the report when it is back
   * (the task stays in the heartbeat's list until then, so it is not taken for lost). A refusal means the attempt
   * is over (re-queued elsewhere, or the job ended).
   */
  async function report (task: AssignRequest, result: TaskResult): Promise<void> {
    const request: ReportRequest = {
      taskId: task.taskId,
      nodeId: nodeId ?? '',
      state: result.state === 'completed' ? ReportRequest.State.COMPLETED : ReportRequest.State.FAILED,
      errorCode: result.errorCode ?? '',
      errorMessage: result.errorMessage ?? '',
      outputCids: result.outputCids ?? [],
      outputBytes: result.outputBytes ?? [],
      outputMemoryBytes: result.outputMemoryBytes ?? [],
      metrics: result.metrics,
      attempt: task.attempt
    }
    unreported.add(task.taskId)
    try {
      for (let attempt = 0, delay = 250; attempt < REPORT_ATTEMPTS; attempt++, delay = Math.min(delay * 2, 5_000)) {
        if (stopping || removed) return
        try {
          await libp2p.services.report.call(coordinatorAddr, { ...request, nodeId: nodeId ?? '' })
          return
        } catch (err: any) {
          if (err instanceof RefusedError) {
            log.warn({ task: task.taskId, reason: err.message }, 'the coordinator refused the report')
            return
          }
          log.warn({ task: task.taskId, err: err?.message }, 'could not report the task; retrying')
          await new Promise(resolve => setTimeout(resolve, delay))
        }
      }
      log.error({ task: task.taskId }, 'gave up reporting the task')
    } finally {
      unreported.delete(task.taskId)
    }
  }

  async function onCancel (request: { taskId: string, reason: string }): Promise<CancelResponse> {
    const controller = running.get(request.taskId)
    if (controller == null) return { status: CancelResponse.Status.UNKNOWN, error: `task ${request.taskId} is not running here` }
    controller.abort(new Error(`cancelled: ${request.reason}`))
    running.delete(request.taskId)
    reserved.delete(request.taskId)
    log.info({ task: request.taskId, reason: request.reason }, 'task cancelled')
    return { status: CancelResponse.Status.OK, error: '' }
  }

  async function register (): Promise<number> {
    let response
    try {
      response = await libp2p.services.register.call(coordinatorAddr, {
        token: init.token,
        cpus: cpuCount,
        memoryBytes,
        benchmark: init.benchmark ?? 1,
        version: VERSION,
        executors: []
      })
    } catch (err: any) {
      if (err instanceof RefusedError) throw new RegistrationError(`the coordinator refused this node: ${err.message}`)
      throw err
    }
    nodeId = response.nodeId
    log.info({ nodeId, peerId: libp2p.peerId.toString(), memoryBytes, cpus: cpuCount }, `registered with the coordinator as node ${nodeId}`)
    return response.heartbeatIntervalMs
  }

  let stopHeartbeats = (): void => {}
  try {
    await joinMesh(libp2p, coordinatorAddr, init.joinTimeout ?? 15_000, init.swarmKey != null)
    stopHeartbeats = heartbeats(await register())
  } catch (err) {
    await libp2p.stop()
    await store.close()
    throw err
  }

  /** Heartbeats every `interval` ms, each after the previous one ended; returns a function that stops them. */
  function heartbeats (interval: number): () => void {
    let timer: NodeJS.Timeout | undefined
    const beat = async (): Promise<void> => {
      try {
        await libp2p.services.heartbeat.call(coordinatorAddr, {
          nodeId: nodeId ?? '',
          cpuLoad: (loadavg()[0] ?? 0) / cpuCount,
          memoryUsedBytes: memoryBytes - memoryFree(),
          memoryFreeBytes: memoryFree(),
          runningTasks: [...running.keys(), ...unreported]
        })
      } catch (err: any) {
        if (stopping) return
        if (err instanceof RefusedError) {
          // The coordinator restarted or declared us dead: enroll again.
          log.warn('the coordinator does not know this node any more; registering again')
          interval = await register().catch(e => {
            if (e instanceof RemovedError) onRemoved(e)
            else log.error({ err: e }, 'registering again failed')
            return interval
          })
        } else if (err instanceof RemovedError) {
          onRemoved(err)
        } else {
          log.warn({ err: err?.message }, 'heartbeat failed; will retry')
        }
      }
      if (!stopping && !removed) timer = setTimeout(() => { beat().catch(() => {}) }, interval)
    }
    timer = setTimeout(() => { beat().catch(() => {}) }, interval)
    return () => { clearTimeout(timer) }
  }

  /** Refused for good: no heartbeat, registration or report is tried again, and the tasks here stop (they run elsewhere). */
  function onRemoved (err: RemovedError): void {
    if (removed) return
    removed = true
    stopHeartbeats()
    for (const controller of running.values()) controller.abort(new Error('this node was removed by its owner'))
    log.error({ nodeId }, err.message)
    if (init.onRemoved !== undefined) init.onRemoved(err.message)
    else worker.stop().catch(stopErr => { log.error({ err: stopErr }, 'the removed node did not stop cleanly') })
  }

  let stopped: Promise<void> | undefined
  const worker: Worker = {
    libp2p,
    chunks: libp2p.services.chunks,
    peerId: libp2p.peerId,
    nodeId: () => nodeId,
    runningTasks: () => [...running.keys()],
    async stop () {
      // Once, however many ask (the owner's removal and a signal may both stop the node).
      stopped ??= (async () => {
        stopping = true
        stopHeartbeats()
        for (const controller of running.values()) controller.abort(new Error('the node is stopping'))
        await libp2p.stop()
        await store.close()
      })()
      await stopped
    }
  }
  return worker
}

/**
 * Dials the coordinator until it answers or `timeout` passes, and turns the failure into an error that says
 * what to check: the address, or a swarm key that does not match (pnet handshakes fail, they do not hang).
 */
async function joinMesh (libp2p: Libp2p<any>, coordinator: ReturnType<typeof multiaddr>, timeout: number, hasSwarmKey: boolean): Promise<void> {
  try {
    await libp2p.dial(coordinator, { signal: AbortSignal.timeout(timeout) })
  } catch (err: any) {
    const cause = String(err?.message ?? err)
    const hint = hasSwarmKey
      ? 'check that the coordinator runs a private mesh with the same swarm key as this node (--swarm-key)'
      : 'if the coordinator runs a private mesh, start this node with its swarm key (--swarm-key FILE)'
    throw new MeshJoinError(`could not join the mesh at ${coordinator.toString()}: ${cause}; ${hint}`)
  }
}

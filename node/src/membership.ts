/**
 * A worker's membership of its coordinator's mesh: joining it (with an error that says what to check when that
 * fails), registering with the enrollment token and what the node offers, and heartbeating — registering again
 * when the coordinator has forgotten the node, and stopping for good when its owner removed it.
 */
import { loadavg } from 'node:os'
import { MeshJoinError, RefusedError, RemovedError } from '../../protocols/src/index.ts'
import { RegistrationError } from './errors.ts'
import type { HeartbeatService, RegisterService } from '../../protocols/src/index.ts'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'

const VERSION = '0.1.0'

/** What the node offers the mesh, as it registers. */
export interface NodeOffer {
  cpus: number
  /** Memory offered to tasks, in bytes. */
  memoryBytes: number
  /** Machine factor from the benchmark (1.0 = reference). */
  benchmark: number
  /** The sandboxes it runs tasks in (`bwrap`, `ssh`, `none`). */
  executors: string[]
}

/** What a heartbeat says about the node's tasks. */
export interface NodeLoad {
  /** Memory the running tasks use now, as their monitors last measured it. */
  memoryUsedBytes: number
  /** Offered memory not promised to a running task: what a new task can get now. */
  memoryFreeBytes: number
  /** Tasks running here, and finished ones whose report the coordinator has not taken yet. */
  runningTasks: string[]
}

/** Options of {@link Membership}. */
export interface MembershipInit {
  services: { register: RegisterService, heartbeat: HeartbeatService }
  /** This node's peer id, for the log. */
  peerId: PeerId
  /** The coordinator's multiaddr, ending in `/p2p/<peer id>`. */
  coordinator: Multiaddr
  /** Enrollment token from the coordinator's "add a node". */
  token: string
  offer: NodeOffer
  /** Read at every heartbeat. */
  load: () => NodeLoad
  /** Called once if the coordinator refuses this node for good; heartbeats have stopped by then. */
  onRemoved: (err: RemovedError) => void
  log: Logger
}

/** The node's standing with its coordinator: its node id, registration and heartbeats. */
export class Membership {
  private id: string | undefined
  private interval = 0
  private timer: NodeJS.Timeout | undefined
  private stopping = false
  private removed = false

  constructor (private readonly init: MembershipInit) {}

  /** Node id given by the coordinator at registration. */
  get nodeId (): string | undefined {
    return this.id
  }

  /** False once stopped or removed: nothing is sent to the coordinator any more. */
  get active (): boolean {
    return !this.stopping && !this.removed
  }

  /** Registers (again) with the coordinator; resolves with the heartbeat interval it asks for. */
  async register (): Promise<number> {
    const { offer, log } = this.init
    let response
    try {
      response = await this.init.services.register.call(this.init.coordinator, {
        token: this.init.token,
        cpus: offer.cpus,
        memoryBytes: offer.memoryBytes,
        benchmark: offer.benchmark,
        version: VERSION,
        executors: offer.executors
      })
    } catch (err: any) {
      if (err instanceof RefusedError) throw new RegistrationError(`the coordinator refused this node: ${err.message}`)
      throw err
    }
    this.id = response.nodeId
    log.info({ nodeId: this.id, peerId: this.init.peerId.toString(), memoryBytes: offer.memoryBytes, cpus: offer.cpus }, `registered with the coordinator as node ${this.id}`)
    return response.heartbeatIntervalMs
  }

  /** Heartbeats every `interval` ms, each after the previous one ended, until stopped or removed. */
  startHeartbeats (interval: number): void {
    this.interval = interval
    this.schedule()
  }

  /** Stops heartbeating; the coordinator hears nothing more. */
  stop (): void {
    this.stopping = true
    clearTimeout(this.timer)
  }

  /** Refused for good: no heartbeat, registration or report is tried again. */
  remove (err: RemovedError): void {
    if (this.removed) return
    this.removed = true
    clearTimeout(this.timer)
    this.init.onRemoved(err)
  }

  private schedule (): void {
    this.timer = setTimeout(() => {
      this.beat().catch((err: unknown) => { this.init.log.error({ err }, 'the heartbeat loop failed') })
    }, this.interval)
  }

  private async beat (): Promise<void> {
    try {
      await this.sendHeartbeat()
    } catch (err) {
      // Not the coordinator's answer (sendHeartbeat handles those) but what this node did with it, e.g. a removal
      // callback that threw. Said, and a node still in the mesh keeps beating: going silent would get it declared dead.
      this.init.log.error({ err }, 'a heartbeat failed on this node')
    }
    if (this.active) this.schedule()
  }

  private async sendHeartbeat (): Promise<void> {
    const { log } = this.init
    try {
      await this.init.services.heartbeat.call(this.init.coordinator, {
        nodeId: this.id ?? '',
        cpuLoad: (loadavg()[0] ?? 0) / this.init.offer.cpus,
        ...this.init.load()
      })
    } catch (err: any) {
      if (this.stopping) return
      if (err instanceof RefusedError) {
        // The coordinator restarted or declared us dead: enroll again.
        log.warn('the coordinator does not know this node any more; registering again')
        this.interval = await this.register().catch(e => {
          if (e instanceof RemovedError) this.remove(e)
          else log.error({ err: e }, 'registering again failed')
          return this.interval
        })
      } else if (err instanceof RemovedError) {
        this.remove(err)
      } else {
        log.warn({ err: err?.message }, 'heartbeat failed; will retry')
      }
    }
  }
}

/**
 * Dials the coordinator until it answers or `timeout` passes, and turns the failure into an error that says
 * what to check: the address, or a swarm key that does not match (pnet handshakes fail, they do not hang).
 */
export async function joinMesh (libp2p: Libp2p<any>, coordinator: Multiaddr, timeout: number, hasSwarmKey: boolean): Promise<void> {
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

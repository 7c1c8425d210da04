/**
 * Simulated nodes for the coordinator benchmarks: many libp2p peers in one process, each with its own Ed25519
 * identity, its own TCP connection and noise session to the coordinator, registering with an enrollment token and
 * heartbeating through the real register and heartbeat protocols. What is simulated: the peers run identify and
 * the control protocols but not the Kademlia DHT nor a chunk store, and, with `--answer`, a task is "run" by
 * reporting success at once with a fixed output CID (so only the coordinator's dispatch is measured).
 *
 * Run as a child process (so its CPU is not counted as the coordinator's); prints one JSON line per event:
 *   {"event":"registered","nodes":[{"nodeId","peerId"}…]}   once every peer of the process has registered
 *   {"event":"offered","memoryBytes":N}                      after SIGUSR1 (offer --memory) or SIGHUP (--initial-memory),
 *                                                            once every peer has registered again with that offer
 *   {"event":"stats","heartbeats":N,"failures":N,"reports":N} on SIGUSR2 (and at exit)
 *
 *   node --import tsx bench/simulated-nodes.ts --coordinator MA --token T --nodes N [--memory BYTES] [--initial-memory BYTES] [--answer CID]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import {
  AssignResponse, PROTOCOL_PREFIX, RegisterResponse, ReportRequest, assignService, heartbeatService, registerService, reportService
} from '../protocols/src/index.ts'
import type { AssignRequest, AssignService, HeartbeatService, RegisterService, ReportService } from '../protocols/src/index.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ChildProcess } from 'node:child_process'

export interface SimulatedNode { nodeId: string, peerId: string }

export interface SimulatedProcess {
  child: ChildProcess
  nodes: SimulatedNode[]
  /**
   * Makes every peer register again offering `memoryBytes` (`full`) or `initialMemoryBytes`; resolves once the
   * coordinator took them all.
   */
  offer(full: boolean): Promise<void>
}

export interface SimulationInit {
  coordinator: string
  token: string
  /** Peers per process. */
  nodes: number
  /** Memory each peer offers (bytes). */
  memoryBytes?: number
  /** Memory each peer offers at first, and after `offer(false)`. */
  initialMemoryBytes?: number
  /** Report every assigned task completed at once, with this output CID. */
  answer?: string
  /** Registrations per second of one process (libp2p limits inbound connections per address). */
  registerRate?: number
}

/** Starts one simulated-nodes process and waits until all its peers registered. */
export async function startSimulatedProcess (init: SimulationInit): Promise<SimulatedProcess> {
  const args = ['--import', 'tsx', import.meta.filename, '--coordinator', init.coordinator, '--nodes', String(init.nodes)]
  if (init.memoryBytes !== undefined) args.push('--memory', String(init.memoryBytes))
  if (init.initialMemoryBytes !== undefined) args.push('--initial-memory', String(init.initialMemoryBytes))
  if (init.answer !== undefined) args.push('--answer', init.answer)
  if (init.registerRate !== undefined) args.push('--rate', String(init.registerRate))
  // The token in the environment, not on a command line every user of the machine can read.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUNSURGE_NODE_TOKEN: init.token } })
  const lines = createInterface({ input: child.stdout! })
  const waiting = new Map<string, Array<(message: any) => void>>()
  lines.on('line', line => {
    const message = JSON.parse(line) as { event: string }
    for (const resolve of waiting.get(message.event)?.splice(0) ?? []) resolve(message)
  })
  const next = async (event: string): Promise<any> => await new Promise(resolve => {
    waiting.set(event, [...(waiting.get(event) ?? []), resolve])
  })
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`simulated nodes exited with ${String(code)} before registering`) })
  const registered = await Promise.race([next('registered'), exited]) as { nodes: SimulatedNode[] }
  return {
    child,
    nodes: registered.nodes,
    async offer (full) {
      const offered = next('offered')
      child.kill(full ? 'SIGUSR1' : 'SIGHUP')
      await offered
    }
  }
}

/** Stops a simulated-nodes process (SIGTERM: its peers close their connections) and waits for it. */
export async function stopSimulatedProcess (sim: SimulatedProcess): Promise<void> {
  if (sim.child.exitCode !== null || sim.child.signalCode !== null) return
  const exited = once(sim.child, 'exit')
  sim.child.kill('SIGTERM')
  await exited
}

/**
 * Reports in flight at once per peer, as a node running at most this many tasks at a time would send them; the rest
 * wait their turn (libp2p resets a peer's streams of one protocol past 32 open at once). No more than the streams a
 * caller keeps open per protocol (8, protocols/src/rpc.ts), as the coordinator's pushes: past those, each report
 * opened a stream of its own.
 */
const MAX_REPORTS = 8

type SimServices = { identify: unknown, register: RegisterService, heartbeat: HeartbeatService, report: ReportService, assign: AssignService }

/** What the peers of one process share: where the coordinator is, what they offer, what they count. */
interface Simulation {
  coordinator: Multiaddr
  coordinatorId: string | undefined
  /** What every peer offers when it registers (changed by SIGUSR1 and SIGHUP). */
  memoryBytes: number
  answer: string | undefined
  stats: { heartbeats: number, failures: number, reports: number, reportFailures: number, assigned: number }
  stopping: boolean
}

/** One simulated node: registers, heartbeats, and (with `--answer`) "runs" what it is assigned. */
class SimulatedPeer {
  libp2p!: Libp2p<SimServices>
  nodeId = ''
  timer: NodeJS.Timeout | undefined
  private readonly sim: Simulation
  /** Accepted and not reported yet: listed in heartbeats as running, as a real node lists them. */
  private readonly unreported = new Set<string>()
  private reporting = 0
  private readonly backlog: Array<() => void> = []

  constructor (sim: Simulation) {
    this.sim = sim
  }

  async start (): Promise<void> {
    this.libp2p = await createLibp2p<SimServices>({
      privateKey: await generateKeyPair('Ed25519'),
      // Dial out only: the coordinator pushes assignments over the connection the node opened.
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
      services: {
        identify: identify({ protocolPrefix: PROTOCOL_PREFIX }),
        register: registerService(),
        heartbeat: heartbeatService(),
        report: reportService(),
        assign: assignService({ authorize: peerId => peerId.toString() === this.sim.coordinatorId, handler: async task => this.assigned(task) })
      }
    })
    const response = await this.register()
    this.nodeId = response.nodeId
    const interval = response.heartbeatIntervalMs
    // Nodes start at different times: spread the first heartbeat over one interval.
    this.timer = setTimeout(() => { this.beat(interval).catch(() => {}) }, Math.random() * interval)
  }

  async register (): Promise<RegisterResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.libp2p.services.register.call(this.sim.coordinator, {
          token: process.env.RUNSURGE_NODE_TOKEN ?? '', cpus: 4, memoryBytes: this.sim.memoryBytes, benchmark: 1, version: 'simulated', executors: []
        })
      } catch (err) {
        // Inbound connections are rate-limited per address: back off and try again.
        if (attempt >= 20) throw err
        await new Promise(resolve => setTimeout(resolve, 200 + Math.random() * 800))
      }
    }
  }

  private assigned (task: AssignRequest): AssignResponse {
    if (this.sim.answer === undefined) return { status: AssignResponse.Status.REFUSED, error: 'a simulated node runs no tasks', memoryFreeBytes: 0 }
    this.sim.stats.assigned++
    this.unreported.add(task.taskId)
    // The task "runs" after the answer, as a real node's does; it succeeds at once.
    setImmediate(() => {
      const send = (): void => { this.reporting++; this.report(task, this.sim.answer!) }
      if (this.reporting < MAX_REPORTS) send()
      else this.backlog.push(send)
    })
    return { status: AssignResponse.Status.ACCEPTED, error: '', memoryFreeBytes: 0 }
  }

  private report (task: AssignRequest, output: string): void {
    this.libp2p.services.report.call(this.sim.coordinator, {
      taskId: task.taskId,
      nodeId: this.nodeId,
      state: ReportRequest.State.COMPLETED,
      errorCode: '',
      errorMessage: '',
      outputCids: [output],
      outputBytes: [],
      outputMemoryBytes: [],
      metrics: { wallMs: 1, cpuMs: 1, peakMemoryBytes: 1 << 20, avgMemoryBytes: 1 << 20 },
      attempt: task.attempt
    }).then(() => { this.sim.stats.reports++ }, () => { this.sim.stats.reportFailures++ }).finally(() => {
      this.unreported.delete(task.taskId)
      this.reporting--
      this.backlog.shift()?.()
    })
  }

  private async beat (interval: number): Promise<void> {
    try {
      await this.libp2p.services.heartbeat.call(this.sim.coordinator, {
        nodeId: this.nodeId, cpuLoad: 0.1, memoryUsedBytes: 0, memoryFreeBytes: this.sim.memoryBytes, runningTasks: [...this.unreported]
      })
      this.sim.stats.heartbeats++
    } catch {
      this.sim.stats.failures++
    }
    if (!this.sim.stopping) this.timer = setTimeout(() => { this.beat(interval).catch(() => {}) }, interval)
  }
}

async function simulate (): Promise<void> {
  const { values } = parseArgs({
    options: {
      coordinator: { type: 'string' },
      nodes: { type: 'string', default: '100' },
      memory: { type: 'string', default: String(8 * 1024 ** 3) },
      'initial-memory': { type: 'string' },
      answer: { type: 'string' },
      rate: { type: 'string', default: '50' }
    }
  })
  const coordinator = multiaddr(values.coordinator ?? '')
  const sim: Simulation = {
    coordinator,
    coordinatorId: coordinator.getComponents().findLast(c => c.name === 'p2p')?.value,
    memoryBytes: Number(values['initial-memory'] ?? values.memory),
    answer: values.answer,
    stats: { heartbeats: 0, failures: 0, reports: 0, reportFailures: 0, assigned: 0 },
    stopping: false
  }
  const peers = await startPeers(sim, Number(values.nodes), Number(values.rate))
  console.log(JSON.stringify({ event: 'registered', nodes: peers.map(p => ({ nodeId: p.nodeId, peerId: p.libp2p.peerId.toString() })) }))
  process.on('SIGUSR2', () => { console.log(JSON.stringify({ event: 'stats', ...sim.stats })) })
  const offer = (memory: number): void => {
    sim.memoryBytes = memory
    Promise.all(peers.map(async peer => await peer.register())).then(() => {
      console.log(JSON.stringify({ event: 'offered', memoryBytes: sim.memoryBytes }))
    }, err => { console.error(err) })
  }
  process.on('SIGUSR1', () => { offer(Number(values.memory)) })
  process.on('SIGHUP', () => { offer(Number(values['initial-memory'] ?? values.memory)) })
  await once(process, 'SIGTERM')
  sim.stopping = true
  for (const peer of peers) clearTimeout(peer.timer)
  await Promise.all(peers.map(async peer => { await peer.libp2p.stop() }))
  console.log(JSON.stringify({ event: 'stats', ...sim.stats }))
  process.exit(0)
}

/** Starts `count` peers, `rate` a second; resolves once all of them registered, in the order they did. */
async function startPeers (sim: Simulation, count: number, rate: number): Promise<SimulatedPeer[]> {
  const peers: SimulatedPeer[] = []
  const starts: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) {
    const peer = new SimulatedPeer(sim)
    starts.push(peer.start().then(() => { peers.push(peer) }))
    await new Promise(resolve => setTimeout(resolve, 1000 / rate))
  }
  await Promise.all(starts)
  return peers
}

if (process.argv[1] === import.meta.filename) await simulate()

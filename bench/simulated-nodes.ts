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

const MAX_REPORTS = 16

type SimServices = { identify: unknown, register: RegisterService, heartbeat: HeartbeatService, report: ReportService, assign: AssignService }

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
  const coordinatorId = coordinator.getComponents().findLast(c => c.name === 'p2p')?.value
  let memoryBytes = Number(values['initial-memory'] ?? values.memory)
  const answer = values.answer
  const stats = { heartbeats: 0, failures: 0, reports: 0, reportFailures: 0, assigned: 0 }
  let stopping = false
  const peers: Array<{ libp2p: Awaited<ReturnType<typeof createLibp2p<SimServices>>>, nodeId: string, timer?: NodeJS.Timeout, register(): Promise<RegisterResponse> }> = []

  async function startPeer (): Promise<(typeof peers)[number]> {
    const peer: (typeof peers)[number] = { nodeId: '' } as any
    // Reports in flight at once, as a node running at most this many tasks at a time would send them; the rest
    // wait their turn (libp2p resets a peer's streams of one protocol past 32 open at once).
    let reporting = 0
    const backlog: Array<() => void> = []
    /** Accepted and not reported yet: listed in heartbeats as running, as a real node lists them. */
    const unreported = new Set<string>()
    const onAssign = async (task: AssignRequest): Promise<AssignResponse> => {
      if (answer === undefined) return { status: AssignResponse.Status.REFUSED, error: 'a simulated node runs no tasks', memoryFreeBytes: 0 }
      stats.assigned++
      unreported.add(task.taskId)
      // The task "runs" after the answer, as a real node's does; it succeeds at once.
      setImmediate(() => {
        const send = (): void => { reporting++; report() }
        if (reporting < MAX_REPORTS) send()
        else backlog.push(send)
      })
      const report = (): void => {
        peer.libp2p.services.report.call(coordinator, {
          taskId: task.taskId,
          nodeId: peer.nodeId,
          state: ReportRequest.State.COMPLETED,
          errorCode: '',
          errorMessage: '',
          outputCids: [answer],
          outputBytes: [],
          outputMemoryBytes: [],
          metrics: { wallMs: 1, cpuMs: 1, peakMemoryBytes: 1 << 20, avgMemoryBytes: 1 << 20 },
          attempt: task.attempt
        }).then(() => { stats.reports++ }, () => { stats.reportFailures++ }).finally(() => {
          unreported.delete(task.taskId)
          reporting--
          backlog.shift()?.()
        })
      }
      return { status: AssignResponse.Status.ACCEPTED, error: '', memoryFreeBytes: 0 }
    }
    peer.libp2p = await createLibp2p<SimServices>({
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
        assign: assignService({ authorize: peerId => peerId.toString() === coordinatorId, handler: onAssign })
      }
    })
    peer.register = async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await peer.libp2p.services.register.call(coordinator, {
            token: process.env.RUNSURGE_NODE_TOKEN ?? '', cpus: 4, memoryBytes, benchmark: 1, version: 'simulated', executors: []
          })
        } catch (err) {
          // Inbound connections are rate-limited per address: back off and try again.
          if (attempt >= 20) throw err
          await new Promise(resolve => setTimeout(resolve, 200 + Math.random() * 800))
        }
      }
    }
    const response = await peer.register()
    peer.nodeId = response.nodeId
    const interval = response.heartbeatIntervalMs
    const beat = async (): Promise<void> => {
      try {
        await peer.libp2p.services.heartbeat.call(coordinator, {
          nodeId: peer.nodeId, cpuLoad: 0.1, memoryUsedBytes: 0, memoryFreeBytes: memoryBytes, runningTasks: [...unreported]
        })
        stats.heartbeats++
      } catch {
        stats.failures++
      }
      if (!stopping) peer.timer = setTimeout(() => { beat().catch(() => {}) }, interval)
    }
    // Nodes start at different times: spread the first heartbeat over one interval.
    peer.timer = setTimeout(() => { beat().catch(() => {}) }, Math.random() * interval)
    return peer
  }

  const count = Number(values.nodes)
  const rate = Number(values.rate)
  const starts: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) {
    starts.push(startPeer().then(peer => { peers.push(peer) }))
    await new Promise(resolve => setTimeout(resolve, 1000 / rate))
  }
  await Promise.all(starts)
  console.log(JSON.stringify({ event: 'registered', nodes: peers.map(p => ({ nodeId: p.nodeId, peerId: p.libp2p.peerId.toString() })) }))
  process.on('SIGUSR2', () => { console.log(JSON.stringify({ event: 'stats', ...stats })) })
  const offer = (memory: number): void => {
    memoryBytes = memory
    Promise.all(peers.map(async peer => await peer.register())).then(() => {
      console.log(JSON.stringify({ event: 'offered', memoryBytes }))
    }, err => { console.error(err) })
  }
  process.on('SIGUSR1', () => { offer(Number(values.memory)) })
  process.on('SIGHUP', () => { offer(Number(values['initial-memory'] ?? values.memory)) })
  await once(process, 'SIGTERM')
  stopping = true
  for (const peer of peers) clearTimeout(peer.timer)
  await Promise.all(peers.map(async peer => { await peer.libp2p.stop() }))
  console.log(JSON.stringify({ event: 'stats', ...stats }))
  process.exit(0)
}

if (process.argv[1] === import.meta.filename) await simulate()

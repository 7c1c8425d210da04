/**
 * Coordinator scale: a real coordinator (HTTP app, LevelDB store, libp2p peer, liveness sweep) in this process,
 * 1,000 simulated nodes in child processes (see simulated-nodes.ts: one identity, connection and noise session each,
 * real register and heartbeat protocols, every 5 s). Measures the coordinator's CPU (process.cpuUsage, % of one
 * core) and memory over a steady window of heartbeats, how long it takes to declare killed nodes dead, and how many
 * task state transitions per second the job store (LevelDB) sustains.
 *
 *   node --import tsx bench/scale.ts [--nodes 1000] [--processes 4] [--window 30] [--killed 40]
 */
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { profiled } from './profile.ts'
import { pino } from 'pino'
import { JobStore, Store, startCoordinator } from '../coordinator/src/index.ts'
import { startSimulatedProcess, stopSimulatedProcess } from './simulated-nodes.ts'
import type { JobRecord, TaskRecord } from '../coordinator/src/index.ts'
import type { SimulatedProcess } from './simulated-nodes.ts'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '4' },
    window: { type: 'string', default: '30' },
    killed: { type: 'string', default: '40' },
    transitions: { type: 'string', default: '30000' },
    /** Completed tasks already in the store, as after weeks of use: the coordinator loads them at start. */
    history: { type: 'string', default: '50000' },
    /** Write a CPU profile of the steady window to this file (open it in Chrome DevTools). */
    profile: { type: 'string' }
  }
})
const NODES = Number(values.nodes)
const PROCESSES = Number(values.processes)
const WINDOW_MS = Number(values.window) * 1000
const KILLED = Math.min(Number(values.killed), NODES)
const HISTORY = Number(values.history)
const MiB = 1024 * 1024
const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** CPU time of this process over `ms`, as % of one core, and what else happened meanwhile. */
async function cpuOver (ms: number): Promise<{ cpuPercent: number, eventLoopUtilization: number }> {
  const cpu = process.cpuUsage()
  const elu = performance.eventLoopUtilization()
  const started = performance.now()
  await sleep(ms)
  const used = process.cpuUsage(cpu)
  const elapsed = performance.now() - started
  return {
    cpuPercent: round(100 * (used.user + used.system) / 1000 / elapsed, 2),
    eventLoopUtilization: round(performance.eventLoopUtilization(elu).utilization, 3)
  }
}

function round (x: number, digits: number): number {
  return Number(x.toFixed(digits))
}

function memory (): { rssMiB: number, heapUsedMiB: number } {
  const usage = process.memoryUsage()
  return { rssMiB: round(usage.rss / MiB, 1), heapUsedMiB: round(usage.heapUsed / MiB, 1) }
}

/** Jobs of 1,000 completed tasks each, written straight to the coordinator's store before it starts. */
async function writeHistory (dataDir: string, tasks: number): Promise<void> {
  const store = await Store.open(dataDir)
  const db = new JobStore(store)
  for (let done = 0, j = 0; done < tasks; j++) {
    const jobId = `history-${j}`
    const records = Array.from({ length: Math.min(1000, tasks - done) }, (_, index) => completedTask(jobId, index))
    const job: JobRecord = {
      id: jobId,
      account: 'acct-history',
      name: 'history',
      mode: 'manual',
      status: 'completed',
      createdAt: Date.now() - 86_400_000,
      script: '',
      inputs: [],
      taskMemoryBytes: 64 * MiB,
      taskTimeoutMs: 600_000,
      taskIds: records.map(task => task.id),
      findings: [],
      plan: { level: 1, tasks: records.length }
    }
    await store.batch([db.jobs.putOp(job.id, job), ...records.map(task => db.tasks.putOp(task.id, task))])
    done += records.length
  }
  await store.close()
}

function queuedTask (jobId: string, index: number): TaskRecord {
  return {
    id: `${jobId}.${index}`,
    jobId,
    index,
    entry: 'process',
    inputName: 'input.txt',
    inputCids: [CID],
    dependsOn: [],
    memoryBytes: 64 * MiB,
    timeoutMs: 600_000,
    status: 'queued',
    attempt: 0,
    failures: 0,
    attempts: [],
    outputCids: []
  }
}

function completedTask (jobId: string, index: number, assignedAt = Date.now()): TaskRecord {
  return {
    ...queuedTask(jobId, index),
    status: 'completed',
    attempt: 1,
    nodeId: 'node-1',
    outputCids: [CID],
    metrics: { wallMs: 10, cpuMs: 9, peakMemoryBytes: MiB, avgMemoryBytes: MiB },
    earning: 1,
    machineFactor: 1,
    attempts: [{ attempt: 1, nodeId: 'node-1', assignedAt, endedAt: Date.now(), outcome: 'completed' }]
  }
}

async function coordinatorScale (dir: string): Promise<Record<string, unknown>> {
  await writeHistory(join(dir, 'coordinator'), HISTORY)
  const coordinator = await startCoordinator({ dataDir: join(dir, 'coordinator'), logger: pino({ level: 'silent' }) })
  const address = coordinator.info.multiaddrs[0] ?? ''
  const sims: SimulatedProcess[] = []
  try {
    await sleep(2000)
    global.gc?.()
    const idle = { ...(await cpuOver(10_000)), ...memory() }

    // The killed nodes live in a process of their own, so a SIGKILL silences exactly them (as a crash would).
    const counts = [KILLED, ...Array.from({ length: PROCESSES }, (_, i) => Math.floor((NODES - KILLED) / PROCESSES) + (i < (NODES - KILLED) % PROCESSES ? 1 : 0))]
      .filter(n => n > 0)
    const registerCpu = process.cpuUsage()
    const registerStarted = performance.now()
    // Each process registers 25 peers a second: 100 a second in all, under libp2p's inbound limit per address.
    sims.push(...await Promise.all(counts.map(async nodes => await startSimulatedProcess({ coordinator: address, token: coordinator.info.nodeToken, nodes, registerRate: 25 }))))
    const registerMs = performance.now() - registerStarted
    const registerUsed = process.cpuUsage(registerCpu)
    const alive = (await coordinator.registry.list()).filter(node => node.status === 'alive').length
    if (alive !== NODES) throw new Error(`${alive} of ${NODES} nodes alive after registration`)

    // One heartbeat interval for the first heartbeats to spread out, then the steady window.
    await sleep(coordinator.registry.heartbeatInterval + 1000)
    let heartbeats = 0
    const count = (): void => { heartbeats++ }
    coordinator.registry.on('node:heartbeat', count)
    global.gc?.()
    const steady = await profiled(values.profile, async () => await cpuOver(WINDOW_MS))
    coordinator.registry.off('node:heartbeat', count)
    const steadyMemory = memory()

    // Dead-node detection: SIGKILL the first process, time each of its nodes until the coordinator declares it dead.
    const victims = sims[0]
    if (victims === undefined) throw new Error('no simulated nodes')
    const pending = new Set(victims.nodes.map(node => node.nodeId))
    const detections: number[] = []
    const killedAt = performance.now()
    const allDead = new Promise<void>(resolve => {
      coordinator.registry.on('node:dead', node => {
        if (!pending.delete(node.id)) return
        detections.push(performance.now() - killedAt)
        if (pending.size === 0) resolve()
      })
    })
    const exited = once(victims.child, 'exit')
    victims.child.kill('SIGKILL')
    await exited
    await Promise.race([allDead, sleep(60_000)])
    detections.sort((a, b) => a - b)
    const stored = await Promise.all(victims.nodes.map(async node => (await coordinator.store.nodes.get(node.nodeId))?.status))
    const survivors = (await coordinator.registry.list()).filter(node => node.status === 'alive').length

    return {
      nodes: NODES,
      processes: counts.length,
      heartbeatIntervalMs: coordinator.registry.heartbeatInterval,
      idle,
      registration: { seconds: round(registerMs / 1000, 1), cpuPercent: round(100 * (registerUsed.user + registerUsed.system) / 1000 / registerMs, 1) },
      steady: {
        windowSeconds: WINDOW_MS / 1000,
        heartbeats,
        heartbeatsPerSecond: round(heartbeats / (WINDOW_MS / 1000), 1),
        ...steady,
        ...steadyMemory
      },
      deadDetection: {
        killed: victims.nodes.length,
        detected: detections.length,
        storedDead: stored.filter(status => status === 'dead').length,
        falselyDead: NODES - victims.nodes.length - survivors,
        medianSeconds: round((detections[Math.floor(detections.length / 2)] ?? Number.NaN) / 1000, 1),
        maxSeconds: round((detections.at(-1) ?? Number.NaN) / 1000, 1)
      }
    }
  } finally {
    await Promise.all(sims.map(stopSimulatedProcess))
    await coordinator.close()
  }
}

/**
 * The job store alone: task records as the job service writes them (queued → assigned → running → completed, the
 * last with its earning), each transition one awaited LevelDB batch, one after another as the service's transition
 * chain applies them.
 */
async function storeTransitions (dir: string, total: number): Promise<Record<string, unknown>> {
  const store = await Store.open(join(dir, 'store'))
  const db = new JobStore(store)
  const tasks = Math.ceil(total / 3)
  const records = Array.from({ length: tasks }, (_, index) => queuedTask('job-0123456789', index))
  await store.batch(records.map(task => db.tasks.putOp(task.id, task)))
  let transitions = 0
  const started = performance.now()
  for (const queued of records) {
    const assignedAt = Date.now()
    const assigned: TaskRecord = { ...queued, status: 'assigned', attempt: 1, nodeId: 'node-1', attempts: [{ attempt: 1, nodeId: 'node-1', assignedAt }] }
    await store.batch([db.tasks.putOp(assigned.id, assigned)])
    const running: TaskRecord = { ...assigned, status: 'running' }
    await store.batch([db.tasks.putOp(running.id, running)])
    const done = completedTask(running.jobId, running.index, assignedAt)
    await store.batch([
      db.tasks.putOp(done.id, done),
      db.earnings.putOp(done.id, { taskId: done.id, jobId: done.jobId, nodeId: 'node-1', account: 'acct-1', amount: 1, status: 'pending', createdAt: Date.now() })
    ])
    transitions += 3
  }
  const seconds = (performance.now() - started) / 1000
  await store.close()
  return { transitions, seconds: round(seconds, 2), perSecond: Math.round(transitions / seconds) }
}

const dir = await mkdtemp(join(tmpdir(), 'runsurge-bench-scale-'))
try {
  const scale = await coordinatorScale(dir)
  const store = await storeTransitions(dir, Number(values.transitions))
  console.log(JSON.stringify({
    benchmark: 'coordinator scale',
    simulated: 'nodes are libp2p peers in child processes, each with its own identity, TCP connection and noise session, ' +
      'registering and heartbeating through the real protocols; they run identify but not the DHT',
    historyTasks: HISTORY,
    ...scale,
    store
  }))
} finally {
  await rm(dir, { recursive: true, force: true })
}

/**
 * Dispatch throughput. First the coordinator alone: a real coordinator in this process, simulated nodes in child
 * processes (see simulated-nodes.ts) that accept every assignment over the real assign protocol and report success
 * at once over the real report protocol, so only the coordinator's placement, assignment push and bookkeeping are
 * measured, on a manual job of 10,000 tasks. Then trivial Python tasks end to end on a warm mesh of two real node
 * processes (bubblewrap), next to the rate at which this machine starts sandboxed python3 processes with as many at
 * once as it has cores.
 *
 *   node --import tsx bench/dispatch.ts [--tasks 10000] [--nodes 8] [--processes 2] [--python-tasks 100]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { createExecutor } from '../node/src/sandbox.ts'
import { DEFAULT_TASK_MEMORY, startCoordinator } from '../coordinator/src/index.ts'
import { startWarmMesh } from './mesh.ts'
import { profiled } from './profile.ts'
import { startSimulatedProcess, stopSimulatedProcess } from './simulated-nodes.ts'
import type { Coordinator } from '../coordinator/src/index.ts'
import type { SimulatedProcess } from './simulated-nodes.ts'
import type { JobRecord, TaskRecord } from '../coordinator/src/index.ts'

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '10000' },
    nodes: { type: 'string', default: '8' },
    processes: { type: 'string', default: '2' },
    'python-tasks': { type: 'string', default: '100' },
    /** Write a CPU profile of the simulated dispatch to this file. */
    profile: { type: 'string' },
    /** Only the simulated part (for profiling). */
    'simulated-only': { type: 'boolean', default: false }
  }
})
const MiB = 1024 * 1024
const SCRIPT = 'def process(input_data):\n    return {"lines": len(input_data.splitlines())}\n\n\ndef aggregate(results):\n    return len(results)\n'

function round (x: number, digits: number): number {
  return Number(x.toFixed(digits))
}

/**
 * Submits a manual job of `tasks` one-line chunks and waits for it to complete; the clock runs from the first
 * assignment to the completion of the last process task (the aggregation task after them is left out).
 */
async function runJob (coordinator: Coordinator, dir: string, tasks: number, taskMemoryBytes?: number, open?: () => Promise<void>, profile?: string): Promise<{ seconds: number, cpuPercent: number, submitSeconds: number, settleSeconds: number, status: string }> {
  const input = join(dir, `input-${tasks}.txt`)
  // Lines of one length, so the input splits into exactly `tasks` chunks.
  await writeFile(input, Array.from({ length: tasks }, (_, i) => `${String(i).padStart(7, '0')}\n`).join(''))
  const account = await coordinator.store.meta.get('adminAccount') ?? ''
  let firstAssigned = 0
  let cpu = process.cpuUsage()
  let done = 0
  let lastDone = 0
  let cpuUsed = { user: 0, system: 0 }
  let jobId = ''
  let processTasks = tasks
  let onTask = (_task: TaskRecord): void => {}
  let onJob = (_job: JobRecord): void => {}
  const finished = new Promise<string>(resolve => {
    onTask = task => {
      if (task.jobId !== jobId && jobId !== '') return
      if (task.status === 'assigned' && firstAssigned === 0) {
        firstAssigned = performance.now()
        cpu = process.cpuUsage()
      }
      if (task.status === 'completed' && task.entry === 'process' && ++done === processTasks) {
        lastDone = performance.now()
        cpuUsed = process.cpuUsage(cpu)
      }
    }
    onJob = job => {
      if (job.id === jobId && ['completed', 'failed', 'cancelled'].includes(job.status)) resolve(job.status)
    }
    coordinator.jobs.on('task', onTask)
    coordinator.jobs.on('job', onJob)
  })
  const submitted = performance.now()
  const job = await coordinator.jobs.submit({
    account, name: `dispatch ${tasks}`, mode: 'manual', script: SCRIPT, inputs: [{ name: 'input.txt', path: input }], tasks, ...(taskMemoryBytes !== undefined ? { taskMemoryBytes } : {})
  })
  jobId = job.id
  processTasks = job.taskIds.length - 1
  if (job.status !== 'queued') throw new Error(`the dispatch job was not accepted: ${job.status} ${JSON.stringify(job.error ?? job.findings)}`)
  if (processTasks !== tasks) throw new Error(`the job has ${processTasks} process tasks, not ${tasks}`)
  const submitSeconds = (performance.now() - submitted) / 1000
  // Simulated nodes take no task until `open`: first the job's input chunks are announced in the DHT (one provide per
  // chunk, in the background), which is submission work, not dispatch.
  const settled = performance.now()
  if (open !== undefined) await settle()
  const settleSeconds = (performance.now() - settled) / 1000
  const status = await profiled(profile, async () => {
    await open?.()
    return await finished
  })
  const outcomes: Record<string, number> = {}
  for (const task of coordinator.jobs.tasksOf(coordinator.jobs.job(jobId) ?? job)) {
    for (const attempt of task.attempts) outcomes[attempt.outcome ?? 'open'] = (outcomes[attempt.outcome ?? 'open'] ?? 0) + 1
  }
  process.stderr.write(`dispatch ${tasks}: ${JSON.stringify({ done, firstAssigned, lastDone, outcomes })}\n`)
  coordinator.jobs.off('task', onTask)
  coordinator.jobs.off('job', onJob)
  const seconds = (lastDone - firstAssigned) / 1000
  return { seconds, cpuPercent: round(100 * (cpuUsed.user + cpuUsed.system) / 1000 / (lastDone - firstAssigned), 1), submitSeconds: round(submitSeconds, 2), settleSeconds: round(settleSeconds, 1), status }
}

/** Waits until this process uses under 10% of a core over a second (at most 5 minutes). */
async function settle (): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const cpu = process.cpuUsage()
    await new Promise(resolve => setTimeout(resolve, 1000))
    const used = process.cpuUsage(cpu)
    if (used.user + used.system < 100_000) return
  }
}

async function simulatedDispatch (dir: string): Promise<Record<string, unknown>> {
  const tasks = Number(values.tasks)
  const nodes = Number(values.nodes)
  const processes = Math.min(Number(values.processes), nodes)
  // Jobs and tasks of earlier events must not slow the measured job: the coordinator's events stay on.
  const coordinator = await startCoordinator({ dataDir: join(dir, 'coordinator'), logger: pino({ level: 'silent' }) })
  const sims: SimulatedProcess[] = []
  try {
    // The fake output every simulated task reports: a chunk the coordinator already holds, so the aggregation
    // task's result needs no fetch (the process tasks' outputs are never fetched by the coordinator).
    const answer = (await coordinator.mesh.chunks.store.put(new TextEncoder().encode('0\n'))).toString()
    sims.push(...await Promise.all(Array.from({ length: processes }, async (_, i) => await startSimulatedProcess({
      coordinator: coordinator.info.multiaddrs[0] ?? '',
      token: coordinator.info.nodeToken,
      nodes: Math.floor(nodes / processes) + (i < nodes % processes ? 1 : 0),
      // Each node offers room for its share of the job's tasks (the default task memory each), and none until the job
      // is announced. The tasks ask for the default: a taskMemory chosen by the submitter that no node offers yet is
      // refused at once (does_not_fit), while the default waits for a node.
      memoryBytes: Math.ceil(tasks / nodes) * DEFAULT_TASK_MEMORY,
      initialMemoryBytes: MiB,
      answer
    }))))
    // A short warm-up job, then the measured one.
    const open = async (): Promise<void> => { await Promise.all(sims.map(async sim => await sim.offer(true))) }
    const close = async (): Promise<void> => { await Promise.all(sims.map(async sim => await sim.offer(false))) }
    await runJob(coordinator, dir, 500, undefined, open)
    await close()
    const run = await runJob(coordinator, dir, tasks, undefined, open, values.profile)
    if (run.status !== 'completed') throw new Error(`the dispatch job ended ${run.status}`)
    return {
      tasks,
      nodes,
      processes,
      submitSeconds: run.submitSeconds,
      announceSeconds: run.settleSeconds,
      seconds: round(run.seconds, 2),
      tasksPerSecond: Math.round(tasks / run.seconds),
      coordinatorCpuPercent: run.cpuPercent
    }
  } finally {
    await Promise.all(sims.map(stopSimulatedProcess))
    await coordinator.close()
  }
}

/** Sandboxed no-op python3 runs, `cores` at a time: the most tasks a second this machine could start. */
async function sandboxStartRate (dir: string, runs: number): Promise<{ perSecond: number, concurrency: number }> {
  const executor = createExecutor({ kind: 'bwrap' })
  const taskDir = join(dir, 'noop')
  await mkdir(taskDir, { recursive: true })
  await writeFile(join(taskDir, 'noop.py'), 'pass\n')
  const concurrency = availableParallelism()
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < runs) await executor.run({ taskDir, entry: 'noop.py' })
  }))
  const seconds = (performance.now() - started) / 1000
  await executor.close()
  return { perSecond: round(runs / seconds, 1), concurrency }
}

async function realDispatch (dir: string): Promise<Record<string, unknown>> {
  const tasks = Number(values['python-tasks'])
  const sandbox = await sandboxStartRate(dir, Math.max(20, Math.floor(tasks / 2)))
  const mesh = await startWarmMesh(join(dir, 'mesh'), 2, { nodeArgs: ['--memory', '1G'] })
  try {
    await runJob(mesh.coordinator, dir, 10) // warm-up
    const run = await runJob(mesh.coordinator, dir, tasks)
    if (run.status !== 'completed') throw new Error(`the python job ended ${run.status}`)
    const perSecond = tasks / run.seconds
    return {
      tasks,
      nodes: 2,
      nodeMemory: '1G',
      taskMemoryMiB: 512,
      seconds: round(run.seconds, 2),
      tasksPerSecond: round(perSecond, 1),
      sandboxStartsPerSecond: sandbox.perSecond,
      sandboxConcurrency: sandbox.concurrency,
      ratio: round(perSecond / sandbox.perSecond, 3)
    }
  } finally {
    await mesh.stop()
  }
}

const dir = await mkdtemp(join(tmpdir(), 'runsurge-bench-dispatch-'))
try {
  const simulated = await simulatedDispatch(dir)
  const python = values['simulated-only'] ? undefined : await realDispatch(dir)
  console.log(JSON.stringify({
    benchmark: 'dispatch throughput',
    simulated: 'nodes are libp2p peers in child processes (own identity and connection each) that accept every assignment ' +
      'and report it completed at once, with a fixed output CID; the python part uses real node processes and bubblewrap',
    dispatch: simulated,
    python
  }))
} finally {
  await rm(dir, { recursive: true, force: true })
}

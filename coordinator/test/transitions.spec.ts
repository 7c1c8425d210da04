/**
 * The task state machine without a mesh: no libp2p, no sandbox, a real LevelDB in a temporary directory. Each
 * transition's change (what it stores and what it asks to do) is asserted, then applied and read back.
 */
import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ReportRequest } from '../../protocols/src/index.ts'
import { Store } from '../src/store/index.ts'
import { manualJob } from './helpers/records.ts'
import { JobState } from '../src/jobs/state.ts'
import {
  assignmentFailed, jobCancelled, jobPaid, newTask, nodeDied, placed, reconciled, speculated
} from '../src/jobs/transitions.ts'
import { reported } from '../src/jobs/reports.ts'
import { MAX_RETRIES } from '../src/jobs/policy.ts'
import { placeQueued, speculation, stragglers } from '../src/jobs/placement.ts'
import { tempDir } from '../../test/helpers/index.ts'
import type { Change } from '../src/jobs/state.ts'
import type { ChunkIO, ReportContext } from '../src/jobs/reports.ts'
import type { JobRecord, TaskRecord } from '../src/jobs/records.ts'
import type { NodeRecord } from '../src/store/index.ts'

const MiB = 1024 * 1024

/** Chunks in memory, keyed by a hash of their bytes. */
function memoryChunks (): ChunkIO & { bytes: Map<string, Uint8Array> } {
  const bytes = new Map<string, Uint8Array>()
  const put = async (data: Uint8Array): Promise<string> => {
    const cid = `c-${createHash('sha256').update(data).digest('hex').slice(0, 16)}`
    bytes.set(cid, Buffer.from(data))
    return cid
  }
  return {
    bytes,
    put,
    store: put,
    read: async cid => {
      const data = bytes.get(cid)
      if (data === undefined) throw new Error(`no chunk ${cid}`)
      return data
    }
  }
}

function node (id: string, memoryBytes = 512 * MiB): NodeRecord {
  return { id, peerId: `peer-${id}`, account: 'owner', cpus: 2, memoryBytes, benchmark: 1, version: 'test', registeredAt: 0, lastSeen: 0, status: 'alive' }
}

const job = manualJob

function report (task: TaskRecord, state: 'completed' | 'failed', fields: Partial<ReportRequest> = {}): ReportRequest {
  return {
    taskId: task.id,
    nodeId: task.nodeId ?? '',
    state: state === 'completed' ? ReportRequest.State.COMPLETED : ReportRequest.State.FAILED,
    errorCode: '',
    errorMessage: '',
    outputCids: [],
    outputBytes: [],
    outputMemoryBytes: [],
    metrics: { wallMs: 2000, cpuMs: 1900, peakMemoryBytes: 100_000_000, avgMemoryBytes: 100_000_000 },
    attempt: task.attempt,
    ...fields
  }
}

describe('the task state machine', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let store: Store
  let state: JobState
  let chunks: ReturnType<typeof memoryChunks>
  const nodes = [node('n1'), node('n2')]
  const now = 1_000

  const context = (fields: Partial<ReportContext> = {}): ReportContext => ({ unitRate: 1000, largestNode: 512 * MiB, io: chunks, now, ...fields })
  /** Applies a change and returns it. */
  const apply = async (change: Change | Promise<Change>): Promise<Change> => {
    const resolved = await change
    await state.apply(resolved)
    return resolved
  }
  const task = (id: string): TaskRecord => state.tasks.get(id) as TaskRecord
  /** Stores a job with `count` process tasks (and optionally an aggregator) and returns it. */
  const submit = async (id: string, count: number, fields: Partial<JobRecord> = {}, aggregate = false): Promise<JobRecord> => {
    const base = job(id, fields)
    const tasks = Array.from({ length: count }, (_, index) => newTask(base, { index, entry: 'process', inputName: 'in.txt', inputCids: [] }))
    if (aggregate) tasks.push({ ...newTask(base, { index: count, entry: 'aggregate', inputName: 'results.json', inputCids: [] }), status: 'waiting', dependsOn: tasks.map(t => t.id) })
    const stored = { ...base, taskIds: tasks.map(t => t.id), plan: { level: 1, tasks: tasks.length } }
    await apply({ jobs: [stored], tasks })
    return stored
  }
  /** Places every queued task it can and returns the placed records. */
  const place = async (): Promise<TaskRecord[]> => {
    const placements = placeQueued(state, nodes, now)
    const change = await apply(placed(state, placements.map(p => ({ task: p.task, nodeId: p.node.id })), now))
    return change.tasks ?? []
  }
  const nodeOf = (t: TaskRecord): NodeRecord => nodes.find(n => n.id === t.nodeId) as NodeRecord
  /** Nodes for speculation: three of 512 MiB and a smaller one, n4, that a copy goes to first when it may. */
  const spare = [node('n1'), node('n2'), node('n3'), node('n4', 256 * MiB)]
  /**
   * Stores a running level-3 job with one later round, planned as intake plans it: chunk tasks j1.0–j1.2, the round's
   * stage j1.3, the round's chunk tasks j1.4–j1.6 (each `near` the round-1 task of its chunk), the aggregator j1.7.
   * `runs` gives a task's attempts in order (node, and how it ended; the one without an ending still runs), as the
   * transitions leave them: each begun at `now`, the completed one in 300 ms.
   */
  const storeRounds = async (runs: Record<string, Array<[nodeId: string, outcome?: string]>>): Promise<void> => {
    const base = job('j1', { mode: 'auto', status: 'running', startedAt: now, generated: { chunk: 'chunk', final: 'final', segments: ['stage', 'chunk again'] } })
    const first = [0, 1, 2].map(index => newTask(base, { index, entry: 'main', inputName: 'in.txt', inputCids: [`c-${index}`] }))
    const stage: TaskRecord = { ...newTask(base, { index: 3, entry: 'segment', inputName: 'in.txt', inputCids: [] }), status: 'waiting', dependsOn: first.map(t => t.id), script: 0 }
    const again = first.map((home, i): TaskRecord => ({
      ...newTask(base, { index: 4 + i, entry: 'segment', inputName: 'in.txt', inputCids: home.inputCids }), status: 'waiting', dependsOn: [stage.id], script: 1, near: home.id
    }))
    const aggregate: TaskRecord = { ...newTask(base, { index: 7, entry: 'aggregate', inputName: 'results.json', inputCids: [] }), status: 'waiting', dependsOn: [...first, ...again].map(t => t.id) }
    const tasks = [...first, stage, ...again, aggregate].map((t): TaskRecord => {
      const attempts = (runs[t.id] ?? []).map(([nodeId, outcome], i) => ({ attempt: i + 1, nodeId, assignedAt: now, ...(outcome === undefined ? {} : { endedAt: now + 300, outcome }) }))
      const current = attempts.find(a => a.outcome === 'completed') ?? attempts.at(-1)
      if (current === undefined) return t
      if (current.outcome === undefined) return { ...t, status: 'running', attempt: current.attempt, nodeId: current.nodeId, attempts }
      const metrics = { wallMs: 300, cpuMs: 290, peakMemoryBytes: MiB, avgMemoryBytes: MiB }
      return { ...t, status: 'completed', attempt: current.attempt, nodeId: current.nodeId, attempts, metrics, outputCids: [`out-${t.id}`] }
    })
    await apply({ jobs: [{ ...base, taskIds: tasks.map(t => t.id), plan: { level: 3, chunks: 3, tasks: tasks.length } }], tasks })
  }
  /** Round 1 and the round's stage done, each chunk on its own node; round 2 placed where round 1 ran (`near`), j1.4 still running. */
  const secondRound = (home: Array<[string, string?]>): Record<string, Array<[string, string?]>> => ({
    'j1.0': home,
    'j1.1': [['n2', 'completed']],
    'j1.2': [['n3', 'completed']],
    'j1.3': [['n2', 'completed']],
    'j1.4': [[home.find(([, outcome]) => outcome === 'completed')?.[0] ?? '']],
    'j1.5': [['n2', 'completed']],
    'j1.6': [['n3', 'completed']]
  })

  beforeEach(async () => {
    dir = await tempDir()
    store = await Store.open(dir.path)
    state = new JobState(store)
    chunks = memoryChunks()
  })

  afterEach(async () => {
    await store.close()
    await dir.remove()
  })

  it('places queued tasks on the smallest node that fits, starts the job, and stores the assignment', async () => {
    nodes[1] = node('n2', 128 * MiB)
    await submit('j1', 2)
    const assigned = await place()
    expect(assigned.map(t => [t.id, t.status, t.nodeId, t.attempt])).toEqual([['j1.0', 'assigned', 'n2', 1], ['j1.1', 'assigned', 'n2', 1]])
    expect(state.jobs.get('j1')?.status).toBe('running')
    expect(state.queue.size).toBe(0)
    // Stored, not only in memory.
    expect((await state.db.tasks.get('j1.0'))?.status).toBe('assigned')
    expect((await state.db.jobs.get('j1'))?.status).toBe('running')
    nodes[1] = node('n2')
  })

  it('retries a task the sandbox failed elsewhere, counting each failure, and fails the job after MAX_RETRIES', async () => {
    await submit('j1', 2)
    await place()
    const other = task('j1.1')
    for (let failure = 1; failure <= MAX_RETRIES; failure++) {
      const current = task('j1.0')
      const change = await apply(reported(state, report(current, 'failed', { errorCode: 'sandbox_error', errorMessage: 'bwrap: cannot mount' }), nodeOf(current), context()))
      expect(change.tasks?.[0]).toMatchObject({ id: 'j1.0', status: 'queued', failures: failure })
      expect(change.tasks?.[0]?.attempts.at(-1)).toMatchObject({ outcome: 'sandbox_error', message: 'bwrap: cannot mount' })
      // Not the submitter's program: nothing is billed.
      expect(change.earnings ?? []).toEqual([])
      expect(state.queue.has('j1.0')).toBe(true)
      const [again] = await place()
      // Not on the node it failed on while there is a node it has not failed on.
      if (failure === 1) expect(again?.nodeId).not.toBe(current.nodeId)
      expect(again?.status).toBe('assigned')
    }
    const last = task('j1.0')
    const change = await apply(reported(state, report(last, 'failed', { errorCode: 'sandbox_error', errorMessage: 'bwrap: cannot mount' }), nodeOf(last), context()))
    expect(change.jobs?.[0]).toMatchObject({ id: 'j1', status: 'failed', error: { code: 'sandbox_error' } })
    expect(change.payments).toEqual([])
    expect(change.tasks?.map(t => [t.id, t.status])).toEqual([['j1.0', 'failed'], ['j1.1', 'cancelled']])
    // The other running task is told to stop on its node.
    expect(change.effects).toEqual([{ type: 'cancel', taskId: 'j1.1', nodeId: other.nodeId, reason: 'the job ended' }])
    expect((await state.db.jobs.get('j1'))?.status).toBe('failed')
  })

  for (const code of ['runtime_error', 'time_limit', 'process_limit', 'output_limit']) {
    it(`fails the job at once when the program itself fails (${code}), and bills the attempt that ran it`, async () => {
      await submit('j1', 2)
      await place()
      const current = task('j1.0')
      const change = await apply(reported(state, report(current, 'failed', { errorCode: code, errorMessage: `the program: ${code}` }), nodeOf(current), context()))
      expect(change.tasks?.[0]).toMatchObject({ id: 'j1.0', status: 'failed', failures: 1 })
      // 1000 µ/(s·GB) × 2 s × factor 1 × 0.1 GB = 200 µ, owed by the submitter (× 1.2) and earned by the node's owner.
      expect(change.tasks?.[0]?.attempts.at(-1)).toMatchObject({ outcome: code, earning: 200 })
      expect(change.earnings).toEqual([expect.objectContaining({ taskId: 'j1.0', attempt: current.attempt, amount: 200, account: 'owner', status: 'pending' })])
      expect(change.jobs?.[0]).toMatchObject({ status: 'failed', error: { code }, cost: { contributors: 200, price: 240 }, payment: 'pending' })
      expect(change.payments?.[0]).toMatchObject({ jobId: 'j1', amount: 240, status: 'pending' })
      expect((await state.db.earnings.get(`j1.0/${current.attempt}`))?.amount).toBe(200)
    })
  }

  it('raises an automatic task\'s memory after memory_limit as a billed attempt, at most MAX_RETRIES times', async () => {
    await submit('j1', 1, { mode: 'auto', taskMemoryBytes: 32 * MiB })
    let memory = 32 * MiB
    for (let failure = 1; failure <= MAX_RETRIES; failure++) {
      await place()
      const current = task('j1.0')
      const change = await apply(reported(state, report(current, 'failed', { errorCode: 'memory_limit' }), nodeOf(current), context({ largestNode: 4096 * MiB })))
      memory *= 2
      expect(change.tasks?.[0]).toMatchObject({ status: 'queued', failures: failure, memoryBytes: memory })
      expect(change.earnings?.length).toBe(1)
    }
    await place()
    const change = await apply(reported(state, report(task('j1.0'), 'failed', { errorCode: 'memory_limit' }), nodeOf(task('j1.0')), context({ largestNode: 4096 * MiB })))
    expect(change.jobs?.[0]).toMatchObject({ status: 'failed', error: { code: 'does_not_fit' } })
    // Four attempts ran, four were billed.
    expect(change.jobs?.[0]?.cost?.contributors).toBe(4 * 200)
  })

  it('never raises a taskMemory the submitter chose: the job fails naming it', async () => {
    await submit('j1', 1, { mode: 'auto', taskMemoryBytes: 256 * MiB, explicitMemory: true })
    await place()
    const change = await apply(reported(state, report(task('j1.0'), 'failed', { errorCode: 'memory_limit' }), nodeOf(task('j1.0')), context({ largestNode: 4096 * MiB })))
    expect(change.jobs?.[0]).toMatchObject({ status: 'failed', error: { code: 'memory_limit' } })
    expect(change.jobs?.[0]?.error?.message).toMatch(/limit of 256\.0 MiB \(the task memory you chose\)/)
    expect(change.tasks?.[0]?.memoryBytes).toBe(256 * MiB)
  })

  it('does not count lost inputs as failures, up to a point', async () => {
    await submit('j1', 1)
    await place()
    const change = await apply(reported(state, report(task('j1.0'), 'failed', { errorCode: 'input_unavailable' }), nodeOf(task('j1.0')), context()))
    expect(change.tasks?.[0]).toMatchObject({ status: 'queued', failures: 0 })
  })

  /**
   * An automatic job of 2 chunk tasks whose aggregator receives keyed partials: estimated at 400 MiB if every key were
   * distinct (what the plan stored as its memory), 20 MiB without them.
   */
  const submitKeyed = async (): Promise<void> => {
    await submit('j1', 2, { mode: 'auto', generated: { chunk: 'chunk', final: 'final' } }, true)
    await apply({ tasks: [{ ...task('j1.2'), memoryBytes: 400 * MiB, sizing: { fixedBytes: 20 * MiB, keyedBytes: 380 * MiB } }] })
    await place()
  }

  it('sizes an aggregator of keyed partials from the bytes the chunks report, never above its estimate', async () => {
    await submitKeyed()
    const largestNode = 512 * MiB
    for (const id of ['j1.0', 'j1.1']) {
      await apply(reported(state, report(task(id), 'completed', { outputCids: [`out-${id}`], outputBytes: [3 * MiB] }), nodeOf(task(id)), context({ largestNode })))
    }
    // 20 MiB + 24 × 6 MiB decoded = 164 MiB, with the 1.5 margin: 246 MiB instead of 400.
    expect(task('j1.2')).toMatchObject({ status: 'queued', memoryBytes: 246 * MiB, inputCids: ['out-j1.0', 'out-j1.1'] })
    expect(task('j1.0').outputBytes).toEqual([3 * MiB])
  })

  it('keeps the estimate when a chunk did not report its output size, or reported a size that is not one', async () => {
    await submitKeyed()
    await apply(reported(state, report(task('j1.0'), 'completed', { outputCids: ['out-0'], outputBytes: [] }), nodeOf(task('j1.0')), context()))
    await apply(reported(state, report(task('j1.1'), 'completed', { outputCids: ['out-1'], outputBytes: [-5] }), nodeOf(task('j1.1')), context()))
    expect(task('j1.0').outputBytes).toBeUndefined()
    expect(task('j1.1').outputBytes).toBeUndefined()
    expect(task('j1.2')).toMatchObject({ status: 'queued', memoryBytes: 400 * MiB })
  })

  it('fails the job with does_not_fit when the chunks sent more keyed partials than any node can combine, keeping what completed', async () => {
    await submitKeyed()
    await apply(reported(state, report(task('j1.0'), 'completed', { outputCids: ['out-0'], outputBytes: [20 * MiB] }), nodeOf(task('j1.0')), context({ largestNode: 256 * MiB })))
    expect(task('j1.2').status).toBe('waiting')
    const change = await apply(reported(state, report(task('j1.1'), 'completed', { outputCids: ['out-1'], outputBytes: [20 * MiB] }), nodeOf(task('j1.1')), context({ largestNode: 256 * MiB })))
    expect(state.jobs.get('j1')).toMatchObject({ status: 'failed', error: { code: 'does_not_fit' } })
    expect(state.jobs.get('j1')?.error?.message).toMatch(/the aggregator receives 40\.0 MiB of partial results, which need about 400\.0 MiB decoded, but the largest node offers 256\.0 MiB/)
    expect(task('j1.1')).toMatchObject({ status: 'completed', outputCids: ['out-1'] })
    expect(task('j1.2')).toMatchObject({ status: 'failed', error: { code: 'does_not_fit' } })
    // Both chunk tasks did their work: each is earned and billed.
    expect((await state.db.earnings.get('j1.1'))?.amount).toBeGreaterThan(0)
    expect(change.jobs?.[0]?.cost?.contributors).toBe(400)
  })

  it('completes a job from its tasks, bills it from metrics and machine factors, and pays it once', async () => {
    const j = await submit('j1', 2, {}, true)
    await place()
    for (const id of ['j1.0', 'j1.1']) {
      const out = await chunks.put(new TextEncoder().encode(`{"part":"${id}"}`))
      await apply(reported(state, report(task(id), 'completed', { outputCids: [out] }), nodeOf(task(id)), context()))
    }
    // The aggregator is queued with the two outputs as its inputs, and the job awaits it.
    expect(task('j1.2')).toMatchObject({ status: 'queued', inputCids: [...task('j1.0').outputCids, ...task('j1.1').outputCids] })
    expect(state.jobs.get('j1')?.status).toBe('pending_aggregation')
    await place()
    const result = await chunks.put(new TextEncoder().encode('42'))
    const change = await apply(reported(state, report(task('j1.2'), 'completed', { outputCids: [result] }), nodeOf(task('j1.2')), context()))
    // 1000 µ/(s·GB) × 2 s × factor 1 × 0.1 GB = 200 µ per task; 3 tasks; the submitter pays 1.2×.
    expect(change.earnings?.map(e => e.amount)).toEqual([200])
    expect(change.jobs?.[0]).toMatchObject({ status: 'completed', resultCid: result, cost: { contributors: 600, price: 720, platform: 120 } })
    expect(change.payments?.[0]).toMatchObject({ jobId: 'j1', amount: 720, status: 'pending' })
    const payment = await state.db.payments.get('j1')
    const earnings = await Promise.all(state.tasksOf(j).map(async t => await state.db.earnings.get(t.id)))
    const paid = await apply(jobPaid(state.jobs.get('j1') as JobRecord, payment!, earnings.filter(e => e !== undefined), now))
    expect(paid.payments?.[0]).toMatchObject({ status: 'paid', paidAt: now })
    expect(paid.earnings?.map(e => e.status)).toEqual(['paid', 'paid', 'paid'])
    expect((await state.db.earnings.get('j1.1'))?.status).toBe('paid')
    // Paying again changes nothing: the earnings are no longer pending.
    const again = jobPaid(state.jobs.get('j1') as JobRecord, (await state.db.payments.get('j1'))!, [(await state.db.earnings.get('j1.0'))!], now + 1)
    expect(again.earnings).toEqual([])
  })

  it('combines the results of a manual job without aggregate() in chunk order', async () => {
    await submit('j1', 2)
    await place()
    for (const id of ['j1.1', 'j1.0']) {
      const out = await chunks.put(new TextEncoder().encode(`{"n":${id.slice(-1)}}`))
      await apply(reported(state, report(task(id), 'completed', { outputCids: [out] }), nodeOf(task(id)), context()))
    }
    const resultCid = state.jobs.get('j1')?.resultCid
    expect(new TextDecoder().decode(await chunks.read(resultCid ?? ''))).toBe('[{"n":0},{"n":1}]')
  })

  it('re-queues a dead node\'s tasks without counting a failure, and promotes a running copy instead', async () => {
    await submit('j1', 2)
    await place()
    const [a, b] = [task('j1.0'), task('j1.1')]
    // j1.1 gets a copy on the other node.
    const copyNode = a.nodeId === b.nodeId ? 'n2' : (a.nodeId as string)
    await apply(speculated(b, copyNode === b.nodeId ? 'n1' : copyNode, now))
    const copied = task('j1.1')
    const dead = nodes.find(n => n.id === b.nodeId) as NodeRecord
    const change = await apply(nodeDied(state, dead, now))
    const after = change.tasks?.find(t => t.id === 'j1.1')
    expect(after).toMatchObject({ status: 'assigned', nodeId: copied.backup?.nodeId, attempt: copied.backup?.attempt, failures: 0 })
    expect(after?.backup).toBeUndefined()
    expect(after?.attempts.find(x => x.attempt === b.attempt)?.outcome).toBe('node_dead')
    if (a.nodeId === b.nodeId) expect(change.tasks?.find(t => t.id === 'j1.0')).toMatchObject({ status: 'queued', failures: 0 })
  })

  it('re-queues a removed node\'s tasks as node_removed, without counting a failure', async () => {
    await submit('j1', 2)
    await place()
    const [a, b] = [task('j1.0'), task('j1.1')]
    const removed = nodes.find(n => n.id === a.nodeId) as NodeRecord
    const change = await apply(nodeDied(state, removed, now, 'node_removed'))
    const lost = [a, b].filter(t => t.nodeId === removed.id).map(t => t.id).sort()
    expect(change.tasks?.map(t => t.id).sort()).toEqual(lost)
    for (const requeued of change.tasks ?? []) {
      expect(requeued).toMatchObject({ status: 'queued', failures: 0 })
      expect(requeued.attempts.at(-1)).toMatchObject({ outcome: 'node_removed', message: `node ${removed.id} was removed by its owner` })
    }
    expect(change.log?.at(-1)?.message).toBe('node removed: its tasks are re-queued')
  })

  it('a straggler\'s copy that finishes first wins; the original is superseded and told to stop', async () => {
    await submit('j1', 1)
    await place()
    const original = task('j1.0')
    await apply(speculated(original, original.nodeId === 'n1' ? 'n2' : 'n1', now))
    const withCopy = task('j1.0')
    const copy = withCopy.backup!
    const copyNode = nodes.find(n => n.id === copy.nodeId) as NodeRecord
    const out = await chunks.put(new TextEncoder().encode('1'))
    const change = await apply(reported(state, report(withCopy, 'completed', { attempt: copy.attempt, outputCids: [out] }), copyNode, context()))
    expect(change.tasks?.[0]).toMatchObject({ status: 'completed', nodeId: copy.nodeId, attempt: copy.attempt })
    expect(change.tasks?.[0]?.attempts.find(a => a.attempt === original.attempt)?.outcome).toBe('superseded')
    expect(change.effects).toEqual([{ type: 'cancel', taskId: 'j1.0', nodeId: original.nodeId, reason: 'a copy on another node finished first' }])
    // Only the winner earns.
    expect(change.earnings?.map(e => e.nodeId)).toEqual([copy.nodeId])
  })

  it('a failing copy leaves the original running alone', async () => {
    await submit('j1', 1)
    await place()
    const original = task('j1.0')
    await apply(speculated(original, original.nodeId === 'n1' ? 'n2' : 'n1', now))
    const copy = task('j1.0').backup!
    const change = await apply(reported(state, report(task('j1.0'), 'failed', { attempt: copy.attempt, errorCode: 'runtime_error' }), nodes.find(n => n.id === copy.nodeId)!, context()))
    expect(change.tasks?.[0]).toMatchObject({ status: 'assigned', nodeId: original.nodeId, attempt: original.attempt, failures: 0 })
    expect(change.tasks?.[0]?.backup).toBeUndefined()
  })

  it('offers a straggler a copy only on an idle node it has not failed on', async () => {
    await submit('j1', 2)
    const [a] = await place()
    expect(speculation(state, nodes, now)).toBeUndefined() // no completed sibling yet: nothing is known to be slow
    const out = await chunks.put(new TextEncoder().encode('{}'))
    const sibling = task(a?.id === 'j1.0' ? 'j1.1' : 'j1.0')
    await apply(reported(state, report(sibling, 'completed', { outputCids: [out], metrics: { wallMs: 100, cpuMs: 100, peakMemoryBytes: 1, avgMemoryBytes: 1 } }), nodeOf(sibling), context()))
    const later = now + 60_000
    const found = speculation(state, nodes, later)
    const slow = task(a?.id ?? '')
    if (slow.nodeId === sibling.nodeId) expect(found?.node.id).not.toBe(slow.nodeId)
    else expect(found).toMatchObject({ task: { id: slow.id }, node: { id: sibling.nodeId } })
  })

  it('copies an ordinary straggler to the smallest idle node', async () => {
    await storeRounds({ 'j1.0': [['n1', 'completed']], 'j1.1': [['n2', 'completed']], 'j1.2': [['n3']] })
    expect(speculation(state, spare, now + 60_000)).toMatchObject({ task: { id: 'j1.2' }, node: { id: 'n4' } })
  })

  it('does not copy a later round\'s straggler to an idle node that lacks its chunk', async () => {
    await storeRounds(secondRound([['n1', 'completed']]))
    expect(task('j1.4')).toMatchObject({ status: 'running', nodeId: 'n1', near: 'j1.0' })
    // A straggler, with n2, n3 and n4 idle: only n1, busy with it, holds its chunk.
    expect(stragglers(state, now + 60_000).map(t => t.id)).toEqual(['j1.4'])
    expect(speculation(state, spare, now + 60_000)).toBeUndefined()
  })

  it('copies a later round\'s straggler to the idle node that holds its chunk, not to a smaller one', async () => {
    // Round 1 straggled on n3 and its copy on n1 won: both hold chunk 0.
    await storeRounds(secondRound([['n3', 'superseded'], ['n1', 'completed']]))
    expect(task('j1.4')).toMatchObject({ status: 'running', nodeId: 'n1', near: 'j1.0' })
    expect(speculation(state, spare, now + 60_000)).toMatchObject({ task: { id: 'j1.4' }, node: { id: 'n3' } })
  })

  it('halves a level-3 chunk that ran out of memory; the aggregator takes both halves in its place', async () => {
    const input = await chunks.store(new TextEncoder().encode(Array.from({ length: 100 }, (_, i) => `${i}`).join('\n') + '\n'))
    const base = job('j1', { mode: 'auto', generated: { chunk: 'chunk', final: 'final' } })
    const chunk = { ...newTask(base, { index: 0, entry: 'main', inputName: 'in.txt', inputCids: [input] }) }
    const aggregate = { ...newTask(base, { index: 1, entry: 'aggregate', inputName: 'results.json', inputCids: [] }), status: 'waiting' as const, dependsOn: [chunk.id] }
    await apply({ jobs: [{ ...base, taskIds: [chunk.id, aggregate.id] }], tasks: [chunk, aggregate] })
    await place()
    const change = await apply(reported(state, report(task('j1.0'), 'failed', { errorCode: 'memory_limit' }), nodeOf(task('j1.0')), context()))
    expect(change.tasks?.map(t => [t.id, t.status])).toEqual([['j1.0', 'replaced'], ['j1.2', 'queued'], ['j1.3', 'queued'], ['j1.1', 'waiting']])
    expect(task('j1.1').dependsOn).toEqual(['j1.2', 'j1.3'])
    expect(state.jobs.get('j1')?.taskIds).toEqual(['j1.2', 'j1.3', 'j1.1'])
    const halves = await Promise.all(['j1.2', 'j1.3'].map(async id => new TextDecoder().decode(await chunks.read(task(id).inputCids[0] ?? ''))))
    expect(halves.join('')).toBe(new TextDecoder().decode(await chunks.read(input)))
    expect(halves.every(h => h.endsWith('\n'))).toBe(true)
  })

  it('cancels a job: open tasks cancelled, running ones told to stop, finished ones left as they are', async () => {
    const j = await submit('j1', 3)
    await place()
    const out = await chunks.put(new TextEncoder().encode('{}'))
    await apply(reported(state, report(task('j1.0'), 'completed', { outputCids: [out] }), nodeOf(task('j1.0')), context()))
    const change = await apply(jobCancelled(state, state.jobs.get(j.id) as JobRecord, now, 1000))
    expect(change.jobs?.[0]).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } })
    expect(change.tasks?.map(t => [t.id, t.status])).toEqual([['j1.1', 'cancelled'], ['j1.2', 'cancelled']])
    expect(change.effects?.map(e => e.type === 'cancel' ? e.taskId : e.type)).toEqual(['j1.1', 'j1.2'])
    expect(task('j1.0').status).toBe('completed')
    // What ran before the cancel is owed: the completed task's 200 µ, × 1.2.
    expect(change.jobs?.[0]).toMatchObject({ cost: { contributors: 200, price: 240 }, payment: 'pending' })
    expect(change.payments?.[0]).toMatchObject({ jobId: 'j1', amount: 240, status: 'pending' })
  })

  it('re-queues a task its node no longer runs, once the grace for a report in flight is over', async () => {
    await submit('j1', 1)
    const [a] = await place()
    const session = { nodeId: a?.nodeId ?? '', peerId: 'p', lastSeen: now, cpuLoad: 0, memoryFreeBytes: 0, runningTasks: [] }
    expect(reconciled(state, session, 15_000, now + 1_000).tasks).toEqual([])
    const change = await apply(reconciled(state, session, 15_000, now + 16_000))
    expect(change.tasks?.[0]).toMatchObject({ id: 'j1.0', status: 'queued', failures: 0 })
    expect(change.tasks?.[0]?.attempts.at(-1)?.outcome).toBe('lost')
  })

  it('an assignment the node did not take puts the task back, and a stale one changes nothing', async () => {
    await submit('j1', 1)
    const [a] = await place()
    expect(assignmentFailed(task('j1.0'), (a?.attempt ?? 0) + 5, 'unreachable', 'gone', now)).toEqual({})
    const change = await apply(assignmentFailed(task('j1.0'), a?.attempt ?? 0, 'unreachable', 'gone', now))
    expect(change.tasks?.[0]).toMatchObject({ status: 'queued', failures: 0 })
    expect(state.queue.has('j1.0')).toBe(true)
  })
})

/**
 * Automatic mode over several rounds (issue 14, "Done when": data locality, and an aggregator that receives O(chunks)
 * bytes), on a real coordinator process and three real `runsurge node` processes offering 48 MiB each (Python under
 * bubblewrap), jobs submitted over HTTP; every result is the one plain /usr/bin/python3 gives on the same file.
 *
 * - A two-pass variance whose sequential run needs more than 1.5 × 48 MiB runs at level 3 in two rounds; every round-2
 *   chunk task runs on the node that ran round 1 on the same chunk (its `near` task; a straggler's copy goes only to a
 *   node that already holds the chunk), and an input chunk reaches only the nodes that ran round 1 on it: one, unless a
 *   round-1 straggler got a speculative copy.
 * - `return {"n": len(ys), "total": sum(ys)}` over a mapped list: at three times the elements, each chunk task still
 *   sends the aggregate task the same ~96 bytes.
 *
 * Which node holds which chunk is read where it is: a node keeps every chunk it stored or fetched in
 * `chunks/blocks/<cid>` of its data directory, and fetches a chunk only when it does not hold it. The tasks' chunk ids
 * stay on the coordinator (the job view does not show them), so each test stops the coordinator once its jobs have
 * ended and reads them from its database.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../coordinator/src/index.ts'
import type { JobRecord, TaskRecord } from '../../coordinator/src/index.ts'
import { SEQUENTIAL_DRIVER, int, lines } from '../../corpus/auto.ts'
import { resultDifference } from '../../corpus/compare.ts'
import { inputOfBytes, reachPath, reachProgram } from '../../corpus/reach.ts'
import { runtimeBytes } from '../../planner/src/index.ts'
import { describeJob, follow, kill, startMesh, stopAll, submit } from '../helpers/index.ts'
import { processScope } from '../helpers/scope.ts'
import type { JobRun, JobView, Mesh, RunsurgeProcess, TaskView } from '../helpers/index.ts'

const MiB = 1024 * 1024
/** What each node offers: an input whose sequential run needs 1.5 times that cannot run whole on any node. */
const NODE_MEMORY = 48 * MiB
/** A hang guard per job, not a speed requirement: a loaded 2-core machine runs these in well under a minute. */
const JOB_DEADLINE = 300_000
const TEST_TIMEOUT = 2 * JOB_DEADLINE
/** Bound on one chunk task's partial result for `{"n": len(ys), "total": sum(ys)}`: two numbers, not the chunk's list. */
const PARTIAL_BYTES = 128

const execFileAsync = promisify(execFile)

/** `main(data)` once, in plain python3, on the whole file: its result text and peak resident memory. */
async function sequential (script: string, input: string): Promise<{ result: string, peakBytes: number }> {
  const { stdout, stderr } = await execFileAsync('/usr/bin/time', ['-f', '%M', '/usr/bin/python3', SEQUENTIAL_DRIVER, script, input], { maxBuffer: 64 * MiB })
  return { result: stdout, peakBytes: Number(stderr.trim().split('\n').at(-1)) * 1024 }
}

/** Submits `script` on `input` in automatic mode and follows it to its end (GET /api/jobs/:id with its tasks). */
async function runJob (mesh: Mesh, script: string, input: string): Promise<JobRun> {
  return await follow(mesh, await submit(mesh, { name: 'job.py', blob: new Blob([script]) }, input), { deadlineMs: JOB_DEADLINE })
}

/** Stops the coordinator (gracefully) and reads the records of `jobIds` and their tasks from its database. */
async function recordsOf (mesh: Mesh, jobIds: string[]): Promise<Map<string, { job: JobRecord, tasks: TaskRecord[] }>> {
  await kill(mesh.coordinator, 'SIGTERM')
  const store = await Store.open(mesh.dataDir)
  try {
    const jobs = store.repository<JobRecord>('jobs')
    const tasks = store.repository<TaskRecord>('tasks')
    const records = new Map<string, { job: JobRecord, tasks: TaskRecord[] }>()
    for (const id of jobIds) {
      const job = await jobs.get(id)
      if (job === undefined) throw new Error(`job ${id} is not in the coordinator's database`)
      const of = await Promise.all(job.taskIds.map(async taskId => await tasks.get(taskId)))
      records.set(id, { job, tasks: of.filter(task => task !== undefined) })
    }
    return records
  } finally {
    await store.close()
  }
}

/** The nodes whose chunk store holds `cid`. */
const holders = (mesh: Mesh, cid: string): string[] =>
  mesh.nodes.filter(node => existsSync(join(node.dataDir, 'chunks', 'blocks', cid))).map(node => node.id)

/** A task in one line, for assertion messages. */
const taskLine = (t: TaskView): string =>
  `${t.id} ${t.entry}${t.role !== undefined ? ` ${t.role} round ${t.round ?? '?'}` : ''} ${t.status} on ${t.nodeId ?? '-'}` +
  (t.near !== undefined ? ` near ${t.near}` : '') +
  ((t.attempts?.length ?? 0) > 1 ? ` (attempts: ${t.attempts?.map(a => `${a.nodeId} ${a.outcome ?? 'running'}`).join(', ') ?? ''})` : '')

const summary = (text: string): void => {
  if (process.env.RUNSURGE_TEST_SUMMARY !== undefined) process.stdout.write(`${text}\n`)
}

const scope = processScope('runsurge-rounds-')
/** One machine benchmark for every node of this file. */
const benchmark = (): string => join(scope.dir, 'benchmark.json')

/** A coordinator and three nodes offering 48 MiB each, for the tests of one describe block; `name` is its folder. */
function meshFor (name: string): { mesh: () => Mesh } {
  let mesh: Mesh | undefined
  const children: RunsurgeProcess[] = []
  beforeAll(async () => {
    mesh = await startMesh({ dir: join(scope.dir, name), memory: '48M', benchmark: benchmark(), nodes: 3, children })
  }, 120_000)
  afterAll(async () => { await stopAll(children) })
  return {
    mesh: () => {
      if (mesh === undefined) throw new Error('the mesh did not start')
      return mesh
    }
  }
}

describe('05-variance-two-pass.py, too big for any node: two rounds, each chunk\'s rounds on one node', () => {
  const { mesh } = meshFor('locality')

  it('runs at level 3 in two rounds to python3\'s result; round 2 of each chunk is placed where round 1 ran, and an input chunk reaches a second node only for a straggler\'s copy', async () => {
    const program = reachProgram('05-variance-two-pass.py')
    const input = join(scope.dir, 'variance.jsonl')
    // About the size .scratch/reach/sizes.json measured: python3 peaks near 79 MiB on it.
    const { text, elements } = inputOfBytes(program, 10 * MiB, 14)
    await writeFile(input, text)
    const [{ job, result }, expected] = await Promise.all([runJob(mesh(), await readFile(reachPath(program), 'utf8'), input), sequential(reachPath(program), input)])
    const tasks = job.tasks ?? []
    const what = `${describeJob(job)}\n${tasks.map(taskLine).join('\n')}`
    // No node can run it whole: the split is forced by memory.
    expect(expected.peakBytes).toBeGreaterThanOrEqual(1.5 * NODE_MEMORY)
    expect(job.status, what).toBe('completed')
    expect(resultDifference(expected.result, result ?? ''), what).toBeUndefined()
    expect(job.plan.level, what).toBe(3)
    expect(job.plan.rounds, what).toBeGreaterThanOrEqual(2)
    const rounds = job.plan.rounds ?? 0

    const first = tasks.filter(t => t.entry === 'main')
    const later = tasks.filter(t => t.role === 'chunk')
    const byId = new Map(tasks.map(t => [t.id, t]))
    expect(first.length, what).toBeGreaterThanOrEqual(2)
    expect(first.every(t => t.status === 'completed'), what).toBe(true)
    // Round 1 uses the mesh, not one node.
    expect(new Set(first.map(t => t.nodeId)).size, what).toBeGreaterThan(1)
    // Each later round has one chunk task per round-1 chunk, run on the node of the round-1 task it is near (the one
    // holding its data). A straggler's copy may go only to a node that ran that round-1 task too (and so holds it).
    expect(later.length, what).toBe((rounds - 1) * first.length)
    expect(new Set(later.map(t => t.near)).size, what).toBe(first.length)
    for (const task of later) {
      const home = byId.get(task.near ?? '')
      const where = `${what}\n${task.id} ran on ${task.nodeId ?? '-'}, its round-1 task ${home?.id ?? '?'} on ${home?.nodeId ?? '-'}`
      const holding = new Set(home?.attempts?.map(a => a.nodeId))
      expect(home?.entry, where).toBe('main')
      expect(task.round, where).toBeGreaterThanOrEqual(2)
      expect(task.status, where).toBe('completed')
      expect(task.attempts?.[0]?.nodeId, where).toBe(home?.nodeId)
      for (const attempt of task.attempts ?? []) expect(holding.has(attempt.nodeId), where).toBe(true)
    }

    // Input crosses the network once: a node holds an input chunk only if it ran round 1 on it (a speculative copy
    // included), never for a later round; with no round-1 copy, exactly one node holds it.
    // (Per-node transfer counts are not reported anywhere; the chunk stores on disk are the record.)
    const records = (await recordsOf(mesh(), [job.id])).get(job.id)
    const recorded = new Map(records?.tasks.map(t => [t.id, t]))
    expect(records?.job.inputs[0]?.cids.length, what).toBeGreaterThanOrEqual(first.length)
    let transfers = 0
    for (const task of first) {
      const round1 = recorded.get(task.id)
      const again = later.filter(t => t.near === task.id).map(t => recorded.get(t.id))
      const ranOn = new Set((round1?.attempts ?? []).map(a => a.nodeId))
      const copies = (round1?.attempts.length ?? 0) - 1
      expect(round1?.inputCids.length, what).toBeGreaterThan(0)
      for (const cid of round1?.inputCids ?? []) {
        const at = holders(mesh(), cid)
        const about = `${what}\ninput chunk ${cid} of ${task.id} held by ${at.join(', ')}; its tasks ran on ${[...ranOn].join(', ')}`
        transfers += at.length
        expect(at.filter(node => !ranOn.has(node)), about).toEqual([])
        expect(at, about).toContain(task.nodeId)
        if (copies === 0) expect(at, about).toEqual([task.nodeId])
      }
      // A later round's chunk task reads the same data chunks (then the values the stage task broadcasts).
      for (const t of again) expect(t?.inputCids.slice(0, round1?.inputCids.length), what).toEqual(round1?.inputCids)
    }
    summary(`05-variance-two-pass.py: ${elements} elements, ${(Buffer.byteLength(text) / MiB).toFixed(1)} MiB, python3 peak ${(expected.peakBytes / MiB).toFixed(1)} MiB; ` +
      `level ${job.plan.level}, ${rounds} rounds, ${first.length} chunks, ${records?.job.inputs[0]?.cids.length ?? 0} input chunks reached nodes ${transfers} times\n${what}`)
  }, TEST_TIMEOUT)
})

describe('return {"n": len(ys), "total": sum(ys)} over a mapped list: the aggregator gets O(chunks) bytes', () => {
  const { mesh } = meshFor('aggregate')
  const script = 'def main(data):\n    ys = [x * 2 for x in data]\n    return {"n": len(ys), "total": sum(ys)}\n'

  it('loops over enumerate(…) run in a second round, each chunk numbering from where its elements stand: python3\'s result', async () => {
    // Each chunk task learns its chunk from the script the coordinator sends it; a wrong one moves every position.
    const path = join(import.meta.dirname, '..', '..', 'planner', 'test', 'fixtures', 'keyed', 'numbered.py')
    const input = join(scope.dir, 'numbered.txt')
    await writeFile(input, lines(800_000, 808, r => `${int(r, -1_000_000, 1_000_000)}`))
    const [{ job, result }, expected] = await Promise.all([runJob(mesh(), await readFile(path, 'utf8'), input), sequential(path, input)])
    const what = describeJob(job)
    expect(job.status, what).toBe('completed')
    expect(job.plan.level, what).toBe(3)
    expect(job.plan.rounds, what).toBe(2)
    expect(resultDifference(expected.result, result ?? ''), what).toBeUndefined()
  }, TEST_TIMEOUT)

  it('at 500,000 and 1,500,000 integers: level 3, python3\'s result, and the aggregate task receives under 128 bytes a chunk, the same at both sizes', async () => {
    const path = join(scope.dir, 'double.py')
    await writeFile(path, script)
    const runs: Array<{ elements: number, bytes: number, job: JobView }> = []
    // One job at a time: the planner plans against the nodes' free memory.
    for (const elements of [500_000, 1_500_000]) {
      const input = join(scope.dir, `integers-${elements}.jsonl`)
      const text = lines(elements, elements, r => `${int(r, -1_000_000_000, 1_000_000_000)}`)
      await writeFile(input, text)
      const [{ job, result }, expected] = await Promise.all([runJob(mesh(), script, input), sequential(path, input)])
      const what = describeJob(job)
      expect(job.status, what).toBe('completed')
      expect(resultDifference(expected.result, result ?? ''), what).toBeUndefined()
      expect(job.plan.level, what).toBe(3)
      runs.push({ elements, bytes: Buffer.byteLength(text), job })
    }

    const records = await recordsOf(mesh(), runs.map(run => run.job.id))
    const received: Array<{ bytes: number, chunks: number }> = []
    for (const { elements, bytes, job } of runs) {
      const aggregate = records.get(job.id)?.tasks.find(t => t.entry === 'aggregate')
      const what = `${describeJob(job)}\naggregate task ${aggregate?.id ?? '?'} on ${aggregate?.nodeId ?? '-'}`
      expect(aggregate?.status, what).toBe('completed')
      const chunks = aggregate?.dependsOn.length ?? 0
      expect(chunks, what).toBeGreaterThanOrEqual(2)
      expect(aggregate?.inputCids.length, what).toBe(chunks)
      // The aggregate task's node holds what it received: one partial result from each chunk task.
      const node = mesh().nodes.find(n => n.id === aggregate?.nodeId)
      const sizes = await Promise.all((aggregate?.inputCids ?? []).map(async cid => (await stat(join(node?.dataDir ?? '', 'chunks', 'blocks', cid))).size))
      const total = sizes.reduce((a, b) => a + b, 0)
      // Two numbers a chunk (its count and its sum, ~96 bytes in the partials' format), whatever the chunk's size.
      for (const size of sizes) expect(size, `${what}\npartials of ${sizes.join(', ')} bytes`).toBeLessThan(PARTIAL_BYTES)
      received.push({ bytes: total, chunks })
      summary(`${elements} integers, ${(bytes / MiB).toFixed(2)} MiB: ${describeJob(job)}\n${chunks} chunk tasks, the aggregate task received ${total} bytes ` +
        `(${sizes.join(' + ')}), the first: ${await readFile(join(node?.dataDir ?? '', 'chunks', 'blocks', aggregate?.inputCids[0] ?? ''), 'utf8')}`)
    }
    // Three times the elements, and per chunk the same bytes (a partial's sum gains a digit at most): what the
    // aggregator receives grows with the number of chunks only, not with the elements.
    const [small, large] = received.map(r => r.bytes / r.chunks)
    expect(Math.abs((large ?? NaN) - (small ?? NaN)), JSON.stringify(received)).toBeLessThan(8)
  }, TEST_TIMEOUT)
})

describe('15-distinct-sets.py, whose sets would not fit if every value were distinct: the aggregator sized from what the chunks sent', () => {
  const { mesh } = meshFor('distinct')

  it('runs at level 3 to python3\'s result; each chunk task reports its output\'s size, and the aggregate task needs far less than the every-key-distinct estimate', async () => {
    const program = reachProgram('15-distinct-sets.py')
    const input = join(scope.dir, 'views.jsonl')
    // About the size .scratch/reach/sizes.json measured: python3 peaks near 79 MiB on it.
    const { text, elements } = inputOfBytes(program, 6 * MiB, 15)
    await writeFile(input, text)
    const [{ job, result }, expected] = await Promise.all([runJob(mesh(), await readFile(reachPath(program), 'utf8'), input), sequential(reachPath(program), input)])
    const what = `${describeJob(job)}\n${(job.tasks ?? []).map(taskLine).join('\n')}`
    expect(expected.peakBytes).toBeGreaterThanOrEqual(1.5 * NODE_MEMORY)
    expect(job.status, what).toBe('completed')
    expect(resultDifference(expected.result, result ?? ''), what).toBeUndefined()
    expect(job.plan.level, what).toBe(3)
    expect((job.plan.reasons ?? []).join('\n'), what).toMatch(/if every key is distinct, so it is sized from the bytes the chunks send/)

    const records = (await recordsOf(mesh(), [job.id])).get(job.id)
    const aggregate = records?.tasks.find(t => t.entry === 'aggregate')
    const chunks = records?.tasks.filter(t => t.entry === 'main') ?? []
    const sizing = aggregate?.sizing
    expect(sizing, what).toBeDefined()
    // What each node reported is what it stored: the aggregate task's node holds every partial it received.
    const node = mesh().nodes.find(n => n.id === aggregate?.nodeId)
    let sent = 0
    let measured = 0
    for (const task of chunks) {
      const path = join(node?.dataDir ?? '', 'chunks', 'blocks', task.outputCids[0] ?? '')
      const size = (await stat(path)).size
      expect(task.outputBytes, `${what}\n${task.id}`).toEqual([size])
      sent += size
      // And what decoding it takes, as the chunk task measured it: the number its output begins with.
      const memory = Number(/^\{"memory":(\d+),/.exec(await readFile(path, 'utf8'))?.[1])
      expect(memory, `${what}\n${task.id}`).toBeGreaterThan(0)
      expect(task.outputMemoryBytes, `${what}\n${task.id}`).toEqual([memory])
      measured += memory
    }
    // If every user and page were distinct the aggregator would not fit a node; with what the chunks sent, it does.
    const allDistinct = (sizing?.fixedBytes ?? 0) + (sizing?.keyedBytes ?? 0)
    const needed = runtimeBytes(sizing ?? { fixedBytes: 0, keyedBytes: 0 }, sent, measured)
    expect(allDistinct, what).toBeGreaterThan(NODE_MEMORY)
    expect(needed, what).toBeLessThanOrEqual(NODE_MEMORY)
    summary(`15-distinct-sets.py: ${elements} elements, ${(Buffer.byteLength(text) / MiB).toFixed(1)} MiB, python3 peak ${(expected.peakBytes / MiB).toFixed(1)} MiB; ` +
      `${chunks.length} chunks sent ${sent} bytes of partials: the aggregator needs ~${(needed / MiB).toFixed(1)} MiB (${(allDistinct / MiB).toFixed(1)} MiB if every key were distinct)`)
  }, TEST_TIMEOUT)
})

/**
 * The jobs pipeline end to end: a real `runsurge coordinator` process and real `runsurge node` processes that run
 * Python under bubblewrap. Jobs go in over HTTP (multipart), their progress comes back as server-sent events, and
 * results, failures, retries, crashes and money are checked against what the test computes itself.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cidOf } from '../../protocols/src/index.ts'
import { corruptInPlace, freePort, kill, runsurge, serverSentEvents, tempDir } from '../helpers/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'

const HEARTBEAT = 200
const DEAD_AFTER = 1_500
/** Large enough that the earnings of sub-second tasks using a few MB are well above zero. */
const UNIT_RATE = 1_000_000
/** Generous bound for one job to end; a hang fails here instead of at the test timeout. */
const JOB_DEADLINE = 45_000

interface Info { http: string, multiaddrs: string[], peerId: string, adminToken: string, nodeToken: string }
interface TaskMetrics { wallMs: number, cpuMs: number, peakMemoryBytes: number, avgMemoryBytes: number }
interface TaskView {
  id: string
  index: number
  entry: string
  status: string
  attempt: number
  failures: number
  nodeId?: string
  attempts?: Array<{ attempt: number, nodeId: string, outcome?: string, earning?: number }>
  metrics?: TaskMetrics
  error?: { code: string, message: string }
  earning?: number
}
interface JobView {
  id: string
  name: string
  mode: string
  status: string
  error?: { code: string, message: string, line?: number }
  findings: Array<{ rule: string, message: string, line: number, severity?: string }>
  plan: { level: number, tasks: number, processTasks?: number, aggregation?: boolean }
  progress: { total: number, completed: number, running: number, failed: number }
  cost?: { contributors: number, price: number, platform: number, unitRate: number }
  payment?: string
  metrics?: { attempts: number }
  tasks?: TaskView[]
}
interface Payment { jobId: string, amount: number, contributors: number, platform: number, status: string, paidAt?: number }
interface Earning { taskId: string, jobId: string, nodeId: string, amount: number, status: string, paidAt?: number }
interface JobEvent { event: 'job', data: JobView }
interface TaskEvent { event: 'task', data: TaskView }
type Event = JobEvent | TaskEvent

// ---------------------------------------------------------------------------------------------------------------
// Job files

/** Manual job over a file of integers, one a line; aggregate() combines the chunks. */
const SUM_SCRIPT = `
def process(input_data: str) -> dict:
    numbers = [int(line) for line in input_data.split('\\n') if line.strip() != '']
    return {'count': len(numbers), 'sum': sum(numbers), 'min': min(numbers), 'max': max(numbers)}


def aggregate(results: list) -> dict:
    return {
        'count': sum(r['count'] for r in results),
        'sum': sum(r['sum'] for r in results),
        'min': min(r['min'] for r in results),
        'max': max(r['max'] for r in results),
        'parts': len(results),
    }
`
/** Manual job without aggregate(): the result is the list of these dicts, in chunk order. */
const RANGE_SCRIPT = `
def process(input_data: str) -> dict:
    numbers = [int(line) for line in input_data.split('\\n') if line.strip() != '']
    return {'first': numbers[0], 'last': numbers[-1], 'count': len(numbers), 'sum': sum(numbers)}
`
/** Same contract as RANGE_SCRIPT, spinning `iterations` times a chunk (40,000,000: about two seconds). */
const spinScript = (iterations: number): string => `
def process(input_data: str) -> dict:
    numbers = [int(line) for line in input_data.split('\\n') if line.strip() != '']
    spin = 0
    for i in range(${iterations}):
        spin = (spin + i) % 7
    return {'first': numbers[0], 'last': numbers[-1], 'count': len(numbers), 'sum': sum(numbers), 'spin': spin}
`
/** Long enough that a kill lands mid-task. */
const SLOW_SCRIPT = spinScript(40_000_000)
/** About half a second a chunk. */
const SPIN_SCRIPT = spinScript(8_000_000)
const FAILING_SCRIPT = `
def process(input_data: str) -> dict:
    raise ValueError('boom: this chunk is cursed')
`
/** The scanner refuses it: subprocess reaches the contributor's machine. */
const UNSAFE_SCRIPT = `import subprocess


def process(input_data: str) -> dict:
    return {'id': subprocess.check_output(['id']).decode()}
`
const GROUP_SCRIPT = `
def process(input_data: str) -> dict:
    words = input_data.split()
    return {'words': len(words), 'sum': sum(int(w) for w in words)}
`
const GROUP_AGGREGATE = `
def aggregate(results: list) -> dict:
    return {'files': len(results), 'sums': [r['sum'] for r in results], 'words': sum(r['words'] for r in results)}
`

/** `count` pseudo-random integers (some negative), one a line. */
function numbers (count: number, seed: number): number[] {
  // Park–Miller: every product stays below 2^53, so the sequence is exact.
  let x = seed
  return Array.from({ length: count }, () => {
    x = (x * 48271) % 2147483647
    return (x % 200_001) - 100_000
  })
}
/** The processes running a task in a sandbox: their command line carries `--task ID` (node/src/task-runner.ts). */
async function processesOfTask (taskId: string, signal: AbortSignal): Promise<number[]> {
  for (;;) {
    signal.throwIfAborted()
    const pids: number[] = []
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
      const args = cmdline.split('\0')
      if (args.some((arg, i) => arg === '--task' && args[i + 1] === taskId)) pids.push(Number(entry))
    }
    if (pids.length > 0) return pids
    await new Promise(resolve => setTimeout(resolve, 20)) // polling /proc: no event says a process started
  }
}

/** Resolves once none of `pids` runs any more (gone, or a zombie waiting to be reaped). */
async function gone (pids: number[], signal: AbortSignal): Promise<void> {
  const running = async (pid: number): Promise<boolean> => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
    return stat !== '' && !/^\d+ \(.*\) Z/s.test(stat)
  }
  while ((await Promise.all(pids.map(running))).some(Boolean)) {
    signal.throwIfAborted()
    await new Promise(resolve => setTimeout(resolve, 20)) // polling /proc: no event says a process ended
  }
}

const lines = (values: number[]): string => values.map(v => `${v}\n`).join('')
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)

/** The list a RANGE_SCRIPT-style job returns covers the input once, chunk after chunk, in order. */
function expectChunksInOrder (result: Array<{ first: number, last: number, count: number, sum: number }>, input: number[], parts: number): void {
  expect(result).toHaveLength(parts)
  expect(result[0]?.first).toBe(input[0])
  expect(result.at(-1)?.last).toBe(input.at(-1))
  for (const [i, chunk] of result.entries()) {
    expect(chunk.count).toBeGreaterThan(0)
    expect(chunk.last - chunk.first + 1).toBe(chunk.count)
    expect(chunk.sum).toBe(sum(range(chunk.first, chunk.last)))
    if (i > 0) expect(chunk.first).toBe((result[i - 1]?.last ?? NaN) + 1)
  }
  expect(sum(result.map(chunk => chunk.count))).toBe(input.length)
}

// ---------------------------------------------------------------------------------------------------------------
// A mesh of real processes

interface Mesh {
  dir: string
  coordinator: RunsurgeProcess
  info: Info
  nodes: Array<{ child: RunsurgeProcess, nodeId: string }>
}

function coordinatorArgs (data: string, extra: string[]): string[] {
  return ['coordinator', '--data', data, '--http', '127.0.0.1:0', '--heartbeat-interval', String(HEARTBEAT), '--dead-after', String(DEAD_AFTER), ...extra]
}

/** Starts a coordinator and waits until it serves; returns its info (the HTTP port is new on every start). */
async function startCoordinator (data: string, extra: string[], children: RunsurgeProcess[]): Promise<{ child: RunsurgeProcess, info: Info }> {
  const child = runsurge(coordinatorArgs(data, extra))
  children.push(child)
  const ready = JSON.parse(await child.waitForLine(/^\{"http"/)) as { http: string, multiaddrs: string[] }
  const info = JSON.parse(await readFile(join(data, 'coordinator.json'), 'utf8')) as Info
  expect(info.http).toBe(ready.http)
  return { child, info }
}

async function startNode (dir: string, name: string, benchmarkFile: string, children: RunsurgeProcess[]): Promise<{ child: RunsurgeProcess, nodeId: string }> {
  const child = runsurge(['node', '--coordinator', join(dir, 'coordinator', 'coordinator.json'), '--data', join(dir, name), '--memory', '1G', '--benchmark-file', benchmarkFile])
  children.push(child)
  const registered = JSON.parse(await child.waitForLine(/registered with the coordinator/)) as { nodeId: string }
  return { child, nodeId: registered.nodeId }
}

/** A coordinator and `count` nodes; the first node measures the machine factor, the others reuse it. */
async function startMesh (dir: string, count: number, extra: string[], benchmarkFile: string, children: RunsurgeProcess[]): Promise<Mesh> {
  const { child: coordinator, info } = await startCoordinator(join(dir, 'coordinator'), extra, children)
  const first = await startNode(dir, 'node-0', benchmarkFile, children)
  const rest = await Promise.all(range(1, count - 1).map(async i => await startNode(dir, `node-${i}`, benchmarkFile, children)))
  return { dir, coordinator, info, nodes: [first, ...rest] }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

type Auth = Record<string, string>
const bearer = (token: string): Auth => ({ authorization: `Bearer ${token}` })

interface Submission {
  script: string | Uint8Array<ArrayBuffer>
  inputs?: Array<{ name: string, data: string | Uint8Array<ArrayBuffer> }>
  aggregate?: string
  fields?: Record<string, string>
}

function form (submission: Submission): FormData {
  const body = new FormData()
  for (const [name, value] of Object.entries(submission.fields ?? {})) body.append(name, value)
  body.append('script', new Blob([submission.script]), 'job.py')
  for (const input of submission.inputs ?? []) body.append('input', new Blob([input.data]), input.name)
  if (submission.aggregate !== undefined) body.append('aggregate', new Blob([submission.aggregate]), 'aggregate.py')
  return body
}

async function submit (http: string, auth: Auth, submission: Submission): Promise<Response> {
  return await fetch(`${http}/api/jobs`, { method: 'POST', headers: auth, body: form(submission) })
}

async function submitted (http: string, auth: Auth, submission: Submission): Promise<JobView> {
  const response = await submit(http, auth, submission)
  const text = await response.text()
  expect(response.status, text).toBe(201)
  return JSON.parse(text) as JobView
}

async function getJson<T> (url: string, auth: Auth = {}): Promise<T> {
  const response = await fetch(url, { headers: auth })
  const text = await response.text()
  expect(response.status, `GET ${url}: ${text}`).toBe(200)
  return JSON.parse(text) as T
}

/**
 * Reads a job's event stream, calling `onEvent` for each event, until the coordinator ends it (the job reached a
 * final status) or `onEvent` returns true; returns the events read.
 */
async function follow (http: string, auth: Auth, id: string, onEvent: (event: Event) => boolean | void | Promise<boolean | void>): Promise<Event[]> {
  const response = await fetch(`${http}/api/jobs/${id}/events`, { headers: auth, signal: AbortSignal.timeout(JOB_DEADLINE) })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
  const events: Event[] = []
  for await (const { event, data } of serverSentEvents(response)) {
    const parsed = { event, data: JSON.parse(data) } as Event
    events.push(parsed)
    if (await onEvent(parsed) === true) break
  }
  return events
}

/** Follows a job until it ends; returns its events and the job as GET /api/jobs/:id shows it then. */
async function untilEnd (http: string, auth: Auth, id: string, onEvent: (event: Event) => void | Promise<void> = () => {}): Promise<{ job: JobView, events: Event[] }> {
  const events = await follow(http, auth, id, onEvent)
  const last = events.findLast((e): e is JobEvent => e.event === 'job')
  expect(['completed', 'failed', 'rejected', 'cancelled']).toContain(last?.data.status)
  return { job: await getJson<JobView>(`${http}/api/jobs/${id}`, auth), events }
}

/** The tasks of an event: the one of a `task` event, or all of a `job` event that lists them (the first one). */
const tasksOf = (event: Event): TaskView[] => event.event === 'task' ? [event.data] : (event.data.tasks ?? [])

async function runJob (http: string, auth: Auth, submission: Submission): Promise<JobView> {
  const job = await submitted(http, auth, submission)
  return (await untilEnd(http, auth, job.id)).job
}

async function result<T> (http: string, auth: Auth, id: string): Promise<T> {
  return await getJson<T>(`${http}/api/jobs/${id}/result`, auth)
}

/** Registers an account and returns an API token of it, and a session cookie from logging in. */
async function account (http: string, name: string): Promise<{ token: string, cookie: string }> {
  const credentials = JSON.stringify({ name, password: `${name}-correct-horse` })
  const json = { 'content-type': 'application/json' }
  expect((await fetch(`${http}/api/auth/register`, { method: 'POST', headers: json, body: credentials })).status).toBe(201)
  const login = await fetch(`${http}/api/auth/login`, { method: 'POST', headers: json, body: credentials })
  expect(login.status).toBe(200)
  const cookie = login.headers.getSetCookie().map(c => c.split(';')[0] ?? '').find(c => c.startsWith('runsurge_session=')) ?? ''
  expect(cookie).not.toBe('')
  const created = await fetch(`${http}/api/tokens`, { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify({ label: 'tests' }) })
  expect(created.status).toBe(201)
  return { token: ((await created.json()) as { token: string }).token, cookie }
}

// ---------------------------------------------------------------------------------------------------------------

describe('jobs on a coordinator and three node processes', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  let mesh: Mesh
  let http: string
  /** The submitter; the nodes belong to the admin account (they enrolled with coordinator.json's token). */
  let alice: Auth
  let admin: Auth
  const children: RunsurgeProcess[] = []

  beforeAll(async () => {
    tmp = await tempDir()
    mesh = await startMesh(tmp.path, 3, ['--unit-rate', String(UNIT_RATE), '--max-input', '1M'], join(tmp.path, 'benchmark.json'), children)
    http = mesh.info.http
    admin = bearer(mesh.info.adminToken)
    alice = bearer((await account(http, 'alice')).token)
  })

  afterAll(async () => {
    await Promise.all(children.map(async child => { await kill(child) }))
    await tmp?.remove()
  })

  it('runs a manual job split in four with aggregate(), and one without it whose result is the chunks\' dicts in order', async () => {
    const input = numbers(5000, 42)
    const job = await runJob(http, alice, { script: SUM_SCRIPT, inputs: [{ name: 'numbers.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '4', name: 'sums' } })
    expect(job).toMatchObject({ status: 'completed', mode: 'manual', name: 'sums', plan: { tasks: 5, processTasks: 4, aggregation: true } })
    expect(job.progress).toEqual({ total: 5, completed: 5, running: 0, failed: 0 })
    expect(job.tasks?.map(t => [t.index, t.entry, t.status])).toEqual([
      [0, 'process', 'completed'], [1, 'process', 'completed'], [2, 'process', 'completed'], [3, 'process', 'completed'], [4, 'aggregate', 'completed']
    ])
    expect(await result(http, alice, job.id)).toEqual({ count: input.length, sum: sum(input), min: Math.min(...input), max: Math.max(...input), parts: 4 })

    const sequence = range(1, 3000)
    const listed = await runJob(http, alice, { script: RANGE_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '5' } })
    expect(listed).toMatchObject({ status: 'completed', plan: { tasks: 5, processTasks: 5, aggregation: false } })
    expectChunksInOrder(await result(http, alice, listed.id), sequence, 5)
  })

  it('runs a grouped job: one task per input file, then the aggregation script over their results in file order', async () => {
    const files = [range(1, 10), range(100, 400), [7, -7, 12345]]
    const job = await runJob(http, alice, {
      script: GROUP_SCRIPT,
      aggregate: GROUP_AGGREGATE,
      inputs: files.map((values, i) => ({ name: `part-${i}.txt`, data: values.join(i === 1 ? '\n' : ' ') })),
      fields: { mode: 'grouped' }
    })
    expect(job).toMatchObject({ status: 'completed', mode: 'grouped', plan: { tasks: 4, processTasks: 3, aggregation: true } })
    expect(job.tasks?.map(t => t.entry)).toEqual(['process', 'process', 'process', 'aggregate'])
    expect(await result(http, alice, job.id)).toEqual({ files: 3, sums: files.map(sum), words: sum(files.map(f => f.length)) })
  })

  it('fails a job whose program raises after that one attempt, with the exception, and bills the attempt that ran', async () => {
    const { id } = await submitted(http, alice, { script: FAILING_SCRIPT, inputs: [{ name: 'x.txt', data: '1\n' }], fields: { mode: 'manual', tasks: '1' } })
    const { job, events } = await untilEnd(http, alice, id)
    expect(job.status).toBe('failed')
    expect(job.error?.code).toBe('runtime_error')
    expect(job.error?.message).toMatch(/task 0 failed: .*ValueError: boom: this chunk is cursed/s)
    // The same program on the same input raises wherever it runs: no retry.
    expect(job.tasks).toEqual([expect.objectContaining({ status: 'failed', attempt: 1, failures: 1, error: expect.objectContaining({ code: 'runtime_error' }) })])
    expect(job.tasks?.[0]?.error?.message).toMatch(/boom: this chunk is cursed/)
    expect(job.metrics?.attempts).toBe(1)
    expect(events.flatMap(tasksOf).filter(t => t.status === 'assigned')).toHaveLength(1)
    // The node ran it: the submitter pays for that attempt.
    const billed = job.tasks?.[0]?.attempts?.[0]?.earning ?? 0
    expect(billed).toBeGreaterThan(0)
    expect(job.cost).toMatchObject({ contributors: billed, price: Math.floor((billed * 6 + 2) / 5) })
    expect(job.payment).toBe('pending')

    const noResult = await fetch(`${http}/api/jobs/${id}/result`, { headers: alice })
    expect(noResult.status).toBe(409)
    expect(((await noResult.json()) as { message: string }).message).toMatch(/is failed, there is no result: runtime_error/)
  })

  it('bills a completed job from its tasks\' metrics and the nodes\' machine factor, and pays it exactly once', async () => {
    const input = numbers(3000, 7)
    const job = await runJob(http, alice, { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '3', taskMemory: String(256 * 1024 * 1024) } })
    expect(job.status).toBe('completed')
    expect(job.payment).toBe('pending')

    const { nodes } = await getJson<{ nodes: Array<{ id: string, benchmark: number }> }>(`${http}/api/nodes`, admin)
    expect(nodes).toHaveLength(3)
    const factor = new Map(nodes.map(node => [node.id, node.benchmark]))
    const tasks = job.tasks ?? []
    expect(tasks).toHaveLength(4)
    for (const task of tasks) {
      const metrics = task.metrics!
      expect(metrics.wallMs).toBeGreaterThan(0)
      expect(metrics.avgMemoryBytes).toBeGreaterThan(0)
      const benchmark = factor.get(task.nodeId ?? '')
      expect(benchmark).toBeGreaterThan(0)
      expect(task.earning).toBe(Math.round(UNIT_RATE * (metrics.wallMs / 1000) * benchmark! * (metrics.avgMemoryBytes / 1e9)))
      expect(task.earning).toBeGreaterThan(0)
    }
    const contributors = sum(tasks.map(t => t.earning ?? NaN))
    const price = Math.floor((6 * contributors + 2) / 5)
    expect(job.cost).toEqual({ contributors, price, platform: price - contributors, unitRate: UNIT_RATE })
    expect(price).toBe(Math.round(1.2 * contributors))

    const before = await getJson<{ payments: Payment[], pending: number, paid: number }>(`${http}/api/payments`, alice)
    expect(before.payments.find(p => p.jobId === job.id)).toMatchObject({ amount: price, contributors, platform: price - contributors, status: 'pending' })
    const earningsBefore = await getJson<{ earnings: Earning[] }>(`${http}/api/earnings`, admin)
    const ofJob = (list: Earning[]): Earning[] => list.filter(e => e.jobId === job.id).sort((a, b) => a.taskId.localeCompare(b.taskId))
    expect(ofJob(earningsBefore.earnings).map(e => [e.taskId, e.nodeId, e.amount, e.status])).toEqual(
      tasks.map(t => [t.id, t.nodeId, t.earning, 'pending']).sort((a, b) => String(a[0]).localeCompare(String(b[0]))))

    const pay = await fetch(`${http}/api/jobs/${job.id}/pay`, { method: 'POST', headers: alice })
    expect(pay.status).toBe(200)
    const paid = await pay.json() as Payment
    expect(paid).toMatchObject({ jobId: job.id, amount: price, status: 'paid' })
    expect((await getJson<JobView>(`${http}/api/jobs/${job.id}`, alice)).payment).toBe('paid')
    const after = await getJson<{ payments: Payment[], pending: number, paid: number }>(`${http}/api/payments`, alice)
    expect(after.payments.find(p => p.jobId === job.id)?.status).toBe('paid')
    expect(after.paid).toBe(before.paid + price)
    expect(after.pending).toBe(before.pending - price)
    const earningsAfter = await getJson<{ earnings: Earning[], pending: number, paid: number }>(`${http}/api/earnings`, admin)
    expect(ofJob(earningsAfter.earnings).every(e => e.status === 'paid' && e.paidAt === paid.paidAt)).toBe(true)

    // Paying again changes nothing.
    const again = await fetch(`${http}/api/jobs/${job.id}/pay`, { method: 'POST', headers: alice })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(paid)
    expect(await getJson(`${http}/api/payments`, alice)).toEqual(after)
    expect(await getJson(`${http}/api/earnings`, admin)).toEqual(earningsAfter)

    const stats = await getJson<{ activeNodes: number, lifetimeEarnings: number, completedJobs: number }>(`${http}/api/stats`)
    expect(stats.activeNodes).toBe(3)
    expect(stats.lifetimeEarnings).toBe(earningsAfter.pending + earningsAfter.paid)
    const alicesJobs = await getJson<{ jobs: JobView[] }>(`${http}/api/jobs`, alice)
    expect(stats.completedJobs).toBe(alicesJobs.jobs.filter(j => j.status === 'completed').length)

    // A job whose program failed is billed for the attempt that ran it, and can be paid.
    const failed = await runJob(http, alice, { script: FAILING_SCRIPT, inputs: [{ name: 'x.txt', data: '1\n' }], fields: { mode: 'manual', timeout: '30' } })
    expect(failed.status).toBe('failed')
    const owed = (await getJson<{ payments: Payment[] }>(`${http}/api/payments`, alice)).payments.find(p => p.jobId === failed.id)
    expect(owed).toMatchObject({ status: 'pending', amount: failed.cost?.price })
    const paidFailed = await fetch(`${http}/api/jobs/${failed.id}/pay`, { method: 'POST', headers: alice })
    expect(paidFailed.status).toBe(200)
    expect(await paidFailed.json()).toMatchObject({ jobId: failed.id, status: 'paid' })
    // A job that ran nothing billed has nothing to pay.
    const rejected = await runJob(http, alice, { script: UNSAFE_SCRIPT, inputs: [{ name: 'x.txt', data: '1\n' }], fields: { mode: 'manual' } })
    expect(rejected.status).toBe('rejected')
    const refused = await fetch(`${http}/api/jobs/${rejected.id}/pay`, { method: 'POST', headers: alice })
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as { message: string }).message).toMatch(/nothing to pay: it was rejected/)
  })

  it('hides a job from every other account: not listed, and 404 for status, result, events, cancel and pay', async () => {
    const job = await runJob(http, alice, { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: lines(range(1, 100)) }], fields: { mode: 'manual', tasks: '2' } })
    expect(job.status).toBe('completed')
    const bob = await account(http, 'bob')
    for (const auth of [bearer(bob.token), { cookie: bob.cookie }]) {
      for (const [method, path] of [['GET', ''], ['GET', '/result'], ['GET', '/events'], ['POST', '/cancel'], ['POST', '/pay']] as const) {
        const response = await fetch(`${http}/api/jobs/${job.id}${path}`, { method, headers: auth })
        expect(response.status, `${method} ${path}`).toBe(404)
        expect(await response.text()).not.toMatch(/"sum"|"cost"|"tasks"/)
      }
      expect(await getJson(`${http}/api/jobs`, auth)).toEqual({ jobs: [] })
      expect(await getJson(`${http}/api/payments`, auth)).toEqual({ payments: [], pending: 0, paid: 0 })
      expect(await getJson(`${http}/api/earnings`, auth)).toEqual({ earnings: [], pending: 0, paid: 0 })
    }
    // Nothing bob tried had an effect.
    expect(await getJson<JobView>(`${http}/api/jobs/${job.id}`, alice)).toMatchObject({ status: 'completed', payment: 'pending' })
    expect((await getJson<{ jobs: JobView[] }>(`${http}/api/jobs`, alice)).jobs.map(j => j.id)).toContain(job.id)
    // And alice, who owns no node, earned nothing; the admin, who pays nothing, owes nothing.
    expect(await getJson(`${http}/api/earnings`, alice)).toEqual({ earnings: [], pending: 0, paid: 0 })
    expect(await getJson(`${http}/api/payments`, admin)).toEqual({ payments: [], pending: 0, paid: 0 })
  })

  it('refuses bad submissions with the right status, and stores scanner-refused scripts as rejected jobs', async () => {
    const ok: Submission = { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: '1\n2\n' }], fields: { mode: 'manual' } }
    const message = async (response: Response): Promise<string> => ((await response.json()) as { message: string }).message

    expect((await submit(http, {}, ok)).status).toBe(401)
    expect((await submit(http, bearer('not-a-token'), ok)).status).toBe(401)
    const json = await fetch(`${http}/api/jobs`, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: '{"script":"x"}' })
    expect(json.status).toBe(400)
    expect(await message(json)).toMatch(/multipart\/form-data/)
    const noScript = new FormData()
    noScript.append('mode', 'manual')
    noScript.append('input', new Blob(['1\n']), 'n.txt')
    const missing = await fetch(`${http}/api/jobs`, { method: 'POST', headers: alice, body: noScript })
    expect(missing.status).toBe(400)
    expect(await message(missing)).toMatch(/no "script" file/)
    for (const tasks of ['abc', '0', '2.5']) {
      const response = await submit(http, alice, { ...ok, fields: { mode: 'manual', tasks } })
      expect(response.status, `tasks=${tasks}`).toBe(400)
      expect(await message(response)).toMatch(/tasks must be a whole number of tasks from 1 to 10000/)
    }
    expect((await submit(http, alice, { ...ok, fields: { mode: 'sideways' } })).status).toBe(400)

    // More memory per task than any node offers: it would wait forever; it fails at once, saying why.
    const huge = await submitted(http, alice, { ...ok, fields: { mode: 'manual', taskMemory: String(64 * 1024 ** 3) } })
    expect(huge).toMatchObject({ status: 'failed', error: { code: 'does_not_fit' } })
    expect(huge.error?.message).toMatch(/asks for 64\.0 GiB \(taskMemory\), more than any node offers \(the largest offers [\d.]+ [MG]iB\): ask for less/)

    // 2 MiB against --max-input 1M: refused, nothing of it left on disk, and the coordinator serves on.
    const big = await submit(http, alice, { ...ok, inputs: [{ name: 'big.txt', data: '9\n'.repeat(1024 * 1024) }] })
    expect(big.status).toBe(413)
    expect(await message(big)).toMatch(/larger than the limit/)
    expect((await getJson<JobView>(`${http}/api/jobs/${(await submitted(http, alice, ok)).id}`, alice)).status).not.toBe('rejected')

    const rejected = async (script: string | Uint8Array<ArrayBuffer>): Promise<JobView> => {
      const job = await submitted(http, alice, { ...ok, script })
      expect(job.status).toBe('rejected')
      expect(job.plan.tasks).toBe(0)
      expect(job.progress.total).toBe(0)
      // Final at once: its event stream says so and ends.
      expect((await untilEnd(http, alice, job.id)).job.status).toBe('rejected')
      expect((await fetch(`${http}/api/jobs/${job.id}/result`, { headers: alice })).status).toBe(409)
      return job
    }
    const unsafe = await rejected(UNSAFE_SCRIPT)
    expect(unsafe.error).toMatchObject({ code: 'SECURITY_VIOLATION', line: 1 })
    expect(unsafe.findings).toEqual(expect.arrayContaining([expect.objectContaining({ line: 1, message: expect.stringMatching(/subprocess/) })]))

    // Where Python reports it: the parser fails at `def` inside the open `{`, on the line the `(` opens too.
    const syntax = await rejected('def process(input_data: str) -> dict:\n    return {\n\n\ndef oops(:\n')
    expect(syntax.error).toMatchObject({ code: 'SYNTAX_ERROR', line: 5 })

    const binary = await rejected(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x3e, 0x00]))
    expect(binary.error?.code).toBe('BINARY_SOURCE')
    // Every upload above, the refused 2 MiB one included, is gone from the coordinator's disk.
    expect(await readdir(join(mesh.dir, 'coordinator', 'uploads'))).toEqual([])

    // Not UTF-8 (Latin-1 "é"): the analyzer refuses such bytes, so the upload must reach it as bytes, not as
    // already-decoded text in which the byte became U+FFFD.
    const latin1 = await rejected(new Uint8Array([...Buffer.from("def process(input_data: str) -> dict:\n    return {'caf"), 0xe9, ...Buffer.from("': 1}\n")]))
    expect(latin1.error).toMatchObject({ code: 'BINARY_SOURCE', line: 2 })
  })

  it('runs a copy of a straggling task on an idle node, takes the first result, and stops the straggler', async () => {
    const sequence = range(1, 600)
    const { id } = await submitted(http, alice, { script: SPIN_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '3', taskMemory: String(256 * 1024 * 1024) } })
    // The first task to run is frozen (SIGSTOP on its sandboxed processes): its node stays alive and heartbeats, the
    // task just makes no progress, like one on an overloaded machine.
    let frozen: { taskId: string, nodeId: string, pids: number[] } | undefined
    const onEvent = async (event: Event): Promise<void> => {
      if (frozen !== undefined) return
      const task = tasksOf(event).find(t => (t.status === 'assigned' || t.status === 'running') && t.entry === 'process' && t.nodeId !== undefined)
      if (task === undefined) return
      const pids = await processesOfTask(task.id, AbortSignal.timeout(10_000))
      for (const pid of pids) process.kill(pid, 'SIGSTOP')
      frozen = { taskId: task.id, nodeId: task.nodeId as string, pids }
    }
    const { job } = await untilEnd(http, alice, id, onEvent)
    expect(frozen).toBeDefined()
    expect(job.status).toBe('completed')
    expectChunksInOrder(await result(http, alice, id), sequence, 3)
    const task = job.tasks?.find(t => t.id === frozen?.taskId)
    expect(task?.status).toBe('completed')
    expect(task?.nodeId).not.toBe(frozen?.nodeId)
    expect(task?.failures).toBe(0)
    const attempts = task?.attempts ?? []
    expect(attempts.find(a => a.nodeId === frozen?.nodeId)).toMatchObject({ outcome: 'superseded' })
    expect(attempts.find(a => a.nodeId === task?.nodeId)).toMatchObject({ outcome: 'completed' })
    // The node of the straggler was never declared dead, and was told to stop it: its processes are gone.
    const { nodes } = await getJson<{ nodes: Array<{ id: string, status: string }> }>(`${http}/api/nodes`, admin)
    expect(nodes.find(n => n.id === frozen?.nodeId)?.status).toBe('alive')
    await gone(frozen?.pids ?? [], AbortSignal.timeout(10_000))
  })

  it('keeps a resubmitted job exact when every chunk the nodes hold, and the coordinator\'s copy of the result, were changed on disk', async () => {
    const input = numbers(6000, 2024)
    const expected = { count: input.length, sum: sum(input), min: Math.min(...input), max: Math.max(...input), parts: 3 }
    const submission: Submission = { script: SUM_SCRIPT, inputs: [{ name: 'numbers.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '3' } }
    const first = await runJob(http, alice, submission)
    expect(first.status).toBe('completed')
    expect(await result(http, alice, first.id)).toEqual(expected)

    // A failing disk on every node: each block they hold (the input chunks they ran, the results they made or
    // pulled) keeps its length and has one digit changed. The same tasks land on the same idle nodes again, which
    // used to take their local copies on trust and complete with a wrong sum.
    const corruptLogs = (): number => mesh.nodes.reduce((n, node) => n + node.child.output().split('\n').filter(line => /a stored chunk was corrupt/.test(line)).length, 0)
    const logged = corruptLogs()
    let damaged = 0
    for (const name of mesh.nodes.map((_, i) => `node-${i}`)) {
      const blocks = join(mesh.dir, name, 'chunks', 'blocks')
      for (const file of await readdir(blocks)) {
        await corruptInPlace(join(blocks, file), { from: 0 })
        damaged++
      }
    }
    expect(damaged).toBeGreaterThanOrEqual(4)

    const again = await runJob(http, alice, submission)
    expect(again.status, JSON.stringify(again.error)).toBe('completed')
    expect(await result(http, alice, again.id)).toEqual(expected)
    // The nodes found the damage (reading their copies, or serving them) and logged it.
    expect(corruptLogs()).toBeGreaterThan(logged)

    // The coordinator's copy of the result (pulled from the aggregating node) goes bad: reading it for the API finds
    // that out, deletes it and fetches it again from the node that made it.
    const text = await (await fetch(`${http}/api/jobs/${again.id}/result`, { headers: alice })).text()
    const cid = cidOf(new TextEncoder().encode(text))
    const block = join(mesh.dir, 'coordinator', 'chunks', 'blocks', cid.toString())
    await corruptInPlace(block, { from: 0 })
    expect(await result(http, alice, again.id)).toEqual(expected)
    expect(await result(http, alice, first.id)).toEqual(expected)
    const line = JSON.parse(await mesh.coordinator.waitForLine(/a stored chunk was corrupt/)) as { cid: string, path: string, reason: string }
    expect(line).toMatchObject({ cid: cid.toString(), path: block, reason: expect.stringMatching(/^its bytes hash to /) })
    expect(cidOf(await readFile(block)).equals(cid)).toBe(true)
  })

  // Last in this block: it takes one of the three nodes away.
  it('re-queues the task of a node killed mid-task on another node, and the job still completes correctly', async () => {
    const sequence = range(1, 900)
    const { id } = await submitted(http, alice, { script: SLOW_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '3', taskMemory: String(256 * 1024 * 1024) } })
    let victim: { child: RunsurgeProcess, nodeId: string, taskId: string } | undefined
    const onEvent = async (event: Event): Promise<void> => {
      if (victim !== undefined) return
      const task = tasksOf(event).find(t => t.status === 'assigned' && t.nodeId !== undefined)
      if (task === undefined) return
      const node = mesh.nodes.find(n => n.nodeId === task.nodeId)!
      victim = { ...node, taskId: task.id }
      // The node has the task in hand (the sandbox is starting or running it) when it dies.
      await node.child.waitForLine(new RegExp(`"task":"${task.id.replaceAll('.', '\\.')}".*task accepted`), { signal: AbortSignal.timeout(10_000) })
      await kill(node.child)
    }
    const { job, events } = await untilEnd(http, alice, id, onEvent)
    expect(victim).toBeDefined()
    expect(job.status).toBe('completed')
    expectChunksInOrder(await result(http, alice, id), sequence, 3)

    const task = job.tasks?.find(t => t.id === victim!.taskId)
    expect(task).toMatchObject({ status: 'completed', failures: 0 })
    expect(task?.nodeId).not.toBe(victim!.nodeId)
    // Its first attempt ended with the node; a later one (the re-queued task, or a copy of it if that one straggled
    // on a busy node) completed elsewhere.
    expect(task?.attempts?.[0]).toMatchObject({ attempt: 1, nodeId: victim!.nodeId, outcome: 'node_dead' })
    expect(task?.attempts?.find(a => a.attempt === task.attempt)).toMatchObject({ outcome: 'completed' })
    expect(events.some(e => e.event === 'task' && e.data.id === victim!.taskId && e.data.status === 'queued')).toBe(true)
    // Every task, and so every earning of the job, is another node's.
    expect(job.tasks?.every(t => t.nodeId !== victim!.nodeId && t.earning !== undefined)).toBe(true)
    const { nodes } = await getJson<{ nodes: Array<{ id: string, status: string }> }>(`${http}/api/nodes`, admin)
    expect(nodes.find(n => n.id === victim!.nodeId)?.status).toBe('dead')
  })
})

describe('jobs across a coordinator crash', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>
  const children: RunsurgeProcess[] = []

  beforeAll(async () => { tmp = await tempDir() })
  afterAll(async () => {
    await Promise.all(children.map(async child => { await kill(child) }))
    await tmp?.remove()
  })

  it('finishes a job whose coordinator was killed -9 mid-job and restarted on the same data, and loses no job', async () => {
    // The nodes dial the multiaddr they were given: the restarted coordinator must listen on the same port.
    const listen = ['--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`]
    const mesh = await startMesh(tmp.path, 2, listen, join(tmp.path, 'benchmark.json'), children)
    const admin = bearer(mesh.info.adminToken)
    let http = mesh.info.http

    const input = numbers(2000, 3)
    const quick = await runJob(http, admin, { script: SUM_SCRIPT, inputs: [{ name: 'n.txt', data: lines(input) }], fields: { mode: 'manual', tasks: '2' } })
    expect(quick.status).toBe('completed')
    const quickResult = await result(http, admin, quick.id)

    // Six two-second tasks of 512 MiB on two 1 GiB nodes: four run when the coordinator dies, two still wait.
    const sequence = range(1, 1200)
    const slow = await submitted(http, admin, { script: SLOW_SCRIPT, inputs: [{ name: 'seq.txt', data: lines(sequence) }], fields: { mode: 'manual', tasks: '6', taskMemory: String(512 * 1024 * 1024) } })
    const placed = new Map<string, string>()
    await follow(http, admin, slow.id, event => {
      for (const task of tasksOf(event)) if (task.status === 'assigned' && task.nodeId !== undefined) placed.set(task.id, task.nodeId)
      return placed.size === 4
    })
    // Kill the coordinator once the nodes have all four in hand.
    await Promise.all([...placed].map(async ([taskId, nodeId]) => {
      const node = mesh.nodes.find(n => n.nodeId === nodeId)!
      await node.child.waitForLine(new RegExp(`"task":"${taskId.replaceAll('.', '\\.')}".*task accepted`), { signal: AbortSignal.timeout(10_000) })
    }))
    // A job acknowledged (201) just before the crash, all of whose tasks still wait: its input lives only on the
    // coordinator's disk, which the restarted process must serve again.
    const late = numbers(500, 11)
    const acknowledged = await submitted(http, admin, { script: SUM_SCRIPT, inputs: [{ name: 'late.txt', data: lines(late) }], fields: { mode: 'manual', tasks: '2' } })
    await kill(mesh.coordinator)

    const restarted = await startCoordinator(join(tmp.path, 'coordinator'), listen, children)
    expect(restarted.info.peerId).toBe(mesh.info.peerId)
    http = restarted.info.http
    const { job } = await untilEnd(http, admin, slow.id)
    expect(job.status, JSON.stringify(job.error)).toBe('completed')
    expect(job.progress).toEqual({ total: 6, completed: 6, running: 0, failed: 0 })
    expectChunksInOrder(await result(http, admin, slow.id), sequence, 6)

    const ended = (await untilEnd(http, admin, acknowledged.id)).job
    expect(ended.status, JSON.stringify(ended.error)).toBe('completed')
    expect(await result(http, admin, acknowledged.id)).toEqual({ count: late.length, sum: sum(late), min: Math.min(...late), max: Math.max(...late), parts: 2 })

    const { jobs } = await getJson<{ jobs: JobView[] }>(`${http}/api/jobs`, admin)
    expect(jobs.map(j => [j.id, j.status])).toEqual([[acknowledged.id, 'completed'], [slow.id, 'completed'], [quick.id, 'completed']])
    expect(await result(http, admin, quick.id)).toEqual(quickResult)
    expect(quickResult).toEqual({ count: input.length, sum: sum(input), min: Math.min(...input), max: Math.max(...input), parts: 2 })
    const { payments } = await getJson<{ payments: Payment[] }>(`${http}/api/payments`, admin)
    expect(payments.map(p => p.jobId).sort()).toEqual([quick.id, slow.id, acknowledged.id].sort())
    // Both nodes are still attached: neither process exited.
    expect(mesh.nodes.every(node => node.child.exitCode === null)).toBe(true)
  })
})

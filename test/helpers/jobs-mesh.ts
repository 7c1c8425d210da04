/**
 * The jobs specs' mesh of real processes (a `runsurge coordinator` and `runsurge node` processes that run Python under
 * bubblewrap, with fast heartbeats) and the HTTP calls they make to it, each checked as it goes: jobs go in as
 * multipart uploads, their progress comes back as server-sent events.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { range } from './job-scripts.ts'
import { runsurge, serverSentEvents } from './index.ts'
import type { RunsurgeProcess } from './index.ts'
import type { ProcessScope } from './scope.ts'
import type { JobView as ApiJobView } from '../../cli/src/client.ts'

const HEARTBEAT = 200
const DEAD_AFTER = 1_500
/** Large enough that the earnings of sub-second tasks using a few MB are well above zero. */
export const UNIT_RATE = 1_000_000
/** Generous bound for one job to end; a hang fails here instead of at the test timeout. */
const JOB_DEADLINE = 45_000

export interface Info { http: string, multiaddrs: string[], peerId: string, adminToken: string, nodeToken: string }
interface TaskMetrics { wallMs: number, cpuMs: number, peakMemoryBytes: number, avgMemoryBytes: number }
export interface TaskView {
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
/** A job as the API shows it (the CLI's view of it), with the fields these specs read spelled out. */
export interface JobView extends Omit<ApiJobView, 'plan' | 'cost' | 'metrics' | 'tasks'> {
  plan: { level: number, tasks: number, processTasks?: number, aggregation?: boolean }
  cost?: { contributors: number, price: number, platform: number, unitRate: number }
  metrics?: { attempts: number }
  tasks?: TaskView[]
}
export interface Payment { jobId: string, amount: number, contributors: number, platform: number, status: string, paidAt?: number }
export interface Earning { taskId: string, jobId: string, nodeId: string, amount: number, status: string, paidAt?: number }
export interface JobEvent { event: 'job', data: JobView }
export interface TaskEvent { event: 'task', data: TaskView }
export type Event = JobEvent | TaskEvent

// ---------------------------------------------------------------------------------------------------------------
// A mesh of real processes

export interface Mesh {
  dir: string
  coordinator: RunsurgeProcess
  info: Info
  nodes: Array<{ child: RunsurgeProcess, nodeId: string }>
}

function coordinatorArgs (data: string, extra: string[]): string[] {
  return ['coordinator', '--data', data, '--http', '127.0.0.1:0', '--heartbeat-interval', String(HEARTBEAT), '--dead-after', String(DEAD_AFTER), ...extra]
}

/** Starts a coordinator and waits until it serves; returns its info (the HTTP port is new on every start). */
export async function startCoordinator (data: string, extra: string[], children: RunsurgeProcess[]): Promise<{ child: RunsurgeProcess, info: Info }> {
  const child = runsurge(coordinatorArgs(data, extra))
  children.push(child)
  const ready = JSON.parse(await child.waitForLine(/^\{"http"/)) as { http: string, multiaddrs: string[] }
  const info = JSON.parse(await readFile(join(data, 'coordinator.json'), 'utf8')) as Info
  expect(info.http).toBe(ready.http)
  return { child, info }
}

export async function startNode (dir: string, name: string, benchmarkFile: string, children: RunsurgeProcess[]): Promise<{ child: RunsurgeProcess, nodeId: string }> {
  const child = runsurge(['node', '--coordinator', join(dir, 'coordinator', 'coordinator.json'), '--data', join(dir, name), '--memory', '1G', '--benchmark-file', benchmarkFile])
  children.push(child)
  const registered = JSON.parse(await child.waitForLine(/registered with the coordinator/)) as { nodeId: string }
  return { child, nodeId: registered.nodeId }
}

/** A coordinator and `count` nodes; the first node measures the machine factor, the others reuse it. */
export async function startMesh (dir: string, count: number, extra: string[], benchmarkFile: string, children: RunsurgeProcess[]): Promise<Mesh> {
  const { child: coordinator, info } = await startCoordinator(join(dir, 'coordinator'), extra, children)
  const first = await startNode(dir, 'node-0', benchmarkFile, children)
  const rest = await Promise.all(range(1, count - 1).map(async i => await startNode(dir, `node-${i}`, benchmarkFile, children)))
  return { dir, coordinator, info, nodes: [first, ...rest] }
}

/**
 * The mesh most jobs specs share: a coordinator (a high unit rate, inputs up to 1 MiB) and three nodes in the scope's
 * directory, and alice, who submits. The nodes belong to the admin account (they enrolled with coordinator.json's token).
 */
export async function startJobsMesh (scope: ProcessScope): Promise<{ mesh: Mesh, http: string, alice: Auth, admin: Auth }> {
  const mesh = await startMesh(scope.dir, 3, ['--unit-rate', String(UNIT_RATE), '--max-input', '1M'], join(scope.dir, 'benchmark.json'), scope.children)
  const http = mesh.info.http
  const admin = bearer(mesh.info.adminToken)
  return { mesh, http, admin, alice: bearer((await account(http, 'alice')).token) }
}

/** The processes running a task in a sandbox: their command line carries `--task ID` (node/src/task-runner.ts). */
export async function processesOfTask (taskId: string, signal: AbortSignal): Promise<number[]> {
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
export async function gone (pids: number[], signal: AbortSignal): Promise<void> {
  const running = async (pid: number): Promise<boolean> => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
    return stat !== '' && !/^\d+ \(.*\) Z/s.test(stat)
  }
  while ((await Promise.all(pids.map(running))).some(Boolean)) {
    signal.throwIfAborted()
    await new Promise(resolve => setTimeout(resolve, 20)) // polling /proc: no event says a process ended
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

export type Auth = Record<string, string>
export const bearer = (token: string): Auth => ({ authorization: `Bearer ${token}` })

export interface Submission {
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

export async function submit (http: string, auth: Auth, submission: Submission): Promise<Response> {
  return await fetch(`${http}/api/jobs`, { method: 'POST', headers: auth, body: form(submission) })
}

export async function submitted (http: string, auth: Auth, submission: Submission): Promise<JobView> {
  const response = await submit(http, auth, submission)
  const text = await response.text()
  expect(response.status, text).toBe(201)
  return JSON.parse(text) as JobView
}

export async function getJson<T> (url: string, auth: Auth = {}): Promise<T> {
  const response = await fetch(url, { headers: auth })
  const text = await response.text()
  expect(response.status, `GET ${url}: ${text}`).toBe(200)
  return JSON.parse(text) as T
}

/**
 * Reads a job's event stream, calling `onEvent` for each event, until the coordinator ends it (the job reached a
 * final status) or `onEvent` returns true; returns the events read.
 */
export async function follow (http: string, auth: Auth, id: string, onEvent: (event: Event) => boolean | void | Promise<boolean | void>): Promise<Event[]> {
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
export async function untilEnd (http: string, auth: Auth, id: string, onEvent: (event: Event) => void | Promise<void> = () => {}): Promise<{ job: JobView, events: Event[] }> {
  const events = await follow(http, auth, id, onEvent)
  const last = events.findLast((e): e is JobEvent => e.event === 'job')
  expect(['completed', 'failed', 'rejected', 'cancelled']).toContain(last?.data.status)
  return { job: await getJson<JobView>(`${http}/api/jobs/${id}`, auth), events }
}

/** The tasks of an event: the one of a `task` event, or all of a `job` event that lists them (the first one). */
export const tasksOf = (event: Event): TaskView[] => event.event === 'task' ? [event.data] : (event.data.tasks ?? [])

export async function runJob (http: string, auth: Auth, submission: Submission): Promise<JobView> {
  const job = await submitted(http, auth, submission)
  return (await untilEnd(http, auth, job.id)).job
}

export async function result<T> (http: string, auth: Auth, id: string): Promise<T> {
  return await getJson<T>(`${http}/api/jobs/${id}/result`, auth)
}

/** Registers an account and returns an API token of it, and a session cookie from logging in. */
export async function account (http: string, name: string): Promise<{ token: string, cookie: string }> {
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

/** Shared helpers of the integration tests: temporary directories, quiet loggers, real processes, a mesh of them and jobs over HTTP. */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { openAsBlob } from 'node:fs'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import type { ChildProcessByStdio } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'

export const ROOT = join(import.meta.dirname, '..', '..')
export const BIN = join(ROOT, 'bin', 'runsurge.js')

/** A logger that keeps test output clean (RUNSURGE_TEST_LOG=debug to see everything). */
export function testLogger (): pino.Logger {
  return pino({ level: process.env.RUNSURGE_TEST_LOG ?? 'silent' })
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir (prefix = 'runsurge-test-'): Promise<{ path: string, remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: async () => { await rm(path, { recursive: true, force: true }) } }
}

export type RunsurgeProcess = ChildProcessByStdio<null, Readable, Readable> & {
  /** Resolves with the first line (stdout or stderr) that matches, rejects if the process exits first. */
  waitForLine(pattern: RegExp, options?: { signal?: AbortSignal }): Promise<string>
  /** Everything printed so far. */
  output(): string
}

/** Starts `runsurge ARGS…` as a real process with the project's pinned Node.js. */
export function runsurge (args: string[], env: Record<string, string> = {}): RunsurgeProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }
  }) as RunsurgeProcess
  const lines: string[] = []
  const waiters = new Set<(line: string) => void>()
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', line => {
      lines.push(line)
      for (const waiter of waiters) waiter(line)
    })
  }
  child.output = () => lines.join('\n')
  child.waitForLine = async (pattern, options = {}) => {
    const found = lines.find(line => pattern.test(line))
    if (found !== undefined) return found
    return await new Promise<string>((resolve, reject) => {
      const done = (): void => { waiters.delete(check); child.off('exit', onExit); options.signal?.removeEventListener('abort', onAbort) }
      const check = (line: string): void => { if (pattern.test(line)) { done(); resolve(line) } }
      const onExit = (code: number | null): void => { done(); reject(new Error(`runsurge exited (${code}) before printing ${pattern}:\n${child.output()}`)) }
      const onAbort = (): void => { done(); reject(new Error(`timed out waiting for ${pattern}:\n${child.output()}`)) }
      waiters.add(check)
      child.once('exit', onExit)
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
  return child
}

/** Kills a process (SIGKILL by default) and waits until it is gone. */
export async function kill (child: RunsurgeProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  await exited
}

/** A TCP port free on 127.0.0.1 now: for a process that must listen on the same port again after a restart. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/** The events of a `text/event-stream` response, in order, until the server ends the stream. */
export async function * serverSentEvents (response: Response): AsyncGenerator<{ event: string, data: string }> {
  if (response.body === null) return
  let buffer = ''
  for await (const text of response.body.pipeThrough(new TextDecoderStream())) {
    buffer += text
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      // A block of comments only (": keep-alive") is no event.
      if (data.length > 0) yield { event, data: data.join('\n') }
    }
  }
}

/**
 * Damages a file in place as a failing disk would: the same file and length, one digit changed (the first at or
 * after `from`, default the middle of the file, becomes the next digit: `1` → `2`). Only a hash notices. Returns the
 * offset changed.
 */
export async function corruptInPlace (path: string, options: { from?: number } = {}): Promise<number> {
  const bytes = await readFile(path)
  const start = options.from ?? Math.floor(bytes.byteLength / 2)
  let at = start
  while (at < bytes.byteLength && (bytes[at]! < 0x30 || bytes[at]! > 0x39)) at++
  if (at >= bytes.byteLength) throw new Error(`no digit at or after byte ${start} of ${path} to change`)
  const file = await open(path, 'r+')
  try {
    await file.write(Buffer.from([0x30 + (bytes[at]! - 0x30 + 1) % 10]), 0, 1, at)
  } finally {
    await file.close()
  }
  return at
}

// ---------------------------------------------------------------------------------------------------------------
// A mesh of real processes, and jobs over HTTP

/** A task as GET /api/jobs/:id and the job's server-sent events show it (the fields the tests read). */
export interface TaskView {
  id: string
  index: number
  entry: string
  status: string
  nodeId?: string
  /** A later round's chunk task: the round-1 task on the same chunk, whose node it should run on. */
  near?: string
  /** A later round's task: `stage` (combines the earlier rounds' partials) or `chunk`. */
  role?: 'stage' | 'chunk'
  round?: number
  dependsOn?: string[]
  attempts?: Array<{ attempt: number, nodeId: string, assignedAt: number, endedAt?: number, outcome?: string }>
  metrics?: { wallMs: number, cpuMs: number, peakMemoryBytes: number, avgMemoryBytes: number }
  error?: { code: string, message: string }
}

export interface JobView {
  id: string
  status: string
  error?: { code: string, message: string, line?: number }
  plan: { level: number, tasks: number, chunks?: number, rounds?: number, reasons?: string[] }
  tasks?: TaskView[]
}

export interface Mesh {
  http: string
  token: string
  /** The coordinator's data directory (its database is `db` in it). */
  dataDir: string
  coordinator: RunsurgeProcess
  /** Each node's id and data directory (its chunks are in `chunks/blocks/<cid>`). */
  nodes: Array<{ id: string, dataDir: string }>
}

export interface MeshInit {
  /** Where the coordinator's and the nodes' data directories go. */
  dir: string
  /** What each node offers (`--memory`). */
  memory: string
  /** The machine factor's file: measured by the first node when absent, then shared. */
  benchmark: string
  /** Default 2. */
  nodes?: number
  /** Every process started goes in here, so that a failed start leaves nothing behind (see `stopAll`). */
  children: RunsurgeProcess[]
  /** The account's submissions a minute (the coordinator's default, 60, when absent): a suite that submits more raises it. */
  submissionsPerMinute?: number
}

/** Starts a coordinator and `nodes` nodes, one after the other (the first measures the machine factor). */
export async function startMesh (init: MeshInit): Promise<Mesh> {
  const dataDir = join(init.dir, 'coordinator')
  const limit = init.submissionsPerMinute !== undefined ? ['--max-submissions-per-minute', String(init.submissionsPerMinute)] : []
  const coordinator = runsurge(['coordinator', '--data', dataDir, '--http', '127.0.0.1:0', ...limit])
  init.children.push(coordinator)
  await coordinator.waitForLine(/^\{"http"/)
  const info = JSON.parse(await readFile(join(dataDir, 'coordinator.json'), 'utf8')) as { http: string, adminToken: string }
  const nodes: Mesh['nodes'] = []
  for (let i = 0; i < (init.nodes ?? 2); i++) {
    const nodeDir = join(init.dir, `node-${i}`)
    const child = runsurge(['node', '--coordinator', join(dataDir, 'coordinator.json'), '--data', nodeDir, '--memory', init.memory, '--benchmark-file', init.benchmark])
    init.children.push(child)
    const { nodeId } = JSON.parse(await child.waitForLine(/registered with the coordinator/)) as { nodeId: string }
    nodes.push({ id: nodeId, dataDir: nodeDir })
  }
  return { http: info.http, token: info.adminToken, dataDir, coordinator, nodes }
}

/** Stops every process (SIGTERM: each closes gracefully) and waits until all are gone. */
export async function stopAll (children: RunsurgeProcess[]): Promise<void> {
  await Promise.all(children.map(async child => { await kill(child, 'SIGTERM') }))
}

export async function getJson<T> (mesh: Pick<Mesh, 'http' | 'token'>, path: string): Promise<T> {
  const response = await fetch(`${mesh.http}${path}`, { headers: { authorization: `Bearer ${mesh.token}` } })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${text}`)
  return JSON.parse(text) as T
}

/** Submits a job as the CLI does (multipart: name, mode and other fields, the script file, the input file). */
export async function submit (mesh: Pick<Mesh, 'http' | 'token'>, script: { name: string, blob: Blob }, input: string, fields: Record<string, string> = { mode: 'auto' }): Promise<JobView> {
  const form = new FormData()
  form.set('name', script.name)
  for (const [name, value] of Object.entries(fields)) form.set(name, value)
  form.set('script', script.blob, script.name)
  form.append('input', await openAsBlob(input), basename(input))
  const response = await fetch(`${mesh.http}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${mesh.token}` }, body: form })
  const text = await response.text()
  if (response.status !== 201) throw new Error(`POST /api/jobs: ${response.status} ${text}`)
  return JSON.parse(text) as JobView
}

const FINAL_JOB_STATUSES = new Set(['completed', 'failed', 'rejected', 'cancelled'])

export interface JobRun {
  job: JobView
  /** The result's JSON text, when the job completed. */
  result?: string
  ms: number
}

export interface FollowOptions {
  /** Called with each event; returning true stops following before the job ends. */
  onEvent?(event: string, data: JobView & TaskView): boolean
  /** A hang guard: the job's events must end within this long (default 120 s). */
  deadlineMs?: number
}

/**
 * Reads a job's server-sent events until the job ends (or `onEvent` returns true); then returns the job as
 * GET /api/jobs/:id shows it, with its result text when it completed.
 */
export async function follow (mesh: Pick<Mesh, 'http' | 'token'>, submitted: JobView, options: FollowOptions = {}): Promise<JobRun> {
  const started = Date.now()
  const auth = { authorization: `Bearer ${mesh.token}` }
  if (!FINAL_JOB_STATUSES.has(submitted.status)) {
    const events = await fetch(`${mesh.http}/api/jobs/${submitted.id}/events`, { headers: auth, signal: AbortSignal.timeout(options.deadlineMs ?? 120_000) })
    if (events.status !== 200) throw new Error(`GET /api/jobs/${submitted.id}/events: ${events.status}`)
    for await (const { event, data } of serverSentEvents(events)) {
      const parsed = JSON.parse(data) as JobView & TaskView
      if (options.onEvent?.(event, parsed) === true || (event === 'job' && FINAL_JOB_STATUSES.has(parsed.status))) break
    }
  }
  const job = await getJson<JobView>(mesh, `/api/jobs/${submitted.id}`)
  if (job.status !== 'completed') return { job, ms: Date.now() - started }
  const result = await fetch(`${mesh.http}/api/jobs/${job.id}/result`, { headers: auth })
  if (result.status !== 200) throw new Error(`GET /api/jobs/${job.id}/result: ${result.status}`)
  return { job, result: await result.text(), ms: Date.now() - started }
}

/** A job in one paragraph, for assertion messages. */
export const describeJob = (job: JobView): string =>
  `job ${job.id} ${job.status}${job.error !== undefined ? ` (${job.error.code}: ${job.error.message})` : ''}, level ${job.plan.level}, ${job.plan.tasks} tasks\n` +
  (job.plan.reasons ?? []).join('\n')

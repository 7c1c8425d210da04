/**
 * The CLI's client of the coordinator's HTTP API: job upload (multipart, files streamed from disk), status,
 * result, and the server-sent event stream of a job.
 */
import { openAsBlob } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'

export interface Connection {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string
  token: string
}

/** A job as the API returns it (see coordinator/src/schemas/jobs.ts). */
export interface JobView {
  id: string
  name: string
  mode: string
  status: string
  error?: { code: string, message: string, line?: number }
  findings: Array<{ rule: string, message: string, line: number, severity?: string }>
  plan: Record<string, unknown>
  cost?: Record<string, unknown>
  metrics?: Record<string, unknown>
  payment?: string
  progress: { total: number, completed: number, running: number, failed: number }
  tasks?: Array<Record<string, unknown>>
}

export const FINAL_STATUSES = new Set(['completed', 'failed', 'rejected', 'cancelled'])

/** An answer of the API that is not a success: carries the HTTP status and the API's message. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.status = status
  }
}

/**
 * Where the coordinator is: `--coordinator`/`--token`, else RUNSURGE_COORDINATOR/RUNSURGE_TOKEN. The coordinator
 * may also be given as its `coordinator.json` (its `http` and `adminToken` are used).
 */
export async function connection (flags: { coordinator?: string, token?: string }): Promise<Connection> {
  let url = flags.coordinator ?? process.env.RUNSURGE_COORDINATOR
  let token = flags.token ?? process.env.RUNSURGE_TOKEN
  if (url?.endsWith('.json') === true) {
    const info = JSON.parse(await readFile(url, 'utf8')) as { http: string, adminToken: string }
    url = info.http
    token ??= info.adminToken
  }
  if (url === undefined || url === '') throw new UsageError('no coordinator: pass --coordinator URL or set RUNSURGE_COORDINATOR')
  if (token === undefined || token === '') throw new UsageError('no API token: pass --token T or set RUNSURGE_TOKEN')
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--coordinator must be the coordinator's HTTP URL (http://host:port), not ${url}`)
  return { url: url.replace(/\/+$/, ''), token }
}

/** A command line that cannot work (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError'
}

async function request (conn: Connection, path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response
  try {
    response = await fetch(`${conn.url}${path}`, { ...init, headers: { authorization: `Bearer ${conn.token}`, ...(init.headers ?? {}) } })
  } catch (err: any) {
    throw new ApiError(0, `cannot reach the coordinator at ${conn.url}: ${String(err?.cause?.message ?? err?.message ?? err)}`)
  }
  if (!response.ok) {
    const text = await response.text()
    let message = text
    try { message = (JSON.parse(text) as { message?: string }).message ?? text } catch {}
    throw new ApiError(response.status, `${response.status}: ${message}`)
  }
  return response
}

export interface Submission {
  script: string
  inputs: string[]
  mode?: string
  tasks?: number
  taskMemoryBytes?: number
  timeoutSeconds?: number
  aggregate?: string
  name?: string
}

export async function submitJob (conn: Connection, submission: Submission): Promise<JobView> {
  const form = new FormData()
  form.set('name', submission.name ?? basename(submission.script))
  if (submission.mode !== undefined) form.set('mode', submission.mode)
  if (submission.tasks !== undefined) form.set('tasks', String(submission.tasks))
  if (submission.taskMemoryBytes !== undefined) form.set('taskMemory', String(submission.taskMemoryBytes))
  if (submission.timeoutSeconds !== undefined) form.set('timeout', String(submission.timeoutSeconds))
  form.set('script', await openAsBlob(submission.script), basename(submission.script))
  if (submission.aggregate !== undefined) form.set('aggregate', await openAsBlob(submission.aggregate), basename(submission.aggregate))
  for (const input of submission.inputs) form.append('input', await openAsBlob(input), basename(input))
  const response = await request(conn, '/api/jobs', { method: 'POST', body: form })
  return await response.json() as JobView
}

export async function getJob (conn: Connection, id: string): Promise<JobView> {
  return await (await request(conn, `/api/jobs/${encodeURIComponent(id)}`)).json() as JobView
}

/** The result's JSON text exactly as the job's Python wrote it. */
export async function getResultText (conn: Connection, id: string): Promise<string> {
  return await (await request(conn, `/api/jobs/${encodeURIComponent(id)}/result`)).text()
}

/** Follows a job's server-sent events until it ends; calls `onJob` for every job update. Returns the final view. */
export async function followJob (conn: Connection, id: string, onJob: (job: JobView) => void, signal?: AbortSignal): Promise<JobView> {
  const response = await request(conn, `/api/jobs/${encodeURIComponent(id)}/events`, { headers: { accept: 'text/event-stream' }, ...(signal !== undefined ? { signal } : {}) })
  let last: JobView | undefined
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(piece, { stream: true })
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event === 'job' && data !== undefined) {
        last = JSON.parse(data) as JobView
        onJob(last)
      }
    }
  }
  // The stream ends when the job does; a cut connection ends it early: ask once more.
  if (last === undefined || !FINAL_STATUSES.has(last.status)) last = await getJob(conn, id)
  return last
}

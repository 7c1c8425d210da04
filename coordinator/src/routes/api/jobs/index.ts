/**
 * Jobs: submit (multipart upload, streamed to disk), list, status, result, live events (server-sent), cancel, pay.
 * Every route acts on the caller's own jobs only; another account's job is "not found".
 */
import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import multipart from '@fastify/multipart'
import { ErrorReply } from '../../../schemas/common.ts'
import { JobList, JobParams, JobView, Payment } from '../../../schemas/jobs.ts'
import { FINAL_JOB_STATUSES } from '../../../jobs/records.ts'
import { MAX_TASKS } from '../../../jobs/policy.ts'
import { AccountLimitError, JobUsageError } from '../../../jobs/service.ts'
import type { JobService, JobSubmission } from '../../../jobs/service.ts'
import type { JobMode, JobRecord, TaskRecord } from '../../../jobs/records.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface JobRoutesOptions {
  jobs: JobService
  /** Where uploads are written while a job is submitted. */
  uploadDir: string
  /** Largest input file (bytes). Default 1 GiB. */
  maxInputBytes?: number
}

/** Scripts are small: a job file over this is refused as it arrives, before the analyzer sees it. */
const MAX_SCRIPT_BYTES = 1024 * 1024
const MAX_FILES = 64
/**
 * The longest wall-clock limit a task may ask for: a week. Timers cannot wait longer than 2^31 - 1 ms (24.8 days),
 * and a task that needs more than a week should be split.
 */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
/** The least and the most memory a task may ask for (bytes): below, Python itself does not start; above, no machine. */
const MIN_TASK_MEMORY = 16 * 1024 * 1024
const MAX_TASK_MEMORY = 16 * 1024 ** 4

/** How long a refused upload may go on arriving after the answer (ms). */
const LINGER_MS = 10_000

/** An upload part over its limit: 413, whatever the part. */
class TooLargeError extends Error {
  override name = 'TooLargeError'
  readonly statusCode = 413
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobService
  }
}

const jobRoutes: FastifyPluginAsyncTypebox<JobRoutesOptions> = async (app, options) => {
  const { jobs } = options
  // Per account, after it is known (a client address may be many accounts behind one proxy, or one on many).
  const submissionRate = app.createRateLimit({
    max: jobs.limits.submissionsPerMinute,
    timeWindow: 60_000,
    keyGenerator: request => `submit:${request.account?.id ?? request.ip}`
  })
  await app.register(multipart, {
    limits: { fileSize: options.maxInputBytes ?? 1024 ** 3, files: MAX_FILES, fields: 20, fieldSize: 1024, parts: MAX_FILES + 20 }
  })

  const own = (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): JobRecord | undefined => {
    const job = jobs.job(request.params.id)
    if (job === undefined || job.account !== request.account!.id) {
      reply.code(404).send({ error: 'Not Found', message: `no job ${request.params.id}` }).then(() => {}, () => {})
      return undefined
    }
    return job
  }

  app.post('/', {
    onRequest: app.authenticate,
    schema: {
      tags: ['jobs'],
      summary: 'Submit a job (multipart/form-data)',
      description: 'Files: `script` (the job), `input` (repeatable), `aggregate` (grouped jobs). Fields: `mode` (auto|manual|grouped), ' +
        '`tasks` (manual), `taskMemory` (bytes), `timeout` (seconds per task), `name`. A job the scanner refuses is stored ' +
        'as `rejected` with its findings.',
      consumes: ['multipart/form-data'],
      response: { 201: JobView, 400: ErrorReply, 401: ErrorReply, 413: ErrorReply, 429: ErrorReply }
    }
  }, async (request, reply) => {
    const rate = await submissionRate(request)
    if (!rate.isAllowed && rate.isExceeded) {
      lingerThenClose(request.raw, reply.raw)
      return await reply.code(429).header('retry-after', String(rate.ttlInSeconds)).send({
        error: 'Too Many Requests', message: `this account submitted ${rate.max} jobs in the last minute, the most it may: retry in ${rate.ttlInSeconds} s`
      })
    }
    if (!request.isMultipart()) return await reply.code(400).send({ error: 'Bad Request', message: 'send the job as multipart/form-data: a "script" file and "input" files' })
    const dir = join(options.uploadDir, randomUUID())
    await mkdir(dir, { recursive: true })
    try {
      const fields: Record<string, string> = {}
      const inputs: Array<{ name: string, path: string }> = []
      let script: string | Uint8Array | undefined
      let aggregateScript: string | Uint8Array | undefined
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value)
          continue
        }
        if (part.fieldname === 'script' || part.fieldname === 'aggregate') {
          const bytes = await readCapped(part.file, MAX_SCRIPT_BYTES, part.fieldname)
          // Text only if it is valid UTF-8; otherwise the analyzer sees the bytes and rejects them as binary.
          const text = utf8(bytes)
          if (part.fieldname === 'script') script = text ?? bytes
          else aggregateScript = text ?? bytes
        } else if (part.fieldname === 'input') {
          const path = join(dir, `input-${inputs.length}`)
          await pipeline(part.file, createWriteStream(path))
          if (part.file.truncated) throw Object.assign(new Error(`input ${part.filename} is larger than the limit`), { statusCode: 413 })
          inputs.push({ name: safeName(part.filename, inputs.length), path })
        } else {
          part.file.resume()
          throw new JobUsageError(`unexpected file field "${part.fieldname}": use script, input or aggregate`)
        }
      }
      if (script === undefined) throw new JobUsageError('no "script" file: the job\'s Python source is required')
      const mode = (fields.mode ?? (aggregateScript !== undefined ? 'grouped' : 'auto')) as JobMode
      if (!['auto', 'manual', 'grouped'].includes(mode)) throw new JobUsageError(`mode must be auto, manual or grouped, not "${String(fields.mode)}"`)
      const submission: JobSubmission = {
        account: request.account!.id,
        name: (fields.name ?? 'job').slice(0, 200),
        mode,
        script,
        inputs,
        ...(aggregateScript !== undefined ? { aggregateScript } : {}),
        ...(fields.tasks !== undefined ? { tasks: integerField('tasks', fields.tasks, 1, MAX_TASKS, 'tasks') } : {}),
        ...(fields.taskMemory !== undefined ? { taskMemoryBytes: integerField('taskMemory', fields.taskMemory, MIN_TASK_MEMORY, MAX_TASK_MEMORY, 'bytes') } : {}),
        ...(fields.timeout !== undefined ? { taskTimeoutMs: integerField('timeout', fields.timeout, 1, MAX_TIMEOUT_SECONDS, 'seconds') * 1000 } : {})
      }
      const job = await jobs.submit(submission)
      return await reply.code(201).send(view(job, jobs.tasksOf(job), false))
    } catch (err: any) {
      if (!request.raw.readableEnded) lingerThenClose(request.raw, reply.raw)
      if (err instanceof JobUsageError) return await reply.code(400).send({ error: 'Bad Request', message: err.message })
      if (err instanceof AccountLimitError) return await reply.code(429).send({ error: 'Too Many Requests', message: err.message })
      if (err?.code === 'FST_REQ_FILE_TOO_LARGE' || err?.statusCode === 413) return await reply.code(413).send({ error: 'Payload Too Large', message: err.message })
      if (err?.code === 'FST_FILES_LIMIT' || err?.code === 'FST_PARTS_LIMIT' || err?.code === 'FST_FIELDS_LIMIT') return await reply.code(413).send({ error: 'Payload Too Large', message: err.message })
      if (isMalformedUpload(err)) {
        return await reply.code(400).send({ error: 'Bad Request', message: `the upload is not well-formed multipart/form-data (${String(err?.message ?? err)}): send a "script" file and "input" files` })
      }
      throw err
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  app.get('/', {
    onRequest: app.authenticate,
    schema: { tags: ['jobs'], summary: 'This account\'s jobs, newest first', response: { 200: JobList, 401: ErrorReply } }
  }, async (request) => ({ jobs: jobs.list(request.account!.id).map(job => view(job, jobs.tasksOf(job), false)) }))

  app.get('/:id', {
    onRequest: app.authenticate,
    schema: { tags: ['jobs'], summary: 'A job with its tasks', params: JobParams, response: { 200: JobView, 401: ErrorReply, 404: ErrorReply } }
  }, async (request, reply) => {
    const job = own(request, reply)
    if (job === undefined) return reply
    return view(job, jobs.tasksOf(job), true)
  })

  app.get('/:id/result', {
    onRequest: app.authenticate,
    schema: {
      tags: ['jobs'],
      summary: 'The job\'s result: the JSON value its program returned, exactly',
      params: JobParams,
      response: { 401: ErrorReply, 404: ErrorReply, 409: ErrorReply }
    }
  }, async (request, reply) => {
    const job = own(request, reply)
    if (job === undefined) return reply
    if (job.status !== 'completed') {
      const why = job.error !== undefined ? `: ${job.error.code}: ${job.error.message}` : ''
      return await reply.code(409).send({ error: 'Conflict', message: `job ${job.id} is ${job.status}, there is no result${why}` })
    }
    const text = await jobs.resultText(job)
    return await reply.type('application/json; charset=utf-8').send((text ?? 'null') as any)
  })

  app.get('/:id/events', {
    onRequest: app.authenticate,
    schema: { tags: ['jobs'], summary: 'Server-sent events: `job` and `task` updates until the job ends', params: JobParams }
  }, async (request, reply) => {
    const job = own(request, reply)
    if (job === undefined) return reply
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    const send = (event: string, data: unknown): void => { raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) }
    let ended = false
    const end = (): void => {
      if (ended) return
      ended = true
      jobs.off('job', onJob)
      jobs.off('task', onTask)
      clearInterval(keepAlive)
      raw.end()
    }
    const onJob = (updated: JobRecord): void => {
      if (updated.id !== job.id) return
      send('job', view(updated, jobs.tasksOf(updated), false))
      if (FINAL_JOB_STATUSES.includes(updated.status)) end()
    }
    const onTask = (task: TaskRecord): void => {
      if (task.jobId === job.id) send('task', taskView(task))
    }
    jobs.on('job', onJob)
    jobs.on('task', onTask)
    const keepAlive = setInterval(() => { raw.write(': keep-alive\n\n') }, 15_000)
    request.raw.on('close', end)
    const current = jobs.job(job.id) ?? job
    send('job', view(current, jobs.tasksOf(current), true))
    if (FINAL_JOB_STATUSES.includes(current.status)) end()
  })

  app.post('/:id/cancel', {
    onRequest: app.authenticate,
    schema: { tags: ['jobs'], summary: 'Cancel a job', params: JobParams, response: { 200: JobView, 401: ErrorReply, 404: ErrorReply } }
  }, async (request, reply) => {
    const job = own(request, reply)
    if (job === undefined) return reply
    const cancelled = await jobs.cancel(job)
    return view(cancelled, jobs.tasksOf(cancelled), false)
  })

  app.post('/:id/pay', {
    onRequest: app.authenticate,
    schema: {
      tags: ['billing'],
      summary: 'Pay a completed job: its payment and its contributors\' earnings become paid',
      params: JobParams,
      response: { 200: Payment, 401: ErrorReply, 404: ErrorReply, 409: ErrorReply }
    }
  }, async (request, reply) => {
    const job = own(request, reply)
    if (job === undefined) return reply
    try {
      const payment = await jobs.pay(job)
      request.log.info({ job: job.id, amount: payment.amount }, 'job paid')
      return payment
    } catch (err: any) {
      if (err instanceof JobUsageError) return await reply.code(409).send({ error: 'Conflict', message: err.message })
      throw err
    }
  })
}

function utf8 (bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

function integerField (name: string, text: string, min: number, max: number, unit: string): number {
  const value = Number(text)
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new JobUsageError(`${name} must be a whole number of ${unit} from ${min} to ${max}, not "${text.slice(0, 40)}"`)
  }
  return value
}

/**
 * Reads a file part whole, up to `max` bytes: past that it stops reading and raises a 413 at once, so an oversized
 * part never sits in memory (the rest of the request is discarded as it arrives).
 */
async function readCapped (file: AsyncIterable<Buffer>, max: number, field: string): Promise<Buffer> {
  const pieces: Buffer[] = []
  let size = 0
  for await (const piece of file) {
    size += piece.byteLength
    if (size > max) throw new TooLargeError(`${field} is larger than ${max} bytes: a job's source must be at most 1 MiB (put data in "input" files)`)
    pieces.push(piece)
  }
  return Buffer.concat(pieces)
}

/**
 * A refused upload may still be arriving when the answer goes out. Closing the connection at once would reset it
 * and lose the answer on the client's side, so Node.js reads and discards the rest (it never piles up); a client
 * still sending `LINGER_MS` after the answer is cut off.
 */
function lingerThenClose (request: IncomingMessage, response: ServerResponse): void {
  response.once('finish', () => {
    if (request.readableEnded) return
    const timer = setTimeout(() => { request.socket.destroy() }, LINGER_MS)
    timer.unref()
    request.once('end', () => { clearTimeout(timer) })
    request.once('close', () => { clearTimeout(timer) })
  })
}

/** Errors of the multipart parser for a body that is not multipart/form-data as it says (busboy, @fastify/multipart). */
function isMalformedUpload (err: any): boolean {
  if (typeof err?.code === 'string' && /^FST_(INVALID_MULTIPART_CONTENT_TYPE|PROTO_VIOLATION|MULTIPART)/.test(err.code)) return true
  return /Unexpected end of (form|multipart data)|Malformed (part header|content)|Multipart: Boundary not found|boundary/i.test(String(err?.message ?? ''))
}

/** Keeps the original name's extension (it picks the loader) and nothing that could be a path. */
function safeName (name: string | undefined, index: number): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? ''
  return base.replace(/[^A-Za-z0-9._-]/g, '_').slice(-100) || `input-${index}`
}

export function taskView (task: TaskRecord): Record<string, unknown> {
  return {
    id: task.id,
    index: task.index,
    entry: task.entry,
    status: task.status,
    attempt: task.attempt,
    failures: task.failures,
    ...(task.nodeId !== undefined ? { nodeId: task.nodeId } : {}),
    ...(task.near !== undefined ? { near: task.near } : {}),
    ...(task.script !== undefined ? { role: task.script % 2 === 0 ? 'stage' : 'chunk', round: Math.floor(task.script / 2) + 2 } : {}),
    ...(task.metrics !== undefined ? { metrics: task.metrics } : {}),
    ...(task.error !== undefined ? { error: task.error } : {}),
    ...(task.earning !== undefined ? { earning: task.earning } : {}),
    memoryBytes: task.memoryBytes,
    dependsOn: task.dependsOn,
    attempts: task.attempts
  }
}

export function view (job: JobRecord, tasks: TaskRecord[], withTasks: boolean): any {
  return {
    id: job.id,
    name: job.name,
    mode: job.mode,
    status: job.status,
    createdAt: job.createdAt,
    ...(job.startedAt !== undefined ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
    ...(job.error !== undefined ? { error: job.error } : {}),
    findings: job.findings,
    inputs: job.inputs.map(input => ({ name: input.name, size: input.size, chunks: input.cids.length })),
    plan: job.plan,
    ...(job.cost !== undefined ? { cost: job.cost } : {}),
    ...(job.payment !== undefined ? { payment: job.payment } : {}),
    ...(job.metrics !== undefined ? { metrics: job.metrics } : {}),
    progress: {
      total: tasks.length,
      completed: tasks.filter(t => t.status === 'completed').length,
      running: tasks.filter(t => t.status === 'assigned' || t.status === 'running').length,
      failed: tasks.filter(t => t.status === 'failed').length
    },
    ...(withTasks ? { tasks: tasks.map(taskView) } : {})
  }
}

export default jobRoutes

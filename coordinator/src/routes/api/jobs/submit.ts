/**
 * POST /api/jobs: a job arrives as multipart/form-data. The scripts are read into memory (they are small), the input
 * files are streamed to a folder of their own in the upload directory, which is removed once the job service took
 * them. A refused upload is answered while the rest of it may still arrive (see `lingerThenClose`).
 */
import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { MAX_TASKS } from '../../../jobs/policy.ts'
import { AccountLimitError, JobUsageError } from '../../../jobs/service.ts'
import { fail } from '../../replies.ts'
import { view } from './views.ts'
import type { JobService, JobSubmission } from '../../../jobs/service.ts'
import type { JobMode } from '../../../jobs/records.ts'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Scripts are small: a job file over this is refused as it arrives, before the analyzer sees it. */
const MAX_SCRIPT_BYTES = 1024 * 1024
export const MAX_FILES = 64
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

/** What the parts of an upload hold, before the fields are checked. */
interface Upload {
  fields: Record<string, string>
  inputs: Array<{ name: string, path: string }>
  script?: string | Uint8Array
  aggregateScript?: string | Uint8Array
}

/** Receives the upload of a multipart request and submits the job; answers 201 with it, or why it was refused. */
export async function receiveJob (request: FastifyRequest, reply: FastifyReply, options: { jobs: JobService, uploadDir: string }): Promise<FastifyReply> {
  const dir = join(options.uploadDir, randomUUID())
  await mkdir(dir, { recursive: true })
  try {
    const submission = submissionOf(await readUpload(request, dir), request.account!.id)
    const job = await options.jobs.submit(submission)
    return await reply.code(201).send(view(job, options.jobs.tasksOf(job), false))
  } catch (err: any) {
    if (!request.raw.readableEnded) lingerThenClose(request.raw, reply.raw)
    const refused = refusal(err)
    if (refused === undefined) throw err
    return await fail(reply, refused.status, refused.message)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Reads every part: fields as text, scripts into memory, inputs into `dir`. */
async function readUpload (request: FastifyRequest, dir: string): Promise<Upload> {
  const upload: Upload = { fields: {}, inputs: [] }
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      upload.fields[part.fieldname] = String(part.value)
      continue
    }
    if (part.fieldname === 'script' || part.fieldname === 'aggregate') {
      const bytes = await readCapped(part.file, MAX_SCRIPT_BYTES, part.fieldname)
      // Text only if it is valid UTF-8; otherwise the analyzer sees the bytes and rejects them as binary.
      const text = utf8(bytes)
      if (part.fieldname === 'script') upload.script = text ?? bytes
      else upload.aggregateScript = text ?? bytes
    } else if (part.fieldname === 'input') {
      const path = join(dir, `input-${upload.inputs.length}`)
      await pipeline(part.file, createWriteStream(path))
      if (part.file.truncated) throw Object.assign(new Error(`input ${part.filename} is larger than the limit`), { statusCode: 413 })
      upload.inputs.push({ name: safeName(part.filename, upload.inputs.length), path })
    } else {
      part.file.resume()
      throw new JobUsageError(`unexpected file field "${part.fieldname}": use script, input or aggregate`)
    }
  }
  return upload
}

/** The job an upload asks for, its fields checked; `JobUsageError` says what is wrong with them. */
function submissionOf ({ fields, inputs, script, aggregateScript }: Upload, account: string): JobSubmission {
  if (script === undefined) throw new JobUsageError('no "script" file: the job\'s Python source is required')
  const mode = (fields.mode ?? (aggregateScript !== undefined ? 'grouped' : 'auto')) as JobMode
  if (!['auto', 'manual', 'grouped'].includes(mode)) throw new JobUsageError(`mode must be auto, manual or grouped, not "${String(fields.mode)}"`)
  return {
    account,
    name: (fields.name ?? 'job').slice(0, 200),
    mode,
    script,
    inputs,
    ...(aggregateScript !== undefined ? { aggregateScript } : {}),
    ...(fields.tasks !== undefined ? { tasks: integerField('tasks', fields.tasks, 1, MAX_TASKS, 'tasks') } : {}),
    ...(fields.taskMemory !== undefined ? { taskMemoryBytes: integerField('taskMemory', fields.taskMemory, MIN_TASK_MEMORY, MAX_TASK_MEMORY, 'bytes') } : {}),
    ...(fields.timeout !== undefined ? { taskTimeoutMs: integerField('timeout', fields.timeout, 1, MAX_TIMEOUT_SECONDS, 'seconds') * 1000 } : {})
  }
}

/** The status and message a refused upload is answered with; undefined for a fault of the coordinator itself. */
function refusal (err: any): { status: number, message: string } | undefined {
  if (err instanceof JobUsageError) return { status: 400, message: err.message }
  if (err instanceof AccountLimitError) return { status: 429, message: err.message }
  if (err?.code === 'FST_REQ_FILE_TOO_LARGE' || err?.statusCode === 413) return { status: 413, message: err.message }
  if (err?.code === 'FST_FILES_LIMIT' || err?.code === 'FST_PARTS_LIMIT' || err?.code === 'FST_FIELDS_LIMIT') return { status: 413, message: err.message }
  if (isMalformedUpload(err)) {
    return { status: 400, message: `the upload is not well-formed multipart/form-data (${String(err?.message ?? err)}): send a "script" file and "input" files` }
  }
  return undefined
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
export function lingerThenClose (request: IncomingMessage, response: ServerResponse): void {
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

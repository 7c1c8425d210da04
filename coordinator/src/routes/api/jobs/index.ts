/**
 * Jobs: submit (multipart upload, streamed to disk), list, status, result, live events (server-sent), cancel, pay.
 * Every route acts on the caller's own jobs only; another account's job is "not found".
 */
import multipart from '@fastify/multipart'
import { JobList, JobView } from '../../../schemas/jobs.ts'
import { fail, failures } from '../../replies.ts'
import oneJobRoutes from './job.ts'
import { MAX_FILES, lingerThenClose, receiveJob } from './submit.ts'
import { view } from './views.ts'
import type { JobService } from '../../../jobs/service.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

export { MAX_TIMEOUT_SECONDS } from './submit.ts'
export { taskView, view } from './views.ts'

export interface JobRoutesOptions {
  jobs: JobService
  /** Where uploads are written while a job is submitted. */
  uploadDir: string
  /** Largest input file (bytes). Default 1 GiB. */
  maxInputBytes?: number
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

  app.post('/', {
    onRequest: app.authenticate,
    schema: {
      tags: ['jobs'],
      summary: 'Submit a job (multipart/form-data)',
      description: 'Files: `script` (the job), `input` (repeatable), `aggregate` (grouped jobs). Fields: `mode` (auto|manual|grouped), ' +
        '`tasks` (manual), `taskMemory` (bytes), `timeout` (seconds per task), `name`. A job the scanner refuses is stored ' +
        'as `rejected` with its findings.',
      consumes: ['multipart/form-data'],
      response: { 201: JobView, ...failures(400, 401, 413, 429) }
    }
  }, async (request, reply) => {
    const rate = await submissionRate(request)
    if (!rate.isAllowed && rate.isExceeded) {
      lingerThenClose(request.raw, reply.raw)
      const message = `this account submitted ${rate.max} jobs in the last minute, the most it may: retry in ${rate.ttlInSeconds} s`
      return await fail(reply.header('retry-after', String(rate.ttlInSeconds)), 429, message)
    }
    if (!request.isMultipart()) return await fail(reply, 400, 'send the job as multipart/form-data: a "script" file and "input" files')
    return await receiveJob(request, reply, { jobs, uploadDir: options.uploadDir })
  })

  app.get('/', {
    onRequest: app.authenticate,
    schema: { tags: ['jobs'], summary: 'This account\'s jobs, newest first', response: { 200: JobList, ...failures(401) } }
  }, async (request) => ({ jobs: jobs.list(request.account!.id).map(job => view(job, jobs.tasksOf(job), false)) }))

  // The routes of one job, the caller's own.
  await app.register(oneJobRoutes, { jobs })
}

export default jobRoutes

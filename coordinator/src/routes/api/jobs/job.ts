/**
 * The routes of one job: status, result, live events, cancel, pay. Each acts on the caller's own job only: another
 * account's job is "not found", answered before the handler runs.
 */
import { JobParams, JobView, Payment } from '../../../schemas/jobs.ts'
import { JobUsageError } from '../../../jobs/service.ts'
import { fail, failures } from '../../replies.ts'
import { streamJobEvents } from './events.ts'
import { view } from './views.ts'
import type { JobService } from '../../../jobs/service.ts'
import type { JobRecord } from '../../../jobs/records.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's job the URL names, on the routes of one job (set before their handler runs). */
    job: JobRecord | null
  }
}

const oneJobRoutes: FastifyPluginAsyncTypebox<{ jobs: JobService }> = async (app, { jobs }) => {
  app.decorateRequest('job', null)
  // The caller's own job, or 404 before the handler runs.
  const oneJob = {
    onRequest: app.authenticate,
    preHandler: async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const job = jobs.job(request.params.id)
      if (job === undefined || job.account !== request.account!.id) return await fail(reply, 404, `no job ${request.params.id}`)
      request.job = job
    }
  }

  app.get('/:id', {
    ...oneJob,
    schema: { tags: ['jobs'], summary: 'A job with its tasks', params: JobParams, response: { 200: JobView, ...failures(401, 404) } }
  }, async (request) => view(request.job!, jobs.tasksOf(request.job!), true))

  app.get('/:id/result', {
    ...oneJob,
    schema: { tags: ['jobs'], summary: 'The job\'s result: the JSON value its program returned, exactly', params: JobParams, response: failures(401, 404, 409) }
  }, async (request, reply) => {
    const job = request.job!
    if (job.status !== 'completed') {
      const why = job.error !== undefined ? `: ${job.error.code}: ${job.error.message}` : ''
      return await fail(reply, 409, `job ${job.id} is ${job.status}, there is no result${why}`)
    }
    const text = await jobs.resultText(job)
    return await reply.type('application/json; charset=utf-8').send((text ?? 'null') as any)
  })

  app.get('/:id/events', {
    ...oneJob,
    schema: { tags: ['jobs'], summary: 'Server-sent events: `job` and `task` updates until the job ends', params: JobParams }
  }, async (request, reply) => { streamJobEvents(jobs, request.job!, request, reply) })

  app.post('/:id/cancel', {
    ...oneJob,
    schema: { tags: ['jobs'], summary: 'Cancel a job', params: JobParams, response: { 200: JobView, ...failures(401, 404) } }
  }, async (request) => {
    const cancelled = await jobs.cancel(request.job!)
    return view(cancelled, jobs.tasksOf(cancelled), false)
  })

  app.post('/:id/pay', {
    ...oneJob,
    schema: {
      tags: ['billing'],
      summary: 'Pay a completed job: its payment and its contributors\' earnings become paid',
      params: JobParams,
      response: { 200: Payment, ...failures(401, 404, 409) }
    }
  }, async (request, reply) => {
    const job = request.job!
    try {
      const payment = await jobs.pay(job)
      request.log.info({ job: job.id, amount: payment.amount }, 'job paid')
      return payment
    } catch (err: any) {
      if (err instanceof JobUsageError) return await fail(reply, 409, err.message)
      throw err
    }
  })
}

export default oneJobRoutes

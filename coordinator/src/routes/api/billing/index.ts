/**
 * Money: a submitter's payments, a contributor's earnings (from their own nodes' tasks), and the public figures
 * of the landing page.
 */
import { EarningList, PaymentList, Stats } from '../../../schemas/jobs.ts'
import { failures } from '../../replies.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

/**
 * An account's records of one kind (its payments, or its nodes' earnings), newest first, with how much of them is
 * pending and how much paid.
 */
async function statement<T extends { account: string, amount: number, status: string, createdAt: number }> (
  all: AsyncIterable<T>, account: string
): Promise<{ records: T[], pending: number, paid: number }> {
  const records: T[] = []
  for await (const record of all) if (record.account === account) records.push(record)
  records.sort((a, b) => b.createdAt - a.createdAt)
  const total = (status: string): number => records.filter(r => r.status === status).reduce((sum, r) => sum + r.amount, 0)
  return { records, pending: total('pending'), paid: total('paid') }
}

const billing: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/payments', {
    onRequest: app.authenticate,
    schema: { tags: ['billing'], summary: 'What this account owes and paid for its jobs (micro-units)', response: { 200: PaymentList, ...failures(401) } }
  }, async (request) => {
    const { records, pending, paid } = await statement(app.jobs.db.payments.values(), request.account!.id)
    return { payments: records, pending, paid }
  })

  app.get('/earnings', {
    onRequest: app.authenticate,
    schema: { tags: ['billing'], summary: 'What this account\'s nodes earned (micro-units)', response: { 200: EarningList, ...failures(401) } }
  }, async (request) => {
    const { records, pending, paid } = await statement(app.jobs.db.earnings.values(), request.account!.id)
    return { earnings: records, pending, paid }
  })

  app.get('/stats', {
    schema: { tags: ['billing'], summary: 'Public figures: active nodes, running jobs, lifetime contributor earnings', response: { 200: Stats } }
  }, async () => {
    let lifetimeEarnings = 0
    for await (const earning of app.jobs.db.earnings.values()) lifetimeEarnings += earning.amount
    const completedJobs = app.jobs.stats().completedJobs
    const activeNodes = (await app.registry.list()).filter(node => node.status === 'alive').length
    return { activeNodes, runningJobs: app.jobs.stats().runningJobs, lifetimeEarnings, completedJobs }
  })
}

export default billing

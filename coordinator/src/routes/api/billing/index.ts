/**
 * Money: a submitter's payments, a contributor's earnings (from their own nodes' tasks), and the public figures
 * of the landing page.
 */
import { ErrorReply } from '../../../schemas/common.ts'
import { EarningList, PaymentList, Stats } from '../../../schemas/jobs.ts'
import type { EarningRecord, PaymentRecord } from '../../../jobs/records.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

function totals<T extends { amount: number, status: string }> (records: T[]): { pending: number, paid: number } {
  return {
    pending: records.filter(r => r.status === 'pending').reduce((sum, r) => sum + r.amount, 0),
    paid: records.filter(r => r.status === 'paid').reduce((sum, r) => sum + r.amount, 0)
  }
}

const billing: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/payments', {
    onRequest: app.authenticate,
    schema: { tags: ['billing'], summary: 'What this account owes and paid for its jobs (micro-units)', response: { 200: PaymentList, 401: ErrorReply } }
  }, async (request) => {
    const payments: PaymentRecord[] = []
    for await (const payment of app.jobs.db.payments.values()) if (payment.account === request.account!.id) payments.push(payment)
    payments.sort((a, b) => b.createdAt - a.createdAt)
    return { payments, ...totals(payments) }
  })

  app.get('/earnings', {
    onRequest: app.authenticate,
    schema: { tags: ['billing'], summary: 'What this account\'s nodes earned (micro-units)', response: { 200: EarningList, 401: ErrorReply } }
  }, async (request) => {
    const earnings: EarningRecord[] = []
    for await (const earning of app.jobs.db.earnings.values()) if (earning.account === request.account!.id) earnings.push(earning)
    earnings.sort((a, b) => b.createdAt - a.createdAt)
    return { earnings, ...totals(earnings) }
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

import { request } from './client.ts'
import type { EarningList, PaymentList, Stats } from './types.ts'

export async function stats (): Promise<Stats> {
  return await request<Stats>('/api/stats')
}

export async function payments (): Promise<PaymentList> {
  return await request<PaymentList>('/api/payments')
}

export async function earnings (): Promise<EarningList> {
  return await request<EarningList>('/api/earnings')
}

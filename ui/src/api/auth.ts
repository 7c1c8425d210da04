import { request } from './client.ts'
import type { Account } from './types.ts'

export async function currentAccount (): Promise<Account> {
  return (await request<{ account: Account }>('/api/auth/me')).account
}

export async function register (name: string, password: string): Promise<Account> {
  return (await request<{ account: Account }>('/api/auth/register', { json: { name, password } })).account
}

export async function login (name: string, password: string): Promise<Account> {
  return (await request<{ account: Account }>('/api/auth/login', { json: { name, password } })).account
}

export async function logout (): Promise<void> {
  await request<undefined>('/api/auth/logout', { method: 'POST' })
}

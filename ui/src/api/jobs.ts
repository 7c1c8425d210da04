import { request } from './client.ts'
import type { AnalyzeRequest, Analysis, Job, Payment } from './types.ts'

export async function listJobs (): Promise<Job[]> {
  return (await request<{ jobs: Job[] }>('/api/jobs')).jobs
}

export async function getJob (id: string): Promise<Job> {
  return await request<Job>(`/api/jobs/${encodeURIComponent(id)}`)
}

/** What the submit form sends: the files themselves, and the fields of POST /api/jobs. */
export interface JobSubmission {
  name: string
  mode: 'auto' | 'manual' | 'grouped'
  script: File
  inputs: File[]
  aggregate?: File
  tasks?: number
  taskMemoryBytes?: number
  timeoutSeconds?: number
}

export async function submitJob (submission: JobSubmission): Promise<Job> {
  const form = new FormData()
  // Fields before files: the server reads the parts in order.
  form.append('name', submission.name)
  form.append('mode', submission.mode)
  if (submission.tasks !== undefined) form.append('tasks', String(submission.tasks))
  if (submission.taskMemoryBytes !== undefined) form.append('taskMemory', String(submission.taskMemoryBytes))
  if (submission.timeoutSeconds !== undefined) form.append('timeout', String(submission.timeoutSeconds))
  form.append('script', submission.script, submission.script.name)
  if (submission.aggregate !== undefined) form.append('aggregate', submission.aggregate, submission.aggregate.name)
  for (const input of submission.inputs) form.append('input', input, input.name)
  return await request<Job>('/api/jobs', { form })
}

export async function payJob (id: string): Promise<Payment> {
  return await request<Payment>(`/api/jobs/${encodeURIComponent(id)}/pay`, { method: 'POST' })
}

export async function cancelJob (id: string): Promise<Job> {
  return await request<Job>(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' })
}

/** Where the browser downloads a job's result (the exact JSON its program returned). */
export function resultUrl (id: string): string {
  return `/api/jobs/${encodeURIComponent(id)}/result`
}

export async function analyzeJob (body: AnalyzeRequest, options: { signal?: AbortSignal } = {}): Promise<Analysis> {
  return await request<Analysis>('/api/analyze', { json: body, ...(options.signal !== undefined ? { signal: options.signal } : {}) })
}

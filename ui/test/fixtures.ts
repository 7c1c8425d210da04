/** Jobs and tasks as the API sends them, for the UI's tests. */
import type { Job, Task } from '../src/api/types.ts'

export function task (index: number, fields: Partial<Task> = {}): Task {
  return { id: `job-1.${index}`, index, entry: 'process', status: 'queued', attempt: 0, failures: 0, ...fields }
}

export function job (fields: Partial<Job> = {}): Job {
  return {
    id: 'job-1',
    name: 'word count',
    mode: 'manual',
    status: 'running',
    createdAt: 1_000,
    startedAt: 2_000,
    findings: [],
    inputs: [{ name: 'words.txt', size: 3000, chunks: 3 }],
    plan: { level: 1, tasks: 4, mode: 'manual', processTasks: 3, aggregation: true },
    progress: { total: 4, completed: 0, running: 0, failed: 0 },
    ...fields
  }
}

/** Records the state machine's unit tests start from. */
import type { JobRecord } from '../../src/jobs/records.ts'

const MiB = 1024 * 1024

/** A queued manual job of alice's, with no tasks yet unless `fields` says otherwise. */
export function manualJob (id: string, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    account: 'alice',
    name: id,
    mode: 'manual',
    status: 'queued',
    createdAt: 1,
    script: 'def process(s):\n    return {}\n',
    inputs: [],
    taskMemoryBytes: 64 * MiB,
    taskTimeoutMs: 60_000,
    taskIds: [],
    findings: [],
    plan: { level: 1, tasks: 0 },
    ...fields
  }
}

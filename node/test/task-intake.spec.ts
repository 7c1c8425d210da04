import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it, vi } from 'vitest'
import { AssignResponse } from '../../protocols/src/index.ts'
import { sandboxTasks } from '../src/tasks.ts'
import { TaskIntake } from '../src/task-intake.ts'
import type { AssignRequest, ChunkExchange, ReportRequest, ReportService, RequestContext } from '../../protocols/src/index.ts'
import type { Executor } from '../src/executors/index.ts'
import type { RunTaskContext, TaskResult } from '../src/task-intake.ts'
import type { Logger } from 'pino'

const PEER = '12D3KooWGRUVh2xCnQ3fbGGYsJS8UPDQ3BaqAr5Q1T4uBbL8XrNE'
const MiB = 1024 ** 2

/** A promise and the functions that settle it. */
function deferred<T> (): { promise: Promise<T>, resolve: (value: T) => void } {
  let settle: (value: T) => void = () => {}
  const promise = new Promise<T>(resolve => { settle = resolve })
  return { promise, resolve: (value) => { settle(value) } }
}

describe('task intake', () => {
  it('reports the memory its running tasks use, as their samples measured it, beside what is promised', async () => {
    const started = deferred<RunTaskContext>()
    const finish = deferred<TaskResult>()
    const reported = deferred<ReportRequest>()
    const report = { call: async (_: unknown, request: ReportRequest) => { reported.resolve(request); return {} } }
    const intake = new TaskIntake({
      runTask: async (_task, context) => { started.resolve(context); return await finish.promise },
      memoryBytes: 1024 * MiB,
      coordinator: { peer: peerIdFromString(PEER), address: multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${PEER}`) },
      services: () => ({ chunks: {} as unknown as ChunkExchange, report: report as unknown as ReportService }),
      nodeId: () => 'node-1',
      reporting: () => true,
      log: { info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Logger
    })
    const task = { taskId: 't1', jobId: 'j1', memoryBytes: 256 * MiB, attempt: 1 } as unknown as AssignRequest
    const answer = await intake.assign(task, { peer: peerIdFromString(PEER) } as unknown as RequestContext)
    expect(answer).toEqual({ status: AssignResponse.Status.ACCEPTED, error: '', memoryFreeBytes: 768 * MiB })

    const context = await started.promise
    expect(intake.load()).toEqual({ memoryUsedBytes: 0, memoryFreeBytes: 768 * MiB, runningTasks: ['t1'] })
    context.onProgress?.({ type: 'started', executor: 'bwrap', taskId: 't1' })
    context.onProgress?.({ type: 'sample', taskId: 't1', rssBytes: 40 * MiB, cpuMs: 10, processes: 1, elapsedMs: 50 })
    context.onProgress?.({ type: 'sample', taskId: 't1', rssBytes: 90 * MiB, cpuMs: 20, processes: 2, elapsedMs: 100 })
    expect(intake.load()).toEqual({ memoryUsedBytes: 90 * MiB, memoryFreeBytes: 768 * MiB, runningTasks: ['t1'] })

    finish.resolve({ state: 'completed', outputCids: [] })
    expect((await reported.promise).nodeId).toBe('node-1')
    expect(intake.load().memoryUsedBytes).toBe(0)
    expect(intake.load().memoryFreeBytes).toBe(1024 * MiB)
  })

  it('announces the executor a sandbox runner runs tasks in', () => {
    const executor = { kind: 'ssh' } as unknown as Executor
    expect(sandboxTasks({ executor }).executors).toEqual(['ssh'])
  })
})

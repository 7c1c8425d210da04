/**
 * The job state's group commit: transitions computed while a batch is on disk see each other's changes at once, are
 * written together in the next batch, and are answered (and seen by readers, and announced) only once stored.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Store, StoreIOError } from '../src/store/index.ts'
import { JobState } from '../src/jobs/state.ts'
import { newTask } from '../src/jobs/transitions.ts'
import { tempDir } from '../../test/helpers/index.ts'
import { manualJob } from './helpers/records.ts'
import type { TaskRecord } from '../src/jobs/records.ts'
import type { StoreOp } from '../src/store/index.ts'

const job = manualJob('j1', { taskIds: ['j1.0', 'j1.1'], plan: { level: 1, tasks: 2 } })

const queued = (index: number): TaskRecord => newTask(job, { index, entry: 'process', inputName: 'in.txt', inputCids: [] })
const assigned = (task: TaskRecord): TaskRecord => ({ ...task, status: 'assigned', attempt: 1, nodeId: 'n1', attempts: [{ attempt: 1, nodeId: 'n1', assignedAt: 2 }] })

describe('the job state\'s group commit', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let store: Store
  let state: JobState

  beforeEach(async () => {
    dir = await tempDir()
    store = await Store.open(dir.path)
    state = new JobState(store)
    await state.apply({ jobs: [job], tasks: [queued(0), queued(1)] })
  })

  afterEach(async () => {
    vi.restoreAllMocks()
    await store.close()
    await dir.remove()
  })

  /** Holds the next batch until `release` (or fails it with `failure`); `handed` resolves once the store has it. */
  const holdNextBatch = (failure?: Error): { handed: Promise<void>, release: () => void } => {
    const write = store.batch.bind(store)
    const handed = Promise.withResolvers<void>()
    const gate = Promise.withResolvers<void>()
    vi.spyOn(store, 'batch').mockImplementationOnce(async (ops: StoreOp[]) => {
      handed.resolve()
      await gate.promise
      if (failure !== undefined) throw failure
      await write(ops)
    })
    return { handed: handed.promise, release: gate.resolve }
  }

  it('computes on changes still on their way to disk, writes those gathered meanwhile in one batch, and answers each once stored', async () => {
    const held = holdNextBatch()
    const answered: string[] = []
    const events: string[] = []
    state.on('task', task => { events.push(`${task.id} ${task.status}`) })
    const first = state.commit(async () => ({ tasks: [assigned(queued(0))] })).then(() => { answered.push('first') })
    await held.handed
    const batch = vi.mocked(store.batch)
    let seen: TaskRecord | undefined
    const second = state.commit(async () => {
      seen = state.tasks.get('j1.0')
      return { tasks: [{ ...assigned(queued(0)), status: 'running' }] }
    }).then(() => { answered.push('second') })
    const third = state.commit(async () => {
      // Nothing is answered, announced or shown to readers while the first batch is on disk.
      expect(answered).toEqual([])
      expect(events).toEqual([])
      expect(state.stored.tasks.get('j1.0')?.status).toBe('queued')
      expect(state.stored.queued).toBe(2)
      held.release()
      return { tasks: [assigned(queued(1))] }
    }).then(() => { answered.push('third') })
    await Promise.all([first, second, third])

    expect(seen?.status).toBe('assigned')
    expect(answered).toEqual(['first', 'second', 'third'])
    expect(events).toEqual(['j1.0 assigned', 'j1.0 running', 'j1.1 assigned'])
    // The first change alone, then the two computed while it was written, together (j1.0 once, as it is last).
    expect(batch.mock.calls.map(([ops]) => ops.filter(op => op.key.startsWith('!tasks!')).map(op => op.key))).toEqual([
      ['!tasks!j1.0'],
      ['!tasks!j1.0', '!tasks!j1.1']
    ])
    expect(await state.db.tasks.get('j1.0')).toMatchObject({ status: 'running' })
    expect(state.stored.tasks.get('j1.1')?.status).toBe('assigned')
    expect(state.stored.queued).toBe(0)
  })

  it('refuses the changes computed after a batch that failed, and computes on the stored state again', async () => {
    const held = holdNextBatch(new StoreIOError('disk full'))
    const first = state.commit(async () => ({ tasks: [assigned(queued(0))] }))
    await held.handed
    const second = state.commit(async () => {
      held.release()
      return { tasks: [{ ...assigned(queued(0)), status: 'running' }] }
    })
    await expect(first).rejects.toThrow('disk full')
    await expect(second).rejects.toThrow('disk full')

    expect(state.tasks.get('j1.0')?.status).toBe('queued')
    expect([...state.queue]).toEqual(['j1.0', 'j1.1'])
    expect(state.tasks.activeOn('n1')).toEqual([])
    expect(await state.db.tasks.get('j1.0')).toMatchObject({ status: 'queued' })
    await state.commit(async () => ({ tasks: [assigned(state.tasks.get('j1.1') as TaskRecord)] }))
    expect(state.stored.tasks.get('j1.1')?.status).toBe('assigned')
    expect([...state.queue]).toEqual(['j1.0'])
  })

  it('settles once every change computed before is stored', async () => {
    const held = holdNextBatch()
    const first = state.commit(async () => ({ tasks: [assigned(queued(0))] }))
    await held.handed
    let settled = false
    const settling = state.settled().then(() => { settled = true })
    await state.commit(async () => {
      expect(settled).toBe(false)
      held.release()
      return {}
    })
    await Promise.all([first, settling])
    expect(await state.db.tasks.get('j1.0')).toMatchObject({ status: 'assigned' })
  })
})

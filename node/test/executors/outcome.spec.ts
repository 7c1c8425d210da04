/**
 * The one place that decides how a task ended (outcome.ts), driven with what executors observe, and the
 * limits' contract (contract.ts). The real processes behind each case run in bwrap.spec.ts, ssh.spec.ts
 * and the shared containment suite; here the precedence between limits that are near at once is pinned.
 */
import { describe, expect, it } from 'vitest'
import { InvalidTaskError, resolveLimits } from '../../src/executors/index.ts'
import { breachedLimit, classifyOutcome } from '../../src/executors/outcome.ts'
import type { EndedTask } from '../../src/executors/outcome.ts'

const MiB = 1024 ** 2
const limits = resolveLimits({ memoryBytes: 512 * MiB, maxProcesses: 64 })

/** A task that ran one process and exited with `exitCode`, changed by `overrides`. */
function ended (overrides: Partial<EndedTask> = {}): EndedTask {
  const exitCode = overrides.exitCode ?? 0
  return {
    limits,
    usage: { wallMs: 1000, cpuMs: 900, peakMemoryBytes: 20 * MiB, avgMemoryBytes: 15 * MiB, peakProcesses: 1, samples: 20 },
    report: { exitCode, signal: null, cpuMs: 900, maxRssBytes: 20 * MiB },
    exitCode,
    signal: null,
    stdout: '',
    stderr: '',
    outputFiles: [],
    peakTasks: 1,
    supervisors: 2,
    ...overrides
  }
}

/** A task the node killed: no launcher report, bwrap ended by SIGKILL. */
const killed = (overrides: Partial<EndedTask>): EndedTask => ended({ report: undefined, exitCode: null, signal: 9, ...overrides })

describe('breachedLimit: what the node kills a running task for', () => {
  it('summed RSS over the limit is not memory: only a PSS reading over it is', () => {
    expect(breachedLimit({}, limits)).toBeUndefined()
    expect(breachedLimit({ pssBytes: 400 * MiB }, limits)).toBeUndefined()
    expect(breachedLimit({ pssBytes: 513 * MiB }, limits)).toBe('memory')
  })

  it('stdout/stderr, the directory\'s bytes and its entries each have their reason', () => {
    expect(breachedLimit({ outputBytes: limits.maxOutputBytes + 1 }, limits)).toBe('output')
    expect(breachedLimit({ dirBytes: limits.taskDirBytes + 1 }, limits)).toBe('taskdir-bytes')
    expect(breachedLimit({ dirEntries: limits.taskDirFiles }, limits)).toBeUndefined()
    expect(breachedLimit({ dirEntries: limits.taskDirFiles + 1 }, limits)).toBe('taskdir-files')
  })
})

describe('classifyOutcome: one status, whichever limits are near', () => {
  it('a memory kill of a tree far below its process limit is memory_limit', () => {
    const outcome = classifyOutcome(killed({ killedFor: 'memory', peakTasks: 4, usage: { ...ended().usage, peakProcesses: 4 } }))
    expect(outcome.status).toBe('memory_limit')
    expect(outcome.error?.message).toMatch(/^the task used more than 512 MiB in all its processes together .*give it more memory/)
  })

  it('a memory kill of a tree at its process limit is process_limit: more memory would not let a fork bomb finish', () => {
    const outcome = classifyOutcome(killed({ killedFor: 'memory', peakTasks: 55, usage: { ...ended().usage, peakProcesses: 55 } }))
    expect(outcome.status).toBe('process_limit')
    expect(outcome.error?.message).toMatch(/more than its 64 processes and threads/)
  })

  it('a memory kill with a failed fork in stderr is process_limit', () => {
    const outcome = classifyOutcome(killed({ killedFor: 'memory', peakTasks: 20, stderr: 'BlockingIOError: [Errno 11] Resource temporarily unavailable\n' }))
    expect(outcome.status).toBe('process_limit')
  })

  it('MemoryError is memory_limit unless the process limit was reached too', () => {
    expect(classifyOutcome(ended({ exitCode: 3 })).status).toBe('memory_limit')
    expect(classifyOutcome(ended({ exitCode: 3, peakTasks: 60 })).status).toBe('process_limit')
  })

  it('the process count decides only near the limit: three quarters of the room, supervisors excluded', () => {
    // 64 - 2 supervisors = 62; three quarters of it is 46.
    expect(classifyOutcome(ended({ exitCode: 1, peakTasks: 45 })).status).toBe('runtime_error')
    expect(classifyOutcome(ended({ exitCode: 1, peakTasks: 46 })).status).toBe('process_limit')
    // With the launcher as the only supervisor (SSH without bwrap) the room is 63 and the bar 47.
    expect(classifyOutcome(ended({ exitCode: 1, peakTasks: 46, supervisors: 1 })).status).toBe('runtime_error')
    expect(classifyOutcome(ended({ exitCode: 1, peakTasks: 47, supervisors: 1 })).status).toBe('process_limit')
  })

  it('EAGAIN alone, outside a memory failure, is not taken for the process limit (non-blocking reads say it too)', () => {
    const outcome = classifyOutcome(ended({ exitCode: 1, stderr: 'BlockingIOError: [Errno 11] Resource temporarily unavailable\nValueError: bad row\n' }))
    expect(outcome.status).toBe('runtime_error')
  })

  it('the wall clock wins over everything the task did', () => {
    const outcome = classifyOutcome(killed({ killedFor: 'timeout', peakTasks: 60, copyBack: { entries: 10_001, bytes: 0, refused: 'entries' } }))
    expect(outcome.status).toBe('time_limit')
    expect(outcome.error?.message).toBe('the task ran longer than its 60 s wall-clock limit and was killed')
  })

  it('a completed task that left too many entries or bytes is output_limit, with numbers', () => {
    const entries = classifyOutcome(ended({ copyBack: { entries: 10_001, bytes: 0, refused: 'entries' } }))
    expect(entries.status).toBe('output_limit')
    expect(entries.error?.message).toMatch(/^the task left more than 10,000 files and directories in its task directory \(at least 10,001\)/)
    const bytes = classifyOutcome(ended({ copyBack: { entries: 3, bytes: 300 * MiB, refused: 'bytes' } }))
    expect(bytes.status).toBe('output_limit')
    expect(bytes.error?.message).toMatch(/^the task left 300\.0 MiB of new or changed files .*at most 256\.0 MiB are copied back/)
    expect(classifyOutcome(ended({ copyBack: { entries: 3, bytes: MiB } })).status).toBe('completed')
  })

  it('ENOSPC from the tmpfs running out of inodes names the entry limit', () => {
    const outcome = classifyOutcome(ended({ exitCode: 5, copyBack: { entries: 10_001, bytes: 0, refused: 'entries' } }))
    expect(outcome.status).toBe('output_limit')
    expect(outcome.error?.message).toMatch(/10,000 files and directories/)
  })

  it('a long timeout reads as seconds with separators', () => {
    const outcome = classifyOutcome(killed({ killedFor: 'timeout', limits: resolveLimits({ timeoutMs: 4_294_967_295 }) }))
    expect(outcome.error?.message).toBe('the task ran longer than its 4,294,967.3 s wall-clock limit and was killed')
  })
})

describe('resolveLimits', () => {
  it('accepts any positive whole number, however long the timeout', () => {
    const resolved = resolveLimits({ timeoutMs: 2_147_484_000, taskDirFiles: 5 })
    expect(resolved.timeoutMs).toBe(2_147_484_000)
    expect(resolved.cpuSeconds).toBe(2_147_484)
    expect(resolved.taskDirFiles).toBe(5)
    expect(resolved.copyBackBytes).toBe(256 * MiB)
  })

  it('refuses values that are not positive whole numbers, naming the limit and the value', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1, 1.5, 2 ** 53]) {
      expect(() => resolveLimits({ timeoutMs: bad })).toThrow(InvalidTaskError)
    }
    expect(() => resolveLimits({ timeoutMs: Number.POSITIVE_INFINITY })).toThrow('task limit timeoutMs must be a positive whole number of milliseconds (at most 9007199254740991), not Infinity')
    expect(() => resolveLimits({ memoryBytes: '512M' as unknown as number })).toThrow(/memoryBytes must be a positive whole number of bytes/)
    expect(() => resolveLimits({ timeoutSeconds: 5 } as never)).toThrow(/unknown task limit "timeoutSeconds"/)
  })
})

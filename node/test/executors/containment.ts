/**
 * The containment properties of issue 3's "Done when", run against any sandboxing executor. Each
 * test runs a real probe job (node/src/self-test.ts) and asserts on what the host observed.
 */
import { expect, it } from 'vitest'
import { runProbe } from '../../src/self-test.ts'
import type { Executor } from '../../src/executors/index.ts'

const MiB = 1024 ** 2

export function containmentSuite (executor: () => Executor): void {
  it.concurrent('a task cannot read a file planted in the host\'s home', async () => {
    const probe = await runProbe(executor(), 'home-unreadable')
    expect(probe.status, probe.detail).toBe('completed')
    expect(probe.evidence.readBack).toEqual([])
    expect(probe.evidence.listed).toEqual([])
    expect(probe.evidence.leaked).toBe(false)
    expect(probe.holds).toBe(true)
  })

  it.concurrent('a task cannot write outside its task directory, and what it writes inside comes back', async () => {
    const probe = await runProbe(executor(), 'no-writes-outside-task-dir')
    expect(probe.status, probe.detail).toBe('completed')
    expect(probe.evidence.hostFilesCreated).toEqual([])
    expect(probe.evidence.sandboxWrites).toEqual([])
    expect(probe.evidence.insideOutputReturned).toBe(true)
  })

  it.concurrent('a task cannot open any network connection: a listener on the host sees nothing', async () => {
    const probe = await runProbe(executor(), 'no-network')
    expect(probe.status, probe.detail).toBe('completed')
    expect(probe.evidence.listenerConnections).toBe(0)
    expect(probe.evidence.opened).toEqual([])
    expect(probe.evidence.interfaces).toEqual(['lo'])
  })

  it.concurrent('a task cannot see host processes or the node\'s environment', async () => {
    const probe = await runProbe(executor(), 'no-host-processes-or-env')
    expect(probe.status, probe.detail).toBe('completed')
    expect(probe.evidence.leaked).toEqual([])
    // Only its own processes: the sandbox's init, the launcher and the task.
    expect((probe.evidence.visibleProcesses as string[]).length).toBeLessThanOrEqual(3)
    expect(probe.evidence.environment).toEqual(['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR', 'USER'])
    // No descriptor of the node (its report pipe, whatever it inherited) beyond stdin/stdout/stderr.
    expect(probe.evidence.extraFds).toEqual([])
  })

  it.concurrent('a fork bomb ends with process_limit inside its limit while another task completes', async () => {
    const probe = await runProbe(executor(), 'fork-bomb-contained')
    expect(probe.status, probe.detail).toBe('process_limit')
    expect(probe.evidence.peakProcesses).toBeLessThanOrEqual(32)
    expect(probe.evidence.bystanderOk).toBe(true)
    expect(probe.evidence.leftovers).toEqual([])
  })

  it.concurrent('a memory bomb ends with memory_limit inside its limit while another task completes', async () => {
    const probe = await runProbe(executor(), 'memory-bomb-contained')
    expect(probe.status, probe.detail).toBe('memory_limit')
    expect(probe.evidence.peakMemoryBytes).toBeLessThanOrEqual(128 * MiB)
    expect(probe.evidence.bystanderOk).toBe(true)
    expect(probe.evidence.leftovers).toEqual([])
  })

  it.concurrent('an infinite loop ends with time_limit at its deadline while another task completes', async () => {
    const probe = await runProbe(executor(), 'infinite-loop-contained')
    expect(probe.status, probe.detail).toBe('time_limit')
    expect(probe.evidence.wallMs).toBeGreaterThanOrEqual(2000)
    expect(probe.evidence.wallMs).toBeLessThanOrEqual(3500)
    expect(probe.evidence.bystanderOk).toBe(true)
    expect(probe.evidence.leftovers).toEqual([])
  })

  it.concurrent('the kernel attack surface is reduced: io_uring, bpf, keyrings, ptrace are denied', async () => {
    const probe = await runProbe(executor(), 'syscalls-denied')
    expect(probe.status, probe.detail).toBe('completed')
    expect(probe.evidence.results).toEqual({ ptrace: 'EPERM', io_uring_setup: 'EPERM', bpf: 'EPERM', keyctl: 'EPERM', userfaultfd: 'EPERM', unshare: 'EPERM', getpid: 'ok' })
  })

  it.concurrent('peak memory of a task allocating 200 MiB is reported within 10%', async () => {
    const probe = await runProbe(executor(), 'peak-memory-accurate')
    expect(probe.status, probe.detail).toBe('completed')
    expect(probe.evidence.relativeError as number, probe.detail).toBeLessThanOrEqual(0.1)
  })
}

/**
 * The containment properties of issue 3's "Done when", run against any sandboxing executor. Each
 * test runs a real probe job (node/src/self-test.ts) and asserts on what the host observed.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { DEFAULT_LIMITS, runPythonTask } from '../../src/executors/index.ts'
import { processesMentioning, runProbe } from '../../src/self-test.ts'
import type { Executor, TaskOutcome, TaskSpec, TaskStatus } from '../../src/executors/index.ts'
import type { ProbeName, ProbeResult } from '../../src/self-test.ts'

const MiB = 1024 ** 2

/** Runs `source` as main.py in a fresh task directory, which is removed afterwards unless `inspect` looks at it first. */
async function runScript (executor: Executor, source: string, limits: TaskSpec['limits'], inspect?: (dir: string) => void): Promise<TaskOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-containment-'))
  try {
    await writeFile(join(dir, 'main.py'), source)
    const outcome = await executor.run({ taskDir: dir, entry: 'main.py', limits })
    inspect?.(dir)
    return outcome
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Runs a self-test probe on a fresh executor and checks the status its task ended with; the rest is the test's. */
async function probeEndsWith (executor: () => Executor, name: ProbeName, status: TaskStatus): Promise<ProbeResult> {
  const probe = await runProbe(executor(), name)
  expect(probe.status, probe.detail).toBe(status)
  return probe
}

/** Every containment test, against the executors `executor` makes. */
export function containmentSuite (executor: () => Executor): void {
  isolationCases(executor)
  limitCases(executor)
  taskDirectoryCases(executor)
}

/** What a task cannot reach: the host's files, network, processes, environment and kernel surface. */
function isolationCases (executor: () => Executor): void {
  it.concurrent('a task cannot read a file planted in the host\'s home', async () => {
    const probe = await probeEndsWith(executor, 'home-unreadable', 'completed')
    expect(probe.evidence.readBack).toEqual([])
    expect(probe.evidence.listed).toEqual([])
    expect(probe.evidence.leaked).toBe(false)
    expect(probe.holds).toBe(true)
  })

  it.concurrent('a task cannot write outside its task directory, and what it writes inside comes back', async () => {
    const probe = await probeEndsWith(executor, 'no-writes-outside-task-dir', 'completed')
    expect(probe.evidence.hostFilesCreated).toEqual([])
    expect(probe.evidence.sandboxWrites).toEqual([])
    expect(probe.evidence.insideOutputReturned).toBe(true)
  })

  it.concurrent('a task cannot open any network connection: a listener on the host sees nothing', async () => {
    const probe = await probeEndsWith(executor, 'no-network', 'completed')
    expect(probe.evidence.listenerConnections).toBe(0)
    expect(probe.evidence.opened).toEqual([])
    expect(probe.evidence.interfaces).toEqual(['lo'])
  })

  it.concurrent('a task cannot see host processes or the node\'s environment', async () => {
    const probe = await probeEndsWith(executor, 'no-host-processes-or-env', 'completed')
    expect(probe.evidence.leaked).toEqual([])
    // Only its own processes: the sandbox's init, the launcher and the task.
    expect((probe.evidence.visibleProcesses as string[]).length).toBeLessThanOrEqual(3)
    expect(probe.evidence.environment).toEqual(['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR', 'USER'])
    // No descriptor of the node (its report pipe, whatever it inherited) beyond stdin/stdout/stderr.
    expect(probe.evidence.extraFds).toEqual([])
  })

  it.concurrent('the kernel attack surface is reduced: io_uring, bpf, keyrings, ptrace are denied', async () => {
    const probe = await probeEndsWith(executor, 'syscalls-denied', 'completed')
    expect(probe.evidence.results).toEqual({ ptrace: 'EPERM', io_uring_setup: 'EPERM', bpf: 'EPERM', keyctl: 'EPERM', userfaultfd: 'EPERM', unshare: 'EPERM', getpid: 'ok' })
  })
}

/** Bombs and runaways end with the status of the limit they hit, measured right, while other tasks go on. */
function limitCases (executor: () => Executor): void {
  it.concurrent('a fork bomb ends with process_limit, not memory_limit, though its processes share 64 MiB', async () => {
    const probe = await probeEndsWith(executor, 'fork-bomb-contained', 'process_limit')
    expect(probe.evidence.peakProcesses).toBeLessThanOrEqual(32)
    expect(probe.evidence.bystanderOk).toBe(true)
    expect(probe.evidence.leftovers).toEqual([])
  })

  it.concurrent('a memory bomb ends with memory_limit inside its limit while another task completes', async () => {
    const probe = await probeEndsWith(executor, 'memory-bomb-contained', 'memory_limit')
    expect(probe.evidence.peakMemoryBytes).toBeLessThanOrEqual(128 * MiB)
    expect(probe.evidence.bystanderOk).toBe(true)
    expect(probe.evidence.leftovers).toEqual([])
  })

  it.concurrent('an infinite loop ends with time_limit at its deadline while another task completes', async () => {
    const probe = await probeEndsWith(executor, 'infinite-loop-contained', 'time_limit')
    expect(probe.evidence.wallMs).toBeGreaterThanOrEqual(2000)
    // Stopped, not left spinning: bounded in CPU time (its budget plus RLIMIT_CPU's one-second hard
    // margin and tick slack), never in wall time, which a loaded machine stretches at will.
    expect(probe.evidence.cpuMs as number).toBeLessThanOrEqual((probe.evidence.cpuBudgetMs as number) + 100)
    expect(probe.evidence.bystanderOk).toBe(true)
    expect(probe.evidence.leftovers).toEqual([])
  })

  it.concurrent('peak memory of a task allocating 200 MiB is reported within 10%', async () => {
    const probe = await probeEndsWith(executor, 'peak-memory-accurate', 'completed')
    expect(probe.evidence.relativeError as number, probe.detail).toBeLessThanOrEqual(0.1)
  })

  it.concurrent('processes that together allocate past the limit end with memory_limit, not process_limit', async () => {
    // The other direction of the fork bomb: four processes, far below the process limit, each
    // allocating its own memory. The tree's PSS passes 128 MiB though no single process reaches it.
    const taskId = `memory-in-processes-${Date.now()}`
    const outcome = await runPythonTask({
      executor: executor(),
      taskId,
      script: 'import os\ndef main(data):\n    for i in range(3):\n        if os.fork() == 0:\n            break\n    hoard = []\n    while True:\n        hoard.append(b"x" * (1024 * 1024))\n',
      limits: { memoryBytes: 128 * MiB, timeoutMs: 60_000 }
    })
    expect(outcome.status, outcome.error?.message).toBe('memory_limit')
    // Which comes first is a race on a loaded machine: the tree's total is seen and the task killed, or one process's
    // own allocation fails (MemoryError) just before. Either is the memory limit, never the process limit.
    expect(outcome.error?.message).toMatch(/more than 128 MiB in all its processes together|ran out of its 128 MiB memory \(MemoryError\)/)
    expect(outcome.metrics.peakProcesses).toBeLessThanOrEqual(4)
    expect(processesMentioning(taskId)).toEqual([])
  })

  it.concurrent('a timeout beyond setTimeout\'s 24.8 days does not fire at once: the task runs and completes', async () => {
    // 2,147,484 s is the first whole second past 2^31 - 1 ms; 4,294,967,295 ms is the most the wire's uint32 carries.
    const [first, widest] = await Promise.all([2_147_484_000, 4_294_967_295].map(async timeoutMs => await runPythonTask({
      executor: executor(),
      script: 'import time\ndef main(data):\n    time.sleep(0.5)\n    return "done"\n',
      limits: { timeoutMs }
    })))
    expect(first?.status, first?.error?.message).toBe('completed')
    expect(first?.result).toBe('done')
    expect(first?.limits.timeoutMs).toBe(2_147_484_000)
    expect(widest?.status, widest?.error?.message).toBe('completed')
  })
}

/** A task directory past its entry or copy-back limit ends with output_limit, and nothing is copied back. */
function taskDirectoryCases (executor: () => Executor): void {
  it.concurrent('a task creating 100,001 files ends with output_limit at the entry limit, and nothing is copied back', async () => {
    let copied: boolean | undefined
    const outcome = await runScript(executor(),
      'import os\nos.mkdir("out")\nfor i in range(100_001):\n    with open("out/%d" % i, "w") as f:\n        f.write("x")\n',
      {}, (dir) => { copied = existsSync(join(dir, 'out')) })
    expect(outcome.status, outcome.error?.message).toBe('output_limit')
    // Stopped one entry past the limit: the task could not create more (tmpfs inodes), or was killed
    // when the sampled count passed it; either way the count after it stopped right there.
    expect(outcome.error?.message).toMatch(/^the task left more than 10,000 files and directories in its task directory \(at least 10,001\); at most 10,000 .*nothing was copied back/)
    expect(DEFAULT_LIMITS.taskDirFiles).toBe(10_000)
    expect(outcome.outputFiles).toEqual([])
    expect(copied).toBe(false)
  })

  it.concurrent('more than copyBackBytes of new files ends with output_limit, and nothing is copied back', async () => {
    let copied: boolean | undefined
    const outcome = await runScript(executor(),
      'for name in ("a", "b"):\n    with open(name, "wb") as f:\n        f.write(b"x" * (600 * 1024))\n',
      { copyBackBytes: 1 * MiB }, (dir) => { copied = existsSync(join(dir, 'a')) || existsSync(join(dir, 'b')) })
    expect(outcome.status, outcome.error?.message).toBe('output_limit')
    expect(outcome.error?.message).toMatch(/^the task left 1\.2 MiB of new or changed files .* at most 1\.0 MiB are copied back \(copyBackBytes\)/)
    expect(outcome.outputFiles).toEqual([])
    expect(copied).toBe(false)
  })
}

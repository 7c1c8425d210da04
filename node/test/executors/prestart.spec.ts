import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BwrapExecutor } from '../../src/executors/bwrap.ts'
import { processesMentioning } from '../../src/self-test.ts'
import { containmentSuite } from './containment.ts'
import type { TaskOutcome, TaskSpec } from '../../src/executors/index.ts'

const MiB = 1024 ** 2
let pooled: BwrapExecutor
let dirs: string[] = []

beforeAll(async () => {
  pooled = new BwrapExecutor({ prestart: 4, log: () => {} })
  await pooled.prestart()
})

afterAll(async () => {
  await pooled.close()
  await Promise.all(dirs.map(async dir => { await rm(dir, { recursive: true, force: true }) }))
  dirs = []
})

/** What a task prints to show it ran in a pre-started interpreter (standby.py), not one started for it. */
const PRESTARTED = 'print("prestarted" if "standby.py" in open("/proc/self/cmdline").read() else "cold", flush=True)\n'

async function taskWith (source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-prestart-test-'))
  dirs.push(dir)
  await writeFile(join(dir, 'main.py'), PRESTARTED + source)
  return dir
}

/** Runs `source` in a sandbox that was waiting for a task: the executor's single-sandbox pool is full first. */
async function runPrestarted (executor: BwrapExecutor, source: string, limits: TaskSpec['limits'] = {}): Promise<TaskOutcome> {
  const dir = await taskWith(source)
  await executor.prestart()
  const outcome = await executor.run({ taskDir: dir, entry: 'main.py', limits })
  expect(outcome.stdout.split('\n')[0], outcome.stderr).toBe('prestarted')
  return outcome
}

function workspaces (): Set<string> {
  return new Set(readdirSync(tmpdir()).filter(name => name.startsWith(`runsurge-task-${process.pid}-`)).map(name => join(tmpdir(), name)))
}

describe('pre-started sandboxes: containment', () => {
  containmentSuite(() => pooled)
})

describe('pre-started sandboxes: one task each', () => {
  let single: BwrapExecutor
  beforeAll(() => { single = new BwrapExecutor({ prestart: 1, log: () => {} }) })
  afterAll(async () => { await single.close() })

  it('a task that leaves a file and a process behind cannot affect the next task', async () => {
    const first = await runPrestarted(single, [
      'import os, subprocess',
      'open("/task/left.txt", "w").write("x")',
      'open("/tmp/left.txt", "w").write("x") if os.access("/tmp", os.W_OK) else None',
      'subprocess.Popen(["/usr/bin/python3", "-c", "import time\\nwhile True: time.sleep(1)"], start_new_session=True)',
      'print(len([p for p in os.listdir("/proc") if p.isdigit()]))'
    ].join('\n') + '\n')
    expect(first.status, first.error?.message).toBe('completed')
    const second = await runPrestarted(single, [
      'import os',
      'print(sorted(os.listdir("/task")))',
      'print(len([p for p in os.listdir("/proc") if p.isdigit()]))'
    ].join('\n') + '\n')
    expect(second.status, second.error?.message).toBe('completed')
    const [, listing, processes] = second.stdout.split('\n')
    expect(listing).toBe("['main.py']")
    // Its own sandbox's init, launcher and interpreter only: the first task's process died with its sandbox.
    expect(Number(processes)).toBeLessThanOrEqual(3)
  })

  it('the memory limit given at the go binds', async () => {
    const outcome = await runPrestarted(single, 'import resource\nprint(resource.getrlimit(resource.RLIMIT_AS))\nx = bytearray(256 * 1024 * 1024)\n', { memoryBytes: 64 * MiB })
    expect(outcome.stdout).toContain(`(${64 * MiB}, ${64 * MiB})`)
    expect(outcome.status, outcome.error?.message).toBe('memory_limit')
  })

  it('the process limit given at the go binds', async () => {
    const outcome = await runPrestarted(single, 'import threading\nev = threading.Event()\nwhile True:\n    threading.Thread(target=ev.wait, daemon=True).start()\n', { maxProcesses: 16, timeoutMs: 20_000 })
    expect(outcome.status, outcome.error?.message).toBe('process_limit')
    expect(outcome.error?.message).toContain("can't start new thread")
  })

  it('the CPU limit given at the go binds, counting from the interpreter\'s start as the cold path does', async () => {
    const outcome = await runPrestarted(single, 'while True:\n    pass\n', { cpuSeconds: 1, timeoutMs: 20_000 })
    expect(outcome.status).toBe('time_limit')
    expect(outcome.signal).toBe('SIGXCPU')
    expect(outcome.metrics.cpuMs).toBeGreaterThanOrEqual(800)
  })

  it('arguments, the entry\'s name and a traceback look as when the entry is run directly', async () => {
    const dir = await taskWith('import sys\nprint(sys.argv, __name__)\nraise ValueError("broken")\n')
    await single.prestart()
    const outcome = await single.run({ taskDir: dir, entry: 'main.py', args: ['a', '--b'] })
    expect(outcome.stdout).toBe("prestarted\n['/task/main.py', 'a', '--b'] __main__\n")
    expect(outcome.status).toBe('runtime_error')
    expect(outcome.stderr).toMatch(/^Traceback \(most recent call last\):\n {2}File "\/task\/main.py", line 4, in <module>\n/)
    expect(outcome.stderr).not.toContain('standby')
  })

  it('the wall clock and the samples start at the go, not when the sandbox started', async () => {
    await single.prestart()
    // The sandbox waits while another task runs from start to end (half a second of CPU, so at least that long):
    // its interpreter is older than that task's run.
    const cold = new BwrapExecutor({ prestart: 0, log: () => {} })
    const coldRun = await cold.run({ taskDir: await taskWith('import time\nwhile time.process_time() < 0.5:\n    pass\n'), entry: 'main.py' })
    expect(coldRun.stdout).toBe('cold\n')
    const afterCold = Date.now()
    const outcome = await runPrestarted(single, 'import os\nticks = os.sysconf("SC_CLK_TCK")\nstart = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])\nprint(round((float(open("/proc/uptime").read().split()[0]) - start / ticks) * 1000))\n')
    expect(outcome.status).toBe('completed')
    const ageMs = Number(outcome.stdout.split('\n')[1])
    expect(ageMs).toBeGreaterThan(coldRun.metrics.wallMs)
    // Not a bound on speed: a wall clock started at the go (after the other task ended) cannot exceed the time since
    // that task ended, however loaded the machine; one started with the sandbox would also count the other task's run.
    expect(outcome.metrics.wallMs).toBeLessThanOrEqual(Date.now() - afterCold)
  })
})

describe('pre-started sandboxes: close', () => {
  it('close() kills every waiting sandbox and removes its workspace', async () => {
    const before = workspaces()
    const executor = new BwrapExecutor({ prestart: 2, log: () => {} })
    await executor.prestart()
    const mine = [...workspaces()].filter(root => !before.has(root))
    expect(mine.length).toBe(2)
    expect(mine.flatMap(root => processesMentioning(root)).length).toBeGreaterThan(0)
    await executor.close()
    expect(mine.filter(root => existsSync(root))).toEqual([])
    expect(mine.flatMap(root => processesMentioning(root))).toEqual([])
    expect(readdirSync('/proc').length).toBeGreaterThan(0)
  })
})

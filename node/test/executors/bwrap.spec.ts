import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExecutor, InvalidTaskError, UnsafeSandboxError } from '../../src/executors/index.ts'
import { processesMentioning } from '../../src/self-test.ts'
import { containmentSuite } from './containment.ts'
import type { Executor, TaskSpec } from '../../src/executors/index.ts'

const MiB = 1024 ** 2
let executor: Executor
let dirs: string[] = []

beforeAll(() => {
  executor = createExecutor({ kind: 'bwrap' })
})

afterAll(async () => {
  await executor.close()
  await Promise.all(dirs.map(async dir => { await rm(dir, { recursive: true, force: true }) }))
  dirs = []
})

/** A task directory holding `main.py` (and any other files given). */
async function taskWith (source: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-bwrap-test-'))
  dirs.push(dir)
  await writeFile(join(dir, 'main.py'), source)
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return dir
}

async function run (source: string, limits: TaskSpec['limits'] = {}, files: Record<string, string> = {}): Promise<Awaited<ReturnType<Executor['run']>> & { dir: string }> {
  const dir = await taskWith(source, files)
  const outcome = await executor.run({ taskDir: dir, entry: 'main.py', limits })
  return { ...outcome, dir }
}

describe('bwrap executor: leftovers', () => {
  it('sweeps work directories and mounts left by a node that was killed mid-task', async () => {
    // A real dead pid: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid
    const root = join(tmpdir(), `runsurge-task-${dead}-stale`)
    await mkdir(join(root, 'task'), { recursive: true })
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'runsurge-task', join(root, 'task')])
    const fresh = createExecutor({ kind: 'bwrap', log: () => {} })
    const outcome = await fresh.run({ taskDir: await taskWith('print("ok")'), entry: 'main.py' })
    await fresh.close()
    expect(outcome.status).toBe('completed')
    expect(existsSync(root)).toBe(false)
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(root)
  })
})

describe('bwrap executor: containment', () => {
  containmentSuite(() => executor)
})

describe.concurrent('bwrap executor: limits and outcomes', () => {
  it('a clean exit is completed; text on stderr alone is not a failure', async () => {
    const outcome = await run('import sys, warnings\nwarnings.warn("careful")\nprint("hello")\nsys.stderr.write("just a note\\n")\n')
    expect(outcome.status).toBe('completed')
    expect(outcome.exitCode).toBe(0)
    expect(outcome.stdout).toBe('hello\n')
    expect(outcome.stderr).toContain('careful')
    expect(outcome.error).toBeUndefined()
  })

  it('a non-zero exit is a runtime_error carrying stderr', async () => {
    const outcome = await run('import sys\nsys.stderr.write("broken input\\n")\nsys.exit(7)\n')
    expect(outcome.status).toBe('runtime_error')
    expect(outcome.exitCode).toBe(7)
    expect(outcome.error?.message).toContain('broken input')
  })

  it('files the task writes come back to the task directory; inputs stay untouched', async () => {
    const outcome = await run('import os\nos.makedirs("out/deep", exist_ok=True)\nopen("out/deep/r.txt", "w").write(open("in.txt").read().upper())\nos.symlink("/etc/shadow", "link")\n', {}, { 'in.txt': 'data' })
    expect(outcome.status).toBe('completed')
    expect(outcome.outputFiles).toEqual(['out/deep/r.txt'])
    expect(await readFile(join(outcome.dir, 'out/deep/r.txt'), 'utf8')).toBe('DATA')
    expect(await readFile(join(outcome.dir, 'in.txt'), 'utf8')).toBe('data')
    // Symlinks the task leaves are never followed nor copied back.
    expect(existsSync(join(outcome.dir, 'link'))).toBe(false)
  })

  it('the CPU-seconds rlimit ends a busy task with time_limit', async () => {
    const outcome = await run('while True:\n    pass\n', { cpuSeconds: 1, timeoutMs: 20_000 })
    expect(outcome.status).toBe('time_limit')
    // SIGXCPU: the kernel's CPU limit ended it, not the 20 s wall clock (which would be a SIGKILL).
    expect(outcome.signal).toBe('SIGXCPU')
    expect(outcome.error?.message).toMatch(/more than its 1 CPU seconds/)
    // The kernel enforces on exact runtime, rusage reports tick-sampled time: close, not equal.
    expect(outcome.metrics.cpuMs).toBeGreaterThanOrEqual(800)
  })

  it('a file larger than maxFileBytes ends with output_limit', async () => {
    const outcome = await run('open("big", "wb").write(b"x" * (8 * 1024 * 1024))\n', { maxFileBytes: 1 * MiB })
    expect(outcome.status).toBe('output_limit')
  })

  it('filling the task directory past taskDirBytes ends with output_limit', async () => {
    const outcome = await run('for i in range(64):\n    open("f%d" % i, "wb").write(b"x" * (1024 * 1024))\n', { taskDirBytes: 8 * MiB })
    expect(outcome.status).toBe('output_limit')
  })

  it('without a tmpfs the task directory\'s entries are counted while it runs: 100,001 files end with output_limit', async () => {
    const unmounted = createExecutor({ kind: 'bwrap', mountTmpfs: false, log: () => {} })
    const dir = await taskWith('import os\nos.mkdir("out")\nfor i in range(100_001):\n    with open("out/%d" % i, "w") as f:\n        f.write("x")\n')
    const outcome = await unmounted.run({ taskDir: dir, entry: 'main.py', limits: { taskDirFiles: 2_000 } })
    await unmounted.close()
    expect(outcome.status, outcome.error?.message).toBe('output_limit')
    // Killed by the node once a count passed the limit (a SIGKILL, not the task's own exit), and the
    // count after it stopped one entry past the limit: nothing was walked, let alone copied, beyond it.
    expect(outcome.signal).toBe('SIGKILL')
    expect(outcome.error?.message).toMatch(/more than 2,000 files and directories .*\(at least 2,001\)/)
    expect(outcome.outputFiles).toEqual([])
    expect(existsSync(join(dir, 'out'))).toBe(false)
  })

  it('flooding stdout past maxOutputBytes ends with output_limit and keeps only a tail', async () => {
    const outcome = await run('import sys\nwhile True:\n    sys.stdout.write("y" * 65536)\n', { maxOutputBytes: 1 * MiB })
    expect(outcome.status).toBe('output_limit')
    expect(outcome.stdout.length).toBeLessThanOrEqual(64 * 1024)
  })

  it('threads count against the process limit', async () => {
    const outcome = await run('import threading\nev = threading.Event()\nwhile True:\n    threading.Thread(target=ev.wait, daemon=True).start()\n', { maxProcesses: 16, timeoutMs: 20_000 })
    expect(outcome.status).toBe('process_limit')
    expect(outcome.error?.message).toContain("can't start new thread")
  })

  it('aborting kills the task tree and rejects with AbortError', async () => {
    const dir = await taskWith('import os\nos.fork()\nopen("started", "w").close()\nwhile True:\n    pass\n')
    const controller = new AbortController()
    const tag = `abort-${Date.now()}`
    const running = executor.run({ taskDir: dir, entry: 'main.py', args: ['--task', tag], limits: { timeoutMs: 30_000 } }, {
      signal: controller.signal,
      onProgress: (event) => { if (event.type === 'sample' && event.processes >= 2) controller.abort() }
    })
    await expect(running).rejects.toMatchObject({ name: 'AbortError' })
    expect(processesMentioning(tag)).toEqual([])
  })

  it('reports progress samples while a task runs, and averages memory over the time it was held', async () => {
    // The task ends by itself: a wall-clock limit would make what it manages to do depend on the machine's load.
    const dir = await taskWith('import time\nx = b"a" * (64 * 1024 * 1024)\ntime.sleep(1)\n')
    let maxRss = 0
    let firstHighMs: number | undefined
    let lastMs = 0
    const outcome = await executor.run({ taskDir: dir, entry: 'main.py' }, {
      onProgress: (event) => {
        if (event.type !== 'sample') return
        maxRss = Math.max(maxRss, event.rssBytes)
        lastMs = event.elapsedMs
        if (event.rssBytes > 64 * MiB) firstHighMs ??= event.elapsedMs
      }
    })
    expect(outcome.status).toBe('completed')
    expect(maxRss).toBeGreaterThan(64 * MiB)
    // Time-weighted: at least the block's share of the sampled time (less 10% for the edges), however
    // long the interpreter took to start.
    const heldShare = (lastMs - (firstHighMs ?? lastMs)) / lastMs
    expect(heldShare).toBeGreaterThan(0)
    expect(outcome.metrics.avgMemoryBytes).toBeGreaterThanOrEqual(64 * MiB * heldShare * 0.9)
    expect(outcome.metrics.avgMemoryBytes).toBeLessThanOrEqual(outcome.metrics.peakMemoryBytes)
  })

  it('rejects an entry outside the task directory', async () => {
    const dir = await taskWith('')
    await expect(executor.run({ taskDir: dir, entry: '../etc/passwd' })).rejects.toBeInstanceOf(InvalidTaskError)
  })

  it('a missing interpreter is a sandbox_error, not the task\'s fault', async () => {
    const broken = createExecutor({ kind: 'bwrap', python: '/usr/bin/python3', bwrapPath: '/bin/false' })
    const outcome = await broken.run({ taskDir: await taskWith('print(1)'), entry: 'main.py' })
    await broken.close()
    expect(outcome.status).toBe('sandbox_error')
  })

  it('the none executor is refused without the explicit unsafe opt-in', () => {
    expect(() => createExecutor({ kind: 'none' } as never)).toThrow(UnsafeSandboxError)
  })

  it('the none executor runs with limits and says loudly that it is unsafe', async () => {
    const lines: string[] = []
    const none = createExecutor({ kind: 'none', unsafe: true, log: (m) => { lines.push(m) } })
    const outcome = await none.run({ taskDir: await taskWith('import os\nprint(sorted(os.environ), os.getuid())\nx = []\nwhile True:\n    x.append(b"x" * 1048576)\n'), entry: 'main.py', limits: { memoryBytes: 64 * MiB } })
    expect(outcome.status).toBe('memory_limit')
    // Even unsandboxed, none of the node's variables reach the task.
    // ...and a root node still does not run tasks as root.
    expect(outcome.stdout).toContain("['HOME', 'LANG', 'PATH', 'TMPDIR'] 65534")
    expect(lines.join('\n')).toMatch(/WITHOUT A SANDBOX/)
  })
})

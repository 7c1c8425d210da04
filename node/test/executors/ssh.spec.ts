/**
 * The SSH executor against a real OpenSSH server on 127.0.0.1 (started here with its own keys and
 * config). The "remote box" is this machine, which has bubblewrap, so the task runs under bwrap there
 * as uid 65534: the containment properties are the same as the bwrap executor's.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExecutor, parseSshTarget, runPythonTask, SshExecutorError } from '../../src/executors/index.ts'
import { processesMentioning } from '../../src/self-test.ts'
import { startSshd } from '../fixtures/sshd.ts'
import { containmentSuite } from './containment.ts'
import type { Executor } from '../../src/executors/index.ts'
import type { TestSshd } from '../fixtures/sshd.ts'

const MiB = 1024 ** 2
let sshd: TestSshd
let executor: Executor
const logs: string[] = []

beforeAll(async () => {
  sshd = await startSshd()
  executor = createExecutor({
    kind: 'ssh',
    host: '127.0.0.1',
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.privateKeyPath,
    hostFingerprint: sshd.hostFingerprint,
    log: (m) => { logs.push(m) }
  })
})

afterAll(async () => {
  await executor?.close()
  await sshd?.stop()
})

describe('ssh executor: containment (bwrap on the remote box)', () => {
  containmentSuite(() => executor)
})

describe.concurrent('ssh executor', () => {
  it('runs a job over SFTP and returns its exact result and output files', async () => {
    const outcome = await runPythonTask({
      executor,
      script: 'def main(data):\n    open("extra.txt", "w").write("made remotely")\n    return {"rows": len(data), "big": 2**100}\n',
      input: { name: 'rows.csv', data: 'a\n1\n2\n3\n' }
    })
    expect(outcome.status).toBe('completed')
    expect(outcome.resultJson).toBe('{"rows":3,"big":1267650600228229401496703205376}')
    expect(outcome.outputFiles).toEqual(['extra.txt', 'result.json'])
    expect(executor.describe()).toMatch(/bubblewrap on the remote box as uid 65534/)
  })

  it('keeps the task directory: outputs in subdirectories come back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runsurge-ssh-test-'))
    try {
      await writeFile(join(dir, 'main.py'), 'import os\nos.makedirs("a/b")\nopen("a/b/c.txt", "w").write(open("in.txt").read() * 2)\n')
      await writeFile(join(dir, 'in.txt'), 'xy')
      const outcome = await executor.run({ taskDir: dir, entry: 'main.py' })
      expect(outcome.status).toBe('completed')
      expect(outcome.outputFiles).toEqual(['a/b/c.txt'])
      expect(await readFile(join(dir, 'a/b/c.txt'), 'utf8')).toBe('xyxy')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a job that rewrites its input never changes the caller\'s file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runsurge-ssh-input-'))
    try {
      const path = join(dir, 'precious.txt')
      await writeFile(path, 'original\n')
      const outcome = await runPythonTask({ executor, script: 'import glob\ndef main(data):\n    for name in glob.glob("input*"):\n        open(name, "w").write("clobbered!")\n    return data\n', input: { path } })
      expect(outcome.result).toEqual(['original'])
      expect(await readFile(path, 'utf8')).toBe('original\n')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a Python exception is a runtime_error with the traceback', async () => {
    const outcome = await runPythonTask({ executor, script: 'def main(data):\n    return 1 / 0\n' })
    expect(outcome.status).toBe('runtime_error')
    expect(outcome.error?.message).toMatch(/ZeroDivisionError: division by zero$/)
  })

  it('aborting kills the remote task and rejects with AbortError', async () => {
    const controller = new AbortController()
    const taskId = `ssh-abort-${Date.now()}`
    const running = runPythonTask({ executor, script: 'def main(data):\n    while True:\n        pass\n', taskId, limits: { timeoutMs: 30_000 } }, {
      signal: controller.signal,
      onProgress: (event) => { if (event.type === 'sample' && event.processes >= 1) controller.abort() }
    })
    await expect(running).rejects.toMatchObject({ name: 'AbortError' })
    expect(processesMentioning(taskId)).toEqual([])
  })

  it('without bwrap on the remote box, tasks still run under rlimits and the node\'s limits', async () => {
    const plain = createExecutor({ kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: 'root', privateKey: sshd.privateKey, hostFingerprint: sshd.hostFingerprint, isolation: 'none', log: () => {} })
    try {
      const [ok, bomb] = await Promise.all([
        runPythonTask({ executor: plain, script: 'import os\ndef main(data):\n    return [os.getuid(), sorted(os.environ)]\n' }),
        runPythonTask({ executor: plain, script: 'def main(data):\n    x = []\n    while True:\n        x.append(b"x" * 1048576)\n', limits: { memoryBytes: 96 * MiB } })
      ])
      expect(ok.status, JSON.stringify(ok.error)).toBe('completed')
      // Dropped from root to nobody, with a clean environment.
      expect(ok.result).toEqual([65534, ['HOME', 'LANG', 'PATH', 'TMPDIR']])
      expect(bomb.status, JSON.stringify(bomb.error)).toBe('memory_limit')
      expect(bomb.metrics.peakMemoryBytes).toBeLessThanOrEqual(96 * MiB)
      expect(plain.describe()).toMatch(/no sandbox on the remote box/)
    } finally {
      await plain.close()
    }
  })

  it('a host key that does not match the pinned fingerprint is a sandbox_error', async () => {
    const wrong = createExecutor({ kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: 'root', privateKey: sshd.privateKey, hostFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', log: () => {} })
    const outcome = await runPythonTask({ executor: wrong, script: 'def main(data):\n    return 1\n' })
    expect(outcome.status).toBe('sandbox_error')
    expect(outcome.error?.message).toMatch(/cannot connect/)
    await wrong.close()
  })

  it('parses user@host[:port] targets', () => {
    expect(parseSshTarget('runner@10.0.0.5:2222')).toEqual({ username: 'runner', host: '10.0.0.5', port: 2222 })
    expect(parseSshTarget('runner@vm.local')).toEqual({ username: 'runner', host: 'vm.local', port: 22 })
    expect(parseSshTarget('me@[::1]:22')).toEqual({ username: 'me', host: '::1', port: 22 })
    expect(() => parseSshTarget('nohost')).toThrow(SshExecutorError)
  })
})

// Sequential, after the concurrent tests: it checks that no remote task directory is left at all.
describe('ssh executor: closing', () => {
  const isMonitor = (pid: number): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('sampler.py')
    } catch {
      return true // already gone
    }
  }
  const leftDirectories = (): string[] => readdirSync(tmpdir()).filter(name => /^runsurge-[A-Za-z0-9]{8}$/.test(name))

  it('a connection lost under a running task ends the run as a sandbox_error; a new connection kills the task and removes its directory', async () => {
    const own = createExecutor({ kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: 'root', privateKey: sshd.privateKey, hostFingerprint: sshd.hostFingerprint, log: () => {} })
    const taskId = `ssh-lost-${Date.now()}`
    let cut: number | undefined
    try {
      const outcome = await runPythonTask({ executor: own, script: 'def main(data):\n    while True:\n        pass\n', taskId, limits: { timeoutMs: 60_000 } }, {
        onProgress: (event) => {
          if (event.type !== 'sample' || event.processes < 1 || cut !== undefined) return
          // The box's side of this connection: the sshd process the monitor runs under. Killing it drops the
          // connection the way a network failure would; the task and its monitor (which ignores the hang-up) go on.
          const monitor = processesMentioning(taskId).find(pid => isMonitor(pid))
          const stat = readFileSync(`/proc/${monitor ?? 0}/stat`, 'latin1')
          cut = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
          expect(readFileSync(`/proc/${cut}/comm`, 'latin1')).toMatch(/^sshd/)
          process.kill(cut, 'SIGKILL')
        }
      })
      expect(cut).toBeGreaterThan(0)
      expect(outcome.status).toBe('sandbox_error')
      // Killed at once (not at the monitor's deadline backstop, a minute away), its directory gone.
      expect(processesMentioning(taskId).filter(pid => !isMonitor(pid))).toEqual([])
      expect(leftDirectories()).toEqual([])
    } finally {
      await own.close()
    }
  })

  it('closing the executor kills its running tasks on the box and removes their directories', async () => {
    const own = createExecutor({ kind: 'ssh', host: '127.0.0.1', port: sshd.port, username: 'root', privateKey: sshd.privateKey, hostFingerprint: sshd.hostFingerprint, log: () => {} })
    const taskId = `ssh-close-${Date.now()}`
    let closing: Promise<void> | undefined
    const outcome = await runPythonTask({ executor: own, script: 'def main(data):\n    while True:\n        pass\n', taskId, limits: { timeoutMs: 30_000 } }, {
      onProgress: (event) => { if (event.type === 'sample' && event.processes >= 1) closing ??= own.close() }
    })
    await closing
    expect(outcome.status).toBe('sandbox_error')
    // The remote monitor notices the tree is gone on its next sample and exits by itself; the task's
    // processes are gone as soon as close() resolves.
    const taskProcesses = processesMentioning(taskId).filter(pid => !isMonitor(pid))
    expect(taskProcesses).toEqual([])
    // Nothing else runs over SSH now (this block is not concurrent), so any task directory left is its.
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toMatch(/runsurge-[A-Za-z0-9]{8}\/task /)
    expect(leftDirectories()).toEqual([])
  })
})

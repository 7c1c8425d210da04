import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { executorConfigFromOptions, runSandboxCommand, UsageError } from '../src/commands/sandbox.ts'
import { runSelfTestCommand } from '../src/commands/self-test.ts'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runsurge-cli-sandbox-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function capture (): { io: { stdout: (t: string) => void, stderr: (t: string) => void }, out: () => string, err: () => string } {
  let out = ''
  let err = ''
  return { io: { stdout: (t) => { out += t }, stderr: (t) => { err += t } }, out: () => out, err: () => err }
}

const defaults = { mode: 'auto', memory: '256M', timeout: '20', json: true }

describe.concurrent('runsurge sandbox', () => {
  it('prints {"status","result","error","metrics"} with the exact result and exits 0', async () => {
    const job = join(dir, 'sum.py')
    const input = join(dir, 'numbers.jsonl')
    await writeFile(job, 'def main(data):\n    return {"total": sum(data), "big": 3 ** 60, "mean": sum(data) / len(data)}\n')
    await writeFile(input, '1\n2\n4\n')
    const c = capture()
    const code = await runSandboxCommand(job, { ...defaults, input }, c.io)
    expect(code).toBe(0)
    expect(c.out()).toMatch(/^\{"status":"completed","result":\{"total":7,"big":42391158275216203514294433201,"mean":2.3333333333333335\},"error":null,"metrics":\{"wallMs":\d+/)
    const parsed = JSON.parse(c.out()) as { metrics: Record<string, number> }
    expect(Object.keys(parsed.metrics)).toEqual(['wallMs', 'cpuMs', 'peakMemoryBytes', 'avgMemoryBytes', 'peakProcesses', 'samples'])
  })

  it('exits 1 with the error code and message when the job fails', async () => {
    const job = join(dir, 'hog.py')
    await writeFile(job, 'def main(data):\n    x = []\n    while True:\n        x.append(b"x" * 1048576)\n')
    const c = capture()
    const code = await runSandboxCommand(job, { ...defaults, memory: '64M' }, c.io)
    expect(code).toBe(1)
    const out = JSON.parse(c.out()) as { status: string, result: unknown, error: { code: string, message: string } }
    expect(out.status).toBe('memory_limit')
    expect(out.result).toBeNull()
    expect(out.error.code).toBe('memory_limit')
    expect(out.error.message).toContain('64 MiB')
  })

  it('honours --timeout', async () => {
    const job = join(dir, 'spin.py')
    await writeFile(job, 'def main(data):\n    while True:\n        pass\n')
    const c = capture()
    expect(await runSandboxCommand(job, { ...defaults, timeout: '1' }, c.io)).toBe(1)
    expect(JSON.parse(c.out())).toMatchObject({ status: 'time_limit', error: { code: 'time_limit' } })
  })

  it('prints a readable report without --json', async () => {
    const job = join(dir, 'hello.py')
    await writeFile(job, 'def main(data):\n    print("working")\n    return ["hello", 2 ** 64]\n')
    const c = capture()
    expect(await runSandboxCommand(job, { ...defaults, json: false }, c.io)).toBe(0)
    expect(c.out()).toContain('status: completed')
    expect(c.out()).toContain('18446744073709551616')
    expect(c.out()).toContain('working')
  })

  it('rejects unusable command lines with exit 2', async () => {
    const job = join(dir, 'ok.py')
    await writeFile(job, 'def main(data):\n    return 1\n')
    const badSize = capture()
    expect(await runSandboxCommand(job, { ...defaults, memory: 'lots' }, badSize.io)).toBe(2)
    expect(JSON.parse(badSize.out())).toMatchObject({ status: 'rejected', error: { code: 'usage' } })
    const missing = capture()
    expect(await runSandboxCommand(join(dir, 'nope.py'), defaults, missing.io)).toBe(2)
    const unsafe = capture()
    expect(await runSandboxCommand(job, { ...defaults, sandbox: 'none' }, unsafe.io)).toBe(2)
    expect(unsafe.out()).toContain('--unsafe-no-sandbox')
  })

  it('maps the executor options to a config', () => {
    expect(executorConfigFromOptions({})).toEqual({ kind: 'bwrap' })
    expect(executorConfigFromOptions({ unsafeNoSandbox: true })).toEqual({ kind: 'none', unsafe: true })
    expect(executorConfigFromOptions({ sandbox: 'ssh', ssh: 'u@h:2200', sshKey: '/k' })).toEqual({ kind: 'ssh', username: 'u', host: 'h', port: 2200, privateKeyPath: '/k' })
    expect(() => executorConfigFromOptions({ sandbox: 'ssh' })).toThrow(UsageError)
  })
})

describe('runsurge node --self-test', () => {
  it('runs every probe under bwrap and reports that each property holds', async () => {
    const c = capture()
    const code = await runSelfTestCommand({ json: true }, c.io)
    const report = JSON.parse(c.out()) as { holds: boolean, probes: Array<{ name: string, holds: boolean, detail: string }> }
    expect(report.probes.filter(p => !p.holds)).toEqual([])
    expect(report.probes.map(p => p.name)).toEqual([
      'home-unreadable', 'no-writes-outside-task-dir', 'no-network', 'no-host-processes-or-env',
      'fork-bomb-contained', 'memory-bomb-contained', 'infinite-loop-contained', 'syscalls-denied', 'peak-memory-accurate'
    ])
    expect(code).toBe(0)
  })
})

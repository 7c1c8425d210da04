import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { register } from '../src/commands/analyze.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-analyze-'))
  process.env.RUNSURGE_PYTHON = '/usr/bin/python3'
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `runsurge analyze …args` in-process; returns stdout and the exit code it set. */
async function run (...args: string[]): Promise<{ stdout: string, code: number }> {
  const program = new Command().exitOverride()
  register(program)
  let stdout = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  })
  process.exitCode = 0
  try {
    await program.parseAsync(['node', 'runsurge', 'analyze', ...args])
  } finally {
    write.mockRestore()
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = 0
  return { stdout, code }
}

describe('runsurge analyze', () => {
  it('prints a rejection as JSON and exits 2', async () => {
    const job = join(dir, 'bad.py')
    await writeFile(job, 'import subprocess\n\n\ndef main(data):\n    return subprocess.run(["ls"])\n')
    const { stdout, code } = await run(job, '--json')
    expect(code).toBe(2)
    const out = JSON.parse(stdout) as Record<string, unknown>
    expect(Object.keys(out)).toEqual(['status', 'error', 'findings'])
    expect(out).toMatchObject({ status: 'rejected', error: { code: 'SECURITY_VIOLATION', line: 1 } })
    expect((out.findings as unknown[]).length).toBe(3)
  })

  it('rejects a syntax error with its line', async () => {
    const job = join(dir, 'broken.py')
    await writeFile(job, 'def main(data):\n    return [x for x in data\n')
    const { stdout, code } = await run(job, '--json')
    expect(code).toBe(2)
    expect(JSON.parse(stdout)).toMatchObject({ status: 'rejected', error: { code: 'SYNTAX_ERROR', line: 2 } })
  })

  it('reports a missing file as a usage rejection', async () => {
    const { stdout, code } = await run(join(dir, 'missing.py'), '--json')
    expect(code).toBe(2)
    expect(JSON.parse(stdout)).toMatchObject({ status: 'rejected', error: { code: 'USAGE' } })
  })

  it('analyzes and calibrates with --input, as JSON', async () => {
    const job = join(dir, 'mean.py')
    const input = join(dir, 'numbers.json')
    await writeFile(job, 'def main(data):\n    mean = sum(data) / len(data)\n    return [x - mean for x in data]\n')
    await writeFile(input, JSON.stringify(Array.from({ length: 3000 }, (_, i) => i * 1.5)))
    const { stdout, code } = await run(job, '--input', input, '--json')
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    expect(report.status).toBe('accepted')
    // A .json array is analyzed as the JSON Lines the coordinator gives its tasks.
    expect(report.memory).toMatchObject({ basis: 'calibrated', format: 'jsonl', elements: 3000 })
    expect(report.blocks.map((b: { class: string }) => b.class)).toEqual(['opaque', 'map'])
    expect(report.plan).toMatchObject({ level: 1, tasks: 1 })
  })

  it('plans an automatic job for --nodes nodes offering --node-memory, as the coordinator would', async () => {
    const job = join(dir, 'squares.py')
    const input = join(dir, 'numbers.txt')
    await writeFile(job, 'def main(data):\n    squares = [int(x) ** 2 for x in data]\n    return sum(squares)\n')
    await writeFile(input, Array.from({ length: 200_000 }, (_, i) => String(i * 7)).join('\n') + '\n')
    const roomy = JSON.parse((await run(job, '--input', input, '--nodes', '2', '--node-memory', '4G', '--json', '--no-calibrate')).stdout)
    expect(roomy.plan).toMatchObject({ level: 3, mesh: { nodes: 2, nodeMemoryBytes: 4 * 1024 ** 3 } })
    const small = JSON.parse((await run(job, '--input', input, '--nodes', '3', '--node-memory', '24M', '--json', '--no-calibrate')).stdout)
    expect(small.plan.level).toBe(3)
    expect(small.plan.chunks).toBeGreaterThan(2)
    expect(small.plan.tasks).toBe(small.plan.chunks + 1)
    expect(small.plan.reasons.join('\n')).toMatch(/does not fit the largest node \(24.0 MiB\)/)
    const tiny = await run(job, '--input', input, '--nodes', '2', '--node-memory', '1M', '--no-calibrate')
    expect(tiny.code).toBe(0)
    expect(tiny.stdout).toContain('Plan on 2 nodes offering 1.0 MiB each:')
    expect(tiny.stdout).toMatch(/does not fit: line \d+ \(`.*`\) needs about [\d.]+ MiB per chunk even at 256 chunks/)
  })

  it('prints a readable report by default', async () => {
    const job = join(dir, 'sum.py')
    await writeFile(job, 'def main(data):\n    total = sum(data)\n    return total\n')
    const { stdout, code } = await run(job)
    expect(code).toBe(0)
    expect(stdout).toContain('sum.py: ACCEPTED (auto mode, 3 lines)')
    expect(stdout).toContain('b0 lines 2-2: reduce over data; no dependencies; level 0')
    expect(stdout).toContain('s0 -> s1  total:2 (flow)')
  })
})

/**
 * `runsurge run` on its embedded mesh (a coordinator and node processes, real bubblewrap and python3), and
 * `submit` / `status` / `result` against a coordinator process: the CLI a submitter uses.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, ROOT, kill, runsurge, tempDir } from '../helpers/index.ts'
import type { RunsurgeProcess } from '../helpers/index.ts'

/** Runs `runsurge ARGS…` to its end; resolves with its exit code and output. */
async function cli (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

let dir: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => { dir = await tempDir() })
afterAll(async () => { await dir?.remove() })

describe('runsurge run (embedded mesh)', () => {
  it('runs an automatic job on an embedded mesh of two nodes and prints the exact result as JSON', async () => {
    const job = join(dir.path, 'auto.py')
    await writeFile(job, 'def main(data):\n    return {"n": len(data), "total": sum(int(x) for x in data), "big": 3 ** 80, "third": 1 / 3}\n')
    const input = join(dir.path, 'numbers.txt')
    await writeFile(input, Array.from({ length: 500 }, (_, i) => String(i * 7)).join('\n') + '\n')
    const { code, stdout, stderr } = await cli(['run', job, '--input', input, '--nodes', '2', '--node-memory', '256M', '--json'])
    expect(code, stderr).toBe(0)
    expect(stdout).toContain(`"big":${(3n ** 80n).toString()}`)
    const out = JSON.parse(stdout)
    expect(out).toMatchObject({ status: 'completed', result: { n: 500, total: 7 * 499 * 500 / 2, third: 1 / 3 }, plan: { level: 1, tasks: 1 } })
    expect(out.cost.price).toBeGreaterThanOrEqual(out.cost.contributors)
    expect(out.metrics.attempts).toBe(1)
  })

  it('runs a manual job split in 3 tasks with aggregate()', async () => {
    const job = join(dir.path, 'manual.py')
    await writeFile(job, [
      'def process(input_data):',
      '    words = input_data.split()',
      '    return {"words": len(words), "chars": sum(len(w) for w in words)}',
      '',
      'def aggregate(results):',
      '    return {"parts": len(results), "words": sum(r["words"] for r in results), "chars": sum(r["chars"] for r in results)}',
      ''
    ].join('\n'))
    const lines = Array.from({ length: 300 }, (_, i) => `alpha beta${i} gamma`)
    const input = join(dir.path, 'words.txt')
    await writeFile(input, lines.join('\n') + '\n')
    const { code, stdout, stderr } = await cli(['run', job, '--input', input, '--mode', 'manual', '--tasks', '3', '--nodes', '2', '--node-memory', '256M', '--task-memory', '64M', '--json'])
    expect(code, stderr).toBe(0)
    const words = lines.flatMap(line => line.split(' '))
    expect(JSON.parse(stdout)).toMatchObject({ status: 'completed', result: { parts: 3, words: words.length, chars: words.join('').length }, plan: { tasks: 4 } })
  })

  it('exits 2 with the scanner\'s finding for a dangerous job, and 1 with the error for a failing one', async () => {
    const bad = join(dir.path, 'bad.py')
    await writeFile(bad, 'import subprocess\n\n\ndef main(data):\n    return subprocess.run(["id"]).returncode\n')
    const rejected = await cli(['run', bad, '--nodes', '1', '--json'])
    expect(rejected.code).toBe(2)
    expect(JSON.parse(rejected.stdout)).toMatchObject({ status: 'rejected', error: { code: expect.any(String), line: expect.any(Number) } })

    const failing = join(dir.path, 'failing.py')
    await writeFile(failing, 'def main(data):\n    raise ValueError("no good input here")\n')
    const failed = await cli(['run', failing, '--nodes', '1', '--json'])
    expect(failed.code).toBe(1)
    const out = JSON.parse(failed.stdout)
    expect(out).toMatchObject({ status: 'failed', error: { code: 'runtime_error' } })
    expect(out.error.message).toContain('no good input here')
  })
})

describe('runsurge submit, status and result against a coordinator', () => {
  let coordinator: RunsurgeProcess
  let node: RunsurgeProcess
  let env: Record<string, string>

  beforeAll(async () => {
    const data = join(dir.path, 'coordinator')
    coordinator = runsurge(['coordinator', '--data', data, '--http', '127.0.0.1:0'])
    await coordinator.waitForLine(/"http"/)
    const info = JSON.parse(await readFile(join(data, 'coordinator.json'), 'utf8'))
    node = runsurge(['node', '--coordinator', join(data, 'coordinator.json'), '--data', join(dir.path, 'node'), '--memory', '512M'])
    await node.waitForLine(/registered with the coordinator/)
    env = { RUNSURGE_COORDINATOR: info.http, RUNSURGE_TOKEN: info.adminToken }
  })
  afterAll(async () => {
    if (node !== undefined) await kill(node, 'SIGTERM')
    if (coordinator !== undefined) await kill(coordinator, 'SIGTERM')
  })

  it('submits, then reads status and the same result object as run --json', async () => {
    const job = join(dir.path, 'grouped.py')
    await writeFile(job, 'def process(input_data):\n    return {"lines": len(input_data.splitlines())}\n')
    const agg = join(dir.path, 'agg.py')
    await writeFile(agg, 'def aggregate(results):\n    return sorted(r["lines"] for r in results)\n')
    const inputs = [3, 1, 2].map(n => join(dir.path, `part-${n}.txt`))
    await Promise.all([3, 1, 2].map(async (n, i) => { await writeFile(inputs[i] ?? '', 'x\n'.repeat(n)) }))
    const submitted = await cli(['submit', job, ...inputs.flatMap(input => ['--input', input]), '--aggregate', agg, '--task-memory', '64M', '--json'], env)
    expect(submitted.code, submitted.stderr).toBe(0)
    const { id } = JSON.parse(submitted.stdout)
    expect(id).toMatch(/^[0-9a-f-]{36}$/)

    const result = await cli(['result', id, '--wait', '--json'], env)
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ id, status: 'completed', result: [1, 2, 3], plan: { mode: 'grouped', tasks: 4 } })

    const status = await cli(['status', id, '--json'], env)
    expect(JSON.parse(status.stdout)).toMatchObject({ id, status: 'completed', progress: { total: 4, completed: 4 } })
  })

  it('says what is missing when no coordinator or token is given', async () => {
    const job = join(dir.path, 'grouped.py')
    const out = await cli(['submit', job, '--json'], { RUNSURGE_COORDINATOR: '', RUNSURGE_TOKEN: '' })
    expect(out.code).toBe(2)
    expect(JSON.parse(out.stdout).error.message).toMatch(/coordinator/)
    const wrong = await cli(['status', 'nope', '--json'], { ...env, RUNSURGE_TOKEN: 'not-a-token' })
    expect(wrong.code).toBe(1)
    expect(JSON.parse(wrong.stdout).error.message).toMatch(/401/)
  })
})

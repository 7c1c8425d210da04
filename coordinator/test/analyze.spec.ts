/** POST /api/analyze: the submit page's verdict before a job is sent, through the real app. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ASSUMED_BYTES_PER_SECOND, ASSUMED_INTERPRETER_BYTES, ASSUMED_TASK_STARTUP_MS } from '../src/routes/api/analyze/index.ts'
import { jobCost, taskEarning } from '../src/jobs/billing.ts'
import { startTestApi } from './helpers/api.ts'
import type { TestApi } from './helpers/api.ts'

let api: TestApi
let cookie: string

beforeAll(async () => {
  api = await startTestApi()
  cookie = (await api.signUp('analyst')).cookie
})
afterAll(async () => { await api?.close() })

const analyze = async (payload: unknown, headers: Record<string, string> = { cookie }) =>
  await api.request({ method: 'POST', url: '/api/analyze', headers, payload: payload as Record<string, unknown> })

describe('POST /api/analyze', () => {
  it('refuses strangers', async () => {
    const response = await analyze({ source: 'def main(data):\n    return 1\n', mode: 'auto' }, {})
    expect(response.statusCode).toBe(401)
  })

  it('gives the findings of a dangerous job with their lines, and no estimate', async () => {
    const source = 'import subprocess\n\n\ndef main(data):\n    return subprocess.run(["id"]).returncode\n'
    const response = await analyze({ source, mode: 'auto' })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body.status).toBe('rejected')
    expect(body.error).toMatchObject({ code: 'SECURITY_VIOLATION', line: expect.any(Number) })
    expect(body.findings.length).toBeGreaterThan(0)
    for (const finding of body.findings) {
      expect(finding).toMatchObject({ rule: expect.any(String), message: expect.any(String), line: expect.any(Number), severity: expect.any(String), blocking: expect.any(Boolean) })
    }
    expect(body.findings.some((f: { line: number, blocking: boolean }) => f.line === 1 && f.blocking)).toBe(true)
    expect(body.estimate).toBeUndefined()
  })

  it('puts a syntax error on its line', async () => {
    const body = (await analyze({ source: 'def main(data)\n    return 1\n', mode: 'auto' })).json()
    expect(body).toMatchObject({ status: 'rejected', error: { code: 'SYNTAX_ERROR', line: 1 } })
  })

  it('estimates memory at the input\'s size from a sample, the blocks of main, and a cost', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `${i},item-${i},${i * 3}`)
    const text = ['id,name,value', ...lines].join('\n') + '\n'
    const source = 'def main(data):\n    values = [int(row["value"]) for row in data]\n    return sum(values)\n'
    const inputBytes = Buffer.byteLength(text) * 10
    const body = (await analyze({ source, mode: 'auto', inputBytes, format: 'csv', sample: text })).json()
    expect(body.status).toBe('accepted')
    expect(body.memory.elements).toBeGreaterThan(9_000)
    expect(body.memory.elements).toBeLessThan(11_000)
    expect(body.memory.peakBytes).toBeGreaterThan(body.memory.elements * 50)
    expect(body.blocks.length).toBeGreaterThanOrEqual(2)
    expect(body.blocks[1].dependsOn).toContain(body.blocks[0].id)
    const wall = Math.round(ASSUMED_TASK_STARTUP_MS + inputBytes / ASSUMED_BYTES_PER_SECOND * 1000)
    const memory = body.memory.peakBytes + ASSUMED_INTERPRETER_BYTES
    const cost = jobCost(1000, [taskEarning(1000, wall, 1, memory)])
    expect(cost.price).toBeGreaterThan(0)
    expect(body.estimate).toMatchObject({ tasks: 1, taskWallMs: wall, taskMemoryBytes: memory, machineFactor: 1, price: cost.price, contributors: cost.contributors, platform: cost.platform })
    expect(body.estimate.basis).toMatch(/assumed/)
  })

  it('counts a whole small input exactly and guesses without a sample', async () => {
    const source = 'def main(data):\n    return len(data)\n'
    const whole = (await analyze({ source, mode: 'auto', inputBytes: 8, format: 'json', sample: '[1,2,3] ' })).json()
    expect(whole.memory.elements).toBe(3)
    const guessed = (await analyze({ source, mode: 'auto', inputBytes: 6400, format: 'text' })).json()
    expect(guessed.memory.elements).toBe(100)
  })

  it('prices a manual job from its tasks and their memory', async () => {
    const source = 'def process(input_data):\n    return {"n": len(input_data)}\n'
    const body = (await analyze({ source, mode: 'manual', inputBytes: 32 * 1024 * 1024, tasks: 4, taskMemory: 256 * 1024 * 1024 })).json()
    expect(body.status).toBe('accepted')
    expect(body.memory).toBeUndefined()
    const wall = Math.round(ASSUMED_TASK_STARTUP_MS + 8 * 1024 * 1024 / ASSUMED_BYTES_PER_SECOND * 1000)
    const earning = taskEarning(1000, wall, 1, 256 * 1024 * 1024)
    expect(body.estimate).toMatchObject({ tasks: 4, taskMemoryBytes: 256 * 1024 * 1024, taskWallMs: wall, contributors: 4 * earning })
  })

  it('validates the body and takes sources up to 1 MiB', async () => {
    expect((await analyze({ source: 'x', mode: 'sideways' })).statusCode).toBe(400)
    expect((await analyze({ source: 'x', mode: 'auto', extra: true })).statusCode).toBe(400)
    const big = 'def main(data):\n    return 1\n\n\nTEXT = "' + 'x'.repeat(1_000_000) + '"\n'
    const response = await analyze({ source: big, mode: 'auto' })
    expect(response.statusCode).toBe(200)
    expect(response.json().status).toBe('accepted')
  })
})

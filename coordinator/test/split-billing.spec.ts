import { describe, expect, it } from 'vitest'
import { bill, jobCost, taskEarning } from '../src/jobs/billing.ts'
import { cutParts } from '../../protocols/src/index.ts'

async function * pieces (text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

async function cut (text: string, parts: number, pieceSize: number): Promise<string[]> {
  const out: string[] = []
  const decoder = new TextDecoder()
  for await (const { part, bytes } of cutParts(pieces(text, pieceSize), new TextEncoder().encode(text).length, parts)) {
    out[part] = (out[part] ?? '') + decoder.decode(bytes)
  }
  return out
}

describe('splitting a manual job\'s input', () => {
  it('makes exactly the requested number of parts, each of whole lines, in order, whatever the read sizes', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n'
    for (const parts of [1, 2, 3, 4, 7, 16]) {
      for (const pieceSize of [1, 7, 64, 1 << 20]) {
        const out = await cut(text, parts, pieceSize)
        expect(out).toHaveLength(parts)
        expect(out.join('')).toBe(text)
        for (const part of out) expect(part.endsWith('\n')).toBe(true)
        const sizes = out.map(part => part.length)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(30)
      }
    }
  })

  it('keeps a last line without a newline, and gives fewer parts when lines are longer than a part', async () => {
    expect(await cut('a\nb\nc', 3, 2)).toEqual(['a\n', 'b\n', 'c'])
    const long = `${'x'.repeat(100)}\n${'y'.repeat(100)}\n`
    const out = await cut(long, 10, 16)
    expect(out.filter(part => part !== undefined)).toEqual([`${'x'.repeat(100)}\n`, `${'y'.repeat(100)}\n`])
  })
})

describe('billing', () => {
  it('pays unit rate × seconds × machine factor × average GB, in whole micro-units', () => {
    // 1000 µ/(s·GB) × 2.5 s × 1.5 × 0.2 GB = 750
    expect(taskEarning(1000, 2500, 1.5, 200_000_000)).toBe(750)
    expect(taskEarning(1000, 1, 1, 1)).toBe(0)
  })

  it('bills an attempt that held the node at least one micro-unit, however little it measured', () => {
    const node = { id: 'n1', peerId: 'p', account: 'contributor', cpus: 2, memoryBytes: 1e9, benchmark: 1, version: 'v', registeredAt: 0, lastSeen: 0, status: 'alive' as const }
    const task = { id: 'j.0', jobId: 'j', attempt: 1 } as unknown as Parameters<typeof bill>[0]
    const tiny = bill(task, { taskId: 'j.0', status: 'process_limit', metrics: { wallMs: 40, cpuMs: 30, peakMemoryBytes: 0, avgMemoryBytes: 0 } } as unknown as Parameters<typeof bill>[1], node, { unitRate: 1000, now: 1 }, true)
    expect(tiny.billed.earning).toBe(1)
    expect(tiny.record).toMatchObject({ amount: 1, attempt: 1, account: 'contributor', status: 'pending' })
    const measured = bill(task, { taskId: 'j.0', status: 'completed', metrics: { wallMs: 2500, cpuMs: 2500, peakMemoryBytes: 3e8, avgMemoryBytes: 2e8 } } as unknown as Parameters<typeof bill>[1], { ...node, benchmark: 1.5 }, { unitRate: 1000, now: 1 }, false)
    expect(measured.billed.earning).toBe(750)
    // Nothing ran (no wall time at all): nothing is owed.
    expect(bill(task, { taskId: 'j.0', status: 'sandbox_error' } as unknown as Parameters<typeof bill>[1], node, { unitRate: 1000, now: 1 }, true).billed.earning).toBe(0)
  })

  it('charges 1.2 × the contributors\' sum, rounded half up, and the platform keeps the rest', () => {
    expect(jobCost(1000, [750, 250])).toEqual({ contributors: 1000, price: 1200, platform: 200, unitRate: 1000 })
    expect(jobCost(1000, [3])).toMatchObject({ price: 4, platform: 1 }) // 3.6 → 4
    expect(jobCost(1000, [2])).toMatchObject({ price: 2, platform: 0 }) // 2.4 → 2
    expect(jobCost(1000, [])).toMatchObject({ contributors: 0, price: 0, platform: 0 })
  })
})

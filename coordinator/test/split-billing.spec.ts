import { describe, expect, it } from 'vitest'
import { jobCost, taskEarning } from '../src/jobs/billing.ts'
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

  it('charges 1.2 × the contributors\' sum, rounded half up, and the platform keeps the rest', () => {
    expect(jobCost(1000, [750, 250])).toEqual({ contributors: 1000, price: 1200, platform: 200, unitRate: 1000 })
    expect(jobCost(1000, [3])).toMatchObject({ price: 4, platform: 1 }) // 3.6 → 4
    expect(jobCost(1000, [2])).toMatchObject({ price: 2, platform: 0 }) // 2.4 → 2
    expect(jobCost(1000, [])).toMatchObject({ contributors: 0, price: 0, platform: 0 })
  })
})

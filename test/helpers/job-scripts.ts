/**
 * The jobs the jobs specs submit (Python, over files of integers) and what the tests compute themselves to check
 * their results.
 */
import { expect } from 'vitest'

/** Manual job over a file of integers, one a line; aggregate() combines the chunks. */
export const SUM_SCRIPT = `
def process(input_data: str) -> dict:
    numbers = [int(line) for line in input_data.split('\\n') if line.strip() != '']
    return {'count': len(numbers), 'sum': sum(numbers), 'min': min(numbers), 'max': max(numbers)}


def aggregate(results: list) -> dict:
    return {
        'count': sum(r['count'] for r in results),
        'sum': sum(r['sum'] for r in results),
        'min': min(r['min'] for r in results),
        'max': max(r['max'] for r in results),
        'parts': len(results),
    }
`
/** Manual job without aggregate(): the result is the list of these dicts, in chunk order. */
export const RANGE_SCRIPT = `
def process(input_data: str) -> dict:
    numbers = [int(line) for line in input_data.split('\\n') if line.strip() != '']
    return {'first': numbers[0], 'last': numbers[-1], 'count': len(numbers), 'sum': sum(numbers)}
`
/** Same contract as RANGE_SCRIPT, spinning `iterations` times a chunk (40,000,000: about two seconds). */
const spinScript = (iterations: number): string => `
def process(input_data: str) -> dict:
    numbers = [int(line) for line in input_data.split('\\n') if line.strip() != '']
    spin = 0
    for i in range(${iterations}):
        spin = (spin + i) % 7
    return {'first': numbers[0], 'last': numbers[-1], 'count': len(numbers), 'sum': sum(numbers), 'spin': spin}
`
/** Long enough that a kill lands mid-task. */
export const SLOW_SCRIPT = spinScript(40_000_000)
/** About half a second a chunk. */
export const SPIN_SCRIPT = spinScript(8_000_000)
export const FAILING_SCRIPT = `
def process(input_data: str) -> dict:
    raise ValueError('boom: this chunk is cursed')
`
/** The scanner refuses it: subprocess reaches the contributor's machine. */
export const UNSAFE_SCRIPT = `import subprocess


def process(input_data: str) -> dict:
    return {'id': subprocess.check_output(['id']).decode()}
`
export const GROUP_SCRIPT = `
def process(input_data: str) -> dict:
    words = input_data.split()
    return {'words': len(words), 'sum': sum(int(w) for w in words)}
`
export const GROUP_AGGREGATE = `
def aggregate(results: list) -> dict:
    return {'files': len(results), 'sums': [r['sum'] for r in results], 'words': sum(r['words'] for r in results)}
`

/** `count` pseudo-random integers (some negative), one a line. */
export function numbers (count: number, seed: number): number[] {
  // Park–Miller: every product stays below 2^53, so the sequence is exact.
  let x = seed
  return Array.from({ length: count }, () => {
    x = (x * 48271) % 2147483647
    return (x % 200_001) - 100_000
  })
}
export const lines = (values: number[]): string => values.map(v => `${v}\n`).join('')
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
export const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)

/** The list a RANGE_SCRIPT-style job returns covers the input once, chunk after chunk, in order. */
export function expectChunksInOrder (result: Array<{ first: number, last: number, count: number, sum: number }>, input: number[], parts: number): void {
  expect(result).toHaveLength(parts)
  expect(result[0]?.first).toBe(input[0])
  expect(result.at(-1)?.last).toBe(input.at(-1))
  for (const [i, chunk] of result.entries()) {
    expect(chunk.count).toBeGreaterThan(0)
    expect(chunk.last - chunk.first + 1).toBe(chunk.count)
    expect(chunk.sum).toBe(sum(range(chunk.first, chunk.last)))
    if (i > 0) expect(chunk.first).toBe((result[i - 1]?.last ?? NaN) + 1)
  }
  expect(sum(result.map(chunk => chunk.count))).toBe(input.length)
}

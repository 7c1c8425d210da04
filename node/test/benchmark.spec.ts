import { describe, expect, it } from 'vitest'
import { REFERENCE_SECONDS, runBenchmark } from '../src/benchmark.ts'
import { createExecutor } from '../src/executors/index.ts'

describe('benchmark', () => {
  it('measures this machine in the sandbox and reports a factor relative to the reference', async () => {
    const executor = createExecutor({ kind: 'bwrap' })
    const result = await runBenchmark(executor, { rounds: 3 })
    expect(result.rounds).toHaveLength(3)
    expect(result.bestSeconds).toBe(Math.min(...result.rounds))
    expect(result.referenceSeconds).toBe(REFERENCE_SECONDS)
    expect(result.factor).toBeCloseTo(REFERENCE_SECONDS / result.bestSeconds, 1)
    // No lower bound on the factor: that would be an upper bound on wall time, which a loaded machine
    // breaks. The upper one is a lower bound on time (no round of this workload runs in 1.1 ms).
    expect(result.factor).toBeGreaterThan(0)
    expect(result.factor).toBeLessThan(100)
  })
})

import { describe, expect, it } from 'vitest'
import { jobCost, taskEarning as coordinatorEarning } from '../../coordinator/src/jobs/billing.ts'
import { jobPrice, taskEarning, workedExample } from '../src/lib/billing.ts'

describe('the guide\'s payment model', () => {
  it('computes exactly what the coordinator bills', () => {
    for (const [rate, wall, factor, memory] of [[1000, 12_000, 1.25, 5e8], [1000, 1_234, 0.8, 3.3e7], [250, 999, 2.5, 1.2e9]] as const) {
      expect(taskEarning(rate, wall, factor, memory)).toBe(coordinatorEarning(rate, wall, factor, memory))
    }
    for (const contributors of [0, 1, 2, 3, 18_550, 123_457]) expect(jobPrice(contributors)).toBe(jobCost(1000, [contributors]).price)
  })

  it('works the example through', () => {
    const example = workedExample()
    expect(example.tasks.map(t => t.earning)).toEqual([7500, 6250, 4800])
    expect(example).toMatchObject({ contributors: 18_550, price: 22_260, platform: 3_710 })
  })
})

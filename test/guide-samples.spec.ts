/** The user guide's sample code follows its own template: the analyzer accepts every sample. */
import { describe, expect, it } from 'vitest'
import { analyze } from '../analyzer/src/index.ts'
import { AUTO_SAMPLE, GROUPED_SAMPLE, MANUAL_SAMPLE } from '../ui/src/lib/guide-samples.ts'

const blocking = (source: string, mode: 'auto' | 'manual'): string[] =>
  analyze(source, { mode }).findings.filter(f => ['ERROR', 'CRITICAL'].includes(f.severity)).map(f => `${f.line}: ${f.ruleId}: ${f.message}`)

describe('the guide\'s samples', () => {
  it('are accepted as the kind of job they illustrate', () => {
    expect(blocking(AUTO_SAMPLE, 'auto')).toEqual([])
    expect(blocking(MANUAL_SAMPLE, 'manual')).toEqual([])
    // Two files in one listing: the processing script, then the aggregation script.
    const [processing, aggregation] = GROUPED_SAMPLE.split(/^(?=# sales_aggregate\.py)/m)
    expect(blocking(processing ?? '', 'manual')).toEqual([])
    expect(blocking(aggregation ?? '', 'manual').filter(f => !f.includes('template/process-missing'))).toEqual([])
    expect(aggregation).toMatch(/^def aggregate\(/m)
  })
})

import { describe, expect, it } from 'vitest'
import { definesAggregate, formProblems, inputFormat, nameFromFile } from '../src/lib/job-form.ts'
import type { FormState } from '../src/lib/job-form.ts'

const form = (fields: Partial<FormState> = {}): FormState => ({ kind: 'auto', hasScript: true, inputs: 1, hasAggregate: false, tasks: '2', taskMemory: '', timeout: '', ...fields })

describe('the submit form', () => {
  it('loads inputs by extension, as the runtime does', () => {
    expect(inputFormat('data.JSON')).toBe('json')
    expect(inputFormat('rows.ndjson')).toBe('jsonl')
    expect(inputFormat('sales.csv')).toBe('csv')
    expect(inputFormat('words.txt')).toBe('text')
    expect(nameFromFile('word_count.py')).toBe('word_count')
  })

  it('finds aggregate() at module level only', () => {
    expect(definesAggregate('def aggregate(results):\n    return results\n')).toBe(true)
    expect(definesAggregate('class A:\n    def aggregate(self):\n        pass\n')).toBe(false)
  })

  it('says what each kind of job is missing', () => {
    expect(formProblems(form())).toEqual({})
    expect(formProblems(form({ hasScript: false, inputs: 2 }))).toEqual({
      script: 'Choose the Python file of the job.',
      inputs: 'An automatic job reads one input file; choose “grouped” for several.'
    })
    expect(Object.keys(formProblems(form({ kind: 'manual', inputs: 0, tasks: '0' })))).toEqual(['inputs', 'tasks'])
    expect(Object.keys(formProblems(form({ kind: 'grouped', inputs: 0 })))).toEqual(['inputs', 'aggregate'])
    expect(formProblems(form({ taskMemory: '8M' })).taskMemory).toMatch(/16M/)
    expect(formProblems(form({ taskMemory: 'big' })).taskMemory).toMatch(/size/)
    expect(formProblems(form({ timeout: '1.5' })).timeout).toMatch(/whole number/)
  })
})

import { describe, expect, it } from 'vitest'
import { analyze } from '../src/index.ts'

function templateFindings (source: string, mode: 'auto' | 'manual' = 'auto'): string[] {
  return analyze(source, { mode }).findings.filter(f => f.category === 'template').map(f => `${f.line}:${f.ruleId}`)
}

describe('template checks, automatic mode', () => {
  it('accepts imports from the allow-list, constants, helpers, classes and main(data)', () => {
    const source = [
      '"""Job docstring."""', 'import math', 'from collections import Counter', 'import statistics as st', '',
      'LIMIT = 10 * 1024', 'NAMES = ("a", "b")', 'WEIGHTS = {"a": 1.5, "b": -2}', 'PATTERN = re_free = None', 'TAU = math.pi * 2', '',
      'class Point:', '    """A point."""', '    dims = 2', '', '    def norm(self):', '        return math.hypot(self.x, self.y)', '', '',
      'def helper(x):', '    return x * LIMIT', '', '', 'def main(data, verbose=False):', '    return [helper(x) for x in data]', ''
    ].join('\n')
    const report = analyze(source)
    expect(report.findings).toEqual([])
    expect(report.status).toBe('accepted')
  })

  it('requires main(data)', () => {
    const report = analyze('def process(input_data):\n    return {}\n')
    expect(report.status).toBe('rejected')
    expect(report.error).toMatchObject({ code: 'TEMPLATE_VIOLATION', line: 1 })
    expect(report.error?.message).toBe('line 1: no main(data) function at module level')
    expect(report.findings[0]?.note).toContain('define `def main(data):`')
  })

  it('requires main to take exactly one argument', () => {
    expect(templateFindings('def main():\n    return 1\n')).toEqual(['1:template/entry-signature'])
    expect(templateFindings('def main(data, other):\n    return 1\n')).toEqual(['1:template/entry-signature'])
    expect(templateFindings('def main(data, other=1):\n    return 1\n')).toEqual([])
  })

  it('rejects code at module level, with a message naming it', () => {
    const source = 'import json\nrows = json.loads("[]")\nfor r in rows:\n    pass\nprint("hi")\n\n\ndef main(data):\n    return data\n'
    expect(templateFindings(source)).toEqual(['3:template/module-code', '5:template/module-code'])
    const report = analyze(source)
    expect(report.findings.find(f => f.line === 3)?.message).toBe('module level may hold only imports, function definitions and constants, not a for statement')
    // json.loads of a constant is allowed: a pure call of an allowed module on constants.
    expect(report.findings.some(f => f.line === 2)).toBe(false)
  })

  it('rejects a module-level call of a user function as not a constant', () => {
    expect(templateFindings('def f():\n    return []\n\n\nX = f()\n\n\ndef main(data):\n    return data\n')).toEqual(['5:template/module-code'])
  })

  it("rejects the `if __name__ == '__main__':` block with advice", () => {
    const report = analyze('def main(data):\n    return data\n\n\nif __name__ == "__main__":\n    main([1])\n')
    expect(report.findings.map(f => f.ruleId)).toEqual(['template/main-guard'])
    expect(report.findings[0]?.note).toContain('calls main(data) itself')
  })

  it('allows only pure standard modules, also inside functions', () => {
    expect(templateFindings('import numpy\n\n\ndef main(data):\n    return data\n')).toEqual(['1:template/import-not-allowed'])
    expect(templateFindings('import random\n\n\ndef main(data):\n    return data\n')).toEqual(['1:template/import-not-allowed'])
    expect(templateFindings('def main(data):\n    import time\n    return data\n')).toEqual(['2:template/import-not-allowed'])
    expect(templateFindings('from . import helpers\n\n\ndef main(data):\n    return data\n')).toEqual(['1:template/relative-import'])
    expect(templateFindings('from math import *\n\n\ndef main(data):\n    return data\n')).toEqual(['1:template/wildcard-import'])
    expect(templateFindings('import urllib.parse\n\n\ndef main(data):\n    return data\n')).toEqual([])
  })

  it('rejects decorators that run code, duplicate and async definitions', () => {
    expect(templateFindings('import functools\n\n\n@functools.lru_cache(maxsize=128)\ndef f(x):\n    return x\n\n\ndef main(data):\n    return data\n')).toEqual([])
    expect(templateFindings('@register\ndef f(x):\n    return x\n\n\ndef main(data):\n    return data\n')).toEqual(['1:template/decorator'])
    expect(templateFindings('def main(data):\n    return 1\n\n\ndef main(data):\n    return 2\n')).toEqual(['5:template/duplicate-function'])
    expect(templateFindings('async def main(data):\n    return data\n')).toEqual(['1:template/async-function'])
  })
})

describe('template checks, manual mode', () => {
  it('requires process(input_data) and accepts an optional aggregate(results)', () => {
    expect(templateFindings('def process(input_data):\n    return {"n": len(input_data)}\n\n\ndef aggregate(results):\n    return results\n', 'manual')).toEqual([])
    expect(templateFindings('def main(data):\n    return data\n', 'manual')).toEqual(['1:template/process-missing'])
    expect(templateFindings('def process(input_data):\n    return {}\n\n\ndef aggregate():\n    return 1\n', 'manual')).toEqual(['5:template/entry-signature'])
  })

  it('analyzes process() and leaves memory to the submitter', () => {
    const report = analyze('def process(input_data):\n    lines = input_data.splitlines()\n    return {"n": len(lines)}\n', { mode: 'manual' })
    expect(report.status).toBe('accepted')
    expect(report.ddg?.function).toBe('process')
    expect(report.ddg?.params).toEqual(['input_data'])
    expect(report.memory).toBeUndefined()
  })
})

describe('code that runs when the module loads', () => {
  it('rejects default values and class bases that call functions', () => {
    expect(templateFindings('def helper(x, seen=None, limit=10 * 2):\n    return x\n\n\ndef main(data):\n    return data\n')).toEqual([])
    expect(templateFindings('def f():\n    return 1\n\n\ndef helper(x, n=f()):\n    return x\n\n\ndef main(data):\n    return data\n')).toEqual(['5:template/default-value'])
    expect(templateFindings('class A(make_base()):\n    pass\n\n\ndef main(data):\n    return data\n')).toEqual(['1:template/class-base'])
    expect(templateFindings('class A(Base, metaclass=Meta):\n    pass\n\n\ndef main(data):\n    return data\n')).toEqual(['1:template/class-base'])
  })
})

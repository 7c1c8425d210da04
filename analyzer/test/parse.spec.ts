import { describe, expect, it } from 'vitest'
import { analyze, BinarySourceError, EmptySourceError, MAX_SOURCE_BYTES, PythonSyntaxError, SourceTooLargeError } from '../src/index.ts'
import { parsePython } from '../src/parse.ts'
import { PYTHON, runPython } from '../../corpus/python.ts'

const VALID = 'def main(data):\n    return [x * 2 for x in data]\n'

describe('malformed Python', () => {
  // Each case: source, the 1-based line and column of the error, and a phrase of the message.
  const cases: Array<[string, number, number, string]> = [
    ['def main(data):\n    x = (1 +\n    return x\n', 2, 9, "'(' was never closed"],
    ['def main(data)\n    return data\n', 1, 15, "expected ':'"],
    ['def main(data):\n    total = sum(data))\n    return total\n', 2, 22, "unmatched ')'"],
    ['def main(data):\n    for x in data:\n    return data\n', 3, 5, "expected an indented block after 'for' statement on line 2"],
    ['def main(data):\n    values = [1, 2\n\n\n', 2, 14, "'[' was never closed"],
    ['def main(data):\n    print "hi"\n    return data\n', 2, 5, "Missing parentheses in call to 'print'"],
    ['def main(data):\n    return data\n\nx = = 1\n', 4, 5, 'invalid syntax'],
    ['def f(:\n    pass\n', 1, 7, 'invalid syntax']
  ]
  for (const [source, line, column, phrase] of cases) {
    it(`rejects ${JSON.stringify(source.split('\n')[0] ?? '')}… at line ${line}, column ${column}`, () => {
      let error: unknown
      try {
        parsePython(source)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(PythonSyntaxError)
      expect((error as PythonSyntaxError).line).toBe(line)
      expect((error as PythonSyntaxError).message).toContain(phrase)
      expect((error as PythonSyntaxError).column).toBe(column)
      expect((error as PythonSyntaxError).message).toMatch(new RegExp(`^line ${line}, column ${column}: `))
    })
  }

  it('agrees with CPython on the line and column of each error', async () => {
    const script = 'import json, sys\nout = []\nfor src in json.load(sys.stdin):\n    try:\n        compile(src, "job.py", "exec")\n        out.append(None)\n    except SyntaxError as e:\n        out.append([e.lineno, e.offset])\nprint(json.dumps(out))\n'
    const places = JSON.parse(await runPython(script, JSON.stringify(cases.map(c => c[0])))) as Array<[number, number] | null>
    expect(places).toEqual(cases.map(c => [c[1], c[2]]))
  })

  it('reports a syntax error as a rejection with code, message and line', () => {
    const report = analyze('def main(data):\n    return [x for x in data\n')
    expect(report).toMatchObject({ status: 'rejected', error: { code: 'SYNTAX_ERROR', line: 2, column: 12 }, findings: [] })
    expect(report.error?.message).toBe("line 2, column 12: '[' was never closed: return [x for x in data")
  })

  it('accepts valid Python 3 that tree-sitter handles (decorators, f-strings, walrus, match)', () => {
    const source = [
      'import functools', '', '', '@functools.lru_cache(maxsize=None)', 'def f(n: int) -> int:', '    return n if n < 2 else f(n - 1) + f(n - 2)',
      '', '', 'def main(data):', '    if (n := len(data)) > 3:', '        pass', '    match n:', '        case 0:', '            return []', '        case _:',
      '            return [f"{x!r:>10}" for x in data]', ''
    ].join('\n')
    expect(() => parsePython(source)).not.toThrow()
  })
})

describe('files that are not Python source', () => {
  it('rejects an empty file', () => {
    expect(() => parsePython('')).toThrow(EmptySourceError)
    expect(analyze(new Uint8Array())).toMatchObject({ status: 'rejected', error: { code: 'EMPTY_SOURCE' } })
  })

  it('rejects a file of whitespace only', () => {
    expect(analyze(' \n\t\n\n')).toMatchObject({ status: 'rejected', error: { code: 'EMPTY_SOURCE', message: 'the file is empty: a job must define main(data)' } })
  })

  it('rejects NUL bytes as binary, with the line', () => {
    const report = analyze(Buffer.from('def main(data):\n    return data\x00\x01\n'))
    expect(report).toMatchObject({ status: 'rejected', error: { code: 'BINARY_SOURCE', line: 2 } })
    expect(() => parsePython('x = 1\0')).toThrow(BinarySourceError)
  })

  it('rejects invalid UTF-8 (e.g. Latin-1 or a binary upload), with the line', () => {
    const latin1 = Buffer.concat([Buffer.from('def main(data):\n    # caf'), Buffer.from([0xE9]), Buffer.from('\n    return data\n')])
    expect(analyze(latin1)).toMatchObject({ status: 'rejected', error: { code: 'BINARY_SOURCE', line: 2 } })
    const png = Buffer.from([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0xFF, 0xD8])
    expect(analyze(png).error?.code).toBe('BINARY_SOURCE')
  })

  it('rejects a file larger than MAX_SOURCE_BYTES, and accepts one just under it', () => {
    // Padding inside a docstring: the largest file that is cheap to analyze.
    const head = '"""'
    const tail = '"""\n' + VALID
    const under = head + 'x'.repeat(MAX_SOURCE_BYTES - head.length - tail.length) + tail
    expect(Buffer.byteLength(under)).toBe(MAX_SOURCE_BYTES)
    expect(analyze(under).status).toBe('accepted')
    const over = under + '\n'
    expect(Buffer.byteLength(over)).toBeGreaterThan(MAX_SOURCE_BYTES)
    expect(() => parsePython(over)).toThrow(SourceTooLargeError)
    expect(analyze(Buffer.from(over)).error).toMatchObject({ code: 'SOURCE_TOO_LARGE' })
    expect(analyze(over).error?.message).toContain('at most 1048576 bytes')
  })

  it('rejects long runs of comment lines, which stall the parser, and accepts ordinary ones', () => {
    const stalling = VALID + '    # padding\n'.repeat(5000)
    const started = performance.now()
    const report = analyze(stalling)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(report.error).toMatchObject({ code: 'SOURCE_TOO_LARGE' })
    expect(report.error?.message).toContain('5000 in a row from line 3')
    const header = '# Copyright notice\n'.repeat(200) + VALID
    expect(analyze(header).status).toBe('accepted')
  })

  it('accepts a UTF-8 byte order mark and CRLF line endings', () => {
    const source = Buffer.concat([Buffer.from([0xEF, 0xBB, 0xBF]), Buffer.from(VALID.replaceAll('\n', '\r\n'))])
    expect(analyze(source).status).toBe('accepted')
  })

  it('uses the fast Debian interpreter in tests', () => {
    expect(PYTHON).toBe('/usr/bin/python3')
  })
})

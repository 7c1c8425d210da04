import { cleanup, render, screen } from '@solidjs/testing-library'
import { afterEach, describe, expect, it } from 'vitest'
import { SourceFindings } from '../src/components/source-findings.tsx'
import { findingsSummary, isBlocking, sourceLines, sourceSegments, worstSeverity } from '../src/lib/findings.ts'

afterEach(cleanup)

const SOURCE = [
  'import subprocess',
  '',
  '',
  'def main(data):',
  '    return subprocess.run(["id"]).returncode',
  ''
].join('\n')

const FINDINGS = [
  { rule: 'subprocess-call', message: 'subprocess.run(): runs a command', line: 5, column: 12, severity: 'CRITICAL' },
  { rule: 'dangerous-import', message: 'import of subprocess', line: 1, column: 1, severity: 'ERROR' },
  { rule: 'print-output', message: 'print() goes to the log', line: 5, column: 1, severity: 'INFO' }
]

describe('findings against lines', () => {
  it('hangs each finding on its line, in column order, with the line\'s worst severity', () => {
    const { lines, unplaced } = sourceLines(SOURCE, FINDINGS)
    expect(lines).toHaveLength(5)
    expect(lines[0]).toMatchObject({ number: 1, text: 'import subprocess', severity: 'ERROR' })
    expect(lines[4]?.findings.map(f => f.rule)).toEqual(['print-output', 'subprocess-call'])
    expect(lines[4]?.severity).toBe('CRITICAL')
    expect(lines[1]?.findings).toEqual([])
    expect(unplaced).toEqual([])
  })

  it('keeps findings that point past the end apart', () => {
    const { unplaced } = sourceLines('x = 1\n', [{ rule: 'r', message: 'm', line: 9 }])
    expect(unplaced).toHaveLength(1)
  })

  it('folds a long file to the flagged lines and their context', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line_${i + 1} = ${i}`).join('\n')
    const { lines } = sourceLines(text, [{ rule: 'r', message: 'm', line: 50, severity: 'ERROR' }])
    const segments = sourceSegments(lines, 2)
    expect(segments.map(s => s.kind)).toEqual(['gap', 'lines', 'gap'])
    expect(segments[0]).toEqual({ kind: 'gap', from: 1, to: 47, count: 47 })
    expect(segments[1]?.kind === 'lines' && segments[1].lines.map(l => l.number)).toEqual([48, 49, 50, 51, 52])
    expect(segments[2]).toEqual({ kind: 'gap', from: 53, to: 100, count: 48 })
  })

  it('never folds a single line, and shows short files whole', () => {
    const text = Array.from({ length: 60 }, (_, i) => `v${i} = ${i}`).join('\n')
    const { lines } = sourceLines(text, [{ rule: 'r', message: 'm', line: 10 }, { rule: 'r', message: 'm', line: 16 }])
    const segments = sourceSegments(lines, 2)
    // 8..12 and 14..18 with 13 between them: one run.
    expect(segments.filter(s => s.kind === 'lines')).toHaveLength(1)
    expect(sourceSegments(sourceLines(SOURCE, FINDINGS).lines)).toHaveLength(1)
  })

  it('summarizes and ranks severities', () => {
    expect(findingsSummary(FINDINGS)).toBe('2 blocking findings, 1 note')
    expect(findingsSummary([])).toBe('No findings')
    expect(worstSeverity(['INFO', 'WARNING'])).toBe('WARNING')
    expect(isBlocking('WARNING')).toBe(false)
    expect(isBlocking(undefined)).toBe(true)
  })

  it('renders each finding under its line, and a syntax error on its line', () => {
    render(() => <SourceFindings source={SOURCE} findings={FINDINGS} fileName='bad.py' />)
    expect(screen.getByTestId('findings-summary').textContent).toBe('2 blocking findings, 1 note')
    const first = document.querySelector('[data-line="1"]')
    expect(first?.classList.contains('source__line--error')).toBe(true)
    expect(first?.querySelector('[role="note"]')?.textContent).toContain('import of subprocess')
    const fifth = document.querySelector('[data-line="5"]')
    expect(fifth?.querySelectorAll('[role="note"]')).toHaveLength(2)
    expect(fifth?.querySelector('[data-rule="subprocess-call"] .finding__severity')?.textContent).toBe('blocks')
    expect(document.querySelector('[data-line="2"] [role="note"]')).toBeNull()
    cleanup()

    render(() => <SourceFindings source={'def main(data)\n    return 1\n'} findings={[]} error={{ code: 'SYNTAX_ERROR', message: 'expected ":"', line: 1 }} fileName='broken.py' />)
    expect(document.querySelector('[data-line="1"] [data-rule="SYNTAX_ERROR"]')?.textContent).toContain('expected ":"')
  })
})

/**
 * Findings against the source: which lines carry which findings, the worst severity of each line, and the parts of
 * a long file worth showing (the flagged lines with a little context, gaps folded).
 */

export const SEVERITY_ORDER = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const
export type Severity = typeof SEVERITY_ORDER[number]

/** What the view needs of a finding (the analyzer's and a stored job's both fit). */
export interface LineFinding {
  rule: string
  message: string
  line: number
  column?: number
  severity?: string
  note?: string
}

export interface SourceLine<F extends LineFinding = LineFinding> {
  /** 1-based. */
  number: number
  text: string
  findings: F[]
  /** The worst severity on the line, if any finding is there. */
  severity?: Severity
}

export type SourceSegment<F extends LineFinding = LineFinding> =
  | { kind: 'lines', lines: Array<SourceLine<F>> }
  | { kind: 'gap', from: number, to: number, count: number }

export function severityRank (severity: string | undefined): number {
  const rank = SEVERITY_ORDER.indexOf((severity ?? 'ERROR').toUpperCase() as Severity)
  return rank < 0 ? SEVERITY_ORDER.indexOf('ERROR') : rank
}

/** ERROR and CRITICAL reject a job; a finding of unknown severity counts as an error. */
export function isBlocking (severity: string | undefined): boolean {
  return severityRank(severity) >= severityRank('ERROR')
}

/** The worst of some severities. */
export function worstSeverity (severities: Array<string | undefined>): Severity | undefined {
  if (severities.length === 0) return undefined
  return SEVERITY_ORDER[Math.max(...severities.map(severityRank))]
}

/** Splits a source into lines and hangs each finding on its line (in column order). */
export function sourceLines<F extends LineFinding> (source: string, findings: readonly F[]): { lines: Array<SourceLine<F>>, unplaced: F[] } {
  const texts = source.replace(/\r\n?/g, '\n').split('\n')
  if (texts.length > 1 && texts.at(-1) === '') texts.pop()
  const lines: Array<SourceLine<F>> = texts.map((text, i) => ({ number: i + 1, text, findings: [] }))
  const unplaced: F[] = []
  for (const finding of findings) {
    const line = lines[finding.line - 1]
    if (line === undefined) unplaced.push(finding)
    else line.findings.push(finding)
  }
  for (const line of lines) {
    if (line.findings.length === 0) continue
    line.findings.sort((a, b) => (a.column ?? 0) - (b.column ?? 0) || severityRank(b.severity) - severityRank(a.severity))
    const worst = worstSeverity(line.findings.map(f => f.severity))
    if (worst !== undefined) line.severity = worst
  }
  return { lines, unplaced }
}

/**
 * The lines worth showing: all of a short file (or one without findings), otherwise each flagged line with
 * `context` lines around it, and gaps for what is folded away. A gap of a single line is shown instead.
 */
export function sourceSegments<F extends LineFinding> (lines: Array<SourceLine<F>>, context = 3, showAllBelow = 40): Array<SourceSegment<F>> {
  const flagged = lines.filter(line => line.findings.length > 0).map(line => line.number)
  if (lines.length <= showAllBelow || flagged.length === 0) return lines.length === 0 ? [] : [{ kind: 'lines', lines }]
  const keep = new Set<number>()
  for (const n of flagged) for (let k = n - context; k <= n + context; k++) if (k >= 1 && k <= lines.length) keep.add(k)
  // Folding one line saves nothing: keep it.
  for (let n = 2; n < lines.length; n++) if (!keep.has(n) && keep.has(n - 1) && keep.has(n + 1)) keep.add(n)
  const segments: Array<SourceSegment<F>> = []
  let run: Array<SourceLine<F>> = []
  let gapStart: number | undefined
  for (const line of lines) {
    if (keep.has(line.number)) {
      if (gapStart !== undefined) {
        segments.push({ kind: 'gap', from: gapStart, to: line.number - 1, count: line.number - gapStart })
        gapStart = undefined
      }
      run.push(line)
    } else {
      if (run.length > 0) {
        segments.push({ kind: 'lines', lines: run })
        run = []
      }
      gapStart ??= line.number
    }
  }
  if (run.length > 0) segments.push({ kind: 'lines', lines: run })
  if (gapStart !== undefined) segments.push({ kind: 'gap', from: gapStart, to: lines.length, count: lines.length - gapStart + 1 })
  return segments
}

/** "2 blocking findings, 1 warning, 1 note" — a line for the summary above the source. */
export function findingsSummary (findings: readonly LineFinding[]): string {
  if (findings.length === 0) return 'No findings'
  const blocking = findings.filter(f => isBlocking(f.severity)).length
  const warnings = findings.filter(f => severityRank(f.severity) === severityRank('WARNING')).length
  const notes = findings.length - blocking - warnings
  const plural = (n: number, word: string): string => `${n} ${word}${n > 1 ? 's' : ''}`
  return [
    ...(blocking > 0 ? [plural(blocking, 'blocking finding')] : []),
    ...(warnings > 0 ? [plural(warnings, 'warning')] : []),
    ...(notes > 0 ? [plural(notes, 'note')] : [])
  ].join(', ')
}

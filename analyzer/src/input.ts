/**
 * Input handling shared by the CLI and the coordinator: how the runtime turns an input file into `data`
 * (DESIGN.md: `.json` → the parsed array, `.jsonl` → parsed lines, `.csv` → dicts from the header row,
 * anything else → text lines), and how a sample of it is cut for analysis and calibration.
 */
import type { InputFormat } from './memory.ts'

/** The format the runtime uses for a file name. */
export function formatOf (filename: string): InputFormat {
  const lower = filename.toLowerCase()
  if (lower.endsWith('.json')) return 'json'
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl'
  if (lower.endsWith('.csv')) return 'csv'
  return 'lines'
}

/** A prefix of the input: its elements (as the runtime would load them) and its text. */
export interface InputSample {
  format: InputFormat
  /** Number of elements of the whole input. */
  elements: number
  /** The first elements, as loaded. */
  sample: unknown[]
  /** The text of the same prefix, in the input's own format (what calibration feeds the harness). */
  text: string
}

/** Default sample size: enough to average element sizes and to fit memory over four prefixes quickly. */
export const DEFAULT_SAMPLE_ELEMENTS = 2000

/**
 * Loads an input's text the way the runtime does and cuts a sample of its first `maxElements` elements.
 * @throws SyntaxError when a `.json` input is not a JSON array or a `.jsonl` line is not JSON
 */
export function sampleInput (text: string, format: InputFormat, maxElements = DEFAULT_SAMPLE_ELEMENTS): InputSample {
  if (format === 'json') {
    const parsed: unknown = JSON.parse(text)
    if (!Array.isArray(parsed)) throw new SyntaxError('a .json input must hold an array: main(data) receives it as a list')
    const sample = parsed.slice(0, maxElements)
    return { format, elements: parsed.length, sample, text: JSON.stringify(sample) }
  }
  const lines = text.split(/\r?\n/)
  if (lines.at(-1) === '') lines.pop()
  if (format === 'jsonl') {
    const nonEmpty = lines.filter(l => l.trim() !== '')
    const kept = nonEmpty.slice(0, maxElements)
    return { format, elements: nonEmpty.length, sample: kept.map(l => JSON.parse(l) as unknown), text: kept.join('\n') + '\n' }
  }
  if (format === 'csv') {
    const [header, ...rows] = lines
    if (header === undefined) return { format, elements: 0, sample: [], text: '' }
    const names = splitCsvLine(header)
    const kept = rows.slice(0, maxElements)
    const sample = kept.map(row => {
      const cells = splitCsvLine(row)
      return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']))
    })
    return { format, elements: rows.length, sample, text: [header, ...kept].join('\n') + '\n' }
  }
  const kept = lines.slice(0, maxElements)
  return { format, elements: lines.length, sample: kept, text: kept.join('\n') + '\n' }
}

/** Splits one CSV record (RFC 4180 quoting; records spanning lines are not supported in samples). */
function splitCsvLine (line: string): string[] {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      cells.push(cell)
      cell = ''
    } else cell += ch
  }
  cells.push(cell)
  return cells
}

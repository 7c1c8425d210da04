/**
 * Line-level views of the job's source that code generation needs: where `main` starts and ends, the
 * indentation of its statements, and a masked copy (strings and comments blanked) for name searches that
 * must not be fooled by a docstring mentioning `data` or `main`.
 */
import type { DdgNode } from '../../analyzer/src/index.ts'

/** Where `main` sits in the source. Lines are 1-based; `lines[i]` is line i + 1. */
export interface MainLayout {
  lines: string[]
  masked: string[]
  defLine: number
  /** Last line of main, trailing comments and blank lines of its body included. */
  endLine: number
  /** Indentation of main's top-level statements (copied as is, so multi-line strings keep their text). */
  indent: string
  param: string
}

const IDENTIFIER = String.raw`[\p{L}_][\p{L}\p{N}_]*`

/**
 * Replaces the contents of string literals and comments by spaces, keeping every newline, so that line
 * numbers and columns still match the source.
 */
export function maskPython (source: string): string {
  const out: string[] = []
  let i = 0
  const n = source.length
  while (i < n) {
    const ch = source[i] as string
    if (ch === '#') {
      while (i < n && source[i] !== '\n') { out.push(' '); i++ }
      continue
    }
    const prefix = /^[rRbBuUfF]{0,2}(['"])/.exec(source.slice(i, i + 3))
    const before = i === 0 ? '' : source[i - 1] as string
    if (prefix !== null && (prefix[0].length === 1 || !/[\p{L}\p{N}_]/u.test(before))) {
      const quote = prefix[1] as string
      const start = i + prefix[0].length - 1
      const triple = source.startsWith(quote.repeat(3), start)
      const closing = triple ? quote.repeat(3) : quote
      let j = start + closing.length
      while (j < n && !source.startsWith(closing, j)) {
        if (source[j] === '\\') j++
        else if (!triple && source[j] === '\n') break
        j++
      }
      const end = Math.min(n, j + closing.length)
      for (let k = i; k < end; k++) out.push(source[k] === '\n' ? '\n' : ' ')
      i = end
      continue
    }
    out.push(ch)
    i++
  }
  return out.join('')
}

/** Whether `name` occurs as an identifier (not an attribute) in masked text. */
export function mentions (masked: string, name: string): boolean {
  return new RegExp(String.raw`(?<![\p{L}\p{N}_.])${escape(name)}(?![\p{L}\p{N}_])`, 'u').test(masked)
}

/** Names bound at module level: definitions, assignment targets and imports (from lines at column 0). */
export function moduleNames (masked: string[]): Set<string> {
  const names = new Set<string>()
  for (const line of masked) {
    if (line === '' || /^\s/.test(line)) continue
    let m = new RegExp(String.raw`^(?:async\s+)?(?:def|class)\s+(${IDENTIFIER})`, 'u').exec(line)
    if (m !== null) { names.add(m[1] as string); continue }
    m = /^import\s+(.*)$/.exec(line)
    if (m !== null) {
      for (const part of (m[1] as string).split(',')) {
        const alias = /\bas\s+(\S+)/.exec(part)
        names.add(alias !== null ? alias[1] as string : (part.trim().split('.')[0] ?? ''))
      }
      continue
    }
    m = /^from\s+\S+\s+import\s+(.*)$/.exec(line)
    if (m !== null) {
      for (const part of (m[1] as string).replace(/[()\\]/g, ' ').split(',')) {
        const alias = /\bas\s+(\S+)/.exec(part)
        const name = alias !== null ? alias[1] as string : part.trim()
        if (name !== '') names.add(name)
      }
      continue
    }
    // Assignment targets: everything left of a top-level `=` that is not part of ==, <=, >=, !=.
    const eq = /^([^=]*?)(?<![=<>!])=(?!=)/.exec(line)
    if (eq !== null) {
      // `LIMIT: int = 5` binds LIMIT, not int.
      const targets = (eq[1] as string).split(':')[0] ?? ''
      for (const target of targets.matchAll(new RegExp(IDENTIFIER, 'gu'))) names.add(target[0])
    }
  }
  names.delete('')
  return names
}

/**
 * Finds `main` and the indentation of its body. Returns a reason instead when the layout is one code
 * generation does not handle (decorated main, body on the `def` line, statements sharing a line).
 */
export function locateMain (source: string, nodes: DdgNode[], param: string): MainLayout | { reason: string } {
  const lines = source.split('\n')
  const masked = maskPython(source).split('\n')
  const defIndex = masked.findIndex(l => /^def\s+main\s*\(/.test(l))
  if (defIndex === -1) return { reason: 'main is not a plain module-level def' }
  const defLine = defIndex + 1
  for (let i = defIndex - 1; i >= 0; i--) {
    const l = (masked[i] ?? '').trim()
    if (l === '') continue
    if (l.startsWith('@')) return { reason: `main is decorated (line ${i + 1})` }
    break
  }
  const first = nodes[0]
  const last = nodes.at(-1)
  if (first === undefined || last === undefined) return { reason: 'main has no statements to split' }
  if (first.line === defLine) return { reason: `main's body is on its def line (line ${defLine})` }
  const indent = /^[ \t]*/.exec(lines[first.line - 1] ?? '')?.[0] ?? ''
  if (indent === '') return { reason: `cannot find the indentation of main's body (line ${first.line})` }
  let previousEnd = 0
  for (const node of nodes) {
    const line = lines[node.line - 1] ?? ''
    if (node.line <= previousEnd) return { reason: `line ${node.line} holds more than one statement of main` }
    // The analyzer shortens long statements for display ("…" or "...").
    const shown = node.text.replace(/(\.\.\.|…)$/, '')
    if (!line.startsWith(indent) || !line.slice(indent.length).startsWith(shown)) {
      return { reason: `line ${node.line}: the statement does not start its line (\`${node.text}\`)` }
    }
    previousEnd = node.endLine
  }
  let endLine = last.endLine
  // Trailing comments, blank lines and indented no-ops (`pass`, a string) still belong to main.
  while (endLine < masked.length && (/^\s*$/.test(masked[endLine] ?? '') || /^[ \t]/.test(masked[endLine] ?? ''))) endLine++
  while (endLine > last.endLine && /^\s*$/.test(masked[endLine - 1] ?? '')) endLine--
  return { lines, masked, defLine, endLine, indent, param }
}

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export { IDENTIFIER }

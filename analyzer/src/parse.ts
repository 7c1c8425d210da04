/**
 * Source validation and parsing. Python is parsed with tree-sitter (ast-grep's napi and its prebuilt Python
 * grammar). tree-sitter never fails: it recovers and marks the damage with ERROR and zero-width MISSING
 * nodes, so rejecting invalid programs means finding those nodes and describing them as Python would.
 */
import { parse, registerDynamicLanguage } from '@ast-grep/napi'
import type { SgNode, SgRoot } from '@ast-grep/napi'
import python from '@ast-grep/lang-python'
import { BinarySourceError, EmptySourceError, PythonSyntaxError, SourceTooLargeError } from './errors.ts'

/**
 * Largest source accepted, in UTF-8 bytes. 1 MiB is ~30,000 lines of ordinary Python, far beyond a job
 * script, and keeps a hostile upload from pinning the coordinator's CPU in the parser and the rules.
 */
export const MAX_SOURCE_BYTES = 1024 * 1024

let registered = false

/** ast-grep wants the dynamic language registered once per process. */
function ensurePython (): void {
  if (!registered) {
    registerDynamicLanguage({ python })
    registered = true
  }
}

/** A parsed, syntactically valid Python file. */
export interface ParsedSource {
  /** The decoded text (BOM removed). */
  text: string
  /** Source lines, for snippets in messages. */
  lines: string[]
  root: SgNode
  sgRoot: SgRoot
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes and checks a job file before parsing: not empty, not binary, not huge.
 * @throws EmptySourceError | BinarySourceError | SourceTooLargeError
 */
export function decodeSource (source: string | Uint8Array): string {
  let text: string
  if (typeof source === 'string') {
    const bytes = Buffer.byteLength(source, 'utf8')
    if (bytes > MAX_SOURCE_BYTES) throw tooLarge(bytes)
    if (!source.isWellFormed()) throw new BinarySourceError('the file is not valid text (it holds unpaired UTF-16 surrogates)')
    text = source
  } else {
    if (source.byteLength > MAX_SOURCE_BYTES) throw tooLarge(source.byteLength)
    try {
      text = decoder.decode(source)
    } catch {
      throw new BinarySourceError('the file is not UTF-8 text (binary data or another encoding); save the job as UTF-8 Python source', lineOfInvalidUtf8(source))
    }
  }
  const nul = text.indexOf('\0')
  if (nul !== -1) {
    throw new BinarySourceError('the file holds NUL bytes: it is binary data, not Python source', lineAt(text, nul))
  }
  if (text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
  if (text.trim() === '') throw new EmptySourceError()
  return text
}

function tooLarge (bytes: number): SourceTooLargeError {
  return new SourceTooLargeError(`the file is ${bytes} bytes; the analyzer accepts at most ${MAX_SOURCE_BYTES} bytes (1 MiB) of Python source — move data into the input file instead of the script`)
}

function lineAt (text: string, index: number): number {
  let line = 1
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

function lineOfInvalidUtf8 (bytes: Uint8Array): number | undefined {
  // Find the first line that fails to decode on its own, to point the user at it.
  let start = 0
  let line = 1
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 10) {
      try {
        decoder.decode(bytes.subarray(start, i))
      } catch {
        return line
      }
      start = i + 1
      line++
    }
  }
  return undefined
}

/**
 * Budget for runs of consecutive comment lines: the sum over runs of (comment lines in the run)². The
 * tree-sitter Python scanner re-reads a run of comment lines for each line of it when deciding indentation,
 * so a run of k comment lines costs ~k² (2,000 lines ≈ 0.3 s, 8,000 ≈ 5 s). Real code stays far below
 * 1,000² (a license header is a few dozen lines); a file built to stall the parser does not.
 */
export const MAX_COMMENT_RUN_COST = 1000 * 1000

/** Checks the comment-run budget; lines inside strings may be counted too, which only errs on the safe side. */
function checkCommentRuns (text: string): void {
  let cost = 0
  let run = 0
  let runStart = 0
  let line = 0
  let longest = 0
  let longestStart = 0
  for (const raw of text.split('\n')) {
    line++
    const trimmed = raw.trimStart()
    if (trimmed.startsWith('#')) {
      if (run === 0) runStart = line
      run++
    } else if (trimmed.trim() !== '') {
      cost += run * run
      run = 0
    }
    if (run > longest) {
      longest = run
      longestStart = runStart
    }
  }
  cost += run * run
  if (cost > MAX_COMMENT_RUN_COST) {
    throw new SourceTooLargeError(`the file has too many consecutive comment lines (${longest} in a row from line ${longestStart}); the parser slows down on long comment runs — keep runs of comments under 1,000 lines`)
  }
}

/**
 * Parses Python 3 source, rejecting anything with a syntax error.
 * @throws EmptySourceError | BinarySourceError | SourceTooLargeError (also for parser-stalling comment runs) | PythonSyntaxError
 */
export function parsePython (source: string | Uint8Array): ParsedSource {
  const text = decodeSource(source)
  checkCommentRuns(text)
  ensurePython()
  const sgRoot = parse('python', text)
  const root = sgRoot.root()
  const lines = text.split(/\r?\n/)
  const problem = findSyntaxProblem(root, lines)
  if (problem !== undefined) throw problem
  return { text, lines, root, sgRoot }
}

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' }
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' }
const BLOCK_KEYWORDS = new Set(['def', 'class', 'if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally'])

/** Returns the first syntax problem in document order, described the way CPython would. */
function findSyntaxProblem (root: SgNode, lines: string[]): PythonSyntaxError | undefined {
  // Python-2-only statements parse in tree-sitter-python but are syntax errors in Python 3.
  const legacy = root.find({ rule: { any: [{ kind: 'print_statement' }, { kind: 'exec_statement' }] } })
  const error = root.find({ rule: { kind: 'ERROR' } })
  const missing = findMissing(root)
  const candidates: PythonSyntaxError[] = []
  if (legacy !== null) {
    const { line, column } = legacy.range().start
    const word = legacy.kind() === 'print_statement' ? 'print' : 'exec'
    candidates.push(new PythonSyntaxError(`line ${line + 1}: missing parentheses in call to '${word}' (Python 2 syntax); did you mean ${word}(...)?`, line + 1, column + 1))
  }
  if (error !== null) candidates.push(describeError(error, lines))
  if (missing !== undefined) {
    const { line, column } = missing.range().start
    const kind = String(missing.kind())
    if (kind === 'block') {
      const header = (lines[line] ?? '').trim().split(/[\s:(]/)[0] ?? ''
      candidates.push(new PythonSyntaxError(`line ${line + 2}: expected an indented block after '${header}' statement on line ${line + 1}`, line + 2, 1))
    }
    const what = /^[a-z_]+$/.test(kind) && !BLOCK_KEYWORDS.has(kind) ? kind.replaceAll('_', ' ') : `'${kind}'`
    if (kind !== 'block') candidates.push(new PythonSyntaxError(`line ${line + 1}: invalid syntax, expected ${what}: ${snippet(lines, line)}`, line + 1, column + 1))
  }
  candidates.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0))
  return candidates[0]
}

/**
 * MISSING nodes are tokens tree-sitter invented to recover: zero width, so their text is empty. Matching
 * `regex: ^$` runs inside ast-grep (Rust) instead of walking every node through the JS bridge.
 */
function findMissing (root: SgNode): SgNode | undefined {
  return root.find({ rule: { regex: '^$' } }) ?? undefined
}

function describeError (error: SgNode, lines: string[]): PythonSyntaxError {
  const tokens = leaves(error)
  // Unbalanced brackets are the most common cause; report them where CPython does.
  const stack: SgNode[] = []
  for (const token of tokens) {
    const kind = String(token.kind())
    if (OPENERS[kind] !== undefined) stack.push(token)
    else if (CLOSERS[kind] !== undefined) {
      const top = stack.at(-1)
      if (top !== undefined && top.kind() === CLOSERS[kind]) stack.pop()
      else {
        const { line, column } = token.range().start
        return new PythonSyntaxError(`line ${line + 1}: unmatched '${kind}': ${snippet(lines, line)}`, line + 1, column + 1)
      }
    }
  }
  const unclosed = stack[0]
  if (unclosed !== undefined) {
    const { line, column } = unclosed.range().start
    return new PythonSyntaxError(`line ${line + 1}: '${unclosed.kind()}' was never closed: ${snippet(lines, line)}`, line + 1, column + 1)
  }
  const first = tokens[0] ?? error
  const { line, column } = first.range().start
  if (BLOCK_KEYWORDS.has(String(first.kind())) && !tokens.some(t => t.kind() === ':')) {
    return new PythonSyntaxError(`line ${line + 1}: expected ':' after '${first.kind()}': ${snippet(lines, line)}`, line + 1, column + 1)
  }
  // Otherwise point at the first token tree-sitter could not fit, which is the error's own first child
  // when the ERROR node wraps a stray token.
  return new PythonSyntaxError(`line ${line + 1}: invalid syntax: ${snippet(lines, line)}`, line + 1, column + 1)
}

function leaves (node: SgNode): SgNode[] {
  const out: SgNode[] = []
  const visit = (n: SgNode): void => {
    const children = n.children()
    if (children.length === 0) out.push(n)
    else for (const c of children) visit(c)
  }
  visit(node)
  return out
}

function snippet (lines: string[], line: number): string {
  const text = (lines[line] ?? '').trim()
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/**
 * Source validation and parsing. Syntax errors are found by `grammar.ts` over CPython's own tokens, where
 * Python reports them; the tree is then built by tree-sitter (ast-grep's napi and its prebuilt Python
 * grammar), which never fails but recovers from errors, so its ERROR nodes say little about where one is.
 */
import { parse, registerDynamicLanguage } from '@ast-grep/napi'
import type { SgNode, SgRoot } from '@ast-grep/napi'
import python from '@ast-grep/lang-python'
import { BinarySourceError, EmptySourceError, PythonSyntaxError, SourceTooLargeError } from './errors.ts'
import { findSyntaxError } from './grammar.ts'

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
 * Parses Python 3 source, rejecting anything with a syntax error. Syntax is checked by `grammar.ts`, which
 * reports errors where CPython 3.11 does (line and column); tree-sitter then builds the tree.
 * @throws EmptySourceError | BinarySourceError | SourceTooLargeError (also for parser-stalling comment runs) | PythonSyntaxError
 */
export function parsePython (source: string | Uint8Array): ParsedSource {
  const text = decodeSource(source)
  checkCommentRuns(text)
  const lines = text.split(/\r?\n/)
  const problem = findSyntaxError(text)
  if (problem !== undefined) {
    throw new PythonSyntaxError(`line ${problem.line}, column ${problem.column}: ${problem.message}${where(lines, problem.line)}`, problem.line, problem.column)
  }
  ensurePython()
  const sgRoot = parse('python', text)
  const root = sgRoot.root()
  // Valid Python that tree-sitter's grammar does not know (newer syntax) cannot be analyzed.
  const unknown = root.find({ rule: { kind: 'ERROR' } }) ?? root.find({ rule: { regex: '^$' } })
  if (unknown !== null) {
    const { line, column } = unknown.range().start
    throw new PythonSyntaxError(`line ${line + 1}, column ${column + 1}: the analyzer's parser cannot read this construct, though Python can${where(lines, line + 1)}; write it in a plainer form`, line + 1, column + 1)
  }
  return { text, lines, root, sgRoot }
}

/** The offending line, quoted after the message. */
function where (lines: string[], line: number): string {
  const text = (lines[line - 1] ?? '').trim()
  if (text === '') return ''
  return `: ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`
}

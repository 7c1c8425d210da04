/**
 * Reading CPython's tokens as its PEG parser does: looking ahead, backtracking, and remembering the furthest
 * token looked at, which is where a generic "invalid syntax" goes.
 */
import type { Token } from '../tokenize.ts'
import { Fail, Found, problemAt } from './messages.ts'
import type { SyntaxProblem } from './messages.ts'

export const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield'
])

export abstract class TokenCursor {
  protected pos = 0
  private furthest = 0
  /** True when the parser asked for a token past the last one (the file ended inside brackets). */
  reachedEnd = false
  /** Bracket depth after each token. */
  protected readonly depth: number[] = []

  constructor (protected readonly tokens: Token[]) {
    let level = 0
    for (const t of tokens) {
      if (t.type === 'OP' && '([{'.includes(t.text)) level++
      if (t.type === 'OP' && ')]}'.includes(t.text)) level--
      this.depth.push(level)
    }
  }

  protected peek (k = 0): Token {
    const i = this.pos + k
    if (i > this.furthest) this.furthest = i
    const t = this.tokens[i]
    if (t === undefined) {
      this.reachedEnd = true
      throw new Fail()
    }
    return t
  }

  protected at (text: string, k = 0): boolean {
    const t = this.peekSoft(k)
    return t !== undefined && (t.type === 'OP' || t.type === 'NAME') && t.text === text
  }

  /** Like peek, but past the end gives undefined instead of failing (the caller only tests). */
  protected peekSoft (k = 0): Token | undefined {
    const i = this.pos + k
    if (i >= this.tokens.length) {
      if (i > this.furthest) this.furthest = i
      this.reachedEnd = true
      return undefined
    }
    if (i > this.furthest) this.furthest = i
    return this.tokens[i]
  }

  protected next (): Token {
    const t = this.peek()
    this.pos++
    return t
  }

  protected expect (text: string): Token {
    if (!this.at(text)) throw new Fail()
    return this.next()
  }

  protected isType (type: Token['type'], k = 0): boolean {
    return this.peekSoft(k)?.type === type
  }

  protected isName (k = 0): boolean {
    const t = this.peekSoft(k)
    return t?.type === 'NAME' && !KEYWORDS.has(t.text)
  }

  protected name (): Token {
    if (!this.isName()) throw new Fail()
    return this.next()
  }

  protected atStatementEnd (): boolean {
    return this.isType('NEWLINE') || this.at(';')
  }

  protected last (): Token {
    return this.tokens[this.pos - 1] ?? this.peek()
  }

  /** The error CPython gives when no specific rule applies: at the furthest token read. */
  generic (): SyntaxProblem {
    const t = this.tokens[Math.min(this.furthest, this.tokens.length - 1)]
    if (t === undefined) return { kind: 'SyntaxError', message: 'invalid syntax', line: 1, column: 1 }
    if (t.type === 'INDENT') return { kind: 'IndentationError', message: 'unexpected indent', line: t.line, column: t.col }
    if (t.type === 'DEDENT') return { kind: 'IndentationError', message: 'unexpected unindent', line: t.line, column: t.col }
    return problemAt(t, 'invalid syntax')
  }

  furthestLine (): number {
    return (this.tokens[Math.min(this.furthest, this.tokens.length - 1)] ?? { line: 1 }).line
  }

  /**
   * Runs `fn`; on failure restores the position (but keeps the furthest token, as CPython's PEG does).
   * Specific errors found inside propagate unless `swallowFound`.
   */
  protected tryParse (fn: () => void, swallowFound = true): boolean {
    const start = this.pos
    try {
      fn()
      return true
    } catch (err) {
      if (!(err instanceof Fail) && !(swallowFound && err instanceof Found)) throw err
      this.pos = start
      return false
    }
  }

  /**
   * Runs `fn` only to learn what follows, then puts the position and the furthest token back (and, unless
   * `keepEnd`, whether the end was reached), so that the look leaves no trace in where errors are reported.
   * Undefined when `fn` fails.
   */
  protected speculate<T> (fn: () => T, keepEnd = false): T | undefined {
    const start = this.pos
    const saved = this.furthest
    const savedEnd = this.reachedEnd
    try {
      return fn()
    } catch (err) {
      if (err instanceof Fail || err instanceof Found) return undefined
      throw err
    } finally {
      this.pos = start
      this.furthest = saved
      if (!keepEnd) this.reachedEnd = savedEnd
    }
  }

  protected found (at: Token, message: string): Found {
    return new Found(problemAt(at, message))
  }
}

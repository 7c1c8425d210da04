/**
 * CPython 3.11's checks of an f-string (Parser/string_parser.c): braces, conversions, format specs nested at
 * most twice, no backslash or `#` in expressions, and each expression parsed as `(expression)`.
 */
import type { Token } from '../tokenize.ts'
import type { SyntaxProblem } from './messages.ts'

/**
 * An f-string's error. Errors in an expression carry their place (the line of the expression, the column within
 * `(expression)`, as CPython gives them); structural ones do not (the caller puts them after the string).
 */
export interface FStringProblem {
  message: string
  line?: number
  column?: number
}

/** Checks a source text the way the whole recognizer does (it is: an f-string's expressions are Python). */
export type SourceCheck = (source: string) => SyntaxProblem | undefined

/** The first error of the f-string `token` (its prefix `prefix`), or undefined. */
export function fstringProblem (token: Token, prefix: string, check: SourceCheck): FStringProblem | undefined {
  const rest = token.text.slice(prefix.length)
  const quote = rest.startsWith(rest[0]?.repeat(3) ?? '') && rest.length >= 6 && rest.endsWith(rest[0]?.repeat(3) ?? '') ? (rest[0] ?? '"').repeat(3) : rest[0] ?? '"'
  const body = rest.slice(quote.length, rest.length - quote.length)
  const result = new FStringReader(token, body, check).literal(0)
  return typeof result === 'number' ? undefined : result
}

/** Reads an f-string's body from left to right; `i` is the index reached. */
class FStringReader {
  private i = 0

  constructor (private readonly token: Token, private readonly body: string, private readonly check: SourceCheck) {}

  /** Reads literal text until the end (or, inside a format spec, its closing brace); returns the index reached. */
  literal (nested: number): number | FStringProblem {
    const body = this.body
    while (this.i < body.length) {
      const c = body[this.i]
      if (c === '{') {
        if (nested === 0 && body[this.i + 1] === '{') { this.i += 2; continue }
        if (nested >= 2) return { message: 'f-string: expressions nested too deeply' }
        this.i++
        const problem = this.expression(nested)
        if (problem !== undefined) return problem
        continue
      }
      if (c === '}') {
        if (nested > 0) return this.i
        if (body[this.i + 1] === '}') { this.i += 2; continue }
        return { message: "f-string: single '}' is not allowed" }
      }
      this.i++
    }
    return this.i
  }

  /** A replacement field after its `{`: the expression, `=`, a conversion, a format spec and the closing `}`. */
  private expression (nested: number): FStringProblem | undefined {
    const body = this.body
    const start = this.i
    const scanned = this.expressionEnd()
    if (scanned !== undefined) return scanned
    if (this.i >= body.length) return { message: "f-string: expecting '}'" }
    const source = body.slice(start, this.i).replace(/=\s*$/, '')
    if (source.trim() === '') return { message: 'f-string: empty expression not allowed' }
    if (body[this.i] === '=') { this.i++; while (/\s/.test(body[this.i] ?? '')) this.i++ }
    if (body[this.i] === '!') {
      if (!/[sra]/.test(body[this.i + 1] ?? '')) return { message: "f-string: invalid conversion character: expected 's', 'r', or 'a'" }
      this.i += 2
      if (body[this.i] !== ':' && body[this.i] !== '}') return { message: "f-string: expecting '}'" }
    }
    if (body[this.i] === ':') {
      this.i++
      const end = this.literal(nested + 1)
      if (typeof end !== 'number') return end
    }
    if (body[this.i] !== '}') return { message: "f-string: expecting '}'" }
    this.i++
    const inner = this.check(`(${source})`)
    if (inner !== undefined && inner.kind === 'SyntaxError' && !inner.message.includes('outside')) {
      return { message: `f-string: ${inner.message}`, line: this.lineOf(start) + inner.line - 1, column: inner.column }
    }
    return undefined
  }

  /**
   * Moves to where the expression ends (a `!`, `:`, `=` or `}` outside brackets and quotes, or the end of the
   * body); the errors met on the way.
   */
  private expressionEnd (): FStringProblem | undefined {
    const body = this.body
    const stack: string[] = []
    let inQuote: string | undefined
    for (; this.i < body.length; this.i++) {
      const i = this.i
      const c = body[i] ?? ''
      if (c === '\\') return { message: 'f-string expression part cannot include a backslash' }
      if (inQuote !== undefined) {
        if (body.startsWith(inQuote, i)) { this.i += inQuote.length - 1; inQuote = undefined }
        continue
      }
      if (c === '"' || c === "'") { inQuote = body.startsWith(c.repeat(3), i) ? c.repeat(3) : c; this.i += inQuote.length - 1; continue }
      if ('([{'.includes(c)) { stack.push(c); continue }
      if (')]}'.includes(c)) {
        if (stack.length === 0) {
          if (c === '}') break
          return { message: `f-string: unmatched '${c}'` }
        }
        const open = stack.pop() ?? ''
        if ('([{'.indexOf(open) !== ')]}'.indexOf(c)) return { message: `f-string: closing parenthesis '${c}' does not match opening parenthesis '${open}'` }
        continue
      }
      if (c === '#') return { message: "f-string expression part cannot include '#'" }
      if (stack.length > 0) continue
      if (c === '!' && body[i + 1] !== '=') break
      if (c === ':') break
      if (c === '=' && body[i + 1] !== '=' && !'=!<>'.includes(body[i - 1] ?? '')) {
        // `{x=}`: the expression ends here and is printed with its value.
        const next = body.slice(i + 1).trimStart()[0]
        if (next === '}' || next === '!' || next === ':') break
      }
    }
    return undefined
  }

  private lineOf (index: number): number {
    return this.token.line + (this.body.slice(0, index).match(/\n/g)?.length ?? 0)
  }
}

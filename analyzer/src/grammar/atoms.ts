/**
 * Atoms: names, numbers, strings (f-strings checked as CPython 3.11 does), parenthesized forms, list, set and
 * dict displays and their comprehensions, `lambda` and `yield`.
 */
import type { Token } from '../tokenize.ts'
import { KEYWORDS } from './cursor.ts'
import { ExpressionParser } from './expressions.ts'
import { fstringProblem } from './fstring.ts'
import type { SourceCheck } from './fstring.ts'
import { Fail, Found } from './messages.ts'
import type { Expr } from './messages.ts'

export abstract class AtomParser extends ExpressionParser {
  /** @param check - the whole recognizer, for the expressions of f-strings */
  constructor (tokens: Token[], private readonly check: SourceCheck) {
    super(tokens)
  }

  protected abstract targetList (): Expr
  protected abstract checkTarget (target: Expr, use: 'assign' | 'delete', suggestEquals?: boolean): void
  protected abstract parameters (close: string): void

  protected atom (): Expr {
    const t = this.peek()
    if (t.type === 'NAME') {
      if (t.text === 'True' || t.text === 'False' || t.text === 'None') { this.next(); return { kind: t.text, first: t, last: t } }
      if (KEYWORDS.has(t.text)) throw new Fail()
      this.next()
      return { kind: 'name', first: t, last: t }
    }
    if (t.type === 'NUMBER') { this.next(); return { kind: 'literal', first: t, last: t } }
    if (t.type === 'STRING') return this.strings()
    if (t.type === 'OP') {
      switch (t.text) {
        case '...': this.next(); return { kind: 'ellipsis', first: t, last: t }
        case '(': return this.parenthesized()
        case '[': return this.listDisplay()
        case '{': return this.braceDisplay()
      }
    }
    throw new Fail()
  }

  /** Adjacent string literals, one expression; each f-string among them is checked. */
  private strings (): Expr {
    const t = this.peek()
    const strings = [this.next()]
    while (this.isType('STRING')) strings.push(this.next())
    let fstring = false
    for (const s of strings) {
      const prefix = /^[a-zA-Z]*/.exec(s.text)?.[0] ?? ''
      if (!/f/i.test(prefix)) continue
      fstring = true
      const problem = fstringProblem(s, prefix, this.check)
      // Structural errors are reported where CPython concatenates the strings: at the token after them.
      if (problem !== undefined) throw problem.line === undefined ? this.found(this.peek(), problem.message) : new Found({ kind: 'SyntaxError', message: problem.message, line: problem.line, column: problem.column ?? 1 })
    }
    return { kind: fstring ? 'fstring' : 'literal', first: t, last: strings.at(-1) ?? t }
  }

  private parenthesized (): Expr {
    const open = this.next()
    if (this.at(')')) return { kind: 'tuple', first: open, last: this.next(), elts: [], parenthesized: true }
    if (this.at('yield')) {
      this.yieldExpression()
      return { kind: 'yield', first: open, last: this.expect(')'), parenthesized: true }
    }
    const first = this.starNamedExpression()
    if (this.atComprehension()) return this.comprehensionDisplay('genexp', open, first, ')')
    if (this.at(')')) {
      if (first.kind === 'starred') throw this.found(first.first, 'cannot use starred expression here')
      const close = this.next()
      return { ...first, first: open, last: close, parenthesized: true, elts: first.kind === 'tuple' ? first.elts : [first], kind: first.kind }
    }
    const elts = this.elements(first, ')')
    const close = this.expect(')')
    return { kind: 'tuple', first: open, last: close, elts, parenthesized: true }
  }

  private listDisplay (): Expr {
    const open = this.next()
    if (this.at(']')) return { kind: 'list', first: open, last: this.next(), elts: [] }
    const first = this.starNamedExpression()
    if (this.atComprehension()) return this.comprehensionDisplay('listcomp', open, first, ']')
    const elts = this.elements(first, ']', () => {
      if (this.at('for')) throw this.found(first.first, 'did you forget parentheses around the comprehension target?')
    })
    return { kind: 'list', first: open, last: this.expect(']'), elts }
  }

  private braceDisplay (): Expr {
    const open = this.next()
    if (this.at('}')) return { kind: 'dict', first: open, last: this.next() }
    // A dict when the first element is `key: value` or `**mapping`.
    if (this.at('**')) {
      const start = this.pos
      const unpacking = this.next()
      this.bitwiseOr()
      if (this.at('for')) throw this.found(unpacking, 'dict unpacking cannot be used in dict comprehension')
      this.pos = start
      return this.dictRest(open)
    }
    const first = this.starNamedExpression()
    if (this.at(':')) {
      this.next()
      this.expression()
      if (this.atComprehension()) {
        this.comprehension()
        return { kind: 'dictcomp', first: open, last: this.expect('}') }
      }
      if (this.at(',')) { this.next(); return this.dictRest(open) }
      return { kind: 'dict', first: open, last: this.expect('}') }
    }
    if (this.atComprehension()) return this.comprehensionDisplay('setcomp', open, first, '}')
    this.elements(first, '}')
    return { kind: 'set', first: open, last: this.expect('}') }
  }

  /** The elements of a display after its first, up to `close` (a trailing comma allowed); `each` checks each. */
  private elements (first: Expr, close: string, each?: () => void): Expr[] {
    const elts = [first]
    while (this.at(',')) {
      this.next()
      if (this.at(close)) break
      elts.push(this.starNamedExpression())
      each?.()
    }
    return elts
  }

  /** A generator expression or list or set comprehension of `first`, opened by `open`. */
  private comprehensionDisplay (kind: string, open: Token, first: Expr, close: string): Expr {
    if (first.kind === 'starred') throw this.found(first.first, 'iterable unpacking cannot be used in comprehension')
    this.comprehension()
    return { kind, first: open, last: this.expect(close) }
  }

  private dictRest (open: Token): Expr {
    while (!this.at('}')) {
      if (this.at('**')) {
        this.next()
        this.bitwiseOr()
      } else {
        this.noInvalid++
        const key = this.expression()
        this.noInvalid--
        if (!this.at(':')) throw new Found({ kind: 'SyntaxError', message: "':' expected after dictionary key", line: key.last.endLine, column: key.last.endCol })
        const colon = this.next()
        if (this.at('}') || this.at(',')) throw this.found(colon, "expression expected after dictionary key and ':'")
        this.expression()
      }
      if (!this.at(',')) break
      this.next()
    }
    return { kind: 'dict', first: open, last: this.expect('}') }
  }

  protected comprehension (): void {
    while (this.atComprehension()) {
      if (this.at('async')) this.next()
      this.next()
      const start = this.pos
      const targets = this.targetList()
      if (!this.at('in')) {
        // CPython re-reads a bad target as expressions, which names a missing comma (`for a a in b`).
        this.pos = start
        this.starExpressions()
        throw new Fail()
      }
      this.checkTarget(targets, 'assign')
      this.expect('in')
      this.disjunction()
      while (this.at('if')) { this.next(); this.disjunction() }
    }
  }

  protected lambda (): Expr {
    const first = this.next()
    this.checks.enter('lambda')
    this.parameters(':')
    this.expect(':')
    const body = this.expression()
    this.checks.leave()
    return { kind: 'lambda', first, last: body.last }
  }

  protected yieldExpression (): Expr {
    const first = this.next()
    this.checks.yieldExpression(first)
    if (this.at('from')) {
      this.next()
      const e = this.expression()
      return { kind: 'yield', first, last: e.last }
    }
    if (this.startsExpression() && !this.at('yield')) {
      const e = this.starExpressions()
      return { kind: 'yield', first, last: e.last }
    }
    return { kind: 'yield', first, last: first }
  }
}

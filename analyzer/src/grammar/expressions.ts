/**
 * Expressions by precedence, as CPython's grammar nests them: starred and named expressions, conditionals,
 * `or`/`and`/`not`, comparisons, the arithmetic and bitwise operators, `await`, and primaries (attributes, calls,
 * subscripts). Atoms come from the layer above ({@link AtomParser} in `atoms.ts`). Expressions are summarized
 * only as far as the target and message rules need ({@link Expr}).
 */
import type { Token } from '../tokenize.ts'
import { CompileChecks } from './compile-checks.ts'
import { KEYWORDS, TokenCursor } from './cursor.ts'
import { Fail, Found, exprName, problemAt } from './messages.ts'
import type { Expr, SyntaxProblem } from './messages.ts'

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=', '<>'])
const MAX_NESTING = 1000

export abstract class ExpressionParser extends TokenCursor {
  protected readonly checks = new CompileChecks()
  /** Above 0 while trying an expression for a rule (CPython's `expression_without_invalid`). */
  protected noInvalid = 0
  /** Recursion depth of nested expressions, bounded like CPython's parser stack. */
  private nesting = 0

  protected abstract atom (): Expr
  protected abstract lambda (): Expr
  protected abstract comprehension (): void

  /** The error CPython's compiler would raise once the file parses, if any. */
  compileError (): SyntaxProblem | undefined {
    return this.checks.first()
  }

  protected startsExpression (k = 0): boolean {
    const t = this.peekSoft(k)
    if (t === undefined) return false
    if (t.type === 'NAME') return !KEYWORDS.has(t.text) || ['lambda', 'not', 'await', 'True', 'False', 'None', 'yield'].includes(t.text)
    if (t.type === 'NUMBER' || t.type === 'STRING') return true
    return t.type === 'OP' && ['(', '[', '{', '-', '+', '~', '...', '*'].includes(t.text)
  }

  /** `for` or `async for`: a comprehension follows. */
  protected atComprehension (): boolean {
    return this.at('for') || (this.at('async') && this.at('for', 1))
  }

  /** `element, element, …` as a tuple when a comma follows the first; `ends` tells when a comma ended it. */
  protected tupleOf (element: () => Expr, ends: () => boolean): Expr {
    const first = element()
    if (!this.at(',')) return first
    const elts = [first]
    while (this.at(',')) {
      this.next()
      if (ends()) break
      elts.push(element())
    }
    return { kind: 'tuple', first: first.first, last: this.last(), elts }
  }

  /** `*operand`, or what `otherwise` reads. */
  protected starredOr (otherwise: () => Expr): Expr {
    if (!this.at('*')) return otherwise()
    const star = this.next()
    const inner = this.bitwiseOr()
    return { kind: 'starred', first: star, last: inner.last, elts: [inner] }
  }

  protected starExpressions (): Expr {
    return this.tupleOf(() => this.starExpression(), () => !this.startsExpression() || this.at('yield'))
  }

  protected starExpression (): Expr {
    return this.starredOr(() => this.expression())
  }

  protected starNamedExpressions (): Expr {
    return this.tupleOf(() => this.starNamedExpression(), () => !this.startsExpression())
  }

  protected starNamedExpression (): Expr {
    return this.starredOr(() => this.namedExpression())
  }

  /**
   * `name := value` or an expression. CPython's invalid rule for `=` where `==` or `:=` was meant applies at
   * the start of a named expression: a bitwise_or, `=`, a bitwise_or not followed by `=` or `:=`.
   */
  protected namedExpression (): Expr {
    if (this.isName() && this.at(':=', 1)) {
      const target = this.next()
      this.next()
      const value = this.expression()
      return { kind: 'named', first: target, last: value.last }
    }
    const e = this.expression()
    if (this.at(':=')) throw this.found(e.first, `cannot use assignment expressions with ${exprName(e)}`)
    if (this.at('=') && this.noInvalid === 0 && !['comparison', 'boolop', 'lambda', 'conditional', 'list', 'tuple', 'genexp', 'True', 'False', 'None'].includes(e.kind) && e.parenthesized !== true) {
      const plain = this.withoutInvalid(() => this.speculate(() => {
        this.next()
        this.bitwiseOr()
        return !this.at('=') && !this.at(':=')
      }, true))
      if (plain === true) {
        throw this.found(e.first, e.kind === 'name'
          ? "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
          : `cannot assign to ${exprName(e)} here. Maybe you meant '==' instead of '='?`)
      }
    }
    return e
  }

  /** Runs `fn` as CPython's `expression_without_invalid`: without the rules that name a mistake. */
  protected withoutInvalid<T> (fn: () => T): T {
    this.noInvalid++
    try {
      return fn()
    } finally {
      this.noInvalid--
    }
  }

  protected expression (): Expr {
    return this.nested(() => this.plainExpression())
  }

  /**
   * CPython gives up on expressions nested a few thousand deep (MemoryError, RecursionError); a job never
   * needs a thousand, and JavaScript's stack must not overflow on a hostile `------…1`.
   */
  protected nested<T> (fn: () => T): T {
    if (++this.nesting > MAX_NESTING) {
      const t = this.peek()
      this.nesting = 0
      throw new Found(problemAt(t, `expression nested more than ${MAX_NESTING} deep: Python cannot compile it; split it into several statements`))
    }
    try {
      return fn()
    } finally {
      this.nesting--
    }
  }

  private plainExpression (): Expr {
    if (this.at('lambda')) return this.lambda()
    const a = this.disjunction()
    if (this.at('if')) {
      const afterA = this.pos
      this.next()
      this.disjunction()
      if (!this.at('else')) {
        // CPython's PEG falls back to the plain disjunction; its invalid rule names the missing `else`.
        if (this.noInvalid > 0 || this.at(':')) {
          if (this.noInvalid > 0) { this.pos = afterA; return a }
          throw new Fail()
        }
        throw this.found(a.first, "expected 'else' after 'if' expression")
      }
      this.next()
      const other = this.expression()
      return { kind: 'conditional', first: a.first, last: other.last }
    }
    this.checkMissingComma(a)
    return a
  }

  /** CPython: two expressions side by side inside brackets are "invalid syntax. Perhaps you forgot a comma?". */
  private checkMissingComma (a: Expr): void {
    if (this.noInvalid > 0 || this.depth[this.pos - 1] === 0 || !this.startsExpression() || this.at('*') || this.at('-') || this.at('+') || this.at('~') || this.at('yield')) return
    if (isPrintOrExec(a)) {
      this.checkPython2Statement(a)
      return
    }
    if (a.first.type === 'NAME' && this.tokens[this.tokens.indexOf(a.first) + 1]?.type === 'STRING') return
    if (a.first.type === 'NAME' && ['match', 'case', '_'].includes(a.first.text)) return
    const ok = this.withoutInvalid(() => this.speculate(() => this.expression()))
    if (ok !== undefined) throw this.found(a.first, 'invalid syntax. Perhaps you forgot a comma?')
  }

  /** `print x`, `exec code`: Python 2's statements, which CPython names when what follows `a` parses. */
  protected checkPython2Statement (a: Expr): void {
    if (this.tryParse(() => this.starExpressions())) throw this.found(a.first, `Missing parentheses in call to '${a.first.text}'. Did you mean ${a.first.text}(...)?`)
  }

  /** `a or b or …` (`word` `or`) or `a and b and …`. */
  private boolOp (word: string, operand: () => Expr): Expr {
    const a = operand()
    if (!this.at(word)) return a
    let last = a
    while (this.at(word)) { this.next(); last = operand() }
    return { kind: 'boolop', first: a.first, last: last.last }
  }

  protected disjunction (): Expr {
    return this.boolOp('or', () => this.boolOp('and', () => this.inversion()))
  }

  private inversion (): Expr {
    if (this.at('not')) return this.prefixed('boolop', () => this.inversion())
    return this.comparison()
  }

  /** A prefix operator (`not`, `-`, `+`, `~`, the next token) and its operand, `kind` of expression. */
  private prefixed (kind: string, operand: () => Expr): Expr {
    const first = this.next()
    const inner = this.nested(operand)
    return { kind, first, last: inner.last }
  }

  private comparison (): Expr {
    const a = this.bitwiseOr()
    let last = a
    let compared = false
    while (true) {
      const t = this.peekSoft()
      if (t === undefined) break
      if (t.type === 'OP' && COMPARISONS.has(t.text)) {
        if (t.text === '<>') throw new Fail()
        this.next()
      } else if (t.type === 'NAME' && t.text === 'in') {
        this.next()
      } else if (t.type === 'NAME' && t.text === 'not' && this.at('in', 1)) {
        this.next(); this.next()
      } else if (t.type === 'NAME' && t.text === 'is') {
        this.next()
        if (this.at('not')) this.next()
      } else break
      last = this.bitwiseOr()
      compared = true
    }
    return compared ? { kind: 'comparison', first: a.first, last: last.last } : a
  }

  private binary (operators: string[], operand: () => Expr): Expr {
    const a = operand()
    let last = a
    while (this.isType('OP') && operators.includes(this.peek().text)) {
      this.next()
      last = operand()
    }
    return last === a ? a : { kind: 'expression', first: a.first, last: last.last }
  }

  protected bitwiseOr (): Expr {
    return this.binary(['|'], () => this.binary(['^'], () => this.binary(['&'], () => this.binary(['<<', '>>'], () => this.binary(['+', '-'], () => this.binary(['*', '/', '//', '%', '@'], () => this.factor()))))))
  }

  private factor (): Expr {
    if (this.at('-') || this.at('+') || this.at('~')) return this.prefixed('expression', () => this.factor())
    return this.power()
  }

  private power (): Expr {
    const base = this.awaitPrimary()
    if (!this.at('**')) return base
    this.next()
    const exponent = this.factor()
    return { kind: 'expression', first: base.first, last: exponent.last }
  }

  private awaitPrimary (): Expr {
    if (this.at('await')) {
      const first = this.next()
      this.checks.awaitExpression(first)
      const operand = this.primary()
      return { kind: 'await', first, last: operand.last }
    }
    return this.primary()
  }

  private primary (): Expr {
    let e = this.atom()
    while (true) {
      if (this.at('.')) {
        this.next()
        const attr = this.name()
        e = { kind: 'attribute', first: e.first, last: attr }
      } else if (this.at('(') || this.at('[')) {
        // A call or subscript that does not parse leaves the primary as it was (PEG backtracking), so that
        // `f [a b]`-like mistakes get CPython's message for what follows.
        const call = this.at('(')
        let close: Token | undefined
        const parsed = this.tryParse(() => {
          this.next()
          if (call) this.callArguments(false)
          else this.slices()
          close = this.expect(call ? ')' : ']')
        }, false)
        if (!parsed || close === undefined) return e
        e = { kind: call ? 'call' : 'subscript', first: e.first, last: close }
      } else {
        return e
      }
    }
  }

  private slices (): void {
    const one = (): void => {
      if (this.at('*')) { this.next(); this.bitwiseOr(); return }
      if (!this.at(':')) {
        this.namedExpression()
        if (!this.at(':')) return
      }
      this.next()
      if (!this.at(':') && !this.at(']') && !this.at(',')) this.expression()
      if (this.at(':')) {
        this.next()
        if (!this.at(']') && !this.at(',')) this.expression()
      }
    }
    one()
    while (this.at(',')) {
      this.next()
      if (this.at(']')) break
      one()
    }
  }

  /** Call arguments (and class bases), with CPython's ordering rules and its generator rule. */
  protected callArguments (classBases: boolean): void {
    let keyword = false
    let keywordUnpacking = false
    let count = 0
    let generator: Expr | undefined
    // CPython reports a misplaced positional argument once it has read all the arguments, at the `)`.
    let misplaced: string | undefined
    const firstArgument = this.peek()
    while (!this.at(')')) {
      const t = this.peek()
      if (t.type === 'OP' && t.text === '*') {
        this.next()
        this.expression()
        if (keywordUnpacking) throw this.found(firstArgument, 'iterable argument unpacking follows keyword argument unpacking')
      } else if (t.type === 'OP' && t.text === '**') {
        this.next()
        this.expression()
        keywordUnpacking = true
      } else if (this.isName() && this.at('=', 1)) {
        this.next()
        this.next()
        this.expression()
        keyword = true
      } else {
        const arg = this.namedExpressionArgument()
        if (this.at('=') && !this.at('=', 1)) throw this.found(arg.first, 'expression cannot contain assignment, perhaps you meant "=="?')
        if (this.atComprehension()) {
          if (classBases) throw new Fail()
          this.comprehension()
          generator = arg
        } else if (keywordUnpacking) {
          misplaced ??= 'positional argument follows keyword argument unpacking'
        } else if (keyword) {
          misplaced ??= 'positional argument follows keyword argument'
        }
      }
      count++
      if (generator !== undefined && (count > 1 || this.at(','))) throw this.found(generator.first, 'Generator expression must be parenthesized')
      if (!this.at(',')) break
      this.next()
    }
    if (misplaced !== undefined) throw this.found(this.peek(), misplaced)
  }

  private namedExpressionArgument (): Expr {
    if (this.isName() && this.at(':=', 1)) return this.namedExpression()
    const e = this.expression()
    if (this.at(':=')) throw this.found(e.first, `cannot use assignment expressions with ${exprName(e)}`)
    return e
  }
}

/** The name `print` or `exec`, statements in Python 2. */
export function isPrintOrExec (e: Expr): boolean {
  return e.kind === 'name' && (e.first.text === 'print' || e.first.text === 'exec')
}

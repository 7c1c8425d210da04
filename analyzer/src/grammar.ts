/**
 * Finds the first syntax error of a Python 3.11 file where CPython reports it. tree-sitter recovers from
 * errors and its ERROR nodes start where its recovery began (a missing colon on line 4 could be reported
 * at line 1), so the analyzer checks syntax with this recognizer over CPython's own tokens (`tokenize.ts`)
 * and keeps tree-sitter for the tree of valid files. It follows CPython's rules for where errors go:
 * - a tokenizer error (unterminated string, unmatched bracket, bad dedent…) wins wherever it is in the file;
 * - otherwise the parser fails at the furthest token it looked at, reported as "invalid syntax" there,
 *   unless one of CPython's specific rules applies (`expected ':'` at the end of a block header, "Perhaps
 *   you forgot a comma?", "expected an indented block", "cannot assign to …", Python 2 `print`…);
 * - a bracket still open at the end of the file wins over a parser error on a later line;
 * - a file that parses can still fail to compile: `return` outside a function, `break` outside a loop,
 *   duplicate parameters.
 * No AST is built; expressions are summarized only as far as the target and message rules need.
 */
import { tokenize } from './tokenize.ts'
import type { Token } from './tokenize.ts'

/** A syntax error as CPython reports it: `line` 1-based, `column` CPython's 1-based offset. */
export interface SyntaxProblem {
  kind: 'SyntaxError' | 'IndentationError' | 'TabError'
  message: string
  line: number
  column: number
}

const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield'
])
const AUGMENTED = new Set(['+=', '-=', '*=', '@=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '**=', '//='])
const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=', '<>'])
const MAX_NESTING = 1000

/** What the target and message rules need to know of an expression. */
interface Expr {
  kind: string
  first: Token
  last: Token
  /** Elements of a tuple or list display, the operand of a starred expression or of parentheses. */
  elts?: Expr[]
  parenthesized?: boolean
}

class Fail extends Error {}
class Found extends Error {
  constructor (readonly problem: SyntaxProblem) {
    super(problem.message)
  }
}

interface Scope {
  kind: 'module' | 'function' | 'class' | 'lambda'
  async: boolean
  loops: number
}

/** The first syntax error of a file, or undefined when CPython would compile it. */
export function findSyntaxError (text: string): SyntaxProblem | undefined {
  const { tokens, error, open } = tokenize(text)
  const parser = new Parser(tokens)
  let problem: SyntaxProblem | undefined
  try {
    parser.file()
  } catch (err) {
    if (err instanceof Found) problem = err.problem
    else if (!(err instanceof Fail)) throw err
    problem ??= parser.generic()
  }
  const tokenizerError = error === undefined ? undefined : { kind: error.kind, message: error.message, line: error.line, column: error.col }
  const innermost = open.at(-1)
  const neverClosed = innermost === undefined ? undefined : { kind: 'SyntaxError' as const, message: `'${innermost.char}' was never closed`, line: innermost.line, column: innermost.col + 1 }
  if (problem === undefined) return tokenizerError ?? neverClosed ?? parser.compileError()
  // The parser stopped where the tokens did: at the tokenizer's error, or at the end of the file in brackets.
  if (parser.reachedEnd) return tokenizerError ?? neverClosed ?? problem
  // Otherwise CPython tokenizes the rest of the file (except after an unexpected indent): an error the
  // tokenizer raises replaces the parser's, and so does a bracket opened before the parser's error line.
  if (problem.message === 'unexpected indent' || problem.message === 'unexpected unindent') return problem
  if (error?.raises === true && tokenizerError !== undefined) return tokenizerError
  if (error === undefined && neverClosed !== undefined && parser.furthestLine() > neverClosed.line) return neverClosed
  return problem
}

class Parser {
  private pos = 0
  private furthest = 0
  /** True when the parser asked for a token past the last one (the file ended inside brackets). */
  reachedEnd = false
  private readonly scopes: Scope[] = [{ kind: 'module', async: false, loops: 0 }]
  /** Errors CPython's compiler would raise once parsing succeeds; symbol-table ones come first. */
  private readonly symtableErrors: SyntaxProblem[] = []
  private readonly compileErrors: SyntaxProblem[] = []
  private readonly depth: number[] = []
  /** Above 0 while trying an expression for a rule (CPython's `expression_without_invalid`). */
  private noInvalid = 0
  /** Recursion depth of nested expressions, bounded like CPython's parser stack. */
  private nesting = 0

  constructor (private readonly tokens: Token[]) {
    let level = 0
    for (const t of tokens) {
      if (t.type === 'OP' && '([{'.includes(t.text)) level++
      if (t.type === 'OP' && ')]}'.includes(t.text)) level--
      this.depth.push(level)
    }
  }

  // ---- tokens -----------------------------------------------------------------------------------------

  private peek (k = 0): Token {
    const i = this.pos + k
    if (i > this.furthest) this.furthest = i
    const t = this.tokens[i]
    if (t === undefined) {
      this.reachedEnd = true
      throw new Fail()
    }
    return t
  }

  private at (text: string, k = 0): boolean {
    const t = this.peekSoft(k)
    return t !== undefined && (t.type === 'OP' || t.type === 'NAME') && t.text === text
  }

  /** Like peek, but past the end gives undefined instead of failing (the caller only tests). */
  private peekSoft (k = 0): Token | undefined {
    const i = this.pos + k
    if (i >= this.tokens.length) {
      if (i > this.furthest) this.furthest = i
      this.reachedEnd = true
      return undefined
    }
    if (i > this.furthest) this.furthest = i
    return this.tokens[i]
  }

  private next (): Token {
    const t = this.peek()
    this.pos++
    return t
  }

  private expect (text: string): Token {
    if (!this.at(text)) throw new Fail()
    return this.next()
  }

  private isType (type: Token['type'], k = 0): boolean {
    return this.peekSoft(k)?.type === type
  }

  private isName (k = 0): boolean {
    const t = this.peekSoft(k)
    return t?.type === 'NAME' && !KEYWORDS.has(t.text)
  }

  private name (): Token {
    if (!this.isName()) throw new Fail()
    return this.next()
  }

  private last (): Token {
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

  compileError (): SyntaxProblem | undefined {
    return this.symtableErrors[0] ?? this.compileErrors[0]
  }

  private get scope (): Scope {
    return this.scopes.at(-1) as Scope
  }

  // ---- statements -------------------------------------------------------------------------------------

  file (): void {
    while (!this.isType('ENDMARKER')) this.statement()
  }

  private statement (): void {
    const t = this.peek()
    if (t.type === 'INDENT') throw new Fail()
    if (t.type === 'NAME') {
      switch (t.text) {
        case 'def': return this.functionDef(false)
        case 'class': return this.classDef()
        case 'if': return this.ifStatement()
        case 'while': return this.whileStatement()
        case 'for': return this.forStatement(false)
        case 'with': return this.withStatement(false)
        case 'try': return this.tryStatement()
        case 'async': return this.asyncStatement()
      }
      if (t.text === 'match' && this.looksLikeMatch()) return this.matchStatement()
    }
    if (t.type === 'OP' && t.text === '@') return this.decorated()
    this.simpleStatements()
  }

  private simpleStatements (): void {
    this.simpleStatement()
    while (this.at(';')) {
      this.next()
      if (this.isType('NEWLINE')) break
      this.simpleStatement()
    }
    if (!this.isType('NEWLINE')) throw new Fail()
    this.next()
  }

  private simpleStatement (): void {
    const t = this.peek()
    if (t.type === 'NAME') {
      switch (t.text) {
        case 'pass': this.next(); return
        case 'break':
        case 'continue':
          this.next()
          if (this.scope.loops === 0) this.compileErrors.push(problemAt(t, t.text === 'break' ? "'break' outside loop" : "'continue' not properly in loop"))
          return
        case 'return': {
          this.next()
          if (this.scope.kind !== 'function') this.compileErrors.push(problemAt(t, "'return' outside function"))
          if (!this.atStatementEnd()) this.starExpressions()
          return
        }
        case 'raise':
          this.next()
          if (!this.atStatementEnd()) {
            this.expression()
            if (this.at('from')) { this.next(); this.expression() }
          }
          return
        case 'global':
        case 'nonlocal':
          this.next()
          if (t.text === 'nonlocal' && this.scope.kind === 'module') this.symtableErrors.push(problemAt(t, 'nonlocal declaration not allowed at module level'))
          this.name()
          while (this.at(',')) { this.next(); this.name() }
          return
        case 'del': {
          this.next()
          this.checkTarget(this.targetList(), 'delete')
          return
        }
        case 'assert':
          this.next()
          this.expression()
          if (this.at(',')) { this.next(); this.expression() }
          return
        case 'import': return this.importName()
        case 'from': return this.importFrom()
      }
    }
    this.expressionStatement()
  }

  private atStatementEnd (): boolean {
    return this.isType('NEWLINE') || this.at(';')
  }

  private expressionStatement (): void {
    const start = this.peek()
    if (start.type === 'NAME' && start.text === 'yield') {
      const value = this.yieldExpression()
      if (this.at('=')) throw this.found(value.first, 'assignment to yield expression not possible')
      return
    }
    const first = this.starExpressions()
    // print "x": Python 2's statement.
    if (first.kind === 'name' && (first.first.text === 'print' || first.first.text === 'exec') && this.startsExpression()) {
      const rest = this.tryParse(() => this.starExpressions())
      if (rest) throw this.found(first.first, `Missing parentheses in call to '${first.first.text}'. Did you mean ${first.first.text}(...)?`)
    }
    const t = this.peek()
    if (t.type === 'OP' && t.text === ':=' && first.kind !== 'name') throw this.found(first.first, `cannot use assignment expressions with ${exprName(first)}`)
    if (t.type === 'OP' && t.text === '=') {
      const chain: Expr[] = [first]
      let value = first
      while (this.at('=')) {
        this.next()
        value = this.at('yield') ? this.yieldExpression() : this.starExpressions()
        chain.push(value)
        if (value.kind === 'yield' && this.at('=')) throw this.found(value.first, 'assignment to yield expression not possible')
        // `x = 5 = y`: CPython names the bad target as soon as it sees the `=` after it.
        if (this.at('=')) this.checkTarget(value, 'assign')
      }
      chain.pop()
      if (value.kind === 'starred') this.compileErrors.push(problemAt(value.first, "can't use starred expression here"))
      chain.forEach((target, i) => this.checkTarget(target, 'assign', i === 0 && chain.length === 1))
      return
    }
    if (t.type === 'OP' && t.text === ':') {
      if (first.kind === 'tuple' || first.kind === 'list') throw this.found(first.first, `only single target (not ${first.kind}) can be annotated`)
      if (!['name', 'attribute', 'subscript'].includes(first.kind)) throw this.found(first.first, 'illegal target for annotation')
      this.next()
      this.expression()
      if (this.at('=')) {
        this.next()
        if (this.at('yield')) this.yieldExpression()
        else this.starExpressions()
      }
      return
    }
    if (t.type === 'OP' && AUGMENTED.has(t.text)) {
      if (!['name', 'attribute', 'subscript'].includes(first.kind)) {
        throw this.found(first.first, `'${augmentedName(first)}' is an illegal expression for augmented assignment`)
      }
      this.next()
      if (this.at('yield')) this.yieldExpression()
      else this.starExpressions()
      return
    }
    if (first.kind === 'starred') this.compileErrors.push(problemAt(first.first, "can't use starred expression here"))
  }

  private importName (): void {
    this.next()
    do {
      this.dottedName()
      if (this.at('as')) { this.next(); this.name() }
    } while (this.at(',') && this.next() !== undefined)
  }

  private importFrom (): void {
    this.next()
    let dots = 0
    while (this.at('.') || this.at('...')) dots += this.next().text.length
    if (dots === 0 || this.isName()) this.dottedName()
    this.expect('import')
    if (this.at('*')) { this.next(); return }
    const parenthesized = this.at('(')
    if (parenthesized) this.next()
    this.name()
    if (this.at('as')) { this.next(); this.name() }
    while (this.at(',')) {
      this.next()
      if (parenthesized && this.at(')')) break
      if (!parenthesized && this.isType('NEWLINE')) throw this.found(this.peek(), 'trailing comma not allowed without surrounding parentheses')
      this.name()
      if (this.at('as')) { this.next(); this.name() }
    }
    if (parenthesized) this.expect(')')
  }

  private dottedName (): void {
    this.name()
    while (this.at('.')) { this.next(); this.name() }
  }

  // ---- compound statements ----------------------------------------------------------------------------

  /** `:` then a block; `what` names the statement in CPython's messages. */
  private colonAndBlock (header: Token, what: string, forced: boolean): void {
    const t = this.peek()
    if (!(t.type === 'OP' && t.text === ':')) {
      if (t.type === 'NEWLINE' || forced) throw this.found(t, "expected ':'")
      throw new Fail()
    }
    this.next()
    this.block(header, what)
  }

  private block (header: Token, what: string): void {
    if (!this.isType('NEWLINE')) {
      this.simpleStatements()
      return
    }
    this.next()
    const t = this.peek()
    if (t.type !== 'INDENT') {
      throw new Found({ kind: 'IndentationError', message: `expected an indented block after ${what} on line ${header.line}`, line: t.line, column: t.col + 1 })
    }
    this.next()
    do this.statement()
    while (!this.isType('DEDENT'))
    this.next()
  }

  private decorated (): void {
    while (this.at('@')) {
      this.next()
      this.namedExpression()
      if (!this.isType('NEWLINE')) throw new Fail()
      this.next()
    }
    if (this.at('def')) return this.functionDef(false)
    if (this.at('class')) return this.classDef()
    if (this.at('async') && this.at('def', 1)) { this.next(); return this.functionDef(true) }
    throw new Fail()
  }

  private asyncStatement (): void {
    const t = this.next()
    if (this.at('def')) return this.functionDef(true)
    const inAsync = this.scope.kind === 'function' && this.scope.async
    if (this.at('with')) {
      if (!inAsync) this.compileErrors.push(problemAt(t, "'async with' outside async function"))
      return this.withStatement(true)
    }
    if (this.at('for')) {
      if (!inAsync) this.compileErrors.push(problemAt(t, "'async for' outside async function"))
      return this.forStatement(true)
    }
    throw new Fail()
  }

  private functionDef (isAsync: boolean): void {
    const header = this.next()
    this.name()
    if (!this.at('(')) throw this.found(this.peek(), "expected '('")
    this.next()
    this.parameters(')')
    this.expect(')')
    if (this.at('->')) { this.next(); this.expression() }
    this.scopes.push({ kind: 'function', async: isAsync, loops: 0 })
    this.colonAndBlock(header, 'function definition', true)
    this.scopes.pop()
  }

  /** Parameters up to `close` (`)` for def, `:` for lambda), with CPython's ordering rules. */
  private parameters (close: string): void {
    const seen = new Set<string>()
    let defaults = false
    let star = false
    let doubleStar = false
    let slash = false
    const lambda = close === ':'
    const add = (t: Token): void => {
      if (seen.has(t.text)) this.symtableErrors.push(problemAt(t, `duplicate argument '${t.text}' in function definition`))
      seen.add(t.text)
    }
    while (!this.at(close)) {
      const t = this.peek()
      if (doubleStar) throw this.found(t, 'arguments cannot follow var-keyword argument')
      if (t.type === 'OP' && t.text === '/') {
        if (slash || star || seen.size === 0) throw new Fail()
        slash = true
        this.next()
      } else if (t.type === 'OP' && t.text === '**') {
        this.next()
        add(this.name())
        if (!lambda && this.at(':')) { this.next(); this.expression() }
        doubleStar = true
      } else if (t.type === 'OP' && t.text === '*') {
        if (star) throw this.found(t, '* argument may appear only once')
        star = true
        this.next()
        if (this.isName()) {
          add(this.name())
          if (!lambda && this.at(':')) { this.next(); this.at('*') ? this.starExpression() : this.expression() }
        } else if (!this.at(',') || this.at(close, 1) || this.at('**', 1)) {
          throw this.found(t, 'named arguments must follow bare *')
        }
      } else {
        const p = this.name()
        add(p)
        if (!lambda && this.at(':')) { this.next(); this.expression() }
        if (this.at('=')) {
          this.next()
          this.expression()
          if (!star) defaults = true
        } else if (defaults && !star) {
          throw this.found(p, 'non-default argument follows default argument')
        }
      }
      if (this.at(close)) break
      if (!this.at(',')) throw new Fail()
      this.next()
    }
  }

  private classDef (): void {
    const header = this.next()
    this.name()
    if (this.at('(')) {
      this.next()
      this.callArguments(true)
      this.expect(')')
    }
    this.scopes.push({ kind: 'class', async: false, loops: 0 })
    this.colonAndBlock(header, 'class definition', false)
    this.scopes.pop()
  }

  private ifStatement (): void {
    let header = this.next()
    this.namedExpression()
    this.colonAndBlock(header, "'if' statement", false)
    while (this.at('elif')) {
      header = this.next()
      this.namedExpression()
      this.colonAndBlock(header, "'elif' statement", false)
    }
    if (this.at('else')) this.elseBlock()
  }

  private elseBlock (): void {
    const header = this.next()
    this.colonAndBlock(header, "'else' statement", true)
  }

  private whileStatement (): void {
    const header = this.next()
    this.namedExpression()
    this.loopBody(header, "'while' statement")
    if (this.at('else')) this.elseBlock()
  }

  private loopBody (header: Token, what: string): void {
    this.scope.loops++
    this.colonAndBlock(header, what, false)
    this.scope.loops--
  }

  private forStatement (_isAsync: boolean): void {
    const header = this.next()
    this.checkTarget(this.targetList(), 'assign')
    this.expect('in')
    this.starExpressions()
    this.loopBody(header, "'for' statement")
    if (this.at('else')) this.elseBlock()
  }

  private withStatement (_isAsync: boolean): void {
    const header = this.next()
    const parenthesizedItems = this.at('(') && this.tryParse(() => {
      this.next()
      do {
        if (this.at(')')) break
        this.withItem()
      } while (this.at(',') && this.next() !== undefined)
      this.expect(')')
      if (!this.at(':')) throw new Fail()
    })
    if (!parenthesizedItems) {
      this.withItem()
      while (this.at(',')) { this.next(); this.withItem() }
    }
    this.colonAndBlock(header, "'with' statement", false)
  }

  private withItem (): void {
    this.expression()
    if (this.at('as')) {
      this.next()
      const target = this.starTarget()
      this.checkTarget(target, 'assign')
    }
  }

  private tryStatement (): void {
    const header = this.next()
    this.colonAndBlock(header, "'try' statement", true)
    let handlers = 0
    let star: boolean | undefined
    while (this.at('except')) {
      const clause = this.next()
      const isStar = this.at('*')
      if (isStar) this.next()
      if (star !== undefined && star !== isStar) throw new Fail()
      star = isStar
      if (!this.at(':')) {
        if (isStar && this.at(':')) throw new Fail()
        const type = this.expression()
        if (this.at(',')) {
          this.next()
          this.expression()
          if (this.at(':') || this.at('as')) throw this.found(type.first, 'multiple exception types must be parenthesized')
          throw new Fail()
        }
        if (this.at('as')) { this.next(); this.name() }
      } else if (isStar) {
        throw this.found(this.peek(), 'expected one or more exception types')
      }
      this.colonAndBlock(clause, isStar ? "'except*' statement" : "'except' statement", false)
      handlers++
    }
    if (handlers > 0 && this.at('else')) this.elseBlock()
    if (this.at('finally')) {
      const clause = this.next()
      this.colonAndBlock(clause, "'finally' statement", true)
      return
    }
    if (handlers === 0) throw this.found(this.peek(), "expected 'except' or 'finally' block")
  }

  // `match` is a soft keyword: a statement only when `match <subject>:` and a block of `case`s follow.
  private looksLikeMatch (): boolean {
    const start = this.pos
    const saved = this.furthest
    const savedEnd = this.reachedEnd
    try {
      this.next()
      if (this.isType('NEWLINE') || this.at('=') || this.at('.') || this.at(',') || this.at(')') || (this.isType('OP') && AUGMENTED.has(this.peek().text))) return false
      this.starNamedExpressions()
      return this.at(':') && this.isType('NEWLINE', 1)
    } catch (err) {
      if (err instanceof Fail || err instanceof Found) return false
      throw err
    } finally {
      this.pos = start
      this.furthest = saved
      this.reachedEnd = savedEnd
    }
  }

  private matchStatement (): void {
    const header = this.next()
    this.starNamedExpressions()
    this.expect(':')
    if (!this.isType('NEWLINE')) throw new Fail()
    this.next()
    const t = this.peek()
    if (t.type !== 'INDENT') throw new Found({ kind: 'IndentationError', message: `expected an indented block after 'match' statement on line ${header.line}`, line: t.line, column: t.col + 1 })
    this.next()
    do {
      if (!this.at('case')) throw new Fail()
      const clause = this.next()
      this.pattern()
      if (this.at('if')) { this.next(); this.namedExpression() }
      this.colonAndBlock(clause, "'case' statement", false)
    } while (!this.isType('DEDENT'))
    this.next()
  }

  /** Patterns are checked loosely: as expressions with `|`, `as`, `*name` and `**name`. */
  private pattern (): void {
    const one = (): void => {
      if (this.at('*') || this.at('**')) { this.next(); this.name(); return }
      // Or-patterns (`a | b`) are what bitwise_or parses; a guard `if` must not be read as a conditional.
      this.bitwiseOr()
      if (this.at('as')) { this.next(); this.name() }
    }
    one()
    while (this.at(',')) {
      this.next()
      if (this.at(':') || this.at('if')) break
      one()
    }
  }

  // ---- targets ------------------------------------------------------------------------------------------

  /** Targets of `for`, `del`: star_targets up to `in` or the end of the statement. */
  private targetList (): Expr {
    const first = this.starTarget()
    if (!this.at(',')) return first
    const elts = [first]
    while (this.at(',')) {
      this.next()
      if (this.at('in') || this.atStatementEnd() || this.at('=')) break
      elts.push(this.starTarget())
    }
    return { kind: 'tuple', first: first.first, last: this.last(), elts }
  }

  private starTarget (): Expr {
    if (this.at('*')) {
      const star = this.next()
      const inner = this.bitwiseOr()
      return { kind: 'starred', first: star, last: inner.last, elts: [inner] }
    }
    return this.bitwiseOr()
  }

  /**
   * Checks an assignment (or `del`) target. `suggestEquals` is CPython's `x + 1 = 2` message ("… here. Maybe
   * you meant '==' instead of '='?"), given for a single plain target.
   */
  private checkTarget (target: Expr, use: 'assign' | 'delete', suggestEquals = false): void {
    if (target.kind === 'starred' && use === 'assign') {
      this.compileErrors.push(problemAt(target.first, 'starred assignment target must be in a list or tuple'))
    }
    const bad = invalidTarget(target, use)
    if (bad === undefined) return
    if (use === 'delete') throw this.found(bad.first, `cannot delete ${exprName(bad)}`)
    if (suggestEquals && bad === target && !['tuple', 'list', 'genexp', 'True', 'False', 'None'].includes(target.kind) && target.parenthesized !== true) {
      throw this.found(bad.first, `cannot assign to ${exprName(bad)} here. Maybe you meant '==' instead of '='?`)
    }
    throw this.found(bad.first, `cannot assign to ${exprName(bad)}`)
  }

  // ---- expressions --------------------------------------------------------------------------------------

  private startsExpression (k = 0): boolean {
    const t = this.peekSoft(k)
    if (t === undefined) return false
    if (t.type === 'NAME') return !KEYWORDS.has(t.text) || ['lambda', 'not', 'await', 'True', 'False', 'None', 'yield'].includes(t.text)
    if (t.type === 'NUMBER' || t.type === 'STRING') return true
    return t.type === 'OP' && ['(', '[', '{', '-', '+', '~', '...', '*'].includes(t.text)
  }

  private starExpressions (): Expr {
    const first = this.starExpression()
    if (!this.at(',')) return first
    const elts = [first]
    while (this.at(',')) {
      this.next()
      if (!this.startsExpression() || this.at('yield')) break
      elts.push(this.starExpression())
    }
    return { kind: 'tuple', first: first.first, last: this.last(), elts }
  }

  private starExpression (): Expr {
    if (this.at('*')) {
      const star = this.next()
      const inner = this.bitwiseOr()
      return { kind: 'starred', first: star, last: inner.last, elts: [inner] }
    }
    return this.expression()
  }

  private starNamedExpressions (): Expr {
    const first = this.starNamedExpression()
    if (!this.at(',')) return first
    const elts = [first]
    while (this.at(',')) {
      this.next()
      if (!this.startsExpression()) break
      elts.push(this.starNamedExpression())
    }
    return { kind: 'tuple', first: first.first, last: this.last(), elts }
  }

  private starNamedExpression (): Expr {
    if (this.at('*')) {
      const star = this.next()
      const inner = this.bitwiseOr()
      return { kind: 'starred', first: star, last: inner.last, elts: [inner] }
    }
    return this.namedExpression()
  }

  /**
   * `name := value` or an expression. CPython's invalid rule for `=` where `==` or `:=` was meant applies at
   * the start of a named expression: a bitwise_or, `=`, a bitwise_or not followed by `=` or `:=`.
   */
  private namedExpression (): Expr {
    if (this.isName() && this.at(':=', 1)) {
      const target = this.next()
      this.next()
      const value = this.expression()
      return { kind: 'named', first: target, last: value.last }
    }
    const e = this.expression()
    if (this.at(':=')) throw this.found(e.first, `cannot use assignment expressions with ${exprName(e)}`)
    if (this.at('=') && this.noInvalid === 0 && !['comparison', 'boolop', 'lambda', 'conditional', 'list', 'tuple', 'genexp', 'True', 'False', 'None'].includes(e.kind) && e.parenthesized !== true) {
      const start = this.pos
      const saved = this.furthest
      let plain = false
      this.noInvalid++
      try {
        this.next()
        this.bitwiseOr()
        plain = !this.at('=') && !this.at(':=')
      } catch (err) {
        if (!(err instanceof Fail) && !(err instanceof Found)) throw err
      } finally {
        this.noInvalid--
        this.pos = start
        this.furthest = saved
      }
      if (plain) {
        throw this.found(e.first, e.kind === 'name'
          ? "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
          : `cannot assign to ${exprName(e)} here. Maybe you meant '==' instead of '='?`)
      }
    }
    return e
  }

  private expression (): Expr {
    return this.nested(() => this.plainExpression())
  }

  /**
   * CPython gives up on expressions nested a few thousand deep (MemoryError, RecursionError); a job never
   * needs a thousand, and JavaScript's stack must not overflow on a hostile `------…1`.
   */
  private nested<T> (fn: () => T): T {
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
    if (a.kind === 'name' && (a.first.text === 'print' || a.first.text === 'exec')) {
      if (this.tryParse(() => this.starExpressions())) throw this.found(a.first, `Missing parentheses in call to '${a.first.text}'. Did you mean ${a.first.text}(...)?`)
      return
    }
    if (a.first.type === 'NAME' && this.tokens[this.tokens.indexOf(a.first) + 1]?.type === 'STRING') return
    if (a.first.type === 'NAME' && ['match', 'case', '_'].includes(a.first.text)) return
    const start = this.pos
    const saved = this.furthest
    const savedEnd = this.reachedEnd
    let ok = false
    this.noInvalid++
    try {
      this.expression()
      ok = true
    } catch (err) {
      if (!(err instanceof Fail) && !(err instanceof Found)) throw err
    } finally {
      this.noInvalid--
      this.pos = start
      this.furthest = saved
      this.reachedEnd = savedEnd
    }
    if (ok) throw this.found(a.first, 'invalid syntax. Perhaps you forgot a comma?')
  }

  private lambda (): Expr {
    const first = this.next()
    this.scopes.push({ kind: 'lambda', async: false, loops: 0 })
    this.parameters(':')
    this.expect(':')
    const body = this.expression()
    this.scopes.pop()
    return { kind: 'lambda', first, last: body.last }
  }

  private disjunction (): Expr {
    const a = this.conjunction()
    if (!this.at('or')) return a
    let last = a
    while (this.at('or')) { this.next(); last = this.conjunction() }
    return { kind: 'boolop', first: a.first, last: last.last }
  }

  private conjunction (): Expr {
    const a = this.inversion()
    if (!this.at('and')) return a
    let last = a
    while (this.at('and')) { this.next(); last = this.inversion() }
    return { kind: 'boolop', first: a.first, last: last.last }
  }

  private inversion (): Expr {
    if (this.at('not')) {
      const first = this.next()
      const operand = this.nested(() => this.inversion())
      return { kind: 'boolop', first, last: operand.last }
    }
    return this.comparison()
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

  private bitwiseOr (): Expr {
    return this.binary(['|'], () => this.binary(['^'], () => this.binary(['&'], () => this.binary(['<<', '>>'], () => this.binary(['+', '-'], () => this.binary(['*', '/', '//', '%', '@'], () => this.factor()))))))
  }

  private factor (): Expr {
    if (this.at('-') || this.at('+') || this.at('~')) {
      const first = this.next()
      const operand = this.nested(() => this.factor())
      return { kind: 'expression', first, last: operand.last }
    }
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
      if (!(this.scope.kind === 'function' && this.scope.async)) {
        this.compileErrors.push(problemAt(first, this.scope.kind === 'function' ? "'await' outside async function" : "'await' outside function"))
      }
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
  private callArguments (classBases: boolean): void {
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
        if (this.at('for') || (this.at('async') && this.at('for', 1))) {
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

  private comprehension (): void {
    while (this.at('for') || (this.at('async') && this.at('for', 1))) {
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

  private atom (): Expr {
    const t = this.peek()
    if (t.type === 'NAME') {
      if (t.text === 'True' || t.text === 'False' || t.text === 'None') { this.next(); return { kind: t.text, first: t, last: t } }
      if (KEYWORDS.has(t.text)) throw new Fail()
      this.next()
      return { kind: 'name', first: t, last: t }
    }
    if (t.type === 'NUMBER') { this.next(); return { kind: 'literal', first: t, last: t } }
    if (t.type === 'STRING') {
      const strings = [this.next()]
      while (this.isType('STRING')) strings.push(this.next())
      let fstring = false
      for (const s of strings) {
        const prefix = /^[a-zA-Z]*/.exec(s.text)?.[0] ?? ''
        if (!/f/i.test(prefix)) continue
        fstring = true
        const problem = fstringProblem(s, prefix)
        // Structural errors are reported where CPython concatenates the strings: at the token after them.
        if (problem !== undefined) throw problem.line === undefined ? this.found(this.peek(), problem.message) : new Found({ kind: 'SyntaxError', message: problem.message, line: problem.line, column: problem.column ?? 1 })
      }
      return { kind: fstring ? 'fstring' : 'literal', first: t, last: strings.at(-1) ?? t }
    }
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

  private parenthesized (): Expr {
    const open = this.next()
    if (this.at(')')) return { kind: 'tuple', first: open, last: this.next(), elts: [], parenthesized: true }
    if (this.at('yield')) {
      this.yieldExpression()
      return { kind: 'yield', first: open, last: this.expect(')'), parenthesized: true }
    }
    const first = this.starNamedExpression()
    if (this.at('for') || (this.at('async') && this.at('for', 1))) {
      if (first.kind === 'starred') throw this.found(first.first, 'iterable unpacking cannot be used in comprehension')
      this.comprehension()
      return { kind: 'genexp', first: open, last: this.expect(')') }
    }
    if (this.at(')')) {
      if (first.kind === 'starred') throw this.found(first.first, 'cannot use starred expression here')
      const close = this.next()
      return { ...first, first: open, last: close, parenthesized: true, elts: first.kind === 'tuple' ? first.elts : [first], kind: first.kind }
    }
    const elts = [first]
    while (this.at(',')) {
      this.next()
      if (this.at(')')) break
      elts.push(this.starNamedExpression())
    }
    const close = this.expect(')')
    return { kind: 'tuple', first: open, last: close, elts, parenthesized: true }
  }

  private listDisplay (): Expr {
    const open = this.next()
    if (this.at(']')) return { kind: 'list', first: open, last: this.next(), elts: [] }
    const first = this.starNamedExpression()
    if (this.at('for') || (this.at('async') && this.at('for', 1))) {
      if (first.kind === 'starred') throw this.found(first.first, 'iterable unpacking cannot be used in comprehension')
      this.comprehension()
      return { kind: 'listcomp', first: open, last: this.expect(']') }
    }
    const elts = [first]
    while (this.at(',')) {
      this.next()
      if (this.at(']')) break
      elts.push(this.starNamedExpression())
      if (this.at('for')) throw this.found(first.first, 'did you forget parentheses around the comprehension target?')
    }
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
      if (this.at('for') || (this.at('async') && this.at('for', 1))) {
        this.comprehension()
        return { kind: 'dictcomp', first: open, last: this.expect('}') }
      }
      if (this.at(',')) { this.next(); return this.dictRest(open) }
      return { kind: 'dict', first: open, last: this.expect('}') }
    }
    if (this.at('for') || (this.at('async') && this.at('for', 1))) {
      if (first.kind === 'starred') throw this.found(first.first, 'iterable unpacking cannot be used in comprehension')
      this.comprehension()
      return { kind: 'setcomp', first: open, last: this.expect('}') }
    }
    while (this.at(',')) {
      this.next()
      if (this.at('}')) break
      this.starNamedExpression()
    }
    return { kind: 'set', first: open, last: this.expect('}') }
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

  private yieldExpression (): Expr {
    const first = this.next()
    if (this.scope.kind !== 'function' && this.scope.kind !== 'lambda') this.compileErrors.push(problemAt(first, "'yield' outside function"))
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

  // ---- helpers ----------------------------------------------------------------------------------------

  /**
   * Runs `fn`; on failure restores the position (but keeps the furthest token, as CPython's PEG does).
   * Specific errors found inside propagate unless `swallowFound`.
   */
  private tryParse (fn: () => void, swallowFound = true): boolean {
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

  private found (at: Token, message: string): Found {
    return new Found(problemAt(at, message))
  }
}

function problemAt (t: Token, message: string): SyntaxProblem {
  return { kind: 'SyntaxError', message, line: t.line, column: t.col + 1 }
}

/** The first part of a target that cannot be assigned to (or deleted), or undefined. */
function invalidTarget (e: Expr, use: 'assign' | 'delete'): Expr | undefined {
  switch (e.kind) {
    case 'name':
    case 'attribute':
    case 'subscript':
      return undefined
    case 'starred':
      if (use === 'delete') return e
      return invalidTarget(e.elts?.[0] ?? e, use)
    case 'tuple':
    case 'list':
      for (const elt of e.elts ?? []) {
        const bad = invalidTarget(elt, use)
        if (bad !== undefined) return bad
      }
      return undefined
    default:
      return e
  }
}

/** CPython's names for expressions in its messages (`_PyPegen_get_expr_name`). */
function exprName (e: Expr): string {
  switch (e.kind) {
    case 'literal': return 'literal'
    case 'fstring': return 'f-string expression'
    case 'True': case 'False': case 'None': return e.kind
    case 'call': return 'function call'
    case 'comparison': return 'comparison'
    case 'lambda': return 'lambda'
    case 'conditional': return 'conditional expression'
    case 'named': return 'named expression'
    case 'await': return 'await expression'
    case 'yield': return 'yield expression'
    case 'genexp': return 'generator expression'
    case 'listcomp': return 'list comprehension'
    case 'setcomp': return 'set comprehension'
    case 'dictcomp': return 'dict comprehension'
    case 'dict': return 'dict literal'
    case 'set': return 'set display'
    case 'ellipsis': return 'ellipsis'
    case 'starred': return 'starred'
    case 'tuple': return 'tuple'
    case 'list': return 'list'
    case 'attribute': return 'attribute'
    case 'subscript': return 'subscript'
    case 'name': return 'name'
    default: return 'expression'
  }
}

function augmentedName (e: Expr): string {
  return e.kind === 'tuple' ? 'tuple' : e.kind === 'list' ? 'list' : exprName(e)
}

/**
 * CPython 3.11's checks of an f-string (Parser/string_parser.c): braces, conversions, format specs nested at
 * most twice, no backslash or `#` in expressions, and each expression parsed as `(expression)`. Errors in an
 * expression carry their place (the line of the expression, the column within `(expression)`, as CPython
 * gives them); structural ones do not (the caller puts them after the string).
 */
function fstringProblem (token: Token, prefix: string): { message: string, line?: number, column?: number } | undefined {
  const rest = token.text.slice(prefix.length)
  const quote = rest.startsWith(rest[0]?.repeat(3) ?? '') && rest.length >= 6 && rest.endsWith(rest[0]?.repeat(3) ?? '') ? (rest[0] ?? '"').repeat(3) : rest[0] ?? '"'
  const body = rest.slice(quote.length, rest.length - quote.length)
  const lineOf = (index: number): number => token.line + (body.slice(0, index).match(/\n/g)?.length ?? 0)
  let i = 0
  // Reads literal text until the end (or, inside a format spec, its closing brace); returns the index reached.
  const literal = (nested: number): number | { message: string, line?: number, column?: number } => {
    while (i < body.length) {
      const c = body[i]
      if (c === '{') {
        if (nested === 0 && body[i + 1] === '{') { i += 2; continue }
        if (nested >= 2) return { message: 'f-string: expressions nested too deeply' }
        i++
        const problem = expression(nested)
        if (problem !== undefined) return problem
        continue
      }
      if (c === '}') {
        if (nested > 0) return i
        if (body[i + 1] === '}') { i += 2; continue }
        return { message: "f-string: single '}' is not allowed" }
      }
      i++
    }
    return i
  }
  const expression = (nested: number): { message: string, line?: number, column?: number } | undefined => {
    const start = i
    const stack: string[] = []
    let inQuote: string | undefined
    for (; i < body.length; i++) {
      const c = body[i] ?? ''
      if (c === '\\') return { message: 'f-string expression part cannot include a backslash' }
      if (inQuote !== undefined) {
        if (body.startsWith(inQuote, i)) { i += inQuote.length - 1; inQuote = undefined }
        continue
      }
      if (c === '"' || c === "'") { inQuote = body.startsWith(c.repeat(3), i) ? c.repeat(3) : c; i += inQuote.length - 1; continue }
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
    if (i >= body.length) return { message: "f-string: expecting '}'" }
    const source = body.slice(start, i).replace(/=\s*$/, '')
    if (source.trim() === '') return { message: 'f-string: empty expression not allowed' }
    if (body[i] === '=') { i++; while (/\s/.test(body[i] ?? '')) i++ }
    if (body[i] === '!') {
      if (!/[sra]/.test(body[i + 1] ?? '')) return { message: "f-string: invalid conversion character: expected 's', 'r', or 'a'" }
      i += 2
      if (body[i] !== ':' && body[i] !== '}') return { message: "f-string: expecting '}'" }
    }
    if (body[i] === ':') {
      i++
      const end = literal(nested + 1)
      if (typeof end !== 'number') return end
    }
    if (body[i] !== '}') return { message: "f-string: expecting '}'" }
    i++
    const inner = findSyntaxError(`(${source})`)
    if (inner !== undefined && inner.kind === 'SyntaxError' && !inner.message.includes('outside')) {
      return { message: `f-string: ${inner.message}`, line: lineOf(start) + inner.line - 1, column: inner.column }
    }
    return undefined
  }
  const result = literal(0)
  return typeof result === 'number' ? undefined : result
}

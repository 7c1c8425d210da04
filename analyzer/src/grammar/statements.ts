/**
 * Statements: simple ones (assignments with CPython's target messages, imports, `return`, `break`, Python 2's
 * `print`…) and compound ones, whose header must end in `:` and be followed by an indented block.
 */
import type { Token } from '../tokenize.ts'
import { isPrintOrExec } from './expressions.ts'
import { Fail, Found, exprName } from './messages.ts'
import type { Expr } from './messages.ts'
import { TargetParser } from './targets.ts'

const AUGMENTED = new Set(['+=', '-=', '*=', '@=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '**=', '//='])

/** The recognizer: {@link Parser.file} reads a whole file, or fails where CPython would. */
export class Parser extends TargetParser {
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

  // ---- simple statements ------------------------------------------------------------------------------

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
          this.checks.loopControl(t)
          return
        case 'return': {
          this.next()
          this.checks.returnStatement(t)
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
          if (t.text === 'nonlocal') this.checks.nonlocalStatement(t)
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

  private expressionStatement (): void {
    const start = this.peek()
    if (start.type === 'NAME' && start.text === 'yield') {
      const value = this.yieldExpression()
      if (this.at('=')) throw this.found(value.first, 'assignment to yield expression not possible')
      return
    }
    const first = this.starExpressions()
    // print "x": Python 2's statement.
    if (isPrintOrExec(first) && this.startsExpression()) this.checkPython2Statement(first)
    const t = this.peek()
    if (t.type === 'OP' && t.text === ':=' && first.kind !== 'name') throw this.found(first.first, `cannot use assignment expressions with ${exprName(first)}`)
    if (t.type === 'OP' && t.text === '=') return this.assignment(first)
    if (t.type === 'OP' && t.text === ':') return this.annotatedAssignment(first)
    if (t.type === 'OP' && AUGMENTED.has(t.text)) {
      if (!['name', 'attribute', 'subscript'].includes(first.kind)) {
        throw this.found(first.first, `'${exprName(first)}' is an illegal expression for augmented assignment`)
      }
      this.next()
      this.assignedValue()
      return
    }
    if (first.kind === 'starred') this.checks.starredValue(first.first)
  }

  /** `first = … = value`, at the first `=`. */
  private assignment (first: Expr): void {
    const chain: Expr[] = [first]
    let value = first
    while (this.at('=')) {
      this.next()
      value = this.assignedValue()
      chain.push(value)
      if (value.kind === 'yield' && this.at('=')) throw this.found(value.first, 'assignment to yield expression not possible')
      // `x = 5 = y`: CPython names the bad target as soon as it sees the `=` after it.
      if (this.at('=')) this.checkTarget(value, 'assign')
    }
    chain.pop()
    if (value.kind === 'starred') this.checks.starredValue(value.first)
    chain.forEach((target, i) => this.checkTarget(target, 'assign', i === 0 && chain.length === 1))
  }

  /** `first: annotation [= value]`, at the `:`. */
  private annotatedAssignment (first: Expr): void {
    if (first.kind === 'tuple' || first.kind === 'list') throw this.found(first.first, `only single target (not ${first.kind}) can be annotated`)
    if (!['name', 'attribute', 'subscript'].includes(first.kind)) throw this.found(first.first, 'illegal target for annotation')
    this.next()
    this.expression()
    if (this.at('=')) {
      this.next()
      this.assignedValue()
    }
  }

  /** The right-hand side of an assignment: a yield expression or star expressions. */
  private assignedValue (): Expr {
    return this.at('yield') ? this.yieldExpression() : this.starExpressions()
  }

  private importName (): void {
    this.next()
    do this.importedName(() => this.dottedName())
    while (this.at(',') && this.next() !== undefined)
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
    this.importedName(() => this.name())
    while (this.at(',')) {
      this.next()
      if (parenthesized && this.at(')')) break
      if (!parenthesized && this.isType('NEWLINE')) throw this.found(this.peek(), 'trailing comma not allowed without surrounding parentheses')
      this.importedName(() => this.name())
    }
    if (parenthesized) this.expect(')')
  }

  /** What `read` reads, then `as name` if present. */
  private importedName (read: () => void): void {
    read()
    if (this.at('as')) { this.next(); this.name() }
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
    this.indented(header, what, () => this.statement())
  }

  /** After a header's NEWLINE: an INDENT, `statement` until the DEDENT, and the DEDENT. */
  private indented (header: Token, what: string, statement: () => void): void {
    const t = this.peek()
    if (t.type !== 'INDENT') {
      throw new Found({ kind: 'IndentationError', message: `expected an indented block after ${what} on line ${header.line}`, line: t.line, column: t.col + 1 })
    }
    this.next()
    do statement()
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
    if (this.at('with')) {
      this.checks.asyncStatement(t, 'with')
      return this.withStatement(true)
    }
    if (this.at('for')) {
      this.checks.asyncStatement(t, 'for')
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
    this.checks.enter('function', isAsync)
    this.colonAndBlock(header, 'function definition', true)
    this.checks.leave()
  }

  private classDef (): void {
    const header = this.next()
    this.name()
    if (this.at('(')) {
      this.next()
      this.callArguments(true)
      this.expect(')')
    }
    this.checks.enter('class')
    this.colonAndBlock(header, 'class definition', false)
    this.checks.leave()
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
    this.checks.scope.loops++
    this.colonAndBlock(header, what, false)
    this.checks.scope.loops--
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
    return this.speculate(() => {
      this.next()
      if (this.isType('NEWLINE') || this.at('=') || this.at('.') || this.at(',') || this.at(')') || (this.isType('OP') && AUGMENTED.has(this.peek().text))) return false
      this.starNamedExpressions()
      return this.at(':') && this.isType('NEWLINE', 1)
    }) ?? false
  }

  private matchStatement (): void {
    const header = this.next()
    this.starNamedExpressions()
    this.expect(':')
    if (!this.isType('NEWLINE')) throw new Fail()
    this.next()
    this.indented(header, "'match' statement", () => {
      if (!this.at('case')) throw new Fail()
      const clause = this.next()
      this.pattern()
      if (this.at('if')) { this.next(); this.namedExpression() }
      this.colonAndBlock(clause, "'case' statement", false)
    })
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
}

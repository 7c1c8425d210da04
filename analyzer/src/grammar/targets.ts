/**
 * What may be bound: the targets of assignments, `for`, `with … as` and `del`, with CPython's messages for
 * the ones that cannot be (`cannot assign to function call`), and the parameters of `def` and `lambda` with
 * its ordering rules.
 */
import type { Token } from '../tokenize.ts'
import { AtomParser } from './atoms.ts'
import { exprName, invalidTarget } from './messages.ts'
import type { Expr } from './messages.ts'
import { Fail } from './messages.ts'

export abstract class TargetParser extends AtomParser {
  /** Targets of `for`, `del`: star_targets up to `in` or the end of the statement. */
  protected targetList (): Expr {
    return this.tupleOf(() => this.starTarget(), () => this.at('in') || this.atStatementEnd() || this.at('='))
  }

  protected starTarget (): Expr {
    return this.starredOr(() => this.bitwiseOr())
  }

  /**
   * Checks an assignment (or `del`) target. `suggestEquals` is CPython's `x + 1 = 2` message ("… here. Maybe
   * you meant '==' instead of '='?"), given for a single plain target.
   */
  protected checkTarget (target: Expr, use: 'assign' | 'delete', suggestEquals = false): void {
    if (target.kind === 'starred' && use === 'assign') this.checks.starredTarget(target.first)
    const bad = invalidTarget(target, use)
    if (bad === undefined) return
    if (use === 'delete') throw this.found(bad.first, `cannot delete ${exprName(bad)}`)
    if (suggestEquals && bad === target && !['tuple', 'list', 'genexp', 'True', 'False', 'None'].includes(target.kind) && target.parenthesized !== true) {
      throw this.found(bad.first, `cannot assign to ${exprName(bad)} here. Maybe you meant '==' instead of '='?`)
    }
    throw this.found(bad.first, `cannot assign to ${exprName(bad)}`)
  }

  /** Parameters up to `close` (`)` for def, `:` for lambda), with CPython's ordering rules. */
  protected parameters (close: string): void {
    const seen = new Set<string>()
    let defaults = false
    let star = false
    let doubleStar = false
    let slash = false
    const lambda = close === ':'
    const add = (t: Token): void => {
      if (seen.has(t.text)) this.checks.duplicateParameter(t)
      seen.add(t.text)
    }
    // `name: annotation`, which lambda parameters cannot have.
    const annotation = (starred = false): void => {
      if (lambda || !this.at(':')) return
      this.next()
      if (starred && this.at('*')) this.starExpression()
      else this.expression()
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
        annotation()
        doubleStar = true
      } else if (t.type === 'OP' && t.text === '*') {
        if (star) throw this.found(t, '* argument may appear only once')
        star = true
        this.next()
        if (this.isName()) {
          add(this.name())
          annotation(true)
        } else if (!this.at(',') || this.at(close, 1) || this.at('**', 1)) {
          throw this.found(t, 'named arguments must follow bare *')
        }
      } else {
        const p = this.name()
        add(p)
        annotation()
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
}

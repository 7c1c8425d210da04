/**
 * What a syntax error is and how CPython words it: the problem the recognizer reports, the summary of an
 * expression its messages are about, and CPython's names for expressions (`cannot assign to function call`).
 */
import type { Token } from '../tokenize.ts'

/** A syntax error as CPython reports it: `line` 1-based, `column` CPython's 1-based offset. */
export interface SyntaxProblem {
  kind: 'SyntaxError' | 'IndentationError' | 'TabError'
  message: string
  line: number
  column: number
}

/** What the target and message rules need to know of an expression. */
export interface Expr {
  kind: string
  first: Token
  last: Token
  /** Elements of a tuple or list display, the operand of a starred expression or of parentheses. */
  elts?: Expr[]
  parenthesized?: boolean
}

/** The parser cannot go on here: the error is CPython's generic one, at the furthest token read. */
export class Fail extends Error {}

/** One of CPython's specific rules applies: the error is `problem`, wherever the parser is. */
export class Found extends Error {
  constructor (readonly problem: SyntaxProblem) {
    super(problem.message)
  }
}

/** A SyntaxError at token `t` (CPython counts columns from 1). */
export function problemAt (t: Token, message: string): SyntaxProblem {
  return { kind: 'SyntaxError', message, line: t.line, column: t.col + 1 }
}

/** The first part of a target that cannot be assigned to (or deleted), or undefined. */
export function invalidTarget (e: Expr, use: 'assign' | 'delete'): Expr | undefined {
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
export function exprName (e: Expr): string {
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

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
 *
 * The parser is layered in `grammar/`, each layer a class extending the one below: `cursor.ts` (tokens and
 * backtracking), `expressions.ts`, `atoms.ts` (with `fstring.ts`), `targets.ts`, `statements.ts`; the
 * compiler's checks are in `compile-checks.ts` and CPython's wording in `messages.ts`.
 */
import { Fail, Found } from './grammar/messages.ts'
import type { SyntaxProblem } from './grammar/messages.ts'
import { Parser } from './grammar/statements.ts'
import { tokenize } from './tokenize.ts'

export type { SyntaxProblem } from './grammar/messages.ts'

/** The first syntax error of a file, or undefined when CPython would compile it. */
export function findSyntaxError (text: string): SyntaxProblem | undefined {
  const { tokens, error, open } = tokenize(text)
  const parser = new Parser(tokens, findSyntaxError)
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

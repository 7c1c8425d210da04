/**
 * Errors CPython's compiler raises once a file parses: the symbol table's (duplicate parameters, `nonlocal` at
 * module level) come before the code generator's (`return`, `yield` and `await` outside a function, `break`
 * outside a loop, misplaced starred expressions). The parser records them as it meets them, in the scope it is
 * in; the first one is the file's error only when the file has no syntax error.
 */
import type { Token } from '../tokenize.ts'
import { problemAt } from './messages.ts'
import type { SyntaxProblem } from './messages.ts'

/** A scope as far as the compiler's checks need it. */
export interface Scope {
  kind: 'module' | 'function' | 'class' | 'lambda'
  async: boolean
  loops: number
}

export class CompileChecks {
  private readonly scopes: Scope[] = [{ kind: 'module', async: false, loops: 0 }]
  private readonly symtableErrors: SyntaxProblem[] = []
  private readonly compileErrors: SyntaxProblem[] = []

  get scope (): Scope {
    return this.scopes.at(-1) as Scope
  }

  enter (kind: Scope['kind'], isAsync = false): void {
    this.scopes.push({ kind, async: isAsync, loops: 0 })
  }

  leave (): void {
    this.scopes.pop()
  }

  /** The error CPython's compiler would raise, symbol-table errors first. */
  first (): SyntaxProblem | undefined {
    return this.symtableErrors[0] ?? this.compileErrors[0]
  }

  /** `break` / `continue` (`t`) outside a loop of the current scope. */
  loopControl (t: Token): void {
    if (this.scope.loops === 0) this.compileErrors.push(problemAt(t, t.text === 'break' ? "'break' outside loop" : "'continue' not properly in loop"))
  }

  returnStatement (t: Token): void {
    if (this.scope.kind !== 'function') this.compileErrors.push(problemAt(t, "'return' outside function"))
  }

  nonlocalStatement (t: Token): void {
    if (this.scope.kind === 'module') this.symtableErrors.push(problemAt(t, 'nonlocal declaration not allowed at module level'))
  }

  /** `async with` / `async for` (`t` the `async`) outside an async function. */
  asyncStatement (t: Token, what: 'with' | 'for'): void {
    if (!(this.scope.kind === 'function' && this.scope.async)) this.compileErrors.push(problemAt(t, `'async ${what}' outside async function`))
  }

  awaitExpression (t: Token): void {
    if (!(this.scope.kind === 'function' && this.scope.async)) {
      this.compileErrors.push(problemAt(t, this.scope.kind === 'function' ? "'await' outside async function" : "'await' outside function"))
    }
  }

  yieldExpression (t: Token): void {
    if (this.scope.kind !== 'function' && this.scope.kind !== 'lambda') this.compileErrors.push(problemAt(t, "'yield' outside function"))
  }

  duplicateParameter (t: Token): void {
    this.symtableErrors.push(problemAt(t, `duplicate argument '${t.text}' in function definition`))
  }

  /** A starred expression where a value is needed (`x = *a`, `*a` as a statement). */
  starredValue (t: Token): void {
    this.compileErrors.push(problemAt(t, "can't use starred expression here"))
  }

  /** `*a = …`: a starred target alone. */
  starredTarget (t: Token): void {
    this.compileErrors.push(problemAt(t, 'starred assignment target must be in a list or tuple'))
  }
}

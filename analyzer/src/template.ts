/**
 * Template checks (DESIGN.md, job contract). Automatic mode: `main(data)` at module level, and module level
 * holds only imports, function definitions and constants. Manual mode: `process(input_data)` and optionally
 * `aggregate(results)`. Imports must come from an allow-list of pure standard modules, so that what a job
 * can do is what the analyzer can see.
 */
import type { Finding } from './scan.ts'
import { afterToken, lineOf, namedChildren, textOf, toPyNode, unparen } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/** How the job is run: `auto` splits `main(data)` by analysis; `manual` calls `process` per chunk. */
export type JobMode = 'auto' | 'manual'

/**
 * Standard modules a job may import: computation only, no I/O, no processes, no clock or randomness (both
 * would make split runs differ from a sequential run). Submodules are allowed only when listed.
 */
export const ALLOWED_MODULES: ReadonlySet<string> = new Set([
  '__future__', 'abc', 'array', 'base64', 'binascii', 'bisect', 'calendar', 'cmath', 'collections',
  'collections.abc', 'copy', 'csv', 'dataclasses', 'datetime', 'decimal', 'difflib', 'enum', 'fractions',
  'functools', 'graphlib', 'hashlib', 'heapq', 'hmac', 'html', 'ipaddress', 'itertools', 'json', 'keyword',
  'math', 'numbers', 'operator', 'pprint', 're', 'reprlib', 'statistics', 'string', 'struct', 'textwrap',
  'typing', 'unicodedata', 'urllib.parse', 'zlib'
])

// Builtins that build values from constants; a module-level constant may call them.
const CONSTANT_BUILDERS = new Set(['frozenset', 'set', 'tuple', 'list', 'dict', 'range', 'int', 'float', 'str', 'bytes', 'complex', 'bool', 'len', 'sorted', 'min', 'max', 'sum', 'abs', 'round', 'ord', 'chr'])
const ALLOWED_DECORATORS = /^(functools\.)?(lru_cache|cache)(\(.*\))?$|^(dataclasses\.)?dataclass(\(.*\))?$|^(staticmethod|classmethod)$/s
const LITERALS = new Set(['integer', 'float', 'string', 'concatenated_string', 'true', 'false', 'none', 'ellipsis'])

/** A function defined at module level. */
export interface FunctionDef {
  name: string
  line: number
  node: PyNode
  /** Parameter names, in order. */
  params: string[]
}

/** What module level defines; the analysis resolves names against it. */
export interface ModuleInfo {
  functions: Map<string, FunctionDef>
  /** Module-level constants (immutable by contract) and their lines. */
  constants: Map<string, number>
  /** Local name → module path, for `import x as y` and `from m import f` (`m.f`). */
  imports: Map<string, string>
  /** Class names defined at module level. */
  classes: Set<string>
}

/** Result of the template checks. */
export interface TemplateResult {
  findings: Finding[]
  module: ModuleInfo
}

/** Checks a parsed module against the job template of `mode`. */
export function checkTemplate (module: PyNode, mode: JobMode): TemplateResult {
  const findings: Finding[] = []
  const info: ModuleInfo = { functions: new Map(), constants: new Map(), imports: new Map(), classes: new Set() }
  const add = (ruleId: string, node: PyNode, message: string, note?: string): void => {
    findings.push(finding(ruleId, node, message, note))
  }

  for (const stmt of namedChildren(module)) {
    const check = MODULE_STATEMENTS.get(stmt.kind)
    if (check !== undefined) check(stmt, info, add)
    else add('template/module-code', stmt, `module level may hold only imports, function definitions and constants, not a ${stmt.kind.replaceAll('_', ' ')}`, 'Move this statement into a function.')
  }

  // Imports inside functions obey the same allow-list; they would otherwise bypass it.
  const nested = module.sg.findAll({ rule: { any: [{ kind: 'import_statement' }, { kind: 'import_from_statement' }], not: { inside: { kind: 'module' } } } })
  for (const sg of nested) checkImport(toPyNode(sg), info, add)

  const entryPoints = mode === 'auto' ? [{ name: 'main', param: 'data' }] : [{ name: 'process', param: 'input_data' }]
  for (const { name, param } of entryPoints) {
    const fn = info.functions.get(name)
    if (fn === undefined) {
      findings.push({
        ruleId: `template/${name}-missing`,
        category: 'template',
        severity: 'ERROR',
        message: `no ${name}(${param}) function at module level`,
        note: mode === 'auto'
          ? 'Automatic mode runs main(data) with your input loaded as a list; define `def main(data):` and return the result.'
          : 'Manual mode calls process(input_data) once per chunk of the input; define `def process(input_data):` returning a dict.',
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        snippet: ''
      })
    } else {
      checkEntrySignature(fn, param, add)
    }
  }
  if (mode === 'manual') {
    const aggregate = info.functions.get('aggregate')
    if (aggregate !== undefined) checkEntrySignature(aggregate, 'results', add)
  }
  return { findings, module: info }
}

type Add = (ruleId: string, node: PyNode, message: string, note?: string) => void

/** Checks one kind of module-level statement, recording what it defines in `info`. */
type StatementCheck = (stmt: PyNode, info: ModuleInfo, add: Add) => void

/** The check of each kind of statement module level may hold; any other kind is code that runs when it loads. */
const MODULE_STATEMENTS: ReadonlyMap<string, StatementCheck> = new Map([
  ['import_statement', checkImport],
  ['import_from_statement', checkImport],
  ['future_import_statement', checkImport],
  ['function_definition', defineFunction],
  ['decorated_definition', checkDecorated],
  ['class_definition', defineClass],
  ['expression_statement', checkConstantStatement],
  ['if_statement', checkModuleIf]
])

function checkDecorated (stmt: PyNode, info: ModuleInfo, add: Add): void {
  const bad = disallowedDecorator(stmt)
  if (bad !== undefined) {
    add('template/decorator', bad, `decorator ${textOf(bad).trim()} runs code when the module loads`, 'Only functools.lru_cache/cache, dataclass, staticmethod and classmethod are allowed; call the function explicitly instead.')
  }
  const definition = stmt.children.find(c => c.kind === 'function_definition' || c.kind === 'class_definition')
  if (definition?.kind === 'function_definition') defineFunction(definition, info, add)
  if (definition?.kind === 'class_definition') defineClass(definition, info, add)
}

/** The first decorator of a decorated definition that is not an allowed one; the others run code when the module loads. */
function disallowedDecorator (stmt: PyNode): PyNode | undefined {
  return stmt.children.filter(c => c.kind === 'decorator').find(d => !ALLOWED_DECORATORS.test(textOf(d).replace(/^@\s*/, '').trim()))
}

/** An `if` at module level: the `__main__` guard, or other code that runs when the module loads. */
function checkModuleIf (stmt: PyNode, _info: ModuleInfo, add: Add): void {
  if (/__name__/.test(textOf(namedChildren(stmt)[0] ?? stmt))) {
    add('template/main-guard', stmt, "the `if __name__ == '__main__':` block runs code at module level", 'Remove it: the runtime loads your data and calls main(data) itself.')
    return
  }
  add('template/module-code', stmt, 'module level may hold only imports, function definitions and constants', 'Move this statement into a function.')
}

function checkImport (stmt: PyNode, info: ModuleInfo, add: Add): void {
  if (stmt.kind === 'future_import_statement') return
  if (stmt.kind === 'import_from_statement') {
    const source = namedChildren(stmt)[0]
    if (source === undefined) return
    if (source.kind === 'relative_import') {
      add('template/relative-import', stmt, `relative import '${textOf(source)}': a job is a single file`, 'Paste the code you need into the job file.')
      return
    }
    const module = textOf(source)
    if (!ALLOWED_MODULES.has(module)) {
      add('template/import-not-allowed', source, `module '${module}' is not on the allow-list of pure standard modules`, `Allowed: ${[...ALLOWED_MODULES].join(', ')}.`)
    }
    for (const imported of namedChildren(stmt).slice(1)) {
      if (imported.kind === 'wildcard_import') {
        add('template/wildcard-import', imported, `'from ${module} import *' hides which names the job uses`, 'Import the names you need explicitly.')
        continue
      }
      const [name, alias] = imported.kind === 'aliased_import' ? namedChildren(imported) : [imported, imported]
      if (name !== undefined && alias !== undefined) info.imports.set(textOf(alias), `${module}.${textOf(name)}`)
    }
    return
  }
  for (const imported of namedChildren(stmt)) {
    const [name, alias] = imported.kind === 'aliased_import' ? namedChildren(imported) : [imported, undefined]
    if (name === undefined) continue
    const module = textOf(name)
    if (!ALLOWED_MODULES.has(module)) {
      add('template/import-not-allowed', name, `module '${module}' is not on the allow-list of pure standard modules`, `Allowed: ${[...ALLOWED_MODULES].join(', ')}.`)
    }
    // `import a.b` binds `a`; `import a.b as c` binds c to a.b.
    if (alias !== undefined) info.imports.set(textOf(alias), module)
    else info.imports.set(module.split('.')[0] ?? module, module.split('.')[0] ?? module)
  }
}

function defineFunction (def: PyNode, info: ModuleInfo, add: Add): void {
  const name = namedChildren(def).find(c => c.kind === 'identifier')
  if (name === undefined) return
  const fnName = textOf(name)
  if (def.children[0]?.kind === 'async') {
    add('template/async-function', def, `async function ${fnName}(): jobs run synchronously`, 'Use a plain def.')
  }
  const previous = info.functions.get(fnName)
  if (previous !== undefined) {
    add('template/duplicate-function', def, `${fnName}() is defined twice (lines ${previous.line} and ${lineOf(def)}); only the last one would run`, 'Rename or remove one of them.')
  }
  info.functions.set(fnName, { name: fnName, line: lineOf(def), node: def, params: parameterNames(def) })
  // Default values run when the module loads; they must be constants like everything else at module level.
  const params = def.children.find(c => c.kind === 'parameters')
  for (const p of params === undefined ? [] : namedChildren(params)) {
    if (p.kind !== 'default_parameter' && p.kind !== 'typed_default_parameter') continue
    const value = afterToken(p, '=')
    if (value !== undefined && !isConstantExpression(value, info)) {
      add('template/default-value', value, `the default value \`${shorten(textOf(value))}\` of ${fnName}() runs code when the module loads`, 'Use None as the default and compute the value inside the function.')
    }
  }
}

/** Parameter names of a function definition, in order (`*args` → `args`). */
export function parameterNames (def: PyNode): string[] {
  const params = def.children.find(c => c.kind === 'parameters')
  if (params === undefined) return []
  const names: string[] = []
  for (const p of namedChildren(params)) {
    if (p.kind === 'identifier') names.push(p.text)
    else {
      const id = p.kind === 'typed_parameter' || p.kind === 'list_splat_pattern' || p.kind === 'dictionary_splat_pattern'
        ? namedChildren(p).find(c => c.kind === 'identifier') ?? namedChildren(namedChildren(p)[0] ?? p).find(c => c.kind === 'identifier')
        : namedChildren(p)[0]
      if (id !== undefined && id.kind === 'identifier') names.push(id.text)
    }
  }
  return names
}

function checkEntrySignature (fn: FunctionDef, param: string, add: Add): void {
  const params = fn.node.children.find(c => c.kind === 'parameters')
  const list = params === undefined ? [] : namedChildren(params)
  const first = list[0]
  const firstIsPlain = first !== undefined && (first.kind === 'identifier' || first.kind === 'typed_parameter')
  const restHaveDefaults = list.slice(1).every(p => p.kind === 'default_parameter' || p.kind === 'typed_default_parameter' || p.kind === 'keyword_separator')
  if (!firstIsPlain || !restHaveDefaults) {
    add('template/entry-signature', fn.node, `${fn.name}() must take exactly one argument, like ${fn.name}(${param}); it is declared as ${fn.name}(${params === undefined ? '' : textOf(params).slice(1, -1)})`, `The runtime calls ${fn.name}(${param}); extra parameters need default values.`)
  }
}

function defineClass (def: PyNode, info: ModuleInfo, add: Add): void {
  const name = namedChildren(def).find(c => c.kind === 'identifier')
  if (name !== undefined) info.classes.add(textOf(name))
  // Base classes and keywords (metaclass=…) are evaluated when the module loads.
  const bases = def.children.find(c => c.kind === 'argument_list')
  for (const base of bases === undefined ? [] : namedChildren(bases)) {
    if (base.kind !== 'identifier' && base.kind !== 'attribute') {
      add('template/class-base', base, `class base \`${shorten(textOf(base))}\` runs code when the module loads`, 'Derive only from classes named directly.')
    }
  }
  const body = def.children.find(c => c.kind === 'block')
  for (const stmt of body === undefined ? [] : namedChildren(body)) {
    if (stmt.kind === 'function_definition' || stmt.kind === 'pass_statement') continue
    if (stmt.kind === 'decorated_definition') {
      const bad = disallowedDecorator(stmt)
      if (bad !== undefined) add('template/decorator', bad, `decorator ${textOf(bad).trim()} runs code when the module loads`, 'Only functools.lru_cache/cache, dataclass, staticmethod and classmethod are allowed.')
      continue
    }
    if (stmt.kind === 'expression_statement') {
      const expr = namedChildren(stmt)[0]
      if (expr !== undefined && (isStringLiteral(expr) || (expr.kind === 'assignment' && isConstantAssignment(expr, info, true)))) continue
    }
    add('template/class-body', stmt, 'a class body may hold only methods, docstrings and constants', 'Move this statement into a method.')
  }
}

function checkConstantStatement (stmt: PyNode, info: ModuleInfo, add: Add): void {
  const expr = namedChildren(stmt)[0]
  if (expr === undefined) return
  if (isStringLiteral(expr)) return // docstrings, anywhere: they are inert
  if (expr.kind === 'assignment' && isConstantAssignment(expr, info, false)) {
    for (let a: PyNode | undefined = expr; a?.kind === 'assignment'; a = afterToken(a, '=')) {
      for (const target of targetNames(a.children[0])) info.constants.set(target, lineOf(stmt))
    }
    return
  }
  add('template/module-code', stmt, `module level may hold only imports, function definitions and constants: \`${shorten(textOf(stmt))}\` is not a constant`, 'Compute it inside main() or a function, or write it as a literal.')
}

function isStringLiteral (node: PyNode): boolean {
  return node.kind === 'string' || node.kind === 'concatenated_string'
}

function isConstantAssignment (assignment: PyNode, info: ModuleInfo, inClass: boolean): boolean {
  const left = assignment.children[0]
  if (left === undefined || targetNames(left).length === 0) return false
  const right = afterToken(assignment, '=')
  // `x: int` without a value declares a field (classes) and binds nothing (module).
  if (right === undefined) return inClass || assignment.children.some(c => c.kind === 'type')
  // `A = B = 0`: tree-sitter nests the second assignment on the right.
  if (right.kind === 'assignment') return isConstantAssignment(right, info, inClass)
  return isConstantExpression(right, info)
}

function targetNames (left: PyNode | undefined): string[] {
  if (left === undefined) return []
  if (left.kind === 'identifier') return [left.text]
  if (left.kind === 'pattern_list' || left.kind === 'tuple_pattern') {
    const names = namedChildren(left).map(c => c.kind === 'identifier' ? c.text : '')
    return names.includes('') ? [] : names
  }
  return []
}

/** Literals, containers of constants, arithmetic on them, earlier constants, and pure calls on constants. */
export function isConstantExpression (node: PyNode, info: ModuleInfo): boolean {
  const expr = unparen(node)
  if (LITERALS.has(expr.kind)) return expr.kind !== 'string' || !expr.children.some(c => c.kind === 'interpolation')
  switch (expr.kind) {
    case 'identifier':
      return info.constants.has(expr.text) || info.functions.has(expr.text) || info.classes.has(expr.text) || info.imports.has(expr.text)
    case 'attribute': {
      const root = rootName(expr)
      return root !== undefined && info.imports.has(root)
    }
    case 'list': case 'tuple': case 'set': case 'dictionary': case 'pair': case 'binary_operator':
    case 'unary_operator': case 'boolean_operator': case 'comparison_operator': case 'not_operator':
    case 'conditional_expression': case 'subscript': case 'slice': case 'keyword_argument': case 'argument_list':
      return namedChildren(expr).every(c => c.kind === 'keyword_argument'
        ? isConstantExpression(namedChildren(c)[1] ?? c, info)
        : isConstantExpression(c, info))
    case 'lambda':
      return true
    case 'call': {
      const [fn, args] = namedChildren(expr)
      if (fn === undefined || args === undefined || args.kind !== 'argument_list') return false
      const callee = fn.kind === 'identifier'
        ? CONSTANT_BUILDERS.has(fn.text) || info.classes.has(fn.text) || info.imports.has(fn.text)
        : fn.kind === 'attribute' && info.imports.has(rootName(fn) ?? '')
      return callee && isConstantExpression(args, info)
    }
    default:
      return false
  }
}

function rootName (node: PyNode): string | undefined {
  let current = node
  while (current.kind === 'attribute') {
    const object = current.children[0]
    if (object === undefined) return undefined
    current = object
  }
  return current.kind === 'identifier' ? current.text : undefined
}

function finding (ruleId: string, node: PyNode, message: string, note?: string): Finding {
  const { start, end } = node.sg.range()
  return {
    ruleId,
    category: 'template',
    severity: 'ERROR',
    message,
    ...(note !== undefined ? { note } : {}),
    line: start.line + 1,
    column: start.column + 1,
    endLine: end.line + 1,
    endColumn: end.column + 1,
    snippet: shorten(textOf(node))
  }
}

function shorten (text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine
}

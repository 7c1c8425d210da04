/**
 * Attribute rules: which attributes a job may reach, on which objects. They need scopes and bindings (is this
 * `self` the method's own first parameter? is this name bound by `import`?), which ast-grep rules cannot
 * express, so they are written here and run by the scanner next to the YAML rules.
 *
 * The one rule: **a name starting with `_` is not reachable on anything** (`collections._sys`,
 * `x.__class__`, `f.__globals__`, `getattr(o, "_x")`), except
 * - the dunders of {@link SAFE_DUNDERS}: `__name__`, `__doc__`, `__qualname__` and the protocol methods
 *   (`__init__`, `__len__`, `__eq__`, …), which compute from the object's own data and hand out nothing of
 *   the interpreter, and namedtuple's public API (`_asdict`, `_replace`, …);
 * - `self._x` / `cls._x` / `super()._x` in the methods of the job's own classes, for names those classes
 *   declare themselves (`self._x = …`, `def _helper`, `_CACHE = …` in a class body).
 *
 * Around it, what keeps the exceptions and the public names honest:
 * - modules are reached only through `import`: `m.name` on a module needs `name` to be one the module
 *   defines (from `python-names.json`), so modules it merely imported (`re.enum`, `enum.bltns`, `typing.sys`)
 *   stay out of reach, and a module may not be used as a value (`m = re`, `f(re)`), which would carry it
 *   where the analyzer no longer knows it is one;
 * - the public attributes of frames, code objects, generators and tracebacks (`gi_frame`, `f_globals`,
 *   `tb_frame`…) are refused on any object;
 * - attribute names given as strings must be literals that pass the same checks (`getattr`, `hasattr`,
 *   `setattr`, `delattr`, `operator.attrgetter`, `operator.methodcaller`; `string.Formatter.get_field`
 *   is refused outright), and format strings may not walk into `_` names (`"{0.__class__}"`);
 * - `self` is the method's own object only if the method cannot be called with another object in its place:
 *   a class whose methods use that exception may not be used as a value (`k = C`, `C.m(x)`, `type(c).m(x)`,
 *   `super(C, x)`), only called, subclassed, compared, tested with isinstance or named in annotations; and
 *   the method must never rebind its first parameter.
 */
import { checkClassValues, closeHolding, collectClass, ownerOf } from './attribute-classes.ts'
import {
  BUILTIN_ATTRIBUTE_FUNCTIONS, INTERPRETER_ATTRIBUTES, MODULE_NAMES, OPERATOR_ATTRIBUTE_FUNCTIONS, PACKAGES,
  REPORTED_ELSEWHERE, SAFE_DUNDERS, SAFE_DUNDER_NAMES, literalNameAllowed, moduleExports, publicName
} from './attribute-names.ts'
import { attributeName, isBinding, isCallee, report } from './attribute-rules.ts'
import type { AttributeContext, ClassInfo } from './attribute-rules.ts'
import type { Finding } from './scan.ts'
import { namedChildren, textOf } from './syntax.ts'
import type { PyNode } from './syntax.ts'
import { ALLOWED_MODULES } from './template.ts'

export { ATTRIBUTE_RULES } from './attribute-rules.ts'
export type { AttributeRuleId } from './attribute-rules.ts'
export { PYTHON_NAMES_VERSION, SAFE_DUNDERS } from './attribute-names.ts'

/**
 * Runs the attribute rules over a module. Findings carry the offending node's position; one finding per node.
 */
export function checkAttributes (module: PyNode): Finding[] {
  const ctx: AttributeContext = { parents: new Map(), modules: new Map(), imported: new Map(), classes: new Map(), declared: new Set(), findings: [], reported: new Set(), classNames: new Map() }
  const all: PyNode[] = []
  const visit = (node: PyNode): void => {
    all.push(node)
    for (const child of node.children) {
      // Punctuation and keywords are never checked nor asked for their parent.
      if (!child.named) continue
      ctx.parents.set(child, node)
      visit(child)
    }
  }
  visit(module)
  for (const node of all) {
    if (node.kind === 'import_statement' || node.kind === 'import_from_statement') bindImports(node, ctx)
    if (node.kind === 'class_definition') collectClass(node, ctx)
  }
  // Classes whose methods rely on owning self: the ones with an allowed private access, found while checking.
  const holding = new Set<ClassInfo>()
  // Inner attributes first (reverse pre-order), so an outer one on a refused chain can be skipped.
  for (const node of [...all].reverse()) {
    if (node.kind === 'attribute') checkAttribute(node, ctx, holding)
  }
  for (const node of all) {
    if (node.kind === 'identifier') checkName(node, ctx)
    else if (node.kind === 'call') checkDynamicAccess(node, ctx)
    else if (node.kind === 'string') checkString(node, ctx)
  }
  closeHolding(holding, ctx, all)
  if (holding.size > 0) checkClassValues(holding, ctx, all)
  return ctx.findings
}

// ---- imports and modules -------------------------------------------------------------------------------

function bindImports (stmt: PyNode, ctx: AttributeContext): void {
  if (stmt.kind === 'import_statement') {
    for (const item of namedChildren(stmt)) {
      const [dotted, alias] = item.kind === 'aliased_import' ? namedChildren(item) : [item, undefined]
      if (dotted === undefined) continue
      const path = textOf(dotted)
      // `import a.b` binds `a` (the package); `import a.b as c` binds c to a.b itself.
      if (alias !== undefined) ctx.modules.set(textOf(alias), path)
      else ctx.modules.set(path.split('.')[0] ?? path, path.split('.')[0] ?? path)
    }
    return
  }
  const [source, ...items] = namedChildren(stmt)
  if (source === undefined || source.kind !== 'dotted_name') return
  const from = textOf(source)
  for (const item of items) {
    const [dotted, alias] = item.kind === 'aliased_import' ? namedChildren(item) : [item, undefined]
    if (dotted === undefined || dotted.kind !== 'dotted_name') continue
    const name = textOf(dotted)
    const local = alias !== undefined ? textOf(alias) : name
    if (ALLOWED_MODULES.has(`${from}.${name}`)) ctx.modules.set(local, `${from}.${name}`)
    else ctx.imported.set(local, `${from}.${name}`)
    // Modules off the allow-list are refused by the template checks; here only what allowed ones export.
    if (MODULE_NAMES.has(from) && !moduleExports(from, name)) {
      report(ctx, 'module-attribute', dotted, { attr: name, module: from })
    }
  }
}

/**
 * The allowed module (or package of one) an expression certainly is (`re`, `collections.abc`, `urllib`), or
 * undefined. Modules off the allow-list are refused at their import by the template checks.
 */
function modulePath (node: PyNode, ctx: AttributeContext): string | undefined {
  if (node.kind === 'identifier') {
    const path = ctx.modules.get(node.text)
    return path !== undefined && (ALLOWED_MODULES.has(path) || PACKAGES.has(path)) ? path : undefined
  }
  if (node.kind === 'attribute') {
    const object = node.children[0]
    const parent = object === undefined ? undefined : modulePath(object, ctx)
    const path = parent === undefined ? undefined : `${parent}.${attributeName(node)}`
    return path !== undefined && ALLOWED_MODULES.has(path) ? path : undefined
  }
  return undefined
}

// ---- attributes ----------------------------------------------------------------------------------------

function checkAttribute (node: PyNode, ctx: AttributeContext, holding: Set<ClassInfo>): void {
  const object = node.children[0]
  const name = attributeName(node)
  if (object === undefined || chainReported(object, ctx)) return
  const module = modulePath(object, ctx)
  if (module !== undefined) {
    if (!moduleExports(module, name)) report(ctx, 'module-attribute', node, { attr: name, module })
    else if (OPERATOR_ATTRIBUTE_FUNCTIONS.has(`${module}.${name}`) && !isCallee(node, ctx.parents.get(node) ?? node)) report(ctx, 'dynamic-attribute', node, {})
    return
  }
  if (INTERPRETER_ATTRIBUTES.has(name)) {
    report(ctx, 'interpreter-attribute', node, {})
    return
  }
  if (publicName(name)) return
  const owner = ownerOf(object, node, ctx)
  if (owner !== undefined && ctx.declared.has(name)) {
    holding.add(owner)
    return
  }
  report(ctx, 'private-attribute', node, {})
}

/** Whether the receiver chain of an attribute (`a.b(c)[d]`, through calls and subscripts) already has a finding. */
function chainReported (object: PyNode, ctx: AttributeContext): boolean {
  for (let current: PyNode | undefined = object; current !== undefined; current = ['attribute', 'call', 'subscript'].includes(current.kind) ? current.children[0] : undefined) {
    if (ctx.reported.has(current)) return true
  }
  return false
}

// ---- bare names -----------------------------------------------------------------------------------------

function checkName (node: PyNode, ctx: AttributeContext): void {
  const parent = ctx.parents.get(node)
  if (parent === undefined) return
  // The attribute part of `x.name` is checked with the attribute.
  if (parent.kind === 'attribute' && parent.children[0] !== node) return
  const name = node.text
  if (/^__\w+__$/.test(name) && !SAFE_DUNDER_NAMES.has(name) && !REPORTED_ELSEWHERE.has(name) && !definesName(node, parent, ctx)) {
    report(ctx, 'dunder-name', node, {})
    return
  }
  const module = ctx.modules.get(name)
  if (module !== undefined && !moduleUseAllowed(node, parent)) {
    report(ctx, 'module-value', node, { module: name })
    return
  }
  if (BUILTIN_ATTRIBUTE_FUNCTIONS.has(name) && !ctx.imported.has(name) && !isCallee(node, parent) && !isBinding(node, parent)) {
    report(ctx, 'dynamic-attribute', node, {})
  }
  if (OPERATOR_ATTRIBUTE_FUNCTIONS.has(ctx.imported.get(name) ?? '') && !isCallee(node, parent) && !insideImport(node, ctx)) {
    report(ctx, 'dynamic-attribute', node, {})
  }
}

/** Defining a dunder (a method `def __eq__`, `__slots__ = …`, a keyword `__x=`) is not reaching one. */
function definesName (node: PyNode, parent: PyNode, ctx: AttributeContext): boolean {
  if (parent.kind === 'function_definition') return true
  if (parent.kind === 'keyword_argument' && parent.children[0] === node) return true
  if (parent.kind === 'assignment' && parent.children[0] === node) {
    const scope = ctx.parents.get(ctx.parents.get(parent) ?? parent)
    return scope?.kind === 'module' || (scope?.kind === 'block' && ctx.parents.get(scope)?.kind === 'class_definition')
  }
  return false
}

// A module-bound name may appear as `m.name` and in import statements; binding it anew is harmless.
function moduleUseAllowed (node: PyNode, parent: PyNode): boolean {
  if (parent.kind === 'attribute') return parent.children[0] === node
  return ['dotted_name', 'aliased_import'].includes(parent.kind) || isBinding(node, parent)
}

function insideImport (node: PyNode, ctx: AttributeContext): boolean {
  for (let current = ctx.parents.get(node); current !== undefined; current = ctx.parents.get(current)) {
    if (current.kind === 'import_from_statement' || current.kind === 'import_statement') return true
  }
  return false
}

// ---- names given as strings -----------------------------------------------------------------------------

function checkDynamicAccess (call: PyNode, ctx: AttributeContext): void {
  const [callee, args] = namedChildren(call)
  if (callee === undefined || args === undefined || args.kind !== 'argument_list') return
  const positional = namedChildren(args).filter(a => a.kind !== 'keyword_argument' && a.kind !== 'comment')
  const spread = positional.some(a => a.kind === 'list_splat' || a.kind === 'dictionary_splat')
  const calleeName = callee.kind === 'identifier' ? (ctx.imported.get(callee.text) ?? callee.text) : callee.kind === 'attribute' ? `${modulePath(callee.children[0] ?? callee, ctx) ?? '?'}.${attributeName(callee)}` : ''
  if (callee.kind === 'attribute' && attributeName(callee) === 'get_field') {
    report(ctx, 'dynamic-attribute', callee, {})
    return
  }
  if (callee.kind === 'identifier' && BUILTIN_ATTRIBUTE_FUNCTIONS.has(callee.text) && !ctx.imported.has(callee.text)) {
    const name = positional[1]
    const owner = positional[0] === undefined ? undefined : ownerOf(positional[0], call, ctx)
    if (spread || name === undefined || !literalNameAllowed(name, owner !== undefined ? ctx.declared : undefined)) report(ctx, 'dynamic-attribute', call, {})
    return
  }
  if (calleeName === 'operator.attrgetter' || calleeName === 'operator.methodcaller') {
    const names = calleeName === 'operator.attrgetter' ? positional : positional.slice(0, 1)
    const dotted = calleeName === 'operator.attrgetter'
    if (spread || names.length === 0 || !names.every(n => literalNameAllowed(n, undefined, dotted))) report(ctx, 'dynamic-attribute', call, {})
  }
}

// `str.format` walks attributes named in replacement fields: "{0.__class__}", "{x._sys}".
const FORMAT_FIELD = /\{[^{}!:]*?\.([A-Za-z_]\w*)/g

function checkString (node: PyNode, ctx: AttributeContext): void {
  const value = node.children.filter(c => c.kind === 'string_content').map(c => c.text).join('')
  if (/^__\w+__$/.test(value) && !SAFE_DUNDERS.has(value) && !SAFE_DUNDER_NAMES.has(value) && value !== '__main__') {
    report(ctx, 'dunder-name', node, {})
    return
  }
  for (const match of value.matchAll(FORMAT_FIELD)) {
    if (!publicName(match[1] ?? '')) {
      report(ctx, 'private-attribute', node, {})
      return
    }
  }
}

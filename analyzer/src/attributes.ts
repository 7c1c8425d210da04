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
import names from './python-names.json' with { type: 'json' }
import type { Finding, Severity } from './scan.ts'
import { namedChildren, textOf } from './syntax.ts'
import type { PyNode } from './syntax.ts'
import { ALLOWED_MODULES } from './template.ts'

/** The rules of this module, with what a finding of each says and what to do about it. */
export const ATTRIBUTE_RULES = {
  'private-attribute': {
    severity: 'CRITICAL',
    message: 'access to {name}: names starting with _ are interpreter or library internals',
    note: 'Use the public API. Your own classes may use self._x for names they define; other objects and modules may not.'
  },
  'module-attribute': {
    severity: 'CRITICAL',
    message: "{name}: '{attr}' is not a name the module '{module}' defines, so it may reach another module through it",
    note: 'Import what you need from the allowed modules directly, under its own name.'
  },
  'module-value': {
    severity: 'ERROR',
    message: "module '{module}' used as a value: modules may only be used as `{module}.name`",
    note: 'Call the function you need (module.function(...)) instead of passing the module around.'
  },
  'interpreter-attribute': {
    severity: 'CRITICAL',
    message: 'access to {name}: frames, code objects, generators and tracebacks lead back into the interpreter',
    note: 'No job needs these attributes.'
  },
  'dynamic-attribute': {
    severity: 'ERROR',
    message: '{name}: attribute chosen at run time or by a string the scanner cannot check',
    note: 'Write obj.name directly; getattr/hasattr/setattr/delattr, attrgetter and methodcaller need a literal public name.'
  },
  'dunder-name': {
    severity: 'CRITICAL',
    message: '{name}: interpreter internals used to climb out of restricted code',
    note: 'No job needs these names.'
  },
  'class-value': {
    severity: 'ERROR',
    message: "{name}: class '{class}' uses private attributes of self, so its methods must not be reachable without an instance",
    note: 'Call the class, call methods on instances (obj.method(...)), or compare with isinstance(); do not pass the class or its methods around.'
  }
} as const satisfies Record<string, { severity: Severity, message: string, note: string }>

/** Identifier of an attribute rule. */
export type AttributeRuleId = keyof typeof ATTRIBUTE_RULES

const ARITHMETIC = ['add', 'sub', 'mul', 'matmul', 'truediv', 'floordiv', 'mod', 'divmod', 'pow', 'lshift', 'rshift', 'and', 'xor', 'or']

/**
 * Dunders allowed on any object: names and docs, and the special methods of the data model that compute from
 * the object's own data. Left out on purpose: everything that hands out classes, namespaces, functions'
 * globals or code, or looks attributes up by string (`__class__`, `__dict__`, `__globals__`, `__reduce__`,
 * `__getattribute__`, `__subclasses__`, `__init_subclass__`, `__get__`…).
 */
export const SAFE_DUNDERS: ReadonlySet<string> = new Set([
  '__name__', '__qualname__', '__doc__',
  '__init__', '__post_init__', '__new__', '__len__', '__iter__', '__next__', '__reversed__', '__contains__',
  '__getitem__', '__setitem__', '__delitem__', '__missing__', '__length_hint__', '__repr__', '__str__', '__format__',
  '__bytes__', '__hash__', '__bool__', '__eq__', '__ne__', '__lt__', '__le__', '__gt__', '__ge__', '__neg__',
  '__pos__', '__abs__', '__invert__', '__int__', '__float__', '__complex__', '__index__', '__round__', '__trunc__',
  '__floor__', '__ceil__', '__enter__', '__exit__', '__call__', '__copy__', '__deepcopy__', '__sizeof__',
  ...ARITHMETIC.flatMap(op => [`__${op}__`, `__r${op}__`, `__i${op}__`])
])

/** namedtuple's public API, which starts with `_` so as not to clash with field names. */
const NAMEDTUPLE_API: ReadonlySet<string> = new Set(['_asdict', '_replace', '_fields', '_field_defaults', '_make'])

/** Dunder names allowed as bare names (`__name__ == …` is refused by the template anyway). */
const SAFE_DUNDER_NAMES: ReadonlySet<string> = new Set(['__name__', '__doc__', '__qualname__', '__debug__', '__file__', '__module__'])

// Bare dunders the YAML rule `dynamic-import` already reports, with a more specific message.
const REPORTED_ELSEWHERE: ReadonlySet<string> = new Set(['__import__', '__builtins__', '__loader__', '__spec__'])

const MODULE_NAMES: ReadonlyMap<string, ReadonlySet<string>> = new Map(Object.entries(names.modules).map(([m, list]) => [m, new Set(list)]))
const INTERPRETER_ATTRIBUTES: ReadonlySet<string> = new Set(names.interpreterAttributes)

/** The CPython version `python-names.json` was generated with. */
export const PYTHON_NAMES_VERSION: string = names.python

const BUILTIN_ATTRIBUTE_FUNCTIONS = new Set(['getattr', 'hasattr', 'setattr', 'delattr'])
const OPERATOR_ATTRIBUTE_FUNCTIONS = new Set(['operator.attrgetter', 'operator.methodcaller'])

/** Is a bare attribute name reachable on an object the job did not define? (Modules have their own check.) */
function publicName (name: string): boolean {
  return (!name.startsWith('_') || SAFE_DUNDERS.has(name) || NAMEDTUPLE_API.has(name)) && !INTERPRETER_ATTRIBUTES.has(name)
}

interface ClassInfo {
  name: string
  node: PyNode
  bases: string[]
  /** Instance methods (not static or class methods), by name. */
  instanceMethods: Set<string>
  /** Methods with a first parameter the job may treat as its own object, and that parameter's name. */
  ownParams: Map<PyNode, string>
}

interface Context {
  parents: Map<PyNode, PyNode>
  /** Local name → module path, for names bound by `import` to a module. */
  modules: Map<string, string>
  /** Local name → `module.name`, for names bound by `from module import name`. */
  imported: Map<string, string>
  classes: Map<string, ClassInfo>
  /** Private names the job's classes declare (`self._x = …`, `def _helper`, `_CACHE = …`). */
  declared: Set<string>
  findings: Finding[]
  /** Class names that only ever name their class (see `neverRebound`), memoized. */
  classNames: Map<string, boolean>
  /** Nodes with a finding, so `a._b._c` is reported once, at its first offending attribute. */
  reported: Set<PyNode>
}

/**
 * Runs the attribute rules over a module. Findings carry the offending node's position; one finding per node.
 */
export function checkAttributes (module: PyNode): Finding[] {
  const ctx: Context = { parents: new Map(), modules: new Map(), imported: new Map(), classes: new Map(), declared: new Set(), findings: [], reported: new Set(), classNames: new Map() }
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

function report (ctx: Context, ruleId: AttributeRuleId, node: PyNode, fill: Record<string, string>): void {
  const rule = ATTRIBUTE_RULES[ruleId]
  ctx.reported.add(node)
  const { start, end } = node.sg.range()
  const text = shorten(textOf(node))
  ctx.findings.push({
    ruleId,
    category: 'dynamic-code',
    severity: rule.severity,
    message: rule.message.replace(/\{(\w+)\}/g, (_all, key: string) => key === 'name' ? text : fill[key] ?? ''),
    note: rule.note,
    line: start.line + 1,
    column: start.column + 1,
    endLine: end.line + 1,
    endColumn: end.column + 1,
    snippet: text
  })
}

// ---- imports and modules -------------------------------------------------------------------------------

function bindImports (stmt: PyNode, ctx: Context): void {
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

/** Does `module.name` name something the job may use: a name the module defines, or an allowed submodule? */
function moduleExports (module: string, name: string): boolean {
  return MODULE_NAMES.get(module)?.has(name) === true || ALLOWED_MODULES.has(`${module}.${name}`) || name === '__name__' || name === '__doc__'
}

// Packages whose allowed submodules make them worth following (`urllib` for `urllib.parse`).
const PACKAGES: ReadonlySet<string> = new Set([...ALLOWED_MODULES].flatMap(m => m.split('.').slice(0, -1).map((_p, i, parts) => parts.slice(0, i + 1).join('.'))))

/**
 * The allowed module (or package of one) an expression certainly is (`re`, `collections.abc`, `urllib`), or
 * undefined. Modules off the allow-list are refused at their import by the template checks.
 */
function modulePath (node: PyNode, ctx: Context): string | undefined {
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

function attributeName (attribute: PyNode): string {
  return attribute.children.at(-1)?.text ?? ''
}

// ---- attributes ----------------------------------------------------------------------------------------

function checkAttribute (node: PyNode, ctx: Context, holding: Set<ClassInfo>): void {
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
function chainReported (object: PyNode, ctx: Context): boolean {
  for (let current: PyNode | undefined = object; current !== undefined; current = ['attribute', 'call', 'subscript'].includes(current.kind) ? current.children[0] : undefined) {
    if (ctx.reported.has(current)) return true
  }
  return false
}

/**
 * The job's class whose own object (or class) `object` certainly is: the trusted first parameter of the
 * enclosing method, or `super()` inside a method.
 */
function ownerOf (object: PyNode, at: PyNode, ctx: Context): ClassInfo | undefined {
  if (object.kind === 'identifier') {
    const cls = ctx.classes.get(object.text)
    if (cls !== undefined && neverRebound(cls.name, ctx)) return cls
  }
  const method = enclosingMethod(at, ctx)
  if (method === undefined) return undefined
  const { info, def } = method
  if (object.kind === 'identifier') return info.ownParams.get(def) === object.text ? info : undefined
  if (object.kind === 'call' && textOf(object.children[0] ?? object) === 'super') {
    const args = object.children[1]
    return args !== undefined && args.kind === 'argument_list' && namedChildren(args).length === 0 ? info : undefined
  }
  return undefined
}

// Where a class's name may appear without being bound to something else.
const CLASS_NAME_READS = new Set(['class_definition', 'call', 'argument_list', 'tuple', 'comparison_operator', 'type', 'subscript', 'interpolation', 'except_clause', 'return_statement', 'generic_type'])

/** A class name that only ever names its class: defined once, and never assigned, imported or bound over. */
function neverRebound (name: string, ctx: Context): boolean {
  let cached = ctx.classNames.get(name)
  if (cached === undefined) {
    const definitions = [...ctx.classes.values()].filter(c => c.name === name).length
    cached = definitions === 1 && [...ctx.parents.entries()].every(([node, parent]) => {
      if (node.kind !== 'identifier' || node.text !== name) return true
      if (parent.kind === 'attribute') return parent.children[0] === node || true
      if (parent.kind === 'keyword_argument') return parent.children[0] !== node
      if (parent.kind === 'as_pattern') return parent.children[0] === node
      return CLASS_NAME_READS.has(parent.kind)
    })
    ctx.classNames.set(name, cached)
  }
  return cached
}

/** The method (a function defined directly in a class body) that contains `node`, through nested scopes. */
function enclosingMethod (node: PyNode, ctx: Context): { info: ClassInfo, def: PyNode } | undefined {
  for (let current = ctx.parents.get(node); current !== undefined; current = ctx.parents.get(current)) {
    if (current.kind !== 'function_definition') continue
    const cls = classOfMethod(current, ctx)
    if (cls !== undefined) return { info: cls, def: current }
  }
  return undefined
}

function classOfMethod (def: PyNode, ctx: Context): ClassInfo | undefined {
  let holder = ctx.parents.get(def)
  if (holder?.kind === 'decorated_definition') holder = ctx.parents.get(holder)
  const classDef = holder?.kind === 'block' ? ctx.parents.get(holder) : undefined
  if (classDef?.kind !== 'class_definition') return undefined
  return [...ctx.classes.values()].find(c => c.node === classDef)
}

function collectClass (def: PyNode, ctx: Context): void {
  const name = namedChildren(def).find(c => c.kind === 'identifier')?.text
  if (name === undefined) return
  const superclasses = def.children.find(c => c.kind === 'argument_list')
  const bases = superclasses === undefined ? [] : namedChildren(superclasses).filter(c => c.kind === 'identifier').map(c => c.text)
  const info: ClassInfo = { name, node: def, bases, instanceMethods: new Set(), ownParams: new Map() }
  // Two classes of the same name: keep both reachable by name for the class-value check (the later wins
  // in Python, but either may hold private accesses).
  ctx.classes.set(ctx.classes.has(name) ? `${name}#${ctx.classes.size}` : name, info)
  const body = def.children.find(c => c.kind === 'block')
  for (const stmt of body === undefined ? [] : namedChildren(body)) {
    const decorators = stmt.kind === 'decorated_definition' ? stmt.children.filter(c => c.kind === 'decorator').map(d => textOf(d).replace(/^@\s*/, '').trim()) : []
    const fn = stmt.kind === 'decorated_definition' ? stmt.children.find(c => c.kind === 'function_definition') : stmt.kind === 'function_definition' ? stmt : undefined
    if (fn !== undefined) {
      const fnName = namedChildren(fn).find(c => c.kind === 'identifier')?.text ?? ''
      if (fnName.startsWith('_')) ctx.declared.add(fnName)
      const isStatic = decorators.some(d => /^staticmethod$/.test(d))
      const isClassMethod = decorators.some(d => /^classmethod$/.test(d))
      if (!isStatic && !isClassMethod) info.instanceMethods.add(fnName)
      const first = firstParameter(fn)
      if (!isStatic && first !== undefined && onlyReadsOf(fn, first)) info.ownParams.set(fn, first)
      if (!isStatic && first !== undefined) declareFrom(fn, first, ctx)
    } else if (stmt.kind === 'expression_statement') {
      const assignment = namedChildren(stmt)[0]
      const target = assignment?.kind === 'assignment' ? assignment.children[0] : undefined
      if (target?.kind === 'identifier' && target.text.startsWith('_')) ctx.declared.add(target.text)
    }
  }
}

function firstParameter (def: PyNode): string | undefined {
  const params = def.children.find(c => c.kind === 'parameters')
  const first = params === undefined ? undefined : namedChildren(params)[0]
  if (first?.kind === 'identifier') return first.text
  if (first?.kind === 'typed_parameter') return namedChildren(first)[0]?.kind === 'identifier' ? namedChildren(first)[0]?.text : undefined
  return undefined
}

/** Private names a method declares by assigning them on its first parameter (`self._x = …`, `self._n += 1`). */
function declareFrom (def: PyNode, param: string, ctx: Context): void {
  const visit = (node: PyNode): void => {
    if (node.kind === 'assignment' || node.kind === 'augmented_assignment') {
      const targets = node.children[0]?.kind === 'pattern_list' ? namedChildren(node.children[0]) : [node.children[0]]
      for (const target of targets) {
        if (target?.kind === 'attribute' && target.children[0]?.kind === 'identifier' && target.children[0].text === param) {
          const name = attributeName(target)
          if (name.startsWith('_')) ctx.declared.add(name)
        }
      }
    }
    node.children.forEach(visit)
  }
  visit(def)
}

// Places where reading a name cannot rebind it. Everything else (targets, parameters of nested lambdas,
// comprehension variables, `del`, `global`, `except … as`, `with … as`, match captures…) might.
const READ_PARENTS = new Set(['attribute', 'argument_list', 'return_statement', 'comparison_operator', 'keyword_argument', 'interpolation'])

/**
 * True when every use of `param` inside the method only reads it, so `param` is the object the method was
 * called on wherever it appears. The parameter list itself is the one binding allowed.
 */
function onlyReadsOf (def: PyNode, param: string): boolean {
  const params = def.children.find(c => c.kind === 'parameters')
  const declaration = params === undefined ? undefined : namedChildren(params)[0]
  let ok = true
  const visit = (node: PyNode, parent: PyNode | undefined): void => {
    if (!ok || node === declaration) return
    if (node.kind === 'identifier' && node.text === param && parent !== undefined) {
      const readsObject = parent.kind === 'attribute' ? parent.children[0] === node : READ_PARENTS.has(parent.kind)
      const keywordName = parent.kind === 'keyword_argument' && parent.children[0] === node
      if (!readsObject || keywordName) ok = false
    }
    for (const child of node.children) visit(child, node)
  }
  visit(def, undefined)
  return ok
}

// ---- bare names -----------------------------------------------------------------------------------------

function checkName (node: PyNode, ctx: Context): void {
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
function definesName (node: PyNode, parent: PyNode, ctx: Context): boolean {
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

function isCallee (node: PyNode, parent: PyNode): boolean {
  return parent.kind === 'call' && parent.children[0] === node
}

function isBinding (node: PyNode, parent: PyNode): boolean {
  if ((parent.kind === 'assignment' || parent.kind === 'for_statement' || parent.kind === 'for_in_clause') && parent.children[parent.kind === 'assignment' ? 0 : 1] === node) return true
  if (parent.kind === 'keyword_argument' && parent.children[0] === node) return true
  return ['pattern_list', 'parameters', 'lambda_parameters', 'default_parameter', 'typed_parameter', 'typed_default_parameter', 'global_statement', 'nonlocal_statement', 'as_pattern_target', 'function_definition', 'class_definition'].includes(parent.kind)
}

function insideImport (node: PyNode, ctx: Context): boolean {
  for (let current = ctx.parents.get(node); current !== undefined; current = ctx.parents.get(current)) {
    if (current.kind === 'import_from_statement' || current.kind === 'import_statement') return true
  }
  return false
}

// ---- names given as strings -----------------------------------------------------------------------------

function checkDynamicAccess (call: PyNode, ctx: Context): void {
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

/** A plain string literal whose value is an attribute name (or dotted path) reachable on a foreign object. */
function literalNameAllowed (node: PyNode, declared: Set<string> | undefined, dotted = false): boolean {
  const value = literalValue(node)
  if (value === undefined) return false
  const parts = dotted ? value.split('.') : [value]
  return parts.every(p => /^[A-Za-z_]\w*$/.test(p) && (publicName(p) || declared?.has(p) === true))
}

/** The value of a string literal without interpolation, prefixes or escapes that change it; else undefined. */
function literalValue (node: PyNode): string | undefined {
  if (node.kind !== 'string' || node.children.some(c => c.kind === 'interpolation' || c.kind === 'escape_sequence')) return undefined
  const content = node.children.filter(c => c.kind === 'string_content').map(c => c.text).join('')
  const start = node.children[0]?.text ?? ''
  return /[bB]/.test(start) ? undefined : content
}

// `str.format` walks attributes named in replacement fields: "{0.__class__}", "{x._sys}".
const FORMAT_FIELD = /\{[^{}!:]*?\.([A-Za-z_]\w*)/g

function checkString (node: PyNode, ctx: Context): void {
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

// ---- classes used as values -----------------------------------------------------------------------------

/**
 * Adds to `holding` the job's classes that share its methods: subclasses of a holding class, and classes whose
 * methods pass their own `self` to a holding class's method (`Base.helper(self)`).
 */
function closeHolding (holding: Set<ClassInfo>, ctx: Context, all: PyNode[]): void {
  let grew = holding.size > 0
  while (grew) {
    grew = false
    for (const info of ctx.classes.values()) {
      if (holding.has(info)) continue
      const inherits = info.bases.some(b => [...holding].some(h => h.name === b))
      const forwards = all.some(n => n.kind === 'call' && forwardsSelf(n, ctx, holding) && enclosingMethod(n, ctx)?.info === info)
      if (inherits || forwards) {
        holding.add(info)
        grew = true
      }
    }
  }
}

/** `C.m(self, …)` with C a holding class and `self` the enclosing method's own object. */
function forwardsSelf (call: PyNode, ctx: Context, holding: Set<ClassInfo>): boolean {
  const [callee, args] = namedChildren(call)
  if (callee?.kind !== 'attribute' || args?.kind !== 'argument_list') return false
  const object = callee.children[0]
  if (object?.kind !== 'identifier' || ![...holding].some(h => h.name === object.text)) return false
  const first = namedChildren(args)[0]
  return first !== undefined && ownerOf(first, call, ctx) !== undefined && first.kind === 'identifier'
}

function checkClassValues (holding: Set<ClassInfo>, ctx: Context, all: PyNode[]): void {
  const holdingNames = new Set([...holding].map(h => h.name))
  const methods = new Set([...holding].flatMap(h => [...h.instanceMethods]))
  for (const node of all) {
    const parent = ctx.parents.get(node)
    if (parent === undefined) continue
    let className: string | undefined
    if (node.kind === 'identifier' && holdingNames.has(node.text) && !(parent.kind === 'attribute' && parent.children[0] !== node) && !isBinding(node, parent)) {
      className = node.text
    } else if (node.kind === 'identifier' && !(parent.kind === 'attribute' && parent.children[0] !== node) && !isBinding(node, parent)) {
      // `cls` in a class method of a holding class is the class itself.
      const method = enclosingMethod(node, ctx)
      if (method !== undefined && holding.has(method.info) && method.info.ownParams.get(method.def) === node.text && !method.info.instanceMethods.has(functionName(method.def))) className = method.info.name
    } else if (node.kind === 'call' && textOf(node.children[0] ?? node) === 'type' && namedChildren(node.children[1] ?? node).length === 1) {
      className = 'type(...)'
    } else if (node.kind === 'call' && textOf(node.children[0] ?? node) === 'super' && namedChildren(node.children[1] ?? node).length > 0) {
      report(ctx, 'class-value', node, { class: 'super(...)' })
      continue
    }
    if (className !== undefined && !classUseAllowed(node, parent, ctx, methods)) report(ctx, 'class-value', node, { class: className })
  }
}

function functionName (def: PyNode): string {
  return namedChildren(def).find(c => c.kind === 'identifier')?.text ?? ''
}

function classUseAllowed (node: PyNode, parent: PyNode, ctx: Context, methods: Set<string>): boolean {
  switch (parent.kind) {
    case 'call':
      return parent.children[0] === node
    case 'attribute': {
      if (!methods.has(attributeName(parent))) return true
      // `Base.method(self, …)`: delegating to a base implementation on the method's own object.
      const call = ctx.parents.get(parent)
      const args = call?.kind === 'call' && call.children[0] === parent ? call.children[1] : undefined
      const first = args?.kind === 'argument_list' ? namedChildren(args)[0] : undefined
      return first?.kind === 'identifier' && ownerOf(first, parent, ctx) !== undefined
    }
    case 'comparison_operator':
    case 'interpolation':
    case 'except_clause':
      return true
    case 'argument_list': {
      const owner = ctx.parents.get(parent)
      if (owner?.kind === 'class_definition') return true
      const fn = owner?.kind === 'call' ? textOf(owner.children[0] ?? owner) : ''
      if (fn === 'str' || fn === 'repr') return true
      return (fn === 'isinstance' || fn === 'issubclass') && namedChildren(parent)[1] === node
    }
    case 'tuple': {
      const holder = ctx.parents.get(parent)
      if (holder?.kind === 'as_pattern' || holder?.kind === 'except_clause') return true
      const call = holder?.kind === 'argument_list' ? ctx.parents.get(holder) : undefined
      const fn = call?.kind === 'call' ? textOf(call.children[0] ?? call) : ''
      return (fn === 'isinstance' || fn === 'issubclass') && holder !== undefined && namedChildren(holder)[1] === parent
    }
    case 'as_pattern':
      return ctx.parents.get(parent)?.kind === 'except_clause' && parent.children[0] === node
    default:
      return inAnnotation(node, ctx)
  }
}

/**
 * Annotations of parameters and return values are never evaluated where a job can read them back (that needs
 * `__annotations__` or `typing.get_type_hints`, both refused); class-body annotations are, through
 * `dataclasses.fields(…)[i].type`, so a holding class there must be quoted.
 */
function inAnnotation (node: PyNode, ctx: Context): boolean {
  for (let current = ctx.parents.get(node); current !== undefined; current = ctx.parents.get(current)) {
    if (current.kind === 'type') {
      const owner = ctx.parents.get(current)
      if (owner?.kind !== 'assignment') return true
      const block = ctx.parents.get(ctx.parents.get(owner) ?? owner)
      return !(block?.kind === 'block' && ctx.parents.get(block)?.kind === 'class_definition')
    }
    if (current.kind.endsWith('statement') || current.kind === 'block') return false
  }
  return false
}

function shorten (text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine
}

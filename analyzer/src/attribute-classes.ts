/**
 * The job's own classes, for the exception of the attribute rules that lets a method use `self._x` for names its
 * class declares: which classes there are and what they declare, when `self` (or `cls`, or `super()`) certainly
 * is the method's own object, and the classes that rely on it, which may then not be used as values
 * (`k = C`, `C.m(x)`, `type(c).m(x)`) where a method could be called with another object in its place.
 */
import { attributeName, isBinding, report } from './attribute-rules.ts'
import type { AttributeContext, ClassInfo } from './attribute-rules.ts'
import { namedChildren, textOf } from './syntax.ts'
import type { PyNode } from './syntax.ts'

/**
 * The job's class whose own object (or class) `object` certainly is: the trusted first parameter of the
 * enclosing method, or `super()` inside a method.
 */
export function ownerOf (object: PyNode, at: PyNode, ctx: AttributeContext): ClassInfo | undefined {
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
function neverRebound (name: string, ctx: AttributeContext): boolean {
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
function enclosingMethod (node: PyNode, ctx: AttributeContext): { info: ClassInfo, def: PyNode } | undefined {
  for (let current = ctx.parents.get(node); current !== undefined; current = ctx.parents.get(current)) {
    if (current.kind !== 'function_definition') continue
    const cls = classOfMethod(current, ctx)
    if (cls !== undefined) return { info: cls, def: current }
  }
  return undefined
}

function classOfMethod (def: PyNode, ctx: AttributeContext): ClassInfo | undefined {
  let holder = ctx.parents.get(def)
  if (holder?.kind === 'decorated_definition') holder = ctx.parents.get(holder)
  const classDef = holder?.kind === 'block' ? ctx.parents.get(holder) : undefined
  if (classDef?.kind !== 'class_definition') return undefined
  return [...ctx.classes.values()].find(c => c.node === classDef)
}

export function collectClass (def: PyNode, ctx: AttributeContext): void {
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
function declareFrom (def: PyNode, param: string, ctx: AttributeContext): void {
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

// ---- classes used as values -----------------------------------------------------------------------------

/**
 * Adds to `holding` the job's classes that share its methods: subclasses of a holding class, and classes whose
 * methods pass their own `self` to a holding class's method (`Base.helper(self)`).
 */
export function closeHolding (holding: Set<ClassInfo>, ctx: AttributeContext, all: PyNode[]): void {
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
function forwardsSelf (call: PyNode, ctx: AttributeContext, holding: Set<ClassInfo>): boolean {
  const [callee, args] = namedChildren(call)
  if (callee?.kind !== 'attribute' || args?.kind !== 'argument_list') return false
  const object = callee.children[0]
  if (object?.kind !== 'identifier' || ![...holding].some(h => h.name === object.text)) return false
  const first = namedChildren(args)[0]
  return first !== undefined && ownerOf(first, call, ctx) !== undefined && first.kind === 'identifier'
}

export function checkClassValues (holding: Set<ClassInfo>, ctx: AttributeContext, all: PyNode[]): void {
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

function classUseAllowed (node: PyNode, parent: PyNode, ctx: AttributeContext, methods: Set<string>): boolean {
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
function inAnnotation (node: PyNode, ctx: AttributeContext): boolean {
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

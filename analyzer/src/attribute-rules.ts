/**
 * The attribute rules (see `attributes.ts`): what a finding of each says and what to do about it, the context
 * the checks share while they walk a module, and how a finding is reported.
 */
import type { Finding, Severity } from './scan.ts'
import { textOf } from './syntax.ts'
import type { PyNode } from './syntax.ts'

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

/** One of the job's classes, as the checks of `self._x` need it. */
export interface ClassInfo {
  name: string
  node: PyNode
  bases: string[]
  /** Instance methods (not static or class methods), by name. */
  instanceMethods: Set<string>
  /** Methods with a first parameter the job may treat as its own object, and that parameter's name. */
  ownParams: Map<PyNode, string>
}

/** What the checks share while they walk a module. */
export interface AttributeContext {
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

/** Records a finding of `ruleId` at `node`; `fill` gives the message's placeholders other than `{name}`. */
export function report (ctx: AttributeContext, ruleId: AttributeRuleId, node: PyNode, fill: Record<string, string>): void {
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

function shorten (text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine
}

/** The name after the dot of an `attribute` node. */
export function attributeName (attribute: PyNode): string {
  return attribute.children.at(-1)?.text ?? ''
}

export function isCallee (node: PyNode, parent: PyNode): boolean {
  return parent.kind === 'call' && parent.children[0] === node
}

/** Whether `node` is bound (assigned, a loop or pattern target, a parameter, a name defined) rather than read. */
export function isBinding (node: PyNode, parent: PyNode): boolean {
  if ((parent.kind === 'assignment' || parent.kind === 'for_statement' || parent.kind === 'for_in_clause') && parent.children[parent.kind === 'assignment' ? 0 : 1] === node) return true
  if (parent.kind === 'keyword_argument' && parent.children[0] === node) return true
  return ['pattern_list', 'parameters', 'lambda_parameters', 'default_parameter', 'typed_parameter', 'typed_default_parameter', 'global_statement', 'nonlocal_statement', 'as_pattern_target', 'function_definition', 'class_definition'].includes(parent.kind)
}

/**
 * Which attribute names a job may reach: the dunders and `_` names allowed on any object, the names each allowed
 * module defines (from `python-names.json`), the interpreter's attributes refused everywhere, and attribute names
 * given as string literals.
 */
import names from './python-names.json' with { type: 'json' }
import type { PyNode } from './syntax.ts'
import { ALLOWED_MODULES } from './template.ts'

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
export const SAFE_DUNDER_NAMES: ReadonlySet<string> = new Set(['__name__', '__doc__', '__qualname__', '__debug__', '__file__', '__module__'])

// Bare dunders the YAML rule `dynamic-import` already reports, with a more specific message.
export const REPORTED_ELSEWHERE: ReadonlySet<string> = new Set(['__import__', '__builtins__', '__loader__', '__spec__'])

export const MODULE_NAMES: ReadonlyMap<string, ReadonlySet<string>> = new Map(Object.entries(names.modules).map(([m, list]) => [m, new Set(list)]))
export const INTERPRETER_ATTRIBUTES: ReadonlySet<string> = new Set(names.interpreterAttributes)

/** The CPython version `python-names.json` was generated with. */
export const PYTHON_NAMES_VERSION: string = names.python

export const BUILTIN_ATTRIBUTE_FUNCTIONS = new Set(['getattr', 'hasattr', 'setattr', 'delattr'])
export const OPERATOR_ATTRIBUTE_FUNCTIONS = new Set(['operator.attrgetter', 'operator.methodcaller'])

/** Is a bare attribute name reachable on an object the job did not define? (Modules have their own check.) */
export function publicName (name: string): boolean {
  return (!name.startsWith('_') || SAFE_DUNDERS.has(name) || NAMEDTUPLE_API.has(name)) && !INTERPRETER_ATTRIBUTES.has(name)
}

/** Does `module.name` name something the job may use: a name the module defines, or an allowed submodule? */
export function moduleExports (module: string, name: string): boolean {
  return MODULE_NAMES.get(module)?.has(name) === true || ALLOWED_MODULES.has(`${module}.${name}`) || name === '__name__' || name === '__doc__'
}

// Packages whose allowed submodules make them worth following (`urllib` for `urllib.parse`).
export const PACKAGES: ReadonlySet<string> = new Set([...ALLOWED_MODULES].flatMap(m => m.split('.').slice(0, -1).map((_p, i, parts) => parts.slice(0, i + 1).join('.'))))

/** A plain string literal whose value is an attribute name (or dotted path) reachable on a foreign object. */
export function literalNameAllowed (node: PyNode, declared: Set<string> | undefined, dotted = false): boolean {
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

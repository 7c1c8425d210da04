/**
 * A plain-JS copy of the parts of the tree the analysis walks. Every call into the napi tree crosses the
 * JS/Rust bridge (~2 µs); the DDG, classifier and memory model each walk statements several times, so the
 * tree is copied once and walked in plain JS. Only `kind`, children and leaf text are copied eagerly;
 * positions come from the napi node on demand, since only statements and findings need them.
 */
import type { SgNode } from '@ast-grep/napi'

/** A syntax node. Anonymous tokens (punctuation, keywords) are leaves whose `text` equals `kind`. */
export interface PyNode {
  kind: string
  /** False for anonymous tokens such as `(`, `+`, `for`. */
  named: boolean
  /** Token text for leaves; empty for inner nodes (use {@link textOf}). */
  text: string
  children: PyNode[]
  /** The napi node, for positions and exact source text. */
  sg: SgNode
}

// Anonymous tokens that look like words; everything else lowercase is a named node kind.
const KEYWORDS = new Set([
  'def', 'class', 'if', 'elif', 'else', 'for', 'in', 'while', 'with', 'as', 'try', 'except', 'finally', 'return',
  'import', 'from', 'lambda', 'not', 'and', 'or', 'is', 'pass', 'break', 'continue', 'raise', 'del', 'global',
  'nonlocal', 'assert', 'yield', 'await', 'async', 'print', 'exec', 'match', 'case', 'type', '__future__'
])

/** Copies a napi subtree into plain objects. */
export function toPyNode (sg: SgNode): PyNode {
  const kind = String(sg.kind())
  const sgChildren = sg.children()
  if (sgChildren.length === 0) {
    const named = /^[a-z_]+$/.test(kind) && !KEYWORDS.has(kind)
    return { kind, named, text: named ? sg.text() : kind, children: [], sg }
  }
  return { kind, named: true, text: '', children: sgChildren.map(toPyNode), sg }
}

const trees = new WeakMap<SgNode, PyNode>()

/** {@link toPyNode} of a whole parsed file, copied once and shared by the scanner and the analysis. */
export function pyTree (root: SgNode): PyNode {
  let tree = trees.get(root)
  if (tree === undefined) {
    tree = toPyNode(root)
    trees.set(root, tree)
  }
  return tree
}

/** Named children only (no punctuation or keywords), skipping comments. */
export function namedChildren (node: PyNode): PyNode[] {
  return node.children.filter(c => c.named && c.kind !== 'comment')
}

/** The exact source text of a node. */
export function textOf (node: PyNode): string {
  return node.children.length === 0 ? node.text : node.sg.text()
}

/** 1-based first line of a node. */
export function lineOf (node: PyNode): number {
  return node.sg.range().start.line + 1
}

/** 1-based last line of a node. */
export function endLineOf (node: PyNode): number {
  const { end } = node.sg.range()
  // A statement's range ends after its newline when it owns a nested block; count the last real line.
  return end.column === 0 && end.line > node.sg.range().start.line ? end.line : end.line + 1
}

/** The named child right after an anonymous token (`=` in an assignment, `in` in a for clause). */
export function afterToken (node: PyNode, token: string): PyNode | undefined {
  let seen = false
  let found: PyNode | undefined
  for (const child of node.children) {
    if (!child.named && child.kind === token) seen = true
    else if (seen && child.named && child.kind !== 'comment') {
      found = child
      seen = false
    }
  }
  return found
}

/** Unwraps `(expr)`. */
export function unparen (node: PyNode): PyNode {
  let current = node
  while (current.kind === 'parenthesized_expression') {
    const inner = namedChildren(current)[0]
    if (inner === undefined) break
    current = inner
  }
  return current
}

/** A statement that is only a string: a docstring when it comes first in a body. */
export function isDocstring (stmt: PyNode): boolean {
  const expr = namedChildren(stmt)[0]
  return stmt.kind === 'expression_statement' && expr !== undefined && (expr.kind === 'string' || expr.kind === 'concatenated_string')
}

/**
 * The security scanner: ast-grep rules kept as YAML under `rules/`, one file per category, run over the
 * parsed tree. Every finding is reported; ERROR and CRITICAL ones reject the job.
 */
import { readFileSync, readdirSync } from 'node:fs'
import type { NapiConfig, SgNode } from '@ast-grep/napi'
import { parseAllDocuments } from 'yaml'
import { checkAttributes } from './attributes.ts'
import { InvalidRuleError } from './errors.ts'
import type { ParsedSource } from './parse.ts'
import { pyTree } from './syntax.ts'

/** Severity of a finding, lowest first. ERROR and CRITICAL reject the job. */
export type Severity = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL'

/** Ordered lowest to highest, so comparisons read as `rank(a) >= rank('ERROR')`. */
export const SEVERITIES: readonly Severity[] = ['INFO', 'WARNING', 'ERROR', 'CRITICAL']

/** One problem found in a job: by the scanner (`category` is the rule file) or by the template checks. */
export interface Finding {
  /** Stable rule id, e.g. `os-command` or `template/main-missing`. */
  ruleId: string
  /** Rule category: the rule file's name (`shell-execution`, …) or `template`. */
  category: string
  severity: Severity
  /** What is wrong, with the offending name filled in. */
  message: string
  /** What to do about it, when the rule says. */
  note?: string
  /** 1-based line and column of the offending code. */
  line: number
  column: number
  endLine: number
  endColumn: number
  /** The offending source text, shortened. */
  snippet: string
}

/** A loaded scanner rule. */
export interface ScanRule {
  id: string
  category: string
  severity: Severity
  message: string
  note?: string
  matcher: NapiConfig
}

const AST_GREP_LEVEL: Record<Severity, string> = { INFO: 'info', WARNING: 'warning', ERROR: 'error', CRITICAL: 'error' }

/** Directory holding the rule files; resolved beside this module so it works from any working directory. */
export const RULES_DIR = new URL('./rules/', import.meta.url)

let cached: ScanRule[] | undefined

/**
 * Loads and validates every `rules/*.yml` (multi-document YAML, ast-grep's rule format with
 * `metadata.category` and `metadata.severity`). Cached after the first call.
 * @throws InvalidRuleError when a rule file is malformed
 */
export function loadRules (dir: URL = RULES_DIR): ScanRule[] {
  if (dir === RULES_DIR && cached !== undefined) return cached
  const rules: ScanRule[] = []
  const ids = new Set<string>()
  for (const file of readdirSync(dir).filter(f => f.endsWith('.yml')).sort()) {
    const category = file.replace(/\.yml$/, '')
    const docs = parseAllDocuments(readFileSync(new URL(file, dir), 'utf8'))
    for (const doc of docs) {
      if (doc.errors.length > 0) throw new InvalidRuleError(`${file}: ${doc.errors[0]?.message ?? 'invalid YAML'}`)
      const rule = toRule(doc.toJS() as unknown, file, category)
      if (ids.has(rule.id)) throw new InvalidRuleError(`${file}: duplicate rule id '${rule.id}'`)
      ids.add(rule.id)
      rules.push(rule)
    }
  }
  if (dir === RULES_DIR) cached = rules
  return rules
}

function toRule (raw: unknown, file: string, category: string): ScanRule {
  if (typeof raw !== 'object' || raw === null) throw new InvalidRuleError(`${file}: a rule must be a mapping`)
  const r = raw as Record<string, unknown>
  const id = r.id
  const metadata = r.metadata as Record<string, unknown> | undefined
  const severity = metadata?.severity
  if (typeof id !== 'string' || id === '') throw new InvalidRuleError(`${file}: rule without an id`)
  if (r.language !== 'python') throw new InvalidRuleError(`${file}: rule '${id}' must have language: python`)
  if (typeof r.message !== 'string') throw new InvalidRuleError(`${file}: rule '${id}' has no message`)
  if (typeof r.rule !== 'object' || r.rule === null) throw new InvalidRuleError(`${file}: rule '${id}' has no rule`)
  if (!SEVERITIES.includes(severity as Severity)) throw new InvalidRuleError(`${file}: rule '${id}' needs metadata.severity, one of ${SEVERITIES.join(', ')}`)
  if (metadata?.category !== category) throw new InvalidRuleError(`${file}: rule '${id}' must have metadata.category: ${category}`)
  // Keep the file usable by the ast-grep CLI too: its own severity must agree with ours.
  if (r.severity !== AST_GREP_LEVEL[severity as Severity]) throw new InvalidRuleError(`${file}: rule '${id}' has severity ${String(r.severity)}, expected ${AST_GREP_LEVEL[severity as Severity]} for ${String(severity)}`)
  const matcher: NapiConfig = { rule: r.rule as NapiConfig['rule'] }
  if (r.constraints !== undefined) matcher.constraints = r.constraints as NapiConfig['constraints']
  if (r.utils !== undefined) matcher.utils = r.utils as NapiConfig['utils']
  return {
    id,
    category,
    severity: severity as Severity,
    message: r.message,
    ...(typeof r.note === 'string' ? { note: r.note.trim() } : {}),
    matcher
  }
}

/** True when a finding of this severity rejects the job. */
export function isBlocking (severity: Severity): boolean {
  return severity === 'ERROR' || severity === 'CRITICAL'
}

/**
 * Runs every rule over a parsed source: the YAML rules, then the attribute rules of `attributes.ts`, which
 * need scopes and bindings. Findings are sorted by position, then rule id; a rule that matches nested nodes
 * (an attribute inside a call) reports the outermost match only once per position.
 */
export function scan (parsed: ParsedSource, rules: ScanRule[] = loadRules()): Finding[] {
  const findings: Finding[] = []
  const byRule = matchAll(parsed.root, rules)
  for (const rule of rules) {
    const matches = byRule.get(rule) ?? []
    const seen = new Set<string>()
    for (const node of matches) {
      const { start, end } = node.range()
      const key = `${start.line}:${start.column}`
      if (seen.has(key)) continue
      seen.add(key)
      findings.push({
        ruleId: rule.id,
        category: rule.category,
        severity: rule.severity,
        message: fillMessage(rule.message, node),
        ...(rule.note !== undefined ? { note: rule.note } : {}),
        line: start.line + 1,
        column: start.column + 1,
        endLine: end.line + 1,
        endColumn: end.column + 1,
        snippet: shorten(node.text())
      })
    }
  }
  findings.push(...checkAttributes(pyTree(parsed.root)))
  return sortFindings(findings)
}

/**
 * Matches of every rule. Each `findAll` is a full traversal inside ast-grep (~6 ms per rule on 5,000 lines),
 * so rules without constraints or utils are first combined into one `any` rule: a single traversal finds
 * the candidate nodes, and each candidate is then tested against each rule. Most jobs have no candidate at
 * all. Rules with constraints or utils (whose metavariables and names could clash when combined) run alone.
 */
function matchAll (root: SgNode, rules: ScanRule[]): Map<ScanRule, SgNode[]> {
  const out = new Map<ScanRule, SgNode[]>()
  const combinable = rules.filter(r => r.matcher.constraints === undefined && r.matcher.utils === undefined)
  const alone = rules.filter(r => !combinable.includes(r))
  const run = <T>(rule: ScanRule, fn: () => T): T => {
    try {
      return fn()
    } catch (err) {
      throw new InvalidRuleError(`rule '${rule.id}' cannot run: ${(err as Error).message}`)
    }
  }
  if (combinable.length > 0) {
    const candidates = run(combinable[0] as ScanRule, () => root.findAll({ rule: { any: combinable.map(r => r.matcher.rule) } }))
    for (const rule of combinable) out.set(rule, [])
    for (const node of candidates) {
      for (const rule of combinable) {
        if (run(rule, () => node.matches(rule.matcher))) out.get(rule)?.push(node)
      }
    }
  }
  for (const rule of alone) out.set(rule, run(rule, () => root.findAll(rule.matcher)))
  return out
}

/** Sorts findings by line, column, then rule id, so output is stable. */
export function sortFindings (findings: Finding[]): Finding[] {
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId))
}

function fillMessage (template: string, node: SgNode): string {
  return template.replace(/\{(module|call|name)\}/g, (_all, key: string) => {
    if (key === 'module') return moduleOf(node)
    if (node.kind() === 'call') return node.field('function')?.text() ?? node.text()
    return shorten(node.text())
  })
}

function moduleOf (node: SgNode): string {
  // Module rules match the dotted name itself, so `import math, os` reports `os` alone.
  return node.text()
}

function shorten (text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine
}

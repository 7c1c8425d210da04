import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { analyze, InvalidRuleError, loadRules } from '../src/index.ts'
import { parsePython } from '../src/parse.ts'
import { scan } from '../src/scan.ts'
import { ATTRIBUTE_RULES } from '../src/attributes.ts'

function ruleIds (source: string): string[] {
  return scan(parsePython(source)).map(f => f.ruleId)
}

/** For each category: code every rule of it must flag, and similar-looking code it must leave alone. */
const CASES: Record<string, { positive: Array<[string, string]>, negative: string[] }> = {
  'dangerous-modules': {
    positive: [
      ['import os', 'system-module'],
      ['import os.path as p', 'system-module'],
      ['from subprocess import run', 'system-module'],
      ['import math, socket', 'network-module'],
      ['from urllib.request import urlopen', 'network-module'],
      ['import ctypes', 'native-code-module'],
      ['import pty', 'native-code-module'],
      ['import importlib', 'interpreter-module'],
      ['from shutil import rmtree', 'system-module']
    ],
    negative: ['import math as os', 'from math import sqrt', 'import json, re, statistics', 'from collections import os_counts']
  },
  'shell-execution': {
    positive: [
      ['os.system("ls")', 'os-command'],
      ['os.execvp("sh", ["sh"])', 'os-command'],
      ['os.spawnl(0, "/bin/sh")', 'os-command'],
      ['subprocess.run(["ls"])', 'subprocess-call'],
      ['subprocess.Popen(["ls"])', 'subprocess-call'],
      ['subprocess.run("ls", shell=True)', 'shell-true'],
      ['pty.spawn("/bin/sh")', 'pty-spawn']
    ],
    negative: ['system("ls")', 'run(["ls"])', 'subprocess_count = 3', 'x.run(shell=False)', 'os_system = 1']
  },
  'dynamic-code': {
    positive: [
      ['x = eval("1 + 1")', 'eval-exec'],
      ['exec("x = 1")', 'eval-exec'],
      ['code = compile("1", "f", "eval")', 'eval-exec'],
      ['f = eval', 'eval-exec'],
      ['m = __import__("os")', 'dynamic-import'],
      ['b = __builtins__', 'dynamic-import'],
      ['m = importlib.import_module("os")', 'dynamic-import'],
      ['g = globals()', 'namespace-access'],
      ['g = globals', 'namespace-access'],
      ['help("os")', 'dynamic-import'],
      ['h = typing.get_type_hints(f)', 'annotation-eval'],
      ['from typing import ForwardRef', 'annotation-eval'],
      ['c = ().__class__.__bases__[0].__subclasses__()', 'private-attribute'],
      ['g = f.__globals__', 'private-attribute'],
      ['v = getattr(x, "__class__")', 'dynamic-attribute'],
      ['v = getattr(x, name)', 'dynamic-attribute']
    ],
    negative: ['p = re.compile("a+")', 'f(compile=True)', 'evaluate = 3', 'x.exec_count = 1', 'name = obj.__name__', 'd = dict(a=1)', 'v = getattr(x, "real")', 'h = hints.get_type', 'f(vars=1)']
  },
  deserialization: {
    positive: [
      ['obj = pickle.loads(blob)', 'pickle-load'],
      ['obj = pickle.Unpickler(f)', 'pickle-load'],
      ['import pickle', 'deserialization-module'],
      ['from marshal import loads', 'deserialization-module'],
      ['code = marshal.loads(blob)', 'marshal-load'],
      ['doc = yaml.load(text)', 'yaml-unsafe-load'],
      ['doc = yaml.load(text, Loader=yaml.FullLoader)', 'yaml-unsafe-load'],
      ['doc = yaml.unsafe_load(text)', 'yaml-unsafe-load']
    ],
    negative: ['doc = yaml.load(text, Loader=yaml.SafeLoader)', 'doc = yaml.safe_load(text)', 'obj = json.loads(text)', 'blob = pickle_jar.count']
  },
  input: {
    positive: [
      ['name = input("name? ")', 'interactive-input'],
      ['name = raw_input()', 'interactive-input'],
      ['line = sys.stdin.readline()', 'stdin-read'],
      ['args = sys.argv[1:]', 'stdin-read'],
      ['home = os.environ["HOME"]', 'environment-read'],
      ['key = os.getenv("API_KEY")', 'environment-read']
    ],
    negative: ['user_input = data[0]', 'x = inputs.get("a")', 'env = {"a": 1}', 'n = len(sys_argv)']
  },
  'file-operations': {
    positive: [
      ['f = open("/etc/passwd")', 'open-file'],
      ['f = open(path, "rb")', 'open-file'],
      ['f = open("out.txt", "w")', 'open-write'],
      ['f = open("log", mode="a")', 'open-write'],
      ['os.remove("/tmp/x")', 'file-destruction'],
      ['shutil.rmtree("/")', 'file-destruction'],
      ['p.write_text("x")', 'path-io'],
      ['t = Path("a").read_text()', 'path-io'],
      ['d = tempfile.mkdtemp()', 'temp-file']
    ],
    negative: ['opened = data.count(1)', 'f = reopen(x)', 'text = doc.text', 'name.removesuffix(".txt")']
  },
  determinism: {
    positive: [
      ['h = hash("abc")', 'salted-hash'],
      ['i = id(x)', 'salted-hash'],
      ['print("hello")', 'print-output']
    ],
    negative: ['h = hashlib.sha256(b"x").hexdigest()', 'pprint = 1', 'ident = x.id']
  }
}

describe('scanner rules', () => {
  it('loads every rule file with a category and a severity', () => {
    const rules = loadRules()
    expect(new Set(rules.map(r => r.category))).toEqual(new Set(Object.keys(CASES)))
    for (const rule of rules) expect(['INFO', 'WARNING', 'ERROR', 'CRITICAL']).toContain(rule.severity)
  })

  it('has a positive case for every rule', () => {
    const covered = new Set(Object.values(CASES).flatMap(c => c.positive.map(([, id]) => id)))
    for (const id of loadRules().map(r => r.id)) expect(covered).toContain(id)
  })

  for (const [category, { positive, negative }] of Object.entries(CASES)) {
    describe(category, () => {
      for (const [source, id] of positive) {
        it(`flags \`${source}\` as ${id}`, () => {
          expect(ruleIds(source)).toContain(id)
          const finding = scan(parsePython(source)).find(f => f.ruleId === id)
          expect(finding?.category).toBe(category)
          expect(finding?.line).toBe(1)
        })
      }
      for (const source of negative) {
        it(`leaves \`${source}\` alone`, () => {
          const rules = new Set([...loadRules().filter(r => r.category === category).map(r => r.id), ...(category === 'dynamic-code' ? Object.keys(ATTRIBUTE_RULES) : [])])
          expect(ruleIds(source).filter(id => rules.has(id))).toEqual([])
        })
      }
    })
  }

  it('reports rule id, severity, message, 1-based line and column', () => {
    const findings = scan(parsePython('import json\n\n\ndef main(data):\n    return   eval(data[0])\n'))
    expect(findings).toEqual([expect.objectContaining({
      ruleId: 'eval-exec',
      category: 'dynamic-code',
      severity: 'ERROR',
      message: 'eval: runs a string as Python code, which no scanner can check',
      line: 5,
      column: 14,
      snippet: 'eval'
    })])
  })

  it('names the offending module of a multi-import', () => {
    const [finding] = scan(parsePython('import math, socket\n'))
    expect(finding?.message).toBe("module 'socket' opens network connections from the contributor's machine")
    expect(finding?.column).toBe(14)
  })
})

describe('rejection by the scanner', () => {
  it('rejects on ERROR and CRITICAL findings and lists every finding', () => {
    const report = analyze('import subprocess\n\n\ndef main(data):\n    print(len(data))\n    subprocess.run("ls", shell=True)\n    return data\n')
    expect(report.status).toBe('rejected')
    expect(report.error?.code).toBe('SECURITY_VIOLATION')
    expect(report.error?.line).toBe(1)
    expect(report.findings.map(f => `${f.line}:${f.ruleId}:${f.severity}`)).toEqual([
      '1:system-module:ERROR',
      '1:template/import-not-allowed:ERROR',
      '5:print-output:INFO',
      '6:shell-true:CRITICAL'
    ])
  })

  it('accepts INFO and WARNING findings and still reports them', () => {
    const report = analyze('def main(data):\n    print(len(data))\n    return [hash(x) for x in data]\n')
    expect(report.status).toBe('accepted')
    expect(report.findings.map(f => `${f.severity}:${f.ruleId}`)).toEqual(['INFO:print-output', 'WARNING:salted-hash'])
  })
})

describe('rule loading', () => {
  async function withRules (text: string, run: (dir: URL) => void): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'rules-'))
    try {
      await writeFile(join(dir, 'broken.yml'), text)
      run(pathToFileURL(dir + '/'))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  it('rejects a rule without metadata.severity', async () => {
    await withRules('id: x\nlanguage: python\nseverity: error\nmessage: m\nmetadata: { category: broken }\nrule: { pattern: eval($A) }\n', dir => {
      expect(() => loadRules(dir)).toThrow(InvalidRuleError)
    })
  })

  it('rejects a rule whose ast-grep severity disagrees with its RunSurge severity', async () => {
    await withRules('id: x\nlanguage: python\nseverity: warning\nmessage: m\nmetadata: { category: broken, severity: CRITICAL }\nrule: { pattern: eval($A) }\n', dir => {
      expect(() => loadRules(dir)).toThrow(/expected error for CRITICAL/)
    })
  })

  it('accepts a well-formed rule file', async () => {
    await withRules('id: x\nlanguage: python\nseverity: error\nmessage: m\nmetadata: { category: broken, severity: ERROR }\nrule: { pattern: eval($A) }\n', dir => {
      expect(loadRules(dir).map(r => r.id)).toEqual(['x'])
    })
  })
})

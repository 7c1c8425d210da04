/**
 * A port of CPython 3.11's tokenizer (Parser/tokenizer.c) as far as syntax errors go: the same tokens
 * (NEWLINE, INDENT, DEDENT, strings as single tokens, f-strings included), and the same errors at the same
 * places — unterminated strings, unmatched and mismatched brackets, invalid characters and number literals,
 * inconsistent dedents and tabs. `grammar.ts` parses the tokens to find where Python's parser would fail.
 */

/** Token types, as CPython names them. */
export type TokenType = 'NAME' | 'NUMBER' | 'STRING' | 'OP' | 'NEWLINE' | 'INDENT' | 'DEDENT' | 'ENDMARKER'

/** A token. Lines are 1-based, columns 0-based in characters, as in CPython's `tokenize`. */
export interface Token {
  type: TokenType
  text: string
  line: number
  col: number
  endLine: number
  endCol: number
}

/** What the tokenizer refused, where CPython reports it (`col` is CPython's 1-based `offset`). */
export interface TokenizerError {
  kind: 'SyntaxError' | 'IndentationError' | 'TabError'
  message: string
  line: number
  col: number
  /**
   * Whether CPython's tokenizer raises it at once (unterminated strings, brackets, bad characters and
   * numbers), so that it replaces a parser error found earlier in the file; the others (dedents, tabs, line
   * continuations) are only reported when the parser gets that far.
   */
  raises: boolean
}

/** An open bracket: its character and where it is (0-based column). */
export interface OpenBracket {
  char: string
  line: number
  col: number
}

/** The tokens up to the first error, the error if any, and the brackets still open at the end of the file. */
export interface Tokenized {
  tokens: Token[]
  error?: TokenizerError
  /** Open brackets when the tokenizer stopped, innermost last. */
  open: OpenBracket[]
}

// Longest first within each length, as in Grammar/Tokens.
const OPERATORS = [
  '**=', '...', '//=', '<<=', '>>=', '!=', '%=', '&=', '**', '*=', '+=', '-=', '->', '//', '/=', ':=', '<<', '<=',
  '<>', '==', '>=', '>>', '@=', '^=', '|=', '(', ')', '[', ']', '{', '}', ':', ',', ';', '+', '-', '*', '/', '|',
  '&', '<', '>', '=', '.', '%', '~', '^', '@'
]
const OPERATORS_BY_CHAR = new Map<string, string[]>()
for (const op of OPERATORS) OPERATORS_BY_CHAR.set(op[0] ?? '', [...(OPERATORS_BY_CHAR.get(op[0] ?? '') ?? []), op])
const ASCII_WORD = /^[A-Za-z_][A-Za-z0-9_]*$/
const CLOSING: Record<string, string> = { ')': '(', ']': '[', '}': '{' }
const STRING_PREFIX = /^(r|u|f|b|br|rb|fr|rf)$/i
// CPython's limits (MAXLEVEL, MAXINDENT).
const MAX_BRACKETS = 200
const MAX_INDENT = 100
const TABSIZE = 8

const ASCII_START = /[A-Za-z_]/
const ASCII_CHAR = /[A-Za-z0-9_]/
// Identifiers per PEP 3131 (XID_Start, XID_Continue), ASCII first since it is nearly every character.
const isIdentifierStart = (c: string): boolean => ASCII_START.test(c) || (c.charCodeAt(0) >= 128 && /[\p{L}\p{Nl}\u1885\u1886\u2118\u212E\u309B\u309C]/u.test(c))
// eslint-disable-next-line no-misleading-character-class -- the ranges are PEP 3131's, marks included on purpose
const isIdentifierChar = (c: string): boolean => ASCII_CHAR.test(c) || (c.charCodeAt(0) >= 128 && /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}\u00B7\u0387\u1369-\u1371\u19DA\u1885\u1886\u2118\u212E\u309B\u309C]/u.test(c))

/** Tokenizes Python source, stopping at the first error CPython's tokenizer would raise. */
export function tokenize (text: string): Tokenized {
  return new Tokenizer(text.split(/(?<=\n)/)).run()
}

/** Thrown to stop at an error; {@link Tokenizer.run} returns it with the tokens read so far. */
class Stop extends Error {
  constructor (readonly problem: TokenizerError) {
    super(problem.message)
  }
}

/** A string literal still open at the end of a line (triple-quoted, or continued with a backslash). */
interface OpenString {
  quote: string
  line: number
  col: number
  text: string
}

/** CPython's tokenizer, one physical line at a time. */
class Tokenizer {
  private readonly tokens: Token[] = []
  private readonly open: OpenBracket[] = []
  private readonly indents = [0]
  private readonly altIndents = [0]
  private lineNo = 0
  private continued = false
  private inString: OpenString | undefined
  private stringEnded = false
  // The line being read: its text without the line ending, whether it has astral characters, the index reached
  // and whether it has a token yet (a line with none ends no statement).
  private raw = ''
  private line = ''
  private astral = false
  private pos = 0
  private sawToken = false

  constructor (private readonly lines: string[]) {}

  run (): Tokenized {
    try {
      for (const raw of this.lines) this.readLine(raw)
      return this.end()
    } catch (err) {
      if (err instanceof Stop) return { tokens: this.tokens, error: err.problem, open: this.open }
      throw err
    }
  }

  private fail (kind: TokenizerError['kind'], message: string, line: number, col: number): never {
    const raises = kind === 'SyntaxError' && !/^unexpected (character after line continuation|EOF)/.test(message)
    throw new Stop({ kind, message, line, col, raises })
  }

  /** Columns count code points, as CPython's do; only lines with astral characters need converting. */
  private cp (index: number): number {
    return this.astral ? [...this.line.slice(0, index)].length : index
  }

  private lastLine (): number {
    for (let i = this.lines.length - 1; i >= 0; i--) if ((this.lines[i] ?? '').trim() !== '') return i + 1
    return Math.max(1, this.lines.length)
  }

  private readLine (raw: string): void {
    this.lineNo++
    const wasContinued = this.continued
    this.raw = raw
    this.line = raw.replace(/\r?\n$/, '').replace(/\r$/, '')
    this.astral = /[\uD800-\uDBFF]/.test(this.line)
    this.pos = 0
    if (this.inString !== undefined) {
      if (!this.closeString(this.inString)) return
    } else if (!this.continued && this.open.length === 0) {
      if (!this.indentation()) return
    }
    this.continued = false
    // A string that ended on this line is a token of it; so is anything before a backslash on earlier lines.
    this.sawToken = this.stringEnded || wasContinued
    this.stringEnded = false
    while (this.pos < this.line.length && this.token());
    if (this.sawToken && this.open.length === 0 && !this.continued && this.inString === undefined) {
      const length = this.line.length
      this.tokens.push({ type: 'NEWLINE', text: '', line: this.lineNo, col: length, endLine: this.lineNo, endCol: length + 1 })
    }
  }

  /** Inside a triple-quoted string (or a single-quoted one continued with a backslash): false while it goes on. */
  private closeString (string: OpenString): boolean {
    const { line, lineNo } = this
    const { end, continued: escaped } = scanStringBody(line, 0, string.quote)
    if (end === undefined) {
      if (string.quote.length === 1 && !escaped) {
        this.fail('SyntaxError', `unterminated string literal (detected at line ${lineNo})`, string.line, string.col + 1)
      }
      string.text += this.raw
      return false
    }
    this.tokens.push({ type: 'STRING', text: string.text + line.slice(0, end), line: string.line, col: string.col, endLine: lineNo, endCol: this.cp(end) })
    this.inString = undefined
    this.stringEnded = true
    this.pos = end
    return true
  }

  /** Indentation of a new logical line, as INDENT and DEDENT tokens; false for a blank or comment-only line. */
  private indentation (): boolean {
    const { line, lineNo, indents, altIndents } = this
    let pos = 0
    let col = 0
    let alt = 0
    while (pos < line.length) {
      const c = line[pos]
      if (c === ' ') { col++; alt++ } else if (c === '\t') { col = (Math.floor(col / TABSIZE) + 1) * TABSIZE; alt++ } else if (c === '\f') { col = 0; alt = 0 } else break
      pos++
    }
    this.pos = pos
    // Blank and comment-only lines do not count for indentation.
    const rest = line.slice(pos)
    if (rest === '' || rest.startsWith('#')) return false
    const top = indents.at(-1) ?? 0
    const altTop = altIndents.at(-1) ?? 0
    if (col === top) {
      if (alt !== altTop) this.fail('TabError', 'inconsistent use of tabs and spaces in indentation', lineNo, 1)
    } else if (col > top) {
      if (indents.length >= MAX_INDENT) this.fail('IndentationError', 'too many levels of indentation', lineNo, pos)
      if (alt <= altTop) this.fail('TabError', 'inconsistent use of tabs and spaces in indentation', lineNo, 1)
      indents.push(col)
      altIndents.push(alt)
      this.tokens.push({ type: 'INDENT', text: line.slice(0, pos), line: lineNo, col: this.cp(pos), endLine: lineNo, endCol: pos })
    } else {
      // The dedent must land on an enclosing level before any DEDENT is emitted.
      const level = indents.lastIndexOf(col)
      if (level === -1) this.fail('IndentationError', 'unindent does not match any outer indentation level', lineNo, this.cp(line.length) + 1)
      if (alt !== altIndents[level]) this.fail('TabError', 'inconsistent use of tabs and spaces in indentation', lineNo, 1)
      while (indents.length > level + 1) {
        indents.pop()
        altIndents.pop()
        this.tokens.push({ type: 'DEDENT', text: '', line: lineNo, col: pos, endLine: lineNo, endCol: pos })
      }
    }
    return true
  }

  /** Reads what starts at `pos`; false when the rest of the line is done with (a comment, a continuation…). */
  private token (): boolean {
    const { line, lineNo, pos } = this
    const c = line[pos] ?? ''
    if (c === ' ' || c === '\t' || c === '\f') { this.pos++; return true }
    if (c === '#') {
      if (this.sawToken && this.open.length === 0) this.tokens.push({ type: 'NEWLINE', text: '', line: lineNo, col: this.cp(pos), endLine: lineNo, endCol: this.cp(line.length) })
      this.sawToken = false
      this.pos = line.length
      return false
    }
    if (c === '\\') {
      if (pos + 1 < line.length) this.fail('SyntaxError', 'unexpected character after line continuation character', lineNo, this.cp(pos) + 2)
      if (lineNo === this.lines.length || (lineNo === this.lines.length - 1 && this.lines[this.lines.length - 1] === '')) {
        this.fail('SyntaxError', 'unexpected EOF while parsing', lineNo, this.cp(line.length) + 1)
      }
      this.continued = true
      this.pos++
      return false
    }
    // Identifiers, and string prefixes.
    if (isIdentifierStart(c) || c.charCodeAt(0) >= 128) return this.word()
    if (c === '"' || c === "'") return this.string(pos)
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(line[pos + 1] ?? ''))) {
      const number = scanNumber(line, pos)
      if ('error' in number) this.fail('SyntaxError', number.error, lineNo, this.cp(number.col))
      this.push('NUMBER', number.end)
      return true
    }
    this.operator()
    return true
  }

  /** Adds the token from `pos` to `end` and moves past it. */
  private push (type: TokenType, end: number): void {
    const { line, lineNo, pos } = this
    this.tokens.push({ type, text: line.slice(pos, end), line: lineNo, col: this.cp(pos), endLine: lineNo, endCol: this.cp(end) })
    this.sawToken = true
    this.pos = end
  }

  /** A name, or the prefix of a string literal. */
  private word (): boolean {
    const { line, lineNo, pos } = this
    let end = pos + 1
    while (end < line.length && (isIdentifierChar(line[end] ?? '') || (line.charCodeAt(end) >= 128 && !/\s/.test(line[end] ?? '')))) end++
    const word = line.slice(pos, end)
    const next = line[end]
    if ((next === '"' || next === "'") && STRING_PREFIX.test(word)) return this.string(end)
    const bad = ASCII_WORD.test(word) ? undefined : [...word].find((ch, i) => !(i === 0 ? isIdentifierStart(ch) : isIdentifierChar(ch)))
    if (bad !== undefined) {
      const at = pos + word.indexOf(bad)
      const code = (bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
      if (/\p{C}/u.test(bad)) this.fail('SyntaxError', `invalid non-printable character U+${code}`, lineNo, this.cp(at) + 1)
      this.fail('SyntaxError', `invalid character '${bad}' (U+${code})`, lineNo, this.cp(at) + 1)
    }
    this.push('NAME', end)
    return true
  }

  /** A string literal from `pos` (its prefix, if any) whose opening quote is at `quoteAt`; false when it goes on past the line. */
  private string (quoteAt: number): boolean {
    const { line, lineNo, pos } = this
    const result = startString(line, quoteAt)
    if (result.end === undefined) {
      if (result.quote.length === 3 || result.continued) {
        this.inString = { quote: result.quote, line: lineNo, col: this.cp(pos), text: this.raw.slice(pos) }
        this.sawToken = true
        this.pos = line.length
        return false
      }
      this.fail('SyntaxError', `unterminated string literal (detected at line ${lineNo})`, lineNo, this.cp(pos) + 1)
    }
    this.push('STRING', result.end)
    return true
  }

  /** An operator, with the brackets it opens and closes. */
  private operator (): void {
    const { line, lineNo, pos, open } = this
    const c = line[pos] ?? ''
    const op = OPERATORS_BY_CHAR.get(c)?.find(o => line.startsWith(o, pos))
    if (op === undefined) {
      // Unknown ASCII punctuation ($, ?, !, `) reaches the parser as an operator it cannot use.
      this.push('OP', pos + 1)
      return
    }
    if (op === '(' || op === '[' || op === '{') {
      if (open.length >= MAX_BRACKETS) this.fail('SyntaxError', 'too many nested parentheses', lineNo, this.cp(pos) + 1)
      open.push({ char: op, line: lineNo, col: this.cp(pos) })
    } else if (CLOSING[op] !== undefined) {
      const top = open.at(-1)
      if (top === undefined) this.fail('SyntaxError', `unmatched '${op}'`, lineNo, this.cp(pos) + 1)
      if (top.char !== CLOSING[op]) {
        const where = top.line !== lineNo ? ` on line ${top.line}` : ''
        this.fail('SyntaxError', `closing parenthesis '${op}' does not match opening parenthesis '${top.char}'${where}`, lineNo, this.cp(pos) + 1)
      }
      open.pop()
    }
    this.push('OP', pos + op.length)
  }

  /** End of file: a last line without a newline still ends its statement; then close every block. */
  private end (): Tokenized {
    const { tokens, open, inString } = this
    if (inString !== undefined) {
      const message = inString.quote.length === 3 ? 'unterminated triple-quoted string literal' : 'unterminated string literal'
      this.fail('SyntaxError', `${message} (detected at line ${this.lastLine()})`, inString.line, inString.col + 1)
    }
    const endLine = this.lastLine()
    const endCol = (this.lines[endLine - 1] ?? '').replace(/\r?\n$/, '').length
    if (open.length > 0) return { tokens, open }
    for (let i = this.indents.length - 1; i > 0; i--) tokens.push({ type: 'DEDENT', text: '', line: endLine, col: endCol, endLine, endCol })
    tokens.push({ type: 'ENDMARKER', text: '', line: endLine, col: endCol, endLine, endCol })
    return { tokens, open }
  }
}

/** Reads the opening quote at `pos`; `end` is the index after the closing quote when it is on this line. */
function startString (line: string, pos: number): { quote: string, end: number | undefined, continued: boolean } {
  const q = line[pos] ?? '"'
  const quote = line.startsWith(q.repeat(3), pos) ? q.repeat(3) : q
  return { quote, ...scanStringBody(line, pos + quote.length, quote) }
}

/**
 * Index after the closing `quote`, scanning from `from`; undefined when the line ends first, with `continued`
 * when a backslash escapes the line's end (a single-quoted string then goes on to the next line).
 */
function scanStringBody (line: string, from: number, quote: string): { end: number | undefined, continued: boolean } {
  let i = from
  while (i < line.length) {
    const c = line[i]
    if (c === '\\') { i += 2; continue }
    if (line.startsWith(quote, i)) return { end: i + quote.length, continued: false }
    i++
  }
  return { end: undefined, continued: i > line.length }
}

// Keywords that may follow a number directly (`1if x else 2`), which CPython allows with a warning.
const NUMBER_FOLLOWERS = ['and', 'else', 'for', 'if', 'in', 'is', 'not', 'or']
const DIGITS: Record<string, RegExp> = { x: /[0-9a-fA-F]/, o: /[0-7]/, b: /[01]/ }
const KIND: Record<string, string> = { x: 'hexadecimal', o: 'octal', b: 'binary' }

type NumberScan = { end: number } | { error: string, col: number }

/**
 * An identifier character right after a number is an error, unless a keyword starts there (`1if x else 2` is
 * allowed with a warning); CPython reports it at that character.
 */
function identifierAfter (line: string, k: number, kind: string): NumberScan {
  const c = line[k] ?? ''
  if (c === '' || !(isIdentifierChar(c) || c.charCodeAt(0) >= 128)) return { end: k }
  for (const word of NUMBER_FOLLOWERS) if (line.startsWith(word, k)) return { end: k }
  return { error: `invalid ${kind} literal`, col: k }
}

/** digit (_? digit)* from `i`: the index after them, or CPython's error for a misplaced underscore. */
function digitsFrom (line: string, i: number, re: RegExp, kind: string): NumberScan {
  while (true) {
    if (re.test(line[i] ?? '')) { i++; continue }
    if (line[i] === '_') {
      if (re.test(line[i + 1] ?? '')) { i += 2; continue }
      return { error: `invalid ${kind} literal`, col: i + 1 }
    }
    return { end: i }
  }
}

const DECIMAL = /[0-9]/

/**
 * A number literal at `pos`, with CPython's errors: the `col` of an error is CPython's offset (mostly the
 * index just after the offending character).
 */
function scanNumber (line: string, pos: number): NumberScan {
  let i = pos
  if (line[i] === '0' && /[xXoObB]/.test(line[i + 1] ?? '')) {
    const base = (line[i + 1] ?? '').toLowerCase()
    const re = DIGITS[base] ?? DECIMAL
    const kind = KIND[base] ?? 'decimal'
    i += 2
    if (line[i] === '_') i++
    if (!re.test(line[i] ?? '')) {
      if (DECIMAL.test(line[i] ?? '')) return { error: `invalid digit '${line[i] ?? ''}' in ${kind} literal`, col: i + 1 }
      return { error: `invalid ${kind} literal`, col: i }
    }
    const digits = digitsFrom(line, i, re, kind)
    if ('error' in digits) return digits
    i = digits.end
    if (DECIMAL.test(line[i] ?? '')) return { error: `invalid digit '${line[i] ?? ''}' in ${kind} literal`, col: i + 1 }
    return identifierAfter(line, i, kind)
  }
  if (line[i] !== '.') {
    const leadingZero = line[i] === '0'
    const digits = digitsFrom(line, i, DECIMAL, 'decimal')
    if ('error' in digits) return digits
    i = digits.end
    if (leadingZero && /[^0_]/.test(line.slice(pos, i)) && !/[.eEjJ]/.test(line[i] ?? '')) {
      return { error: 'leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers', col: pos + 1 }
    }
  }
  if (line[i] === '.') {
    i++
    if (DECIMAL.test(line[i] ?? '')) {
      const digits = digitsFrom(line, i, DECIMAL, 'decimal')
      if ('error' in digits) return digits
      i = digits.end
    }
  }
  if (line[i] === 'e' || line[i] === 'E') {
    let k = i + 1
    if (line[k] === '+' || line[k] === '-') k++
    if (!DECIMAL.test(line[k] ?? '')) return identifierAfter(line, i, 'decimal')
    const digits = digitsFrom(line, k, DECIMAL, 'decimal')
    if ('error' in digits) return digits
    i = digits.end
  }
  if (line[i] === 'j' || line[i] === 'J') return identifierAfter(line, i + 1, 'imaginary')
  return identifierAfter(line, i, 'decimal')
}

/**
 * A `.json` input holding one top-level array, rewritten as JSON Lines: each element's own text on a line of its
 * own, byte for byte except for the whitespace between its tokens (newlines become spaces). Python's
 * `[json.loads(line) for line in f if line.strip()]` then gives exactly the list `json.load(f)` gives — same values,
 * big ints, float text, duplicate keys and all — and the input can be cut on lines like any `.jsonl` file.
 *
 * Streams: any size, never the whole file in memory. Anything that is not plainly an array (an object, a scalar,
 * a byte-order mark, a raw control character inside a string, trailing text) is left alone: the job then runs its
 * `.json` input whole, and Python reports whatever is wrong with it exactly as a sequential run would.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'

const OPEN = 0x5b // [
const CLOSE = 0x5d // ]
const OPEN_OBJECT = 0x7b // {
const CLOSE_OBJECT = 0x7d // }
const COMMA = 0x2c
const QUOTE = 0x22
const BACKSLASH = 0x5c
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d])

/** Why a file was left as it is. */
export class NotAJsonArrayError extends Error {
  override name = 'NotAJsonArrayError'
}

/**
 * Writes the elements of the JSON array in `source` to `target`, one a line; resolves to their count.
 * @throws NotAJsonArrayError when `source` is not a plain top-level JSON array (nothing useful is left in `target`)
 */
export async function jsonArrayToLines (source: string, target: string): Promise<number> {
  const out = createWriteStream(target)
  let state: 'start' | 'before' | 'element' | 'end' = 'start'
  let depth = 0
  let inString = false
  let escaped = false
  let count = 0
  // Whitespace met inside an element, written as one space each only if more of the element follows.
  let pending = 0
  try {
    for await (const piece of createReadStream(source)) {
      const bytes = piece as Buffer
      // Output never outgrows input: a separator becomes the newline, whitespace at most a space each.
      const line = Buffer.allocUnsafe(bytes.length + 1)
      let n = 0
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] as number
        if (state === 'start') {
          if (WHITESPACE.has(b)) continue
          if (b !== OPEN) throw new NotAJsonArrayError('the top level is not an array')
          state = 'before'
          continue
        }
        if (state === 'end') {
          if (!WHITESPACE.has(b)) throw new NotAJsonArrayError('text after the array')
          continue
        }
        if (inString) {
          if (b < 0x20) throw new NotAJsonArrayError('a raw control character inside a string')
          line[n++] = b
          if (escaped) escaped = false
          else if (b === BACKSLASH) escaped = true
          else if (b === QUOTE) inString = false
          continue
        }
        if (state === 'before') {
          if (WHITESPACE.has(b)) continue
          if (b === CLOSE && count === 0) {
            state = 'end'
            continue
          }
          // `[1,]`, `[,1]`: Python's json refuses them; so does the job, on its .json input whole.
          if (b === COMMA || b === CLOSE) throw new NotAJsonArrayError('an empty element')
          state = 'element'
        }
        // Inside an element.
        if (WHITESPACE.has(b)) {
          pending++
          continue
        }
        if (depth === 0 && (b === COMMA || b === CLOSE)) {
          line[n++] = 0x0a
          pending = 0
          count++
          state = b === COMMA ? 'before' : 'end'
          continue
        }
        for (; pending > 0; pending--) line[n++] = 0x20
        line[n++] = b
        if (b === QUOTE) inString = true
        else if (b === OPEN || b === OPEN_OBJECT) depth++
        else if ((b === CLOSE || b === CLOSE_OBJECT) && --depth < 0) throw new NotAJsonArrayError('unbalanced brackets')
      }
      if (n > 0 && !out.write(line.subarray(0, n))) await once(out, 'drain')
    }
    if (state !== 'end') throw new NotAJsonArrayError('the array does not end')
    out.end()
    await finished(out)
    return count
  } catch (err) {
    // A write still in flight fails with ERR_STREAM_DESTROYED once destroyed: the file is abandoned anyway.
    out.on('error', () => {})
    out.destroy()
    throw err
  }
}

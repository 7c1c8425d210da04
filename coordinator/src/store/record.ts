/**
 * Every value the coordinator stores carries a checksum of its own key and text, so a record whose bytes changed on
 * disk (a bit flip in a table file that a compaction then rewrote with fresh LevelDB checksums, say) is refused
 * when read instead of loading as something else. The stored text is 8 hex digits of CRC-32C over
 * `key NUL value`, then the value.
 */
import { crc32c } from './crc32c.ts'

const encoder = new TextEncoder()
const HEX_DIGITS = 8
const NUL = new Uint8Array(1)
/** Reused for the UTF-8 of keys and values: every record is checksummed at start, without an allocation each. */
let scratch = new Uint8Array(64 * 1024)

function utf8 (text: string): Uint8Array {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(Math.max(text.length * 3, scratch.length * 2))
  return scratch.subarray(0, encoder.encodeInto(text, scratch).written)
}

function checksum (key: string, value: string): string {
  // One after the other: both encode into the same scratch buffer.
  const keyed = crc32c(NUL, crc32c(utf8(key)))
  return crc32c(utf8(value), keyed).toString(16).padStart(HEX_DIGITS, '0')
}

/** The stored form of `value` under `key` (the full key, bucket prefix included). */
export function sealRecord (key: string, value: string): string {
  return checksum(key, value) + value
}

/** The value of a stored record, or `undefined` when its checksum does not match (the record is damaged). */
export function openRecord (key: string, stored: string): string | undefined {
  const value = stored.slice(HEX_DIGITS)
  return stored.length >= HEX_DIGITS && stored.slice(0, HEX_DIGITS) === checksum(key, value) ? value : undefined
}

/** How a repository turns its values into stored text and back. */
export interface Codec<T> {
  encode(value: T): string
  decode(text: string): T
}

export const JSON_CODEC: Codec<any> = { encode: value => JSON.stringify(value), decode: text => JSON.parse(text) }
export const TEXT_CODEC: Codec<string> = { encode: value => value, decode: text => text }

/**
 * CRC-32C (Castagnoli), the checksum LevelDB puts on every log record and table block, and the one our own records
 * and snapshots carry. Node's zlib only has CRC-32/IEEE, and no maintained CRC-32C package is installed yet, so this
 * is the classic table-driven form (one table lookup per byte: about 0.5 GB/s here, enough to read a coordinator's
 * database at start).
 */

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78

const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/**
 * The CRC-32C of `bytes`, continuing from `crc` (the value returned for the bytes before them) when given, so a
 * checksum can be computed over pieces without joining them.
 */
export function crc32c (bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** LevelDB's mask (util/crc32c.h): a CRC stored next to the data it covers is rotated and offset, so data that itself
 * holds CRCs does not check trivially. */
const MASK_DELTA = 0xa282ead8

export function maskCrc (crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0
}

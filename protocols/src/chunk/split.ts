import { DEFAULT_CHUNK_SIZE } from './constants.ts'

/**
 * Splits a byte stream into chunks of about `chunkSize` bytes that end on record (line) boundaries, so every
 * chunk holds whole records. A single record longer than `chunkSize` becomes a chunk of its own.
 */
export async function * splitRecords (
  source: AsyncIterable<Uint8Array>, chunkSize: number = DEFAULT_CHUNK_SIZE
): AsyncGenerator<Uint8Array> {
  let pending: Buffer[] = []
  let pendingSize = 0
  for await (const piece of source) {
    pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength))
    pendingSize += piece.byteLength
    while (pendingSize >= chunkSize) {
      const buffer = Buffer.concat(pending)
      // Cut after the last newline within the target size; failing that, after the first newline beyond it.
      let cut = buffer.lastIndexOf(0x0a, chunkSize - 1)
      if (cut < 0) cut = buffer.indexOf(0x0a, chunkSize)
      if (cut < 0) {
        pending = [buffer]
        break
      }
      yield buffer.subarray(0, cut + 1)
      const rest = buffer.subarray(cut + 1)
      pending = rest.byteLength > 0 ? [rest] : []
      pendingSize = rest.byteLength
    }
  }
  if (pendingSize > 0) yield Buffer.concat(pending)
}

/**
 * Cuts a byte stream of `size` bytes into `parts` parts: part k ends at the first newline at or after k/parts of
 * the size. Yields each piece of input with the part it belongs to.
 */
export async function * cutParts (source: AsyncIterable<Uint8Array>, size: number, parts: number): AsyncGenerator<{ part: number, bytes: Uint8Array }> {
  let part = 0
  let base = 0
  const targetOf = (k: number): number => Math.ceil(size * (k + 1) / parts)
  let target = targetOf(0)
  for await (const piece of source) {
    let start = 0
    while (part < parts - 1) {
      const cut = piece.indexOf(0x0a, Math.max(start, target - 1 - base))
      if (cut < 0) break
      yield { part, bytes: piece.subarray(start, cut + 1) }
      start = cut + 1
      part++
      target = Math.max(targetOf(part), base + start + 1)
    }
    if (start < piece.byteLength) yield { part, bytes: piece.subarray(start) }
    base += piece.byteLength
  }
}

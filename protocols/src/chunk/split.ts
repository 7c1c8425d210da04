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

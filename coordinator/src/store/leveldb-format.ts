/**
 * Readers for LevelDB's own files, so the coordinator can check them before LevelDB opens them: LevelDB repairs what
 * it finds damaged without telling (classic-level cannot turn on `paranoid_checks`), and an account, its tokens and
 * its jobs then vanish. Formats as in LevelDB 1.20 (`doc/log_format.md`, `doc/table_format.md`, `db/version_edit.cc`,
 * `db/write_batch.cc`): this reads, it never writes.
 */
import { crc32c, maskCrc } from './crc32c.ts'

/** What is wrong at one place of a file (`offset` in bytes from its start). */
export interface FormatProblem {
  offset: number
  problem: string
  /** For a log: the bytes end in the middle of a record (what a crash leaves), rather than being wrong. */
  cut?: boolean
}

/** The log format's block (`kBlockSize`): a physical record never crosses one. */
const LOG_BLOCK = 32 * 1024
/** checksum (4) + length (2) + type (1). */
const LOG_HEADER = 7
const enum RecordType { Zero = 0, Full = 1, First = 2, Middle = 3, Last = 4 }

export interface LogContents {
  /** The logical records that read back whole, in order. */
  records: Uint8Array[]
  /** A place where bytes are bad and later records still follow: records were lost there. */
  damage?: FormatProblem
  /**
   * A bad or incomplete stretch that runs to the end of the file with nothing valid after it: what a writer that
   * died mid-record leaves (only acceptable at the end of the newest file; the commit counter tells whether a
   * write that had been acknowledged was lost with it).
   */
  tail?: FormatProblem
}

/**
 * Reads a file in LevelDB's log format (write-ahead logs and the MANIFEST). Every physical record is checked against
 * its masked CRC-32C; after a bad one, reading resumes at the next block, as LevelDB's reader does, to find out whether
 * valid records follow (damage) or not (a torn tail).
 */
export function readLog (bytes: Uint8Array): LogContents {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: Uint8Array[] = []
  let bad: FormatProblem | undefined
  let fragments: Uint8Array[] | undefined
  let position = 0
  while (position < bytes.length) {
    const blockEnd = blockEndAt(position, bytes.length)
    if (blockEnd - position < LOG_HEADER) {
      // A block's last 1-6 bytes are a zero trailer; at the end of the file, an unfinished header.
      if (blockEnd === bytes.length && blockEnd % LOG_BLOCK !== 0) {
        if (!isZero(bytes, position, blockEnd)) bad ??= { offset: position, problem: 'an incomplete record header', cut: true }
        break
      }
      position = blockEnd
      continue
    }
    const problem = recordProblem(bytes, view, position, blockEnd)
    if (problem !== undefined) {
      bad ??= problem
      fragments = undefined
      position = nextValidRecord(bytes, view, position)
      continue
    }
    const length = view.getUint16(position + 4, true)
    const type = bytes[position + 6]!
    const start = position + LOG_HEADER
    // A valid record after a bad stretch: what was in between is lost.
    if (bad !== undefined) return { records, damage: bad }
    const fragment = bytes.subarray(start, start + length)
    position = start + length
    switch (type) {
      case RecordType.Full:
      case RecordType.First:
        // LevelDB tolerates an empty First at the end of a block (a bug of old writers) but nothing else unfinished.
        if (fragments !== undefined && fragments.some(f => f.length > 0)) return { records, damage: { offset: position - length - LOG_HEADER, problem: 'a record without its end' } }
        if (type === RecordType.Full) {
          fragments = undefined
          records.push(fragment)
        } else {
          fragments = [fragment]
        }
        break
      case RecordType.Middle:
      case RecordType.Last:
        if (fragments === undefined) return { records, damage: { offset: position - length - LOG_HEADER, problem: 'a record without its start' } }
        fragments.push(fragment)
        if (type === RecordType.Last) {
          records.push(concat(fragments))
          fragments = undefined
        }
        break
      default:
        return { records, damage: { offset: position - length - LOG_HEADER, problem: `unknown record type ${type}` } }
    }
  }
  if (bad !== undefined) return { records, tail: bad }
  // The first fragments of a record whose end was never written: an unfinished write.
  if (fragments !== undefined) return { records, tail: { offset: bytes.length, problem: 'a record whose end was never written', cut: true } }
  return { records }
}

/** What is wrong with the physical record at `position` of a block that ends at `blockEnd`, if anything. */
function recordProblem (bytes: Uint8Array, view: DataView, position: number, blockEnd: number): FormatProblem | undefined {
  const stored = view.getUint32(position, true)
  const length = view.getUint16(position + 4, true)
  const type = bytes[position + 6]!
  const start = position + LOG_HEADER
  // Zeros: preallocated space, or the unwritten rest of a file a crash extended. LevelDB skips the block.
  if (type === RecordType.Zero && length === 0 && stored === 0) return { offset: position, problem: 'zeros instead of a record', cut: true }
  if (start + length > blockEnd) {
    const cut = start + length > bytes.length
    return { offset: position, problem: cut ? 'a record cut short by the end of the file' : 'a bad record length', cut }
  }
  if (maskCrc(crc32c(bytes.subarray(position + 6, start + length))) !== stored) return { offset: position, problem: 'checksum mismatch' }
  return undefined
}

/** Where the block that holds `position` ends: a physical record never crosses it. */
function blockEndAt (position: number, size: number): number {
  return Math.min((Math.floor(position / LOG_BLOCK) + 1) * LOG_BLOCK, size)
}

/**
 * Where reading resumes after a bad record at `position`. LevelDB drops the rest of the block after a bad record. To
 * tell lost records from a torn end, look for a valid one further in the block (a random match is a 1 in 2^32 chance
 * per place), else go to the next block.
 */
function nextValidRecord (bytes: Uint8Array, view: DataView, position: number): number {
  const blockEnd = blockEndAt(position, bytes.length)
  for (let at = position + 1; at + LOG_HEADER <= blockEnd; at++) {
    const type = bytes[at + 6]!
    const length = view.getUint16(at + 4, true)
    const valid = type >= RecordType.Full && type <= RecordType.Last && at + LOG_HEADER + length <= blockEnd &&
      maskCrc(crc32c(bytes.subarray(at + 6, at + LOG_HEADER + length))) === view.getUint32(at, true)
    if (valid) return at
  }
  return blockEnd
}

/** What one MANIFEST record (a `VersionEdit`) says about the live files. */
export interface VersionEdit {
  logNumber?: number
  prevLogNumber?: number
  newFiles: Array<{ level: number, number: number, size: number }>
  deletedFiles: Array<{ level: number, number: number }>
}

/** Decodes a `VersionEdit` (db/version_edit.cc); throws `Error` with what is wrong when it does not decode. */
export function parseVersionEdit (record: Uint8Array): VersionEdit {
  const input = new Reader(record)
  const edit: VersionEdit = { newFiles: [], deletedFiles: [] }
  while (!input.done()) {
    const tag = input.varint()
    switch (tag) {
      case 1: input.slice(); break // comparator name
      case 2: edit.logNumber = input.varint(); break
      case 3: input.varint(); break // next file number
      case 4: input.varint(); break // last sequence
      case 5: input.varint(); input.slice(); break // compaction pointer: level, internal key
      case 6: edit.deletedFiles.push({ level: input.varint(), number: input.varint() }); break
      case 7: {
        const level = input.varint()
        const number = input.varint()
        const size = input.varint()
        input.slice()
        input.slice()
        edit.newFiles.push({ level, number, size })
        break
      }
      case 9: edit.prevLogNumber = input.varint(); break
      default: throw new Error(`unknown field ${tag} in a MANIFEST record`)
    }
  }
  return edit
}

/** One operation of a write batch as LevelDB logs it. */
export interface BatchEntry {
  sequence: number
  key: Uint8Array
  /** Absent for a delete. */
  value?: Uint8Array
}

/** Decodes a write-ahead log record (db/write_batch.cc: sequence, count, then the puts and deletes). */
export function parseWriteBatch (record: Uint8Array): BatchEntry[] {
  if (record.length < 12) throw new Error('a write batch shorter than its header')
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength)
  const sequence = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32
  const count = view.getUint32(8, true)
  const input = new Reader(record, 12)
  const entries: BatchEntry[] = []
  while (!input.done()) {
    const type = input.byte()
    if (type === 1) entries.push({ sequence: sequence + entries.length, key: input.slice(), value: input.slice() })
    else if (type === 0) entries.push({ sequence: sequence + entries.length, key: input.slice() })
    else throw new Error(`unknown operation ${type} in a write batch`)
  }
  if (entries.length !== count) throw new Error(`a write batch of ${count} operations holds ${entries.length}`)
  return entries
}

/** `BlockHandle::kMaxEncodedLength` × 2 + the magic number. */
const FOOTER = 48
const TABLE_MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]
/** compression type (1) + masked CRC-32C (4) after every block. */
const BLOCK_TRAILER = 5

export interface TableContents {
  problem?: FormatProblem
  /** The versions of `wanted` the table holds, when asked. */
  found: Array<{ sequence: number, value?: Uint8Array }>
}

/**
 * Checks every byte of a table file (`.ldb`/`.sst`): the footer, and the checksum of every block (data, filter,
 * metaindex, index) and that the blocks tile the file. When `wanted` is given, also returns every version of that
 * user key the table holds (reading only the blocks whose key range may contain it).
 */
export function readTable (bytes: Uint8Array, wanted?: Uint8Array): TableContents {
  const found: TableContents['found'] = []
  try {
    if (bytes.length < FOOTER) return { found, problem: { offset: 0, problem: `${bytes.length} bytes, shorter than a table's footer` } }
    const footerStart = bytes.length - FOOTER
    if (TABLE_MAGIC.some((byte, i) => bytes[footerStart + 40 + i] !== byte)) {
      return { found, problem: { offset: footerStart + 40, problem: 'not a table (bad magic number): truncated or overwritten' } }
    }
    const footer = new Reader(bytes.subarray(footerStart, footerStart + 40))
    const metaindex = { offset: footer.varint(), size: footer.varint() }
    const index = { offset: footer.varint(), size: footer.varint() }
    if (!isZero(bytes, footerStart + footer.position, footerStart + 40)) return { found, problem: { offset: footerStart, problem: 'a damaged footer' } }
    const indexBlock = readBlock(bytes, index, footerStart)
    const metaBlock = readBlock(bytes, metaindex, footerStart)
    // Every block, in file order, must start where the previous one ended: no byte of the file goes unchecked.
    const handles: Array<{ offset: number, size: number }> = []
    const indexEntries = blockEntries(indexBlock)
    for (const { value } of indexEntries) handles.push(decodeHandle(value))
    for (const { value } of blockEntries(metaBlock)) handles.push(decodeHandle(value))
    handles.push(metaindex, index)
    handles.sort((a, b) => a.offset - b.offset)
    let expected = 0
    for (const handle of handles) {
      if (handle.offset !== expected) throw new TableError(expected, 'blocks that do not tile the file')
      checkBlock(bytes, handle, footerStart)
      expected = handle.offset + handle.size + BLOCK_TRAILER
    }
    if (expected !== footerStart) throw new TableError(expected, 'bytes between the last block and the footer')
    if (wanted !== undefined) {
      // Index keys are separators: block i holds keys in (key[i-1], key[i]].
      let previous: Uint8Array | undefined
      for (const { key, value } of indexEntries) {
        const low = previous === undefined ? -1 : compareBytes(userKey(previous), wanted)
        if (low <= 0 && compareBytes(userKey(key), wanted) >= 0) {
          for (const entry of blockEntries(readBlock(bytes, decodeHandle(value), footerStart))) {
            if (entry.key.length < 8 || compareBytes(userKey(entry.key), wanted) !== 0) continue
            const view = new DataView(entry.key.buffer, entry.key.byteOffset + entry.key.length - 8, 8)
            const tag = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32
            const type = tag % 256
            found.push(type === 1 ? { sequence: Math.floor(tag / 256), value: entry.value } : { sequence: Math.floor(tag / 256) })
          }
        }
        previous = key
      }
    }
    return { found }
  } catch (err) {
    if (err instanceof TableError) return { found, problem: { offset: err.offset, problem: err.message } }
    if (err instanceof RangeError) return { found, problem: { offset: 0, problem: `unreadable structure (${err.message})` } }
    throw err
  }
}

class TableError extends Error {
  readonly offset: number
  constructor (offset: number, message: string) {
    super(message)
    this.name = 'TableError'
    this.offset = offset
  }
}

function decodeHandle (value: Uint8Array): { offset: number, size: number } {
  const input = new Reader(value)
  return { offset: input.varint(), size: input.varint() }
}

function checkBlock (bytes: Uint8Array, handle: { offset: number, size: number }, limit: number): void {
  const end = handle.offset + handle.size
  if (handle.offset < 0 || end + BLOCK_TRAILER > limit) throw new TableError(handle.offset, 'a block past the end of the file')
  const stored = new DataView(bytes.buffer, bytes.byteOffset + end + 1, 4).getUint32(0, true)
  if (maskCrc(crc32c(bytes.subarray(handle.offset, end + 1))) !== stored) throw new TableError(handle.offset, 'block checksum mismatch')
  if (bytes[end] !== 0 && bytes[end] !== 1) throw new TableError(end, `unknown block compression ${bytes[end]}`)
}

function readBlock (bytes: Uint8Array, handle: { offset: number, size: number }, limit: number): Uint8Array {
  checkBlock(bytes, handle, limit)
  const contents = bytes.subarray(handle.offset, handle.offset + handle.size)
  if (bytes[handle.offset + handle.size] === 0) return contents
  try {
    return snappyUncompress(contents)
  } catch (err) {
    throw new TableError(handle.offset, `a compressed block that does not decompress (${(err as Error).message})`)
  }
}

/** The entries of a block (table/block.cc): prefix-compressed keys, then the restart array and its length. */
function blockEntries (block: Uint8Array): Array<{ key: Uint8Array, value: Uint8Array }> {
  if (block.length < 4) throw new RangeError('a block shorter than its restart count')
  const restarts = new DataView(block.buffer, block.byteOffset + block.length - 4, 4).getUint32(0, true)
  const end = block.length - 4 - restarts * 4
  if (end < 0) throw new RangeError('a block whose restart array does not fit')
  const input = new Reader(block.subarray(0, end))
  const entries: Array<{ key: Uint8Array, value: Uint8Array }> = []
  let key: Uint8Array = new Uint8Array(0)
  while (!input.done()) {
    const shared = input.varint()
    const unshared = input.varint()
    const valueLength = input.varint()
    if (shared > key.length) throw new RangeError('a key sharing more bytes than the previous key has')
    key = concat([key.subarray(0, shared), input.take(unshared)])
    entries.push({ key, value: input.take(valueLength) })
  }
  return entries
}

/** An internal key without its 8-byte (sequence, type) tag. */
function userKey (internal: Uint8Array): Uint8Array {
  return internal.subarray(0, Math.max(0, internal.length - 8))
}

/** Snappy's raw format (what LevelDB compresses blocks with): a varint length, then literals and back-references. */
export function snappyUncompress (input: Uint8Array): Uint8Array {
  const reader = new Reader(input)
  const output = new Uint8Array(reader.varint())
  let out = 0
  let i = reader.position
  const need = (n: number): void => { if (i + n > input.length) throw new RangeError('input ends inside an element') }
  while (i < input.length) {
    const tag = input[i++]!
    let length: number
    let offset: number
    switch (tag & 3) {
      case 0: {
        length = tag >>> 2
        if (length >= 60) {
          const extra = length - 59
          need(extra)
          length = 0
          for (let k = 0; k < extra; k++) length += input[i + k]! * 2 ** (8 * k)
          i += extra
        }
        length += 1
        need(length)
        if (out + length > output.length) throw new RangeError('longer than its stated length')
        output.set(input.subarray(i, i + length), out)
        i += length
        out += length
        continue
      }
      case 1:
        need(1)
        length = ((tag >>> 2) & 7) + 4
        offset = ((tag >>> 5) << 8) | input[i++]!
        break
      case 2:
        need(2)
        length = (tag >>> 2) + 1
        offset = input[i]! | (input[i + 1]! << 8)
        i += 2
        break
      default:
        need(4)
        length = (tag >>> 2) + 1
        offset = (input[i]! | (input[i + 1]! << 8) | (input[i + 2]! << 16)) + input[i + 3]! * 2 ** 24
        i += 4
    }
    if (offset === 0 || offset > out) throw new RangeError('a copy from before the start')
    if (out + length > output.length) throw new RangeError('longer than its stated length')
    // Byte by byte: a copy may overlap what it writes (a run).
    for (let k = 0; k < length; k++, out++) output[out] = output[out - offset]!
  }
  if (out !== output.length) throw new RangeError(`${out} bytes instead of the stated ${output.length}`)
  return output
}

/** LevelDB's varints (LEB128, up to 64 bits; numbers here stay far below 2^53) and length-prefixed slices. */
class Reader {
  private readonly bytes: Uint8Array
  position: number
  constructor (bytes: Uint8Array, position = 0) {
    this.bytes = bytes
    this.position = position
  }

  done (): boolean {
    return this.position >= this.bytes.length
  }

  byte (): number {
    if (this.position >= this.bytes.length) throw new RangeError('unexpected end')
    return this.bytes[this.position++]!
  }

  varint (): number {
    let value = 0
    for (let shift = 0; shift < 64; shift += 7) {
      const byte = this.byte()
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
    }
    throw new RangeError('a varint longer than 10 bytes')
  }

  take (length: number): Uint8Array {
    if (this.position + length > this.bytes.length) throw new RangeError('a length past the end')
    const slice = this.bytes.subarray(this.position, this.position + length)
    this.position += length
    return slice
  }

  slice (): Uint8Array {
    return this.take(this.varint())
  }
}

function isZero (bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false
  return true
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

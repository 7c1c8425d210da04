import { protocolId } from '../constants.ts'

export const PROTOCOL_NAME = 'chunk'
// 2.0.0: pieces grew from 256 KiB to 1 MiB, which a 1.0.0 reader refuses.
export const PROTOCOL_VERSION = '2.0.0'
export const PROTOCOL = protocolId(PROTOCOL_NAME, PROTOCOL_VERSION)

/** Request and response headers are a CID and a few numbers. */
export const MAX_HEADER_SIZE = 1024

/**
 * Chunk bytes travel in length-prefixed pieces of at most this size (the unit a reader hands to the disk). Each piece
 * costs a disk read, a framed write and a read with its own promises and abort listeners on the way through the stream
 * stack, so larger pieces cost less CPU per byte: on loopback 64 KiB ran at 57 MiB/s, 256 KiB at 74 MiB/s, and 1 MiB
 * lowers the CPU per MiB again on both sides.
 */
export const PIECE_SIZE = 1024 * 1024

/**
 * A fetcher pauses the stream (yamux stops granting window) once this many received bytes wait to be written to
 * disk, and resumes below `RESUME_BELOW`; so a slow disk slows the sender instead of filling memory.
 * `RESUME_BELOW` must exceed a piece: a reader waiting for the rest of a piece has to be resumed.
 */
export const PAUSE_ABOVE = 4 * 1024 * 1024
export const RESUME_BELOW = 2 * 1024 * 1024

/**
 * The most a stream's reader may hold: what was buffered when it paused plus one yamux window in flight
 * (`MAX_STREAM_WINDOW`, set on the host). Reaching it means the peer ignores flow control.
 */
export const MAX_STREAM_WINDOW = 2 * 1024 * 1024
export const MAX_READ_BUFFER = PAUSE_ABOVE + 2 * MAX_STREAM_WINDOW

/** A peer refuses to store or serve a chunk larger than this. Inputs are split below it (`DEFAULT_CHUNK_SIZE`). */
export const MAX_CHUNK_SIZE = 1024 * 1024 * 1024

/** Default target size when a large input is split on record boundaries. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

/** No progress for this long (ms) aborts a transfer, and the next provider is tried. */
export const IDLE_TIMEOUT = 15_000

/** How long (ms) to look for providers in the DHT before giving up on a chunk. */
export const FIND_TIMEOUT = 30_000

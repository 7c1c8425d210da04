import { protocolId } from '../constants.ts'

export const PROTOCOL_NAME = 'chunk'
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL = protocolId(PROTOCOL_NAME, PROTOCOL_VERSION)

/** Request and response headers are a CID and a few numbers. */
export const MAX_HEADER_SIZE = 1024

/**
 * Chunk bytes travel in length-prefixed pieces of at most this size: the most either side buffers of a chunk
 * (yamux's default window is 256 KiB, so a piece never stalls on a window update).
 */
export const PIECE_SIZE = 64 * 1024

/** A peer refuses to store or serve a chunk larger than this. Inputs are split below it (`DEFAULT_CHUNK_SIZE`). */
export const MAX_CHUNK_SIZE = 1024 * 1024 * 1024

/** Default target size when a large input is split on record boundaries. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

/** No progress for this long (ms) aborts a transfer, and the next provider is tried. */
export const IDLE_TIMEOUT = 15_000

/** How long (ms) to look for providers in the DHT before giving up on a chunk. */
export const FIND_TIMEOUT = 30_000

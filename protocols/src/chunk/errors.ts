/** The chunk is not in this store. */
export class ChunkNotFoundError extends Error {
  override name = 'ChunkNotFoundError'
}

/** Bytes received for a CID do not hash to it: the provider lied or the data was corrupted. */
export class ChunkIntegrityError extends Error {
  override name = 'ChunkIntegrityError'
}

/** No provider in the mesh could deliver the chunk. */
export class NoProviderError extends Error {
  override name = 'NoProviderError'
}

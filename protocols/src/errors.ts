/**
 * Errors of the protocol layer, identified by `name` (STYLE.md). Application failures travel as data in
 * responses; these are raised on the calling side when the answer is a refusal or the exchange breaks.
 */

/** The remote peer answered with a refusal (wrong token, not the coordinator, unknown task, …). */
export class RefusedError extends Error {
  override name = 'RefusedError'
}

/**
 * The remote peer has no room for the request now (a node whose memory is promised to other tasks) and may take it
 * later: not a failure of either side. `response` is the peer's whole answer (it may say what it has free).
 */
export class BusyError<Res = unknown> extends Error {
  override name = 'BusyError'
  readonly response: Res

  constructor (message: string, response: Res) {
    super(message)
    this.response = response
  }
}

/**
 * The remote peer refuses this peer for good: its owner removed it (or revoked the token it enrolled with). Unlike a
 * `RefusedError`, trying again (registering again) cannot help; the message says what can.
 */
export class RemovedError extends Error {
  override name = 'RemovedError'
}

/** The remote peer answered that it failed while handling the request. */
export class RemoteError extends Error {
  override name = 'RemoteError'
}

/** A message or frame broke the protocol: too large, undecodable, or a chunk whose bytes do not match its CID. */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError'
}

/** The peer could not be reached, or the mesh refused us (for example another swarm key). */
export class MeshJoinError extends Error {
  override name = 'MeshJoinError'
}

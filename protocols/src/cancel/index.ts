/**
 * `/runsurge/cancel/1.0.0`: the coordinator tells a node to stop a task.
 *
 * @module
 */
import { rpc } from '../rpc.ts'
import { MAX_MESSAGE_SIZE, PROTOCOL, TIMEOUT } from './constants.ts'
import { CancelRequest, CancelResponse } from './pb/cancel.ts'
import type { RpcComponents, RpcDefinition, RpcInit, RpcService } from '../rpc.ts'

export { CancelRequest, CancelResponse } from './pb/cancel.ts'
export { MAX_MESSAGE_SIZE as CANCEL_MAX_MESSAGE_SIZE, PROTOCOL as CANCEL_PROTOCOL } from './constants.ts'

/** The wire definition of the cancel protocol. */
export const cancelDefinition: RpcDefinition<CancelRequest, CancelResponse> = {
  protocol: PROTOCOL,
  request: CancelRequest,
  response: CancelResponse,
  maxMessageSize: MAX_MESSAGE_SIZE,
  timeout: TIMEOUT,
  ok: CancelResponse.Status.OK,
  refused: CancelResponse.Status.REFUSED,
  failed: CancelResponse.Status.ERROR
}

/** Options of the cancel service; see {@link RpcInit}. Pass `handler` on the side that answers. */
export type CancelInit = RpcInit<CancelRequest, CancelResponse>

/** The cancel service: `call` sends a request; a `handler` in the init answers them. */
export type CancelService = RpcService<CancelRequest, CancelResponse>

/** Creates the cancel service for a libp2p node's `services`. */
export function cancelService (init: CancelInit = {}): (components: RpcComponents) => CancelService {
  return rpc(cancelDefinition, init)
}

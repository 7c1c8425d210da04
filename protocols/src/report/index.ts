/**
 * `/runsurge/report/1.0.0`: a node tells the coordinator that a task runs, completed or failed, with its metrics and output CIDs.
 *
 * @module
 */
import { rpc } from '../rpc.ts'
import { MAX_MESSAGE_SIZE, PROTOCOL, TIMEOUT } from './constants.ts'
import { ReportRequest, ReportResponse } from './pb/report.ts'
import type { RpcComponents, RpcDefinition, RpcInit, RpcService } from '../rpc.ts'

export { ReportRequest, ReportResponse } from './pb/report.ts'
export { MAX_MESSAGE_SIZE as REPORT_MAX_MESSAGE_SIZE, PROTOCOL as REPORT_PROTOCOL } from './constants.ts'

/** The wire definition of the report protocol. */
export const reportDefinition: RpcDefinition<ReportRequest, ReportResponse> = {
  protocol: PROTOCOL,
  request: ReportRequest,
  response: ReportResponse,
  maxMessageSize: MAX_MESSAGE_SIZE,
  timeout: TIMEOUT,
  ok: ReportResponse.Status.OK,
  refused: ReportResponse.Status.REFUSED,
  failed: ReportResponse.Status.ERROR,
  // Callers send request after request on streams they keep open (see RpcDefinition.reuseStreams): idempotent.
  reuseStreams: true
}

/** Options of the report service; see {@link RpcInit}. Pass `handler` on the side that answers. */
export type ReportInit = RpcInit<ReportRequest, ReportResponse>

/** The report service: `call` sends a request; a `handler` in the init answers them. */
export type ReportService = RpcService<ReportRequest, ReportResponse>

/** Creates the report service for a libp2p node's `services`. */
export function reportService (init: ReportInit = {}): (components: RpcComponents) => ReportService {
  return rpc(reportDefinition, init)
}

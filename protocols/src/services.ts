/**
 * The RunSurge protocols as one libp2p service map. The coordinator and every node mount the same six services —
 * each side passes the options of the ones it answers (a `handler`, an `authorize`) and leaves the others calling
 * only — so the map is written here once instead of on both sides.
 */
import { assignService } from './assign/index.ts'
import { cancelService } from './cancel/index.ts'
import { chunkExchange } from './chunk/index.ts'
import { heartbeatService } from './heartbeat/index.ts'
import { registerService } from './register/index.ts'
import { reportService } from './report/index.ts'
import type { AssignInit, AssignService } from './assign/index.ts'
import type { CancelInit, CancelService } from './cancel/index.ts'
import type { ChunkExchange, ChunkExchangeInit } from './chunk/index.ts'
import type { HeartbeatInit, HeartbeatService } from './heartbeat/index.ts'
import type { RegisterInit, RegisterService } from './register/index.ts'
import type { ReportInit, ReportService } from './report/index.ts'
import type { ServiceFactoryMap } from 'libp2p'

/** The RunSurge services of a mesh peer, beside the `BaseServices` every host has (host.ts). */
export type MeshServices = {
  register: RegisterService
  heartbeat: HeartbeatService
  report: ReportService
  assign: AssignService
  cancel: CancelService
  chunks: ChunkExchange
}

/** Options of {@link meshServices}: one per protocol; an absent one leaves that protocol calling only. */
export interface MeshServicesInit {
  register?: RegisterInit
  heartbeat?: HeartbeatInit
  report?: ReportInit
  assign?: AssignInit
  cancel?: CancelInit
  /** The chunk exchange always needs its store. */
  chunks: ChunkExchangeInit
}

/** The service factories of a mesh peer, for `createHost({ services })`. */
export function meshServices (init: MeshServicesInit): ServiceFactoryMap<MeshServices> {
  return {
    register: registerService(init.register),
    heartbeat: heartbeatService(init.heartbeat),
    report: reportService(init.report),
    assign: assignService(init.assign),
    cancel: cancelService(init.cancel),
    chunks: chunkExchange(init.chunks)
  }
}

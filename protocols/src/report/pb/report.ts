import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ReportRequest {
  taskId: string
  nodeId: string
  state: ReportRequest.State
  errorCode: string
  errorMessage: string
  metrics?: TaskMetrics
  outputCids: string[]
  attempt: number
  outputBytes: number[]
  outputMemoryBytes: number[]
}

export namespace ReportRequest {
  export enum State {
    RUNNING = 'RUNNING',
    COMPLETED = 'COMPLETED',
    FAILED = 'FAILED'
  }

  enum __StateValues {
    RUNNING = 0,
    COMPLETED = 1,
    FAILED = 2
  }

  export namespace State {
    export const codec = (): Codec<State> => {
      return enumeration<State>(__StateValues)
    }
  }

  let _codec: Codec<ReportRequest>

  export const codec = (): Codec<ReportRequest> => {
    if (_codec == null) {
      _codec = message<ReportRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.nodeId != null && obj.nodeId !== '')) {
          w.uint32(18)
          w.string(obj.nodeId)
        }

        if (obj.state != null && __StateValues[obj.state] !== 0) {
          w.uint32(24)
          ReportRequest.State.codec().encode(obj.state, w)
        }

        if ((obj.errorCode != null && obj.errorCode !== '')) {
          w.uint32(34)
          w.string(obj.errorCode)
        }

        if ((obj.errorMessage != null && obj.errorMessage !== '')) {
          w.uint32(42)
          w.string(obj.errorMessage)
        }

        if (obj.metrics != null) {
          w.uint32(50)
          TaskMetrics.codec().encode(obj.metrics, w)
        }

        if (obj.outputCids != null && obj.outputCids.length > 0) {
          for (const value of obj.outputCids) {
            w.uint32(58)
            w.string(value)
          }
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(64)
          w.uint32(obj.attempt)
        }

        if (obj.outputBytes != null && obj.outputBytes.length > 0) {
          for (const value of obj.outputBytes) {
            w.uint32(72)
            w.uint64Number(value)
          }
        }

        if (obj.outputMemoryBytes != null && obj.outputMemoryBytes.length > 0) {
          for (const value of obj.outputMemoryBytes) {
            w.uint32(80)
            w.uint64Number(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          nodeId: '',
          state: State.RUNNING,
          errorCode: '',
          errorMessage: '',
          outputCids: [],
          attempt: 0,
          outputBytes: [],
          outputMemoryBytes: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.string()
              break
            }
            case 2: {
              obj.nodeId = reader.string()
              break
            }
            case 3: {
              obj.state = ReportRequest.State.codec().decode(reader)
              break
            }
            case 4: {
              obj.errorCode = reader.string()
              break
            }
            case 5: {
              obj.errorMessage = reader.string()
              break
            }
            case 6: {
              obj.metrics = TaskMetrics.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.metrics
              })
              break
            }
            case 7: {
              if (opts.limits?.outputCids != null && obj.outputCids.length === opts.limits.outputCids) {
                throw new MaxLengthError('Decode error - repeated field "outputCids" had too many elements')
              }

              obj.outputCids.push(reader.string())
              break
            }
            case 8: {
              obj.attempt = reader.uint32()
              break
            }
            case 9: {
              if (opts.limits?.outputBytes != null && obj.outputBytes.length === opts.limits.outputBytes) {
                throw new MaxLengthError('Decode error - repeated field "outputBytes" had too many elements')
              }

              obj.outputBytes.push(reader.uint64Number())
              break
            }
            case 10: {
              if (opts.limits?.outputMemoryBytes != null && obj.outputMemoryBytes.length === opts.limits.outputMemoryBytes) {
                throw new MaxLengthError('Decode error - repeated field "outputMemoryBytes" had too many elements')
              }

              obj.outputMemoryBytes.push(reader.uint64Number())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          outputCids: 0,
          outputBytes: 0,
          outputMemoryBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.nodeId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.state`,
                value: ReportRequest.State.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.errorCode`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.errorMessage`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield * TaskMetrics.codec().stream(reader, reader.uint32(), `${prefix}.metrics`, {
                limits: opts.limits?.metrics
              })

              break
            }
            case 7: {
              if (opts.limits?.outputCids != null && obj.outputCids === opts.limits.outputCids) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputCids" had too many elements')
              }

              yield {
                field: `${prefix}.outputCids[]`,
                index: obj.outputCids,
                value: reader.string()
              }

              obj.outputCids++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.attempt`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              if (opts.limits?.outputBytes != null && obj.outputBytes === opts.limits.outputBytes) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputBytes" had too many elements')
              }

              yield {
                field: `${prefix}.outputBytes[]`,
                index: obj.outputBytes,
                value: reader.uint64Number()
              }

              obj.outputBytes++

              break
            }
            case 10: {
              if (opts.limits?.outputMemoryBytes != null && obj.outputMemoryBytes === opts.limits.outputMemoryBytes) {
                throw new MaxLengthError('Streaming decode error - repeated field "outputMemoryBytes" had too many elements')
              }

              yield {
                field: `${prefix}.outputMemoryBytes[]`,
                index: obj.outputMemoryBytes,
                value: reader.uint64Number()
              }

              obj.outputMemoryBytes++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ReportRequestTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface ReportRequestNodeIdFieldEvent {
    field: '$.nodeId'
    value: string
  }

  export interface ReportRequestStateFieldEvent {
    field: '$.state'
    value: ReportRequest.State
  }

  export interface ReportRequestErrorCodeFieldEvent {
    field: '$.errorCode'
    value: string
  }

  export interface ReportRequestErrorMessageFieldEvent {
    field: '$.errorMessage'
    value: string
  }

  export interface ReportRequestMetricsWallMsFieldEvent {
    field: '$.metrics.wallMs'
    value: number
  }

  export interface ReportRequestMetricsCpuMsFieldEvent {
    field: '$.metrics.cpuMs'
    value: number
  }

  export interface ReportRequestMetricsPeakMemoryBytesFieldEvent {
    field: '$.metrics.peakMemoryBytes'
    value: number
  }

  export interface ReportRequestMetricsAvgMemoryBytesFieldEvent {
    field: '$.metrics.avgMemoryBytes'
    value: number
  }

  export interface ReportRequestOutputCidsFieldEvent {
    field: '$.outputCids[]'
    index: number
    value: string
  }

  export interface ReportRequestAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export interface ReportRequestOutputBytesFieldEvent {
    field: '$.outputBytes[]'
    index: number
    value: number
  }

  export interface ReportRequestOutputMemoryBytesFieldEvent {
    field: '$.outputMemoryBytes[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<ReportRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReportRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReportRequest>): ReportRequest {
    return decodeMessage(buf, ReportRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReportRequest>): Generator<ReportRequestTaskIdFieldEvent | ReportRequestNodeIdFieldEvent | ReportRequestStateFieldEvent | ReportRequestErrorCodeFieldEvent | ReportRequestErrorMessageFieldEvent | ReportRequestMetricsWallMsFieldEvent | ReportRequestMetricsCpuMsFieldEvent | ReportRequestMetricsPeakMemoryBytesFieldEvent | ReportRequestMetricsAvgMemoryBytesFieldEvent | ReportRequestOutputCidsFieldEvent | ReportRequestAttemptFieldEvent | ReportRequestOutputBytesFieldEvent | ReportRequestOutputMemoryBytesFieldEvent> {
    return streamMessage(buf, ReportRequest.codec(), opts)
  }
}

export interface TaskMetrics {
  wallMs: number
  cpuMs: number
  peakMemoryBytes: number
  avgMemoryBytes: number
}

export namespace TaskMetrics {
  let _codec: Codec<TaskMetrics>

  export const codec = (): Codec<TaskMetrics> => {
    if (_codec == null) {
      _codec = message<TaskMetrics>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.wallMs != null && obj.wallMs !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.wallMs)
        }

        if ((obj.cpuMs != null && obj.cpuMs !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.cpuMs)
        }

        if ((obj.peakMemoryBytes != null && obj.peakMemoryBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.peakMemoryBytes)
        }

        if ((obj.avgMemoryBytes != null && obj.avgMemoryBytes !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.avgMemoryBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          wallMs: 0,
          cpuMs: 0,
          peakMemoryBytes: 0,
          avgMemoryBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.wallMs = reader.uint64Number()
              break
            }
            case 2: {
              obj.cpuMs = reader.uint64Number()
              break
            }
            case 3: {
              obj.peakMemoryBytes = reader.uint64Number()
              break
            }
            case 4: {
              obj.avgMemoryBytes = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.wallMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cpuMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.peakMemoryBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.avgMemoryBytes`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TaskMetricsWallMsFieldEvent {
    field: '$.wallMs'
    value: number
  }

  export interface TaskMetricsCpuMsFieldEvent {
    field: '$.cpuMs'
    value: number
  }

  export interface TaskMetricsPeakMemoryBytesFieldEvent {
    field: '$.peakMemoryBytes'
    value: number
  }

  export interface TaskMetricsAvgMemoryBytesFieldEvent {
    field: '$.avgMemoryBytes'
    value: number
  }

  export function encode (obj: Partial<TaskMetrics>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskMetrics.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskMetrics>): TaskMetrics {
    return decodeMessage(buf, TaskMetrics.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskMetrics>): Generator<TaskMetricsWallMsFieldEvent | TaskMetricsCpuMsFieldEvent | TaskMetricsPeakMemoryBytesFieldEvent | TaskMetricsAvgMemoryBytesFieldEvent> {
    return streamMessage(buf, TaskMetrics.codec(), opts)
  }
}

export interface ReportResponse {
  status: ReportResponse.Status
  error: string
}

export namespace ReportResponse {
  export enum Status {
    OK = 'OK',
    REFUSED = 'REFUSED',
    ERROR = 'ERROR'
  }

  enum __StatusValues {
    OK = 0,
    REFUSED = 1,
    ERROR = 2
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<ReportResponse>

  export const codec = (): Codec<ReportResponse> => {
    if (_codec == null) {
      _codec = message<ReportResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          ReportResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          error: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = ReportResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: ReportResponse.Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ReportResponseStatusFieldEvent {
    field: '$.status'
    value: ReportResponse.Status
  }

  export interface ReportResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<ReportResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReportResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReportResponse>): ReportResponse {
    return decodeMessage(buf, ReportResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReportResponse>): Generator<ReportResponseStatusFieldEvent | ReportResponseErrorFieldEvent> {
    return streamMessage(buf, ReportResponse.codec(), opts)
  }
}

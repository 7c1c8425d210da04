import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface HeartbeatRequest {
  nodeId: string
  cpuLoad: number
  memoryUsedBytes: number
  memoryFreeBytes: number
  runningTasks: string[]
}

export namespace HeartbeatRequest {
  let _codec: Codec<HeartbeatRequest>

  export const codec = (): Codec<HeartbeatRequest> => {
    if (_codec == null) {
      _codec = message<HeartbeatRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.nodeId != null && obj.nodeId !== '')) {
          w.uint32(10)
          w.string(obj.nodeId)
        }

        if ((obj.cpuLoad != null && obj.cpuLoad !== 0)) {
          w.uint32(17)
          w.double(obj.cpuLoad)
        }

        if ((obj.memoryUsedBytes != null && obj.memoryUsedBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.memoryUsedBytes)
        }

        if ((obj.memoryFreeBytes != null && obj.memoryFreeBytes !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.memoryFreeBytes)
        }

        if (obj.runningTasks != null && obj.runningTasks.length > 0) {
          for (const value of obj.runningTasks) {
            w.uint32(42)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          nodeId: '',
          cpuLoad: 0,
          memoryUsedBytes: 0,
          memoryFreeBytes: 0,
          runningTasks: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.nodeId = reader.string()
              break
            }
            case 2: {
              obj.cpuLoad = reader.double()
              break
            }
            case 3: {
              obj.memoryUsedBytes = reader.uint64Number()
              break
            }
            case 4: {
              obj.memoryFreeBytes = reader.uint64Number()
              break
            }
            case 5: {
              if (opts.limits?.runningTasks != null && obj.runningTasks.length === opts.limits.runningTasks) {
                throw new MaxLengthError('Decode error - repeated field "runningTasks" had too many elements')
              }

              obj.runningTasks.push(reader.string())
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
          runningTasks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.nodeId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cpuLoad`,
                value: reader.double()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.memoryUsedBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.memoryFreeBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              if (opts.limits?.runningTasks != null && obj.runningTasks === opts.limits.runningTasks) {
                throw new MaxLengthError('Streaming decode error - repeated field "runningTasks" had too many elements')
              }

              yield {
                field: `${prefix}.runningTasks[]`,
                index: obj.runningTasks,
                value: reader.string()
              }

              obj.runningTasks++

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

  export interface HeartbeatRequestNodeIdFieldEvent {
    field: '$.nodeId'
    value: string
  }

  export interface HeartbeatRequestCpuLoadFieldEvent {
    field: '$.cpuLoad'
    value: number
  }

  export interface HeartbeatRequestMemoryUsedBytesFieldEvent {
    field: '$.memoryUsedBytes'
    value: number
  }

  export interface HeartbeatRequestMemoryFreeBytesFieldEvent {
    field: '$.memoryFreeBytes'
    value: number
  }

  export interface HeartbeatRequestRunningTasksFieldEvent {
    field: '$.runningTasks[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<HeartbeatRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HeartbeatRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeartbeatRequest>): HeartbeatRequest {
    return decodeMessage(buf, HeartbeatRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeartbeatRequest>): Generator<HeartbeatRequestNodeIdFieldEvent | HeartbeatRequestCpuLoadFieldEvent | HeartbeatRequestMemoryUsedBytesFieldEvent | HeartbeatRequestMemoryFreeBytesFieldEvent | HeartbeatRequestRunningTasksFieldEvent> {
    return streamMessage(buf, HeartbeatRequest.codec(), opts)
  }
}

export interface HeartbeatResponse {
  status: HeartbeatResponse.Status
  error: string
}

export namespace HeartbeatResponse {
  export enum Status {
    OK = 'OK',
    UNKNOWN_NODE = 'UNKNOWN_NODE',
    ERROR = 'ERROR',
    REMOVED = 'REMOVED'
  }

  enum __StatusValues {
    OK = 0,
    UNKNOWN_NODE = 1,
    ERROR = 2,
    REMOVED = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<HeartbeatResponse>

  export const codec = (): Codec<HeartbeatResponse> => {
    if (_codec == null) {
      _codec = message<HeartbeatResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          HeartbeatResponse.Status.codec().encode(obj.status, w)
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
              obj.status = HeartbeatResponse.Status.codec().decode(reader)
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
                value: HeartbeatResponse.Status.codec().decode(reader)
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

  export interface HeartbeatResponseStatusFieldEvent {
    field: '$.status'
    value: HeartbeatResponse.Status
  }

  export interface HeartbeatResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<HeartbeatResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HeartbeatResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeartbeatResponse>): HeartbeatResponse {
    return decodeMessage(buf, HeartbeatResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeartbeatResponse>): Generator<HeartbeatResponseStatusFieldEvent | HeartbeatResponseErrorFieldEvent> {
    return streamMessage(buf, HeartbeatResponse.codec(), opts)
  }
}

import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface RegisterRequest {
  token: string
  cpus: number
  memoryBytes: number
  benchmark: number
  version: string
  executors: string[]
}

export namespace RegisterRequest {
  let _codec: Codec<RegisterRequest>

  export const codec = (): Codec<RegisterRequest> => {
    if (_codec == null) {
      _codec = message<RegisterRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.token != null && obj.token !== '')) {
          w.uint32(10)
          w.string(obj.token)
        }

        if ((obj.cpus != null && obj.cpus !== 0)) {
          w.uint32(16)
          w.uint32(obj.cpus)
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.memoryBytes)
        }

        if ((obj.benchmark != null && obj.benchmark !== 0)) {
          w.uint32(33)
          w.double(obj.benchmark)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(42)
          w.string(obj.version)
        }

        if (obj.executors != null && obj.executors.length > 0) {
          for (const value of obj.executors) {
            w.uint32(50)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          token: '',
          cpus: 0,
          memoryBytes: 0,
          benchmark: 0,
          version: '',
          executors: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.token = reader.string()
              break
            }
            case 2: {
              obj.cpus = reader.uint32()
              break
            }
            case 3: {
              obj.memoryBytes = reader.uint64Number()
              break
            }
            case 4: {
              obj.benchmark = reader.double()
              break
            }
            case 5: {
              obj.version = reader.string()
              break
            }
            case 6: {
              if (opts.limits?.executors != null && obj.executors.length === opts.limits.executors) {
                throw new MaxLengthError('Decode error - repeated field "executors" had too many elements')
              }

              obj.executors.push(reader.string())
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
          executors: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.token`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cpus`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.memoryBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.benchmark`,
                value: reader.double()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 6: {
              if (opts.limits?.executors != null && obj.executors === opts.limits.executors) {
                throw new MaxLengthError('Streaming decode error - repeated field "executors" had too many elements')
              }

              yield {
                field: `${prefix}.executors[]`,
                index: obj.executors,
                value: reader.string()
              }

              obj.executors++

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

  export interface RegisterRequestTokenFieldEvent {
    field: '$.token'
    value: string
  }

  export interface RegisterRequestCpusFieldEvent {
    field: '$.cpus'
    value: number
  }

  export interface RegisterRequestMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: number
  }

  export interface RegisterRequestBenchmarkFieldEvent {
    field: '$.benchmark'
    value: number
  }

  export interface RegisterRequestVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface RegisterRequestExecutorsFieldEvent {
    field: '$.executors[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<RegisterRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RegisterRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RegisterRequest>): RegisterRequest {
    return decodeMessage(buf, RegisterRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RegisterRequest>): Generator<RegisterRequestTokenFieldEvent | RegisterRequestCpusFieldEvent | RegisterRequestMemoryBytesFieldEvent | RegisterRequestBenchmarkFieldEvent | RegisterRequestVersionFieldEvent | RegisterRequestExecutorsFieldEvent> {
    return streamMessage(buf, RegisterRequest.codec(), opts)
  }
}

export interface RegisterResponse {
  status: RegisterResponse.Status
  nodeId: string
  error: string
  heartbeatIntervalMs: number
}

export namespace RegisterResponse {
  export enum Status {
    OK = 'OK',
    REFUSED = 'REFUSED',
    ERROR = 'ERROR',
    REMOVED = 'REMOVED'
  }

  enum __StatusValues {
    OK = 0,
    REFUSED = 1,
    ERROR = 2,
    REMOVED = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<RegisterResponse>

  export const codec = (): Codec<RegisterResponse> => {
    if (_codec == null) {
      _codec = message<RegisterResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          RegisterResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.nodeId != null && obj.nodeId !== '')) {
          w.uint32(18)
          w.string(obj.nodeId)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(26)
          w.string(obj.error)
        }

        if ((obj.heartbeatIntervalMs != null && obj.heartbeatIntervalMs !== 0)) {
          w.uint32(32)
          w.uint32(obj.heartbeatIntervalMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          nodeId: '',
          error: '',
          heartbeatIntervalMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = RegisterResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.nodeId = reader.string()
              break
            }
            case 3: {
              obj.error = reader.string()
              break
            }
            case 4: {
              obj.heartbeatIntervalMs = reader.uint32()
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
                value: RegisterResponse.Status.codec().decode(reader)
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
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.heartbeatIntervalMs`,
                value: reader.uint32()
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

  export interface RegisterResponseStatusFieldEvent {
    field: '$.status'
    value: RegisterResponse.Status
  }

  export interface RegisterResponseNodeIdFieldEvent {
    field: '$.nodeId'
    value: string
  }

  export interface RegisterResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface RegisterResponseHeartbeatIntervalMsFieldEvent {
    field: '$.heartbeatIntervalMs'
    value: number
  }

  export function encode (obj: Partial<RegisterResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RegisterResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RegisterResponse>): RegisterResponse {
    return decodeMessage(buf, RegisterResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RegisterResponse>): Generator<RegisterResponseStatusFieldEvent | RegisterResponseNodeIdFieldEvent | RegisterResponseErrorFieldEvent | RegisterResponseHeartbeatIntervalMsFieldEvent> {
    return streamMessage(buf, RegisterResponse.codec(), opts)
  }
}

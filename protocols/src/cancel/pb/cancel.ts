import { decodeMessage, encodeMessage, enumeration, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface CancelRequest {
  taskId: string
  reason: string
}

export namespace CancelRequest {
  let _codec: Codec<CancelRequest>

  export const codec = (): Codec<CancelRequest> => {
    if (_codec == null) {
      _codec = message<CancelRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          reason: ''
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
              obj.reason = reader.string()
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
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
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

  export interface CancelRequestTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface CancelRequestReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<CancelRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CancelRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelRequest>): CancelRequest {
    return decodeMessage(buf, CancelRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelRequest>): Generator<CancelRequestTaskIdFieldEvent | CancelRequestReasonFieldEvent> {
    return streamMessage(buf, CancelRequest.codec(), opts)
  }
}

export interface CancelResponse {
  status: CancelResponse.Status
  error: string
}

export namespace CancelResponse {
  export enum Status {
    OK = 'OK',
    REFUSED = 'REFUSED',
    UNKNOWN = 'UNKNOWN',
    ERROR = 'ERROR'
  }

  enum __StatusValues {
    OK = 0,
    REFUSED = 1,
    UNKNOWN = 2,
    ERROR = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<CancelResponse>

  export const codec = (): Codec<CancelResponse> => {
    if (_codec == null) {
      _codec = message<CancelResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          CancelResponse.Status.codec().encode(obj.status, w)
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
              obj.status = CancelResponse.Status.codec().decode(reader)
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
                value: CancelResponse.Status.codec().decode(reader)
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

  export interface CancelResponseStatusFieldEvent {
    field: '$.status'
    value: CancelResponse.Status
  }

  export interface CancelResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<CancelResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CancelResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelResponse>): CancelResponse {
    return decodeMessage(buf, CancelResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelResponse>): Generator<CancelResponseStatusFieldEvent | CancelResponseErrorFieldEvent> {
    return streamMessage(buf, CancelResponse.codec(), opts)
  }
}

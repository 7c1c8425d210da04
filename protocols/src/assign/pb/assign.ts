import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface AssignRequest {
  taskId: string
  jobId: string
  script: string
  inputCids: string[]
  memoryBytes: number
  timeoutMs: number
  entry: string
  attempt: number
  inputName: string
  resultInputs: number
}

export namespace AssignRequest {
  let _codec: Codec<AssignRequest>

  export const codec = (): Codec<AssignRequest> => {
    if (_codec == null) {
      _codec = message<AssignRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(18)
          w.string(obj.jobId)
        }

        if ((obj.script != null && obj.script !== '')) {
          w.uint32(26)
          w.string(obj.script)
        }

        if (obj.inputCids != null && obj.inputCids.length > 0) {
          for (const value of obj.inputCids) {
            w.uint32(34)
            w.string(value)
          }
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.memoryBytes)
        }

        if ((obj.timeoutMs != null && obj.timeoutMs !== 0)) {
          w.uint32(48)
          w.uint32(obj.timeoutMs)
        }

        if ((obj.entry != null && obj.entry !== '')) {
          w.uint32(58)
          w.string(obj.entry)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(64)
          w.uint32(obj.attempt)
        }

        if ((obj.inputName != null && obj.inputName !== '')) {
          w.uint32(74)
          w.string(obj.inputName)
        }

        if ((obj.resultInputs != null && obj.resultInputs !== 0)) {
          w.uint32(80)
          w.uint32(obj.resultInputs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          jobId: '',
          script: '',
          inputCids: [],
          memoryBytes: 0,
          timeoutMs: 0,
          entry: '',
          attempt: 0,
          inputName: '',
          resultInputs: 0
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
              obj.jobId = reader.string()
              break
            }
            case 3: {
              obj.script = reader.string()
              break
            }
            case 4: {
              if (opts.limits?.inputCids != null && obj.inputCids.length === opts.limits.inputCids) {
                throw new MaxLengthError('Decode error - repeated field "inputCids" had too many elements')
              }

              obj.inputCids.push(reader.string())
              break
            }
            case 5: {
              obj.memoryBytes = reader.uint64Number()
              break
            }
            case 6: {
              obj.timeoutMs = reader.uint32()
              break
            }
            case 7: {
              obj.entry = reader.string()
              break
            }
            case 8: {
              obj.attempt = reader.uint32()
              break
            }
            case 9: {
              obj.inputName = reader.string()
              break
            }
            case 10: {
              obj.resultInputs = reader.uint32()
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
          inputCids: 0
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
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.script`,
                value: reader.string()
              }
              break
            }
            case 4: {
              if (opts.limits?.inputCids != null && obj.inputCids === opts.limits.inputCids) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputCids" had too many elements')
              }

              yield {
                field: `${prefix}.inputCids[]`,
                index: obj.inputCids,
                value: reader.string()
              }

              obj.inputCids++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.memoryBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.timeoutMs`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.entry`,
                value: reader.string()
              }
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
              yield {
                field: `${prefix}.inputName`,
                value: reader.string()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.resultInputs`,
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

  export interface AssignRequestTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface AssignRequestJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface AssignRequestScriptFieldEvent {
    field: '$.script'
    value: string
  }

  export interface AssignRequestInputCidsFieldEvent {
    field: '$.inputCids[]'
    index: number
    value: string
  }

  export interface AssignRequestMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: number
  }

  export interface AssignRequestTimeoutMsFieldEvent {
    field: '$.timeoutMs'
    value: number
  }

  export interface AssignRequestEntryFieldEvent {
    field: '$.entry'
    value: string
  }

  export interface AssignRequestAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export interface AssignRequestInputNameFieldEvent {
    field: '$.inputName'
    value: string
  }

  export interface AssignRequestResultInputsFieldEvent {
    field: '$.resultInputs'
    value: number
  }

  export function encode (obj: Partial<AssignRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AssignRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AssignRequest>): AssignRequest {
    return decodeMessage(buf, AssignRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AssignRequest>): Generator<AssignRequestTaskIdFieldEvent | AssignRequestJobIdFieldEvent | AssignRequestScriptFieldEvent | AssignRequestInputCidsFieldEvent | AssignRequestMemoryBytesFieldEvent | AssignRequestTimeoutMsFieldEvent | AssignRequestEntryFieldEvent | AssignRequestAttemptFieldEvent | AssignRequestInputNameFieldEvent | AssignRequestResultInputsFieldEvent> {
    return streamMessage(buf, AssignRequest.codec(), opts)
  }
}

export interface AssignResponse {
  status: AssignResponse.Status
  error: string
  memoryFreeBytes: number
}

export namespace AssignResponse {
  export enum Status {
    ACCEPTED = 'ACCEPTED',
    REFUSED = 'REFUSED',
    ERROR = 'ERROR',
    BUSY = 'BUSY'
  }

  enum __StatusValues {
    ACCEPTED = 0,
    REFUSED = 1,
    ERROR = 2,
    BUSY = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<AssignResponse>

  export const codec = (): Codec<AssignResponse> => {
    if (_codec == null) {
      _codec = message<AssignResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          AssignResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if ((obj.memoryFreeBytes != null && obj.memoryFreeBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.memoryFreeBytes)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.ACCEPTED,
          error: '',
          memoryFreeBytes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = AssignResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            case 3: {
              obj.memoryFreeBytes = reader.uint64Number()
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
                value: AssignResponse.Status.codec().decode(reader)
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
            case 3: {
              yield {
                field: `${prefix}.memoryFreeBytes`,
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

  export interface AssignResponseStatusFieldEvent {
    field: '$.status'
    value: AssignResponse.Status
  }

  export interface AssignResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface AssignResponseMemoryFreeBytesFieldEvent {
    field: '$.memoryFreeBytes'
    value: number
  }

  export function encode (obj: Partial<AssignResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AssignResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AssignResponse>): AssignResponse {
    return decodeMessage(buf, AssignResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AssignResponse>): Generator<AssignResponseStatusFieldEvent | AssignResponseErrorFieldEvent | AssignResponseMemoryFreeBytesFieldEvent> {
    return streamMessage(buf, AssignResponse.codec(), opts)
  }
}

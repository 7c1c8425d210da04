/**
 * One request, one response, over a length-prefixed protobuf stream: the shape shared by the control
 * protocols (register, heartbeat, assign, report, cancel). Wire code only; what a request means is decided by
 * the `handler` passed in, so the logic stays testable without a network.
 */
import { setMaxListeners } from '@libp2p/interface'
import { pbStream } from '@libp2p/utils'
import { RefusedError, RemoteError } from './errors.ts'
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'

/** A generated protons message namespace: encodes and decodes one message type. */
export interface MessageCodec<T> {
  encode(message: T): Uint8Array
  decode(bytes: Uint8Array | Uint8ArrayList): T
}

/** What every response of ours carries: a status, and a human-readable error when it is not OK. */
export interface StatusResponse {
  status: string
  error: string
}

/** Who sent a request, as authenticated by the encrypted connection. */
export interface RequestContext extends AbortOptions {
  peer: PeerId
  connection: Connection
}

export interface RpcDefinition<Req, Res extends StatusResponse> {
  /** Full protocol id, e.g. `/runsurge/assign/1.0.0`. */
  protocol: string
  request: MessageCodec<Req>
  response: MessageCodec<Res>
  /** Largest encoded message accepted in either direction, in bytes. */
  maxMessageSize: number
  /** Whole exchange deadline in ms, on both sides. */
  timeout: number
  /** The response status meaning success; any other is raised as an error by `call`. */
  ok: string
  /** The status for a refusal (bad token, unauthorized peer, …). */
  refused: string
  /** The status for a failure of the handler, or a malformed request. */
  failed: string
}

export interface RpcInit<Req, Res> {
  /** Answers a request. Absent on peers that only call the protocol. */
  handler?(request: Req, context: RequestContext): Promise<Res>
  /**
   * Decides whether a peer may use the protocol at all; a refused peer gets the `refused` status and is
   * logged. Default: everyone.
   */
  authorize?(peer: PeerId): boolean
  /** Overrides the definition's timeout (ms). */
  timeout?: number
}

export interface RpcComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

/** A control protocol: handles requests when given a handler, and calls other peers. */
export interface RpcService<Req, Res> extends Startable {
  readonly protocol: string
  /** Sends a request and returns the OK response; raises `RefusedError` / `RemoteError` otherwise. */
  call(peer: PeerId | Multiaddr, request: Req, options?: AbortOptions): Promise<Res>
}

class Rpc<Req, Res extends StatusResponse> implements RpcService<Req, Res> {
  readonly protocol: string
  private readonly components: RpcComponents
  private readonly definition: RpcDefinition<Req, Res>
  private readonly init: RpcInit<Req, Res>
  private readonly log: Logger
  private readonly timeout: number
  private started = false

  constructor (components: RpcComponents, definition: RpcDefinition<Req, Res>, init: RpcInit<Req, Res>) {
    this.components = components
    this.definition = definition
    this.init = init
    this.protocol = definition.protocol
    this.timeout = init.timeout ?? definition.timeout
    this.log = components.logger.forComponent(`runsurge:rpc:${definition.protocol}`)
  }

  async start (): Promise<void> {
    if (this.init.handler != null) {
      await this.components.registrar.handle(this.protocol, (stream: Stream, connection: Connection) => {
        this.onStream(stream, connection).catch(err => {
          this.log.error('handling %s from %p failed - %e', this.protocol, connection.remotePeer, err)
          stream.abort(err)
        })
      })
    }
    this.started = true
  }

  async stop (): Promise<void> {
    if (this.init.handler != null) {
      await this.components.registrar.unhandle(this.protocol)
    }
    this.started = false
  }

  isStarted (): boolean {
    return this.started
  }

  private async onStream (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.timeout)
    setMaxListeners(Infinity, signal)
    const messages = pbStream(stream, { maxDataLength: this.definition.maxMessageSize })
    const responses = this.definition.response
    const reply = async (response: Res): Promise<void> => {
      await messages.write(response, responses, { signal })
      await stream.close({ signal })
    }
    const peer = connection.remotePeer

    if (this.init.authorize != null && !this.init.authorize(peer)) {
      this.log.error('refused %s from unauthorized peer %p', this.protocol, peer)
      await reply(this.failure(this.definition.refused, `peer ${peer.toString()} is not allowed to use ${this.protocol}`))
      return
    }

    let request: Req
    try {
      request = await messages.read(this.definition.request, { signal })
    } catch (err: any) {
      if (signal.aborted) throw err
      // A frame we cannot accept gets a clear answer instead of a silently dropped stream.
      const reason = describeFrameError(err, this.definition.maxMessageSize)
      this.log.error('malformed %s request from %p - %s', this.protocol, peer, reason)
      await reply(this.failure(this.definition.failed, reason))
      return
    }

    let response: Res
    try {
      response = await this.init.handler!(request, { peer, connection, signal })
    } catch (err: any) {
      this.log.error('%s handler failed for %p - %e', this.protocol, peer, err)
      response = this.failure(this.definition.failed, `the peer failed to handle the request: ${String(err?.message ?? err)}`)
    }
    await reply(response)
  }

  private failure (status: string, error: string): Res {
    // Every response message has `status` and `error`; protons fills other fields with defaults on encode.
    return { status, error } as unknown as Res
  }

  async call (peer: PeerId | Multiaddr, request: Req, options: AbortOptions = {}): Promise<Res> {
    const signal = anySignal(options.signal, this.timeout)
    const stream = await this.components.connectionManager.openStream(peer, this.protocol, { signal })
    try {
      const messages = pbStream(stream, { maxDataLength: this.definition.maxMessageSize })
      await messages.write(request, this.definition.request, { signal })
      const response = await messages.read(this.definition.response, { signal })
      await stream.close({ signal })
      if (response.status === this.definition.ok) return response
      if (response.status === this.definition.refused) throw new RefusedError(response.error)
      throw new RemoteError(response.error === '' ? `${this.protocol} failed with status ${response.status}` : response.error)
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }
}

/** Creates the libp2p service factory for a control protocol. */
export function rpc<Req, Res extends StatusResponse> (
  definition: RpcDefinition<Req, Res>, init: RpcInit<Req, Res> = {}
): (components: RpcComponents) => RpcService<Req, Res> {
  return (components) => new Rpc(components, definition, init)
}

/** Explains why a frame was not accepted, in words a peer operator can act on. */
export function describeFrameError (err: any, maxMessageSize: number): string {
  switch (err?.name) {
    case 'InvalidDataLengthError':
    case 'InvalidDataLengthLengthError':
      return `message too large: the limit is ${maxMessageSize} bytes`
    case 'InvalidMessageLengthError':
      return 'malformed frame: bad length prefix'
    case 'UnexpectedEOFError':
      return 'malformed frame: the stream ended inside a message'
    default:
      return `malformed message: ${String(err?.message ?? err)}`
  }
}

/** A signal that fires on the caller's abort or after `timeout` ms, whichever comes first. */
export function anySignal (signal: AbortSignal | undefined, timeout: number): AbortSignal {
  const signals = [AbortSignal.timeout(timeout)]
  if (signal != null) signals.push(signal)
  const combined = AbortSignal.any(signals)
  setMaxListeners(Infinity, combined)
  return combined
}

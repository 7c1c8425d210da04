/**
 * One request, one response, over a length-prefixed protobuf stream: the shape shared by the control
 * protocols (register, heartbeat, assign, report, cancel). Wire code only; what a request means is decided by
 * the `handler` passed in, so the logic stays testable without a network.
 */
import { setMaxListeners } from '@libp2p/interface'
import { pbStream } from '@libp2p/utils'
import { BusyError, RefusedError, RemoteError, RemovedError } from './errors.ts'
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
  /** The status for "not now, maybe later" (raised as `BusyError`), where the protocol has one. */
  busy?: string
  /** The status for "this peer is refused for good" (raised as `RemovedError`), where the protocol has one. */
  removed?: string
  /**
   * Callers keep their streams open and send request after request on them, one exchange at a time per stream,
   * instead of opening a stream per request; handlers answer until the caller closes. A new stream costs both
   * sides a yamux open and close and a multistream-select negotiation: six encrypted frames each way, several
   * times the exchange itself, which is what a coordinator with a thousand nodes mostly spends its CPU on.
   * Peers that close after one exchange still interoperate: a caller retries once on a new stream when a reused
   * one turns out closed. Only for idempotent requests (a retry may deliver one twice).
   */
  reuseStreams?: boolean
}

/** Open streams a caller keeps per peer and protocol, idle, for its next requests. */
const MAX_IDLE_STREAMS = 8
/** A handler closes a reused stream after this long without a request (ms). */
const IDLE_TIMEOUT = 120_000

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
  /**
   * Sends a request and returns the OK response; raises `RefusedError` / `BusyError` / `RemovedError` /
   * `RemoteError` otherwise.
   */
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
  /** Reusable streams not in an exchange now, by peer. */
  private readonly idle = new Map<string, Array<{ stream: Stream, messages: ReturnType<typeof pbStream<Stream>> }>>()

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
    for (const sessions of this.idle.values()) for (const { stream } of sessions) stream.abort(new Error('the service stopped'))
    this.idle.clear()
    this.started = false
  }

  isStarted (): boolean {
    return this.started
  }

  private async onStream (stream: Stream, connection: Connection): Promise<void> {
    const messages = pbStream(stream, { maxDataLength: this.definition.maxMessageSize })
    // With reuse, exchange after exchange until the caller closes the stream (or leaves it idle too long).
    for (let first = true; ; first = false) {
      const deadlines: Deadline[] = []
      try {
        if (!await this.exchange(stream, messages, connection, first, deadlines)) return
      } finally {
        for (const deadline of deadlines) deadline.clear()
      }
    }
  }

  /**
   * Answers one request; returns whether the stream stays open for another (it is closed when not). Its timeouts go
   * in `deadlines`, for the caller to clear once it returns.
   */
  private async exchange (stream: Stream, messages: ReturnType<typeof pbStream<Stream>>, connection: Connection, first: boolean, deadlines: Deadline[]): Promise<boolean> {
    const peer = connection.remotePeer
    const reuse = this.definition.reuseStreams === true
    const exchangeSignal = (): AbortSignal => {
      const timeout = deadline(this.timeout)
      deadlines.push(timeout)
      return timeout.signal
    }
    // A reused stream's next exchange starts when its request comes: until then only the idle timeout runs (an
    // exchange's deadline started before would fire while the stream waits, as long as a heartbeat interval).
    let signal = first ? exchangeSignal() : undefined
    const reply = async (response: Res, final = !reuse): Promise<boolean> => {
      signal ??= exchangeSignal()
      await messages.write(response, this.definition.response, { signal })
      if (final) await stream.close({ signal })
      return !final
    }

    if (first && this.init.authorize != null && !this.init.authorize(peer)) {
      this.log.error('refused %s from unauthorized peer %p', this.protocol, peer)
      return await reply(this.failure(this.definition.refused, `peer ${peer.toString()} is not allowed to use ${this.protocol}`), true)
    }

    let request: Req
    let waiting = signal
    if (waiting === undefined) {
      const idle = deadline(IDLE_TIMEOUT)
      deadlines.push(idle)
      waiting = idle.signal
    }
    try {
      request = await messages.read(this.definition.request, { signal: waiting })
    } catch (err: any) {
      if (!first && (waiting.aborted || err?.name === 'UnexpectedEOFError')) {
        // The caller is done with the stream (or forgot it): close our side too.
        await stream.close({ signal: exchangeSignal() }).catch(closeErr => { stream.abort(closeErr) })
        return false
      }
      if (waiting.aborted) throw err
      // A frame we cannot accept gets a clear answer instead of a silently dropped stream.
      const reason = describeFrameError(err, this.definition.maxMessageSize)
      this.log.error('malformed %s request from %p - %s', this.protocol, peer, reason)
      return await reply(this.failure(this.definition.failed, reason), true)
    }
    signal ??= exchangeSignal()

    let response: Res
    try {
      response = await this.init.handler!(request, { peer, connection, signal })
    } catch (err: any) {
      this.log.error('%s handler failed for %p - %e', this.protocol, peer, err)
      response = this.failure(this.definition.failed, `the peer failed to handle the request: ${String(err?.message ?? err)}`)
    }
    return await reply(response)
  }

  private failure (status: string, error: string): Res {
    // Every response message has `status` and `error`; protons fills other fields with defaults on encode.
    return { status, error } as unknown as Res
  }

  async call (peer: PeerId | Multiaddr, request: Req, options: AbortOptions = {}): Promise<Res> {
    const timeout = deadline(this.timeout, options.signal)
    let response: Res
    try {
      response = this.definition.reuseStreams === true ? await this.exchangeOnReused(peer, request, timeout.signal) : await this.exchangeOnNew(peer, request, timeout.signal)
    } finally {
      timeout.clear()
    }
    if (response.status === this.definition.ok) return response
    if (response.status === this.definition.refused) throw new RefusedError(response.error)
    if (this.definition.busy !== undefined && response.status === this.definition.busy) throw new BusyError(response.error, response)
    if (this.definition.removed !== undefined && response.status === this.definition.removed) throw new RemovedError(response.error)
    throw new RemoteError(response.error === '' ? `${this.protocol} failed with status ${response.status}` : response.error)
  }

  private async exchangeOnNew (peer: PeerId | Multiaddr, request: Req, signal: AbortSignal): Promise<Res> {
    const stream = await this.components.connectionManager.openStream(peer, this.protocol, { signal })
    try {
      const messages = pbStream(stream, { maxDataLength: this.definition.maxMessageSize })
      await messages.write(request, this.definition.request, { signal })
      const response = await messages.read(this.definition.response, { signal })
      await stream.close({ signal })
      return response
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }

  /** One exchange on an idle stream to `peer` (or a new one), which goes back to the idle ones after. */
  private async exchangeOnReused (peer: PeerId | Multiaddr, request: Req, signal: AbortSignal): Promise<Res> {
    const key = peer.toString()
    for (;;) {
      let session = this.idle.get(key)?.pop()
      const reused = session !== undefined
      try {
        if (session === undefined) {
          const stream = await this.components.connectionManager.openStream(peer, this.protocol, { signal })
          session = { stream, messages: pbStream(stream, { maxDataLength: this.definition.maxMessageSize }) }
        }
        await session.messages.write(request, this.definition.request, { signal })
        const response = await session.messages.read(this.definition.response, { signal })
        this.keep(key, session)
        return response
      } catch (err: any) {
        session?.stream.abort(err)
        // A reused stream the other side closed meanwhile (idle too long, restarted, answers once): try another.
        if (reused && !signal.aborted) continue
        throw err
      }
    }
  }

  private keep (key: string, session: { stream: Stream, messages: ReturnType<typeof pbStream<Stream>> }): void {
    let sessions = this.idle.get(key)
    if (sessions === undefined) this.idle.set(key, sessions = [])
    if (sessions.length < MAX_IDLE_STREAMS && this.started && session.stream.status === 'open') {
      sessions.push(session)
      return
    }
    session.stream.close().catch(err => { session.stream.abort(err) })
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

/** A timeout as a signal, and its cancellation. */
interface Deadline {
  signal: AbortSignal
  clear(): void
}

/**
 * A signal that fires on the caller's abort or after `timeout` ms, whichever comes first, like {@link anySignal} (the
 * same `TimeoutError`), but whose timer is cleared once the exchange ends. A timeout signal left to fire builds an
 * error with a stack trace and dispatches an abort event long after its exchange ended: with a thousand nodes
 * heartbeating, hundreds a second, for nothing.
 */
function deadline (timeout: number, signal?: AbortSignal): Deadline {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')) }, timeout)
  // As AbortSignal.timeout's: it keeps no process alive.
  timer.unref()
  const combined = signal == null ? controller.signal : AbortSignal.any([controller.signal, signal])
  setMaxListeners(Infinity, combined)
  return { signal: combined, clear: () => { clearTimeout(timer) } }
}

/** A signal that fires on the caller's abort or after `timeout` ms, whichever comes first. */
export function anySignal (signal: AbortSignal | undefined, timeout: number): AbortSignal {
  const signals = [AbortSignal.timeout(timeout)]
  if (signal != null) signals.push(signal)
  const combined = AbortSignal.any(signals)
  setMaxListeners(Infinity, combined)
  return combined
}

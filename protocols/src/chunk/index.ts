/**
 * `/runsurge/chunk/2.0.0` and the data plane: a content-addressed store on every peer, chunks announced with DHT
 * `provide`, found with `findProviders` and pulled directly from a provider, verified against their CID.
 *
 * @module
 */
import { setMaxListeners } from '@libp2p/interface'
import { lpStream, pbStream } from '@libp2p/utils'
import { describeFrameError } from '../rpc.ts'
import {
  FIND_TIMEOUT, IDLE_TIMEOUT, MAX_CHUNK_SIZE, MAX_HEADER_SIZE, MAX_READ_BUFFER, PAUSE_ABOVE, PIECE_SIZE, PROTOCOL, RESUME_BELOW
} from './constants.ts'
import { ChunkIntegrityError, NoProviderError } from './errors.ts'
import { ChunkRequest, ChunkResponse } from './pb/chunk.ts'
import { parseCid } from './store.ts'
import type { ChunkStore } from './store.ts'
import type {
  AbortOptions, ComponentLogger, Connection, ContentRouting, Logger, PeerId, PeerInfo, PeerStore, Startable, Stream,
  StreamMessageEvent
} from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'

export { ChunkStore, cidOf, parseCid } from './store.ts'
export type { ChunkInfo, ChunkStoreOptions, CorruptChunk, PutOptions } from './store.ts'
export { cutParts, splitRecords } from './split.ts'
export { ChunkIntegrityError, ChunkNotFoundError, NoProviderError } from './errors.ts'
export { ChunkRequest, ChunkResponse } from './pb/chunk.ts'
export {
  PROTOCOL as CHUNK_PROTOCOL, PIECE_SIZE, MAX_CHUNK_SIZE, DEFAULT_CHUNK_SIZE, MAX_HEADER_SIZE as CHUNK_MAX_HEADER_SIZE,
  MAX_STREAM_WINDOW
} from './constants.ts'

export interface ChunkExchangeInit {
  /** Where chunks are kept and served from. */
  store: ChunkStore
  /** No progress for this long (ms) aborts a transfer. Default `IDLE_TIMEOUT` (15 s). */
  idleTimeout?: number
  /** How long (ms) to search the DHT for providers. Default `FIND_TIMEOUT` (30 s). */
  findTimeout?: number
  /**
   * Decides whether a peer may fetch chunks from this one; a refused peer gets an `ERROR` answer saying so, and is
   * logged. Default: everyone (a chunk is only found by its CID).
   */
  authorize?(peer: PeerId): boolean
}

export interface ChunkExchangeComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  contentRouting: ContentRouting
  peerStore: PeerStore
  logger: ComponentLogger
}

/** Progress of a fetch, for logs and UIs. */
export type FetchProgress =
  | { type: 'provider', peer: PeerId }
  | { type: 'rejected', peer: PeerId, reason: string }
  | { type: 'fetched', peer: PeerId, bytes: number }
  /** A read found the local copy corrupt (the store deleted it): it is fetched again. */
  | { type: 'corrupt', reason: string }

export interface FetchOptions extends AbortOptions {
  onProgress?(event: FetchProgress): void
  /**
   * Peers asked directly, in this order, when no provider found in the DHT delivers the chunk: e.g. the coordinator,
   * which holds every input it split even while its provider records are not announced again after a restart.
   * Default: none. Concurrent fetches of one chunk share one transfer, and the first caller's fallback.
   */
  fallback?: PeerId[]
}

/** Stores, announces, serves and fetches chunks. */
export interface ChunkExchange extends Startable {
  readonly store: ChunkStore
  /** Stores bytes locally and announces them in the DHT. */
  add(source: Uint8Array | AsyncIterable<Uint8Array>, options?: AbortOptions): Promise<CID>
  /** Announces a chunk of the local store in the DHT. */
  provide(cid: CID, options?: AbortOptions): Promise<void>
  /**
   * Makes a chunk local: finds providers in the DHT and pulls it from the first that delivers bytes matching the
   * CID; tampered or failed transfers are discarded and the next provider is tried. The chunk is then provided by
   * this peer too.
   */
  fetch(cid: CID, options?: FetchOptions): Promise<void>
  /** Pulls a chunk from one given peer (no DHT lookup). */
  fetchFrom(peer: PeerId, cid: CID, options?: AbortOptions): Promise<void>
  /**
   * A chunk's bytes, never unverified ones: fetches the chunk if it is not local, reads it checking it against its
   * CID, and when the local copy turns out corrupt (the store deletes it, counts it and raises
   * `ChunkIntegrityError`), fetches it again from another provider and reads that copy.
   */
  read(cid: CID, options?: FetchOptions): Promise<Uint8Array>
  /** As `read`, into a file (written only with verified bytes; removed when the chunk cannot be had). */
  export(cid: CID, path: string, options?: FetchOptions): Promise<void>
}

class DefaultChunkExchange implements ChunkExchange {
  readonly store: ChunkStore
  private readonly components: ChunkExchangeComponents
  private readonly log: Logger
  private readonly idleTimeout: number
  private readonly findTimeout: number
  private readonly authorize: (peer: PeerId) => boolean
  private readonly inflight = new Map<string, Promise<void>>()
  private started = false

  constructor (components: ChunkExchangeComponents, init: ChunkExchangeInit) {
    this.components = components
    this.store = init.store
    this.idleTimeout = init.idleTimeout ?? IDLE_TIMEOUT
    this.findTimeout = init.findTimeout ?? FIND_TIMEOUT
    this.authorize = init.authorize ?? (() => true)
    this.log = components.logger.forComponent('runsurge:chunk')
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(PROTOCOL, (stream: Stream, connection: Connection) => {
      this.serve(stream, connection).catch(err => {
        this.log.error('serving a chunk to %p failed - %e', connection.remotePeer, err)
        stream.abort(err)
      })
    })
    this.started = true
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(PROTOCOL)
    this.started = false
  }

  isStarted (): boolean {
    return this.started
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const signal = this.idleSignal()
    try {
      await this.answer(stream, connection, signal)
    } finally {
      signal.clear()
    }
  }

  private async answer (stream: Stream, connection: Connection, signal: IdleSignal): Promise<void> {
    const messages = pbStream(stream, { maxDataLength: MAX_HEADER_SIZE })
    const reply = async (response: Partial<ChunkResponse>): Promise<void> => {
      await messages.write({ size: 0, error: '', status: ChunkResponse.Status.ERROR, ...response }, ChunkResponse, { signal: signal.signal })
    }
    let cid: CID
    try {
      const request = await messages.read(ChunkRequest, { signal: signal.signal })
      cid = parseCid(request.cid)
    } catch (err: any) {
      const reason = err?.name === 'ChunkNotFoundError' ? err.message : describeFrameError(err, MAX_HEADER_SIZE)
      this.log.error('malformed chunk request from %p - %s', connection.remotePeer, reason)
      await reply({ error: reason })
      await stream.close({ signal: signal.signal })
      return
    }
    if (!this.authorize(connection.remotePeer)) {
      this.log.error('refused chunk %c to unauthorized peer %p', cid, connection.remotePeer)
      await reply({ error: `peer ${connection.remotePeer.toString()} is not allowed to fetch chunks here` })
      await stream.close({ signal: signal.signal })
      return
    }
    if (!(await this.store.has(cid))) {
      await reply({ status: ChunkResponse.Status.NOT_FOUND, error: `chunk ${cid.toString()} is not here` })
      await stream.close({ signal: signal.signal })
      return
    }
    const { size } = await this.store.info(cid)
    await reply({ status: ChunkResponse.Status.OK, size })
    const pieces = messages.unwrap()
    const framed = lpStream(pieces, { maxDataLength: PIECE_SIZE })
    // lp writes wait for the stream to drain: a slow reader slows the reads from disk, nothing piles up. The size went
    // out first, so a block found corrupt at its end (the store deletes it and holds back its last piece) can only
    // abort the stream: the caller's handler does, and the fetcher tries its next provider.
    for await (const piece of this.store.get(cid, { pieceSize: PIECE_SIZE, signal: signal.signal })) {
      await framed.write(piece, { signal: signal.signal })
      signal.touch()
    }
    await stream.close({ signal: signal.signal })
    this.log('served %c (%d bytes) to %p', cid, size, connection.remotePeer)
  }

  async add (source: Uint8Array | AsyncIterable<Uint8Array>, options: AbortOptions = {}): Promise<CID> {
    const cid = await this.store.put(source, options)
    await this.provide(cid, options)
    return cid
  }

  async provide (cid: CID, options: AbortOptions = {}): Promise<void> {
    await this.components.contentRouting.provide(cid, options)
  }

  async fetch (cid: CID, options: FetchOptions = {}): Promise<void> {
    if (await this.store.has(cid)) return
    // Two tasks needing the same chunk share one transfer.
    const key = cid.toString()
    let pending = this.inflight.get(key)
    if (pending == null) {
      pending = this.fetchFromProviders(cid, options).finally(() => this.inflight.delete(key))
      this.inflight.set(key, pending)
    }
    await pending
  }

  private async fetchFromProviders (cid: CID, options: FetchOptions): Promise<void> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.findTimeout), ...(options.signal != null ? [options.signal] : [])])
    setMaxListeners(Infinity, signal)
    const failures: string[] = []
    // Never this peer: its own copy is absent, or was just found corrupt and deleted.
    const tried = new Set<string>([this.components.peerId.toString()])
    const attempt = async (provider: PeerInfo): Promise<boolean> => {
      tried.add(provider.id.toString())
      options.onProgress?.({ type: 'provider', peer: provider.id })
      try {
        await this.remember(provider)
        await this.fetchFrom(provider.id, cid, { signal: options.signal })
        options.onProgress?.({ type: 'fetched', peer: provider.id, bytes: (await this.store.info(cid)).size })
        // Announced in the background: the copy is here and verified, and whoever asked for it need not wait for a
        // DHT walk (tens to hundreds of milliseconds) to use it; the copy outlives the request, so does the announcement.
        this.provide(cid).catch(err => {
          this.log.error('could not provide %c after fetching it - %e', cid, err)
        })
        return true
      } catch (err: any) {
        if (options.signal?.aborted === true) throw err
        const reason = `${provider.id.toString()}: ${String(err?.message ?? err)}`
        failures.push(reason)
        options.onProgress?.({ type: 'rejected', peer: provider.id, reason })
        this.log.error('fetching %c from %p failed - %s', cid, provider.id, reason)
        return false
      }
    }
    try {
      for await (const provider of this.components.contentRouting.findProviders(cid, { signal })) {
        if (tried.has(provider.id.toString())) continue
        if (await attempt(provider)) return
      }
    } catch (err: any) {
      if (options.signal?.aborted === true) throw err
      // The lookup timed out or failed: the fallback peers may still have the chunk.
      failures.push(`looking up providers: ${String(err?.message ?? err)}`)
    }
    for (const peer of options.fallback ?? []) {
      if (tried.has(peer.toString())) continue
      if (await attempt({ id: peer, multiaddrs: [] })) return
    }
    throw new NoProviderError(failures.length === 0
      ? `no peer in the mesh provides chunk ${cid.toString()}`
      : `no provider delivered chunk ${cid.toString()}: ${failures.join('; ')}`)
  }

  async read (cid: CID, options: FetchOptions = {}): Promise<Uint8Array> {
    return await this.repairing(cid, options, async () => await this.store.read(cid, { signal: options.signal }))
  }

  async export (cid: CID, path: string, options: FetchOptions = {}): Promise<void> {
    await this.repairing(cid, options, async () => { await this.store.export(cid, path, { signal: options.signal }) })
  }

  /** Makes the chunk local and uses it; a local copy found corrupt (now deleted) is fetched again, once. */
  private async repairing<T> (cid: CID, options: FetchOptions, use: () => Promise<T>): Promise<T> {
    await this.fetch(cid, options)
    try {
      return await use()
    } catch (err: any) {
      // ChunkNotFoundError: a concurrent reader found the block corrupt and deleted it first.
      if (err?.name !== 'ChunkIntegrityError' && err?.name !== 'ChunkNotFoundError') throw err
      this.log.error('the local copy of %c is unusable, fetching it again - %s', cid, err.message)
      options.onProgress?.({ type: 'corrupt', reason: String(err.message) })
      await this.fetch(cid, options)
      return await use()
    }
  }

  private async remember (provider: PeerInfo): Promise<void> {
    if (provider.multiaddrs.length > 0) {
      await this.components.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
    }
  }

  async fetchFrom (peer: PeerId, cid: CID, options: AbortOptions = {}): Promise<void> {
    const idle = this.idleSignal(options.signal)
    const stream = await this.components.connectionManager.openStream(peer, PROTOCOL, { signal: idle.signal })
    // One reader for the whole exchange (no unwrapping between header and pieces), flow-controlled by `pending`.
    const framed = lpStream(stream, { maxDataLength: PIECE_SIZE, maxBufferSize: MAX_READ_BUFFER })
    const flow = flowControl(stream)
    try {
      await framed.write(ChunkRequest.encode({ cid: cid.toString() }), { signal: idle.signal })
      const head = await framed.read({ signal: idle.signal })
      flow.consumed(head.byteLength)
      if (head.byteLength > MAX_HEADER_SIZE) throw new ChunkIntegrityError(`peer sent a ${head.byteLength} byte header`)
      const header = ChunkResponse.decode(head)
      if (header.status !== ChunkResponse.Status.OK) {
        throw new Error(header.error === '' ? `peer answered ${header.status}` : header.error)
      }
      if (header.size > MAX_CHUNK_SIZE) throw new ChunkIntegrityError(`peer announces ${header.size} bytes, over the limit`)
      const expected = header.size
      const pieces = async function * (): AsyncGenerator<Uint8ArrayList> {
        let received = 0
        while (received < expected) {
          const piece = await framed.read({ signal: idle.signal })
          received += piece.byteLength
          if (received > expected) throw new ChunkIntegrityError(`peer sent more than the ${expected} bytes it announced`)
          flow.consumed(piece.byteLength)
          idle.touch()
          // A piece spans several received messages: hand their buffers on rather than joining them (a copy).
          yield piece
        }
      }
      await this.store.put(pieces(), { expected: cid, signal: idle.signal })
      await stream.close({ signal: idle.signal })
    } catch (err: any) {
      stream.abort(err)
      throw err
    } finally {
      flow.stop()
      idle.clear()
    }
  }

  /** A signal that aborts when no progress was made for `idleTimeout` ms, or when `parent` aborts. */
  private idleSignal (parent?: AbortSignal): IdleSignal {
    const controller = new AbortController()
    setMaxListeners(Infinity, controller.signal)
    const abort = (): void => { controller.abort(new Error(`no progress for ${this.idleTimeout} ms`)) }
    let timer = setTimeout(abort, this.idleTimeout)
    const onParent = (): void => { controller.abort(parent?.reason) }
    parent?.addEventListener('abort', onParent, { once: true })
    return {
      signal: controller.signal,
      touch: () => { clearTimeout(timer); timer = setTimeout(abort, this.idleTimeout) },
      clear: () => { clearTimeout(timer); parent?.removeEventListener('abort', onParent) }
    }
  }
}

interface IdleSignal {
  signal: AbortSignal
  /** Progress was made: the idle time starts again. */
  touch(): void
  clear(): void
}

/**
 * Backpressure for a reader that buffers everything the stream delivers (libp2p's `byteStream` does): counts bytes
 * received but not yet consumed, pauses the stream above `PAUSE_ABOVE` and resumes it below `RESUME_BELOW`.
 * `consumed` takes a payload length and adds its varint length prefix.
 */
function flowControl (stream: Stream): { consumed(length: number): void, stop(): void } {
  let pending = 0
  const onMessage = (evt: StreamMessageEvent): void => {
    pending += evt.data.byteLength
    // Not from inside the dispatch: `resume()` dispatches the buffered data and only then tells yamux to send window
    // updates again, which would silently undo a pause made here.
    if (pending > PAUSE_ABOVE) queueMicrotask(pauseIfFull)
  }
  const pauseIfFull = (): void => {
    if (pending > PAUSE_ABOVE && stream.readStatus === 'readable') stream.pause()
  }
  stream.addEventListener('message', onMessage)
  return {
    consumed: (length) => {
      pending -= length + varintLength(length)
      if (pending < RESUME_BELOW && stream.readStatus === 'paused') stream.resume()
    },
    stop: () => { stream.removeEventListener('message', onMessage) }
  }
}

function varintLength (value: number): number {
  let length = 1
  while (value >= 0x80) { value = Math.floor(value / 0x80); length++ }
  return length
}

/** Creates the chunk exchange service for a libp2p node's `services`. */
export function chunkExchange (init: ChunkExchangeInit): (components: ChunkExchangeComponents) => ChunkExchange {
  return (components) => new DefaultChunkExchange(components, init)
}

/**
 * The request/response handler of the control protocols, driven over in-memory stream pairs: what a peer gets back
 * for a good request, a refused peer, an oversized frame, junk, and a failing handler.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { CancelRequest, CancelResponse, cancelDefinition, cancelService, RefusedError, RemoteError, rpc } from '../src/index.ts'
import type { CancelService, RpcInit } from '../src/index.ts'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'

/** A service whose `call` goes through one in-memory stream pair into the same service's handler. */
async function loopback (init: RpcInit<CancelRequest, CancelResponse>, remote?: PeerId): Promise<{ service: CancelService, open(): Promise<Stream> }> {
  const peer = remote ?? peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  let handler: StreamHandler | undefined
  const open = async (): Promise<Stream> => {
    const [outbound, inbound] = await streamPair()
    // eslint-disable-next-line @typescript-eslint/no-floating-promises -- the handler reports its own failures
    handler?.(inbound, { remotePeer: peer } as unknown as Connection)
    return outbound
  }
  const service = cancelService(init)({
    registrar: { handle: async (_protocol: string, h: StreamHandler) => { handler = h }, unhandle: async () => {} } as any,
    connectionManager: { openStream: async () => await open() } as any,
    logger: defaultLogger()
  })
  await service.start()
  return { service, open }
}

describe('control protocol handler', () => {
  it('answers a well-formed request with the handler\'s response', async () => {
    const seen: string[] = []
    const { service } = await loopback({
      handler: async (request) => { seen.push(request.taskId); return { status: CancelResponse.Status.OK, error: '' } }
    })
    const response = await service.call({} as PeerId, { taskId: 'task-7', reason: 'test' })
    expect(response.status).toBe(CancelResponse.Status.OK)
    expect(seen).toEqual(['task-7'])
  })

  it('refuses peers that are not authorized, with a reason, without calling the handler', async () => {
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    let called = false
    const { service } = await loopback({
      authorize: () => false,
      handler: async () => { called = true; return { status: CancelResponse.Status.OK, error: '' } }
    }, stranger)
    const call = service.call({} as PeerId, { taskId: 't', reason: '' })
    await expect(call).rejects.toBeInstanceOf(RefusedError)
    await expect(call).rejects.toThrow(`peer ${stranger.toString()} is not allowed`)
    expect(called).toBe(false)
  })

  it('answers an oversized frame with the limit instead of reading it', async () => {
    const { open } = await loopback({ handler: async () => ({ status: CancelResponse.Status.OK, error: '' }) })
    const stream = lpStream(await open(), { maxDataLength: 10 * 1024 * 1024 })
    await stream.write(new Uint8Array(64 * 1024))
    const response = CancelResponse.decode(await stream.read())
    expect(response.status).toBe(CancelResponse.Status.ERROR)
    expect(response.error).toBe('message too large: the limit is 4096 bytes')
  })

  it('answers undecodable bytes as a malformed message', async () => {
    const { open } = await loopback({ handler: async () => ({ status: CancelResponse.Status.OK, error: '' }) })
    const stream = lpStream(await open())
    await stream.write(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))
    const response = CancelResponse.decode(await stream.read())
    expect(response.status).toBe(CancelResponse.Status.ERROR)
    expect(response.error).toMatch(/^malformed message/)
  })

  it('turns a throwing handler into an error response the caller sees as RemoteError', async () => {
    const { service } = await loopback({ handler: async () => { throw new Error('disk full') } })
    await expect(service.call({} as PeerId, { taskId: 't', reason: '' })).rejects.toThrow(RemoteError)
    await expect(service.call({} as PeerId, { taskId: 't', reason: '' })).rejects.toThrow(/disk full/)
  })
})

describe('control protocol with reused streams', () => {
  /** A caller and a handler, each its own service (reusing streams or not), over in-memory stream pairs; counts opens. */
  async function pair (callerReuses: boolean, handlerReuses: boolean, seen: string[]): Promise<{ caller: CancelService, opened: () => number }> {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    let handler: StreamHandler | undefined
    let opened = 0
    const components = {
      registrar: { handle: async (_protocol: string, h: StreamHandler) => { handler = h }, unhandle: async () => {} } as any,
      connectionManager: {
        openStream: async () => {
          opened++
          const [outbound, inbound] = await streamPair()
          // eslint-disable-next-line @typescript-eslint/no-floating-promises -- the handler reports its own failures
          handler?.(inbound, { remotePeer: peer } as unknown as Connection)
          return outbound
        }
      } as any,
      logger: defaultLogger()
    }
    const answering = rpc({ ...cancelDefinition, reuseStreams: handlerReuses }, {
      handler: async (request) => { seen.push(request.taskId); return { status: CancelResponse.Status.OK, error: '' } }
    })(components)
    await answering.start()
    const caller = rpc({ ...cancelDefinition, reuseStreams: callerReuses })(components)
    await caller.start()
    return { caller, opened: () => opened }
  }

  it('sends request after request on one stream', async () => {
    const seen: string[] = []
    const { caller, opened } = await pair(true, true, seen)
    for (const taskId of ['a', 'b', 'c']) expect((await caller.call({} as PeerId, { taskId, reason: '' })).status).toBe(CancelResponse.Status.OK)
    expect(seen).toEqual(['a', 'b', 'c'])
    expect(opened()).toBe(1)
    await caller.stop()
  })

  it('opens one stream per exchange in flight, and keeps them for the next requests', async () => {
    const seen: string[] = []
    const { caller, opened } = await pair(true, true, seen)
    await Promise.all(['a', 'b', 'c'].map(async taskId => await caller.call({} as PeerId, { taskId, reason: '' })))
    await Promise.all(['d', 'e', 'f'].map(async taskId => await caller.call({} as PeerId, { taskId, reason: '' })))
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    expect(opened()).toBe(3)
    await caller.stop()
  })

  it('works with a peer that answers once per stream and closes it', async () => {
    const seen: string[] = []
    const { caller, opened } = await pair(true, false, seen)
    for (const taskId of ['a', 'b', 'c']) expect((await caller.call({} as PeerId, { taskId, reason: '' })).status).toBe(CancelResponse.Status.OK)
    expect(seen).toEqual(['a', 'b', 'c'])
    expect(opened()).toBe(3) // the caller sees each stream closed after its answer, and keeps none
    await caller.stop()
  })

  it('answers a caller that opens a stream per request', async () => {
    const seen: string[] = []
    const { caller, opened } = await pair(false, true, seen)
    for (const taskId of ['a', 'b']) expect((await caller.call({} as PeerId, { taskId, reason: '' })).status).toBe(CancelResponse.Status.OK)
    expect(seen).toEqual(['a', 'b'])
    expect(opened()).toBe(2)
  })
})

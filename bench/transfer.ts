/**
 * Chunk transfer throughput between two processes on loopback: over the encrypted libp2p stream (TCP + noise +
 * yamux, `/runsurge/chunk/1.0.0`, verified against the CID) next to raw TCP, in the same run.
 *
 *   node --import tsx bench/transfer.ts [--size MiB] [--runs N] [--profile DIR]
 *
 * `--profile DIR` writes a `--cpu-prof` profile of the serving and of each fetching process into DIR.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { median, ChunkStore, chunkExchange, createHost, loadOrCreateIdentity, parseCid } from '../protocols/src/index.ts'
import type { ChunkExchange } from '../protocols/src/index.ts'

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    size: { type: 'string', default: '128' },
    runs: { type: 'string', default: '5' },
    address: { type: 'string' },
    cid: { type: 'string' },
    profile: { type: 'string' }
  }
})
const size = Number(values.size) * 1024 * 1024

/** Deterministic, incompressible-looking bytes (compression plays no part, but be honest anyway). */
function payload (): Uint8Array {
  const bytes = new Uint8Array(size)
  let x = 2463534242
  for (let i = 0; i < size; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; bytes[i] = x & 0xff }
  return bytes
}

async function withPeer (dir: string, name: string): Promise<{ libp2p: Awaited<ReturnType<typeof createHost<{ chunks: ChunkExchange }>>>, store: ChunkStore }> {
  const store = await ChunkStore.open(join(dir, name))
  const libp2p = await createHost<{ chunks: ChunkExchange }>({
    privateKey: await loadOrCreateIdentity(join(dir, `${name}.key`)),
    services: { chunks: chunkExchange({ store }) }
  })
  return { libp2p, store }
}

/** Serving side: a libp2p peer with the chunk, and a raw TCP server sending the same bytes. */
async function serve (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-bench-'))
  const bytes = payload()
  const { libp2p, store } = await withPeer(dir, 'server')
  const cid = await store.put(bytes)
  const raw = createServer(socket => { socket.end(bytes) })
  raw.listen(0, '127.0.0.1')
  await once(raw, 'listening')
  const port = (raw.address() as { port: number }).port
  console.log(JSON.stringify({ address: libp2p.getMultiaddrs()[0]?.toString(), cid: cid.toString(), port }))
  process.stdin.resume()
  await once(process.stdin, 'end')
  raw.close()
  await libp2p.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
}

/** Fetching side: one measured transfer of each kind, printed as seconds. */
async function fetchOnce (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-bench-'))
  const { libp2p, store } = await withPeer(dir, 'client')
  const address = multiaddr(values.address ?? '')
  const cid = parseCid(values.cid ?? '')
  await libp2p.dial(address)
  const started = performance.now()
  const cpu = process.cpuUsage()
  await libp2p.services.chunks.fetchFrom(peerIdFromString(address.getComponents().findLast(c => c.name === 'p2p')?.value ?? ''), cid)
  const libp2pSeconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  if (process.env.RS_CPU) console.error(`fetch: ${(libp2pSeconds * 1000).toFixed(0)} ms wall, cpu user ${(used.user / 1000).toFixed(0)} ms sys ${(used.system / 1000).toFixed(0)} ms`)
  await libp2p.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ libp2pSeconds }))
}

async function rawOnce (port: number): Promise<number> {
  const started = performance.now()
  const socket = connect(port, '127.0.0.1')
  let received = 0
  for await (const piece of socket) received += (piece as Buffer).byteLength
  if (received !== size) throw new Error(`raw TCP got ${received} of ${size} bytes`)
  return (performance.now() - started) / 1000
}

async function main (): Promise<void> {
  const profile = values.profile !== undefined ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []
  const self = [process.execPath, ...profile, '--import', 'tsx', import.meta.filename]
  const server = spawn(self[0] ?? 'node', [...self.slice(1), '--role', 'serve', '--size', String(values.size)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const [line] = await once(createInterface({ input: server.stdout }), 'line') as [string]
  const info = JSON.parse(line) as { address: string, cid: string, port: number }
  const libp2pRuns: number[] = []
  const rawRuns: number[] = []
  for (let run = 0; run < Number(values.runs); run++) {
    const client = spawn(self[0] ?? 'node', [...self.slice(1), '--role', 'fetch', '--size', String(values.size), '--address', info.address, '--cid', info.cid], { stdio: ['ignore', 'pipe', 'inherit'] })
    const [result] = await once(createInterface({ input: client.stdout }), 'line') as [string]
    libp2pRuns.push(JSON.parse(result).libp2pSeconds)
    rawRuns.push(await rawOnce(info.port))
  }
  server.stdin.end()
  await once(server, 'exit')
  const mib = size / 1024 / 1024
  const libp2pRate = mib / median(libp2pRuns)
  const rawRate = mib / median(rawRuns)
  console.log(JSON.stringify({
    benchmark: 'chunk transfer, loopback, two processes',
    sizeMiB: mib,
    runs: libp2pRuns.length,
    libp2pMiBps: Math.round(libp2pRate),
    rawTcpMiBps: Math.round(rawRate),
    ratio: Number((libp2pRate / rawRate).toFixed(3))
  }, null, 2))
}

switch (values.role) {
  case 'serve': await serve(); break
  case 'fetch': await fetchOnce(); break
  default: await main()
}

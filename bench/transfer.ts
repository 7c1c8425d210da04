/**
 * Chunk transfer throughput between two processes on loopback: over the encrypted libp2p stream (TCP + noise +
 * yamux, `/runsurge/chunk/1.0.0`, verified against the CID) next to raw TCP, in the same run.
 *
 *   node --import tsx bench/transfer.ts [--size MiB] [--runs N] [--profile DIR]
 *
 * Besides the rates it prints the CPU time per MiB of each side of the libp2p transfer (comparable across runs on a
 * loaded machine, where rates drift). `--profile DIR` writes CPU profiles into DIR: the serving process's whole life
 * (`--cpu-prof`) and each fetch (`fetch-<pid>.cpuprofile`, the measured transfer only).
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
import { profiled } from './profile.ts'

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
  // Each line on stdin asks for the CPU time used since the previous one (ms), answered on stdout.
  let cpu = process.cpuUsage()
  const queries = createInterface({ input: process.stdin })
  queries.on('line', () => {
    const used = process.cpuUsage(cpu)
    cpu = process.cpuUsage()
    console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000 }))
  })
  await once(queries, 'close')
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
  const cpu = process.cpuUsage()
  const started = performance.now()
  const peer = peerIdFromString(address.getComponents().findLast(c => c.name === 'p2p')?.value ?? '')
  const profile = values.profile !== undefined ? join(values.profile, `fetch-${process.pid}.cpuprofile`) : undefined
  await profiled(profile, async () => { await libp2p.services.chunks.fetchFrom(peer, cid) })
  const libp2pSeconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  await libp2p.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ libp2pSeconds, cpuMs: (used.user + used.system) / 1000 }))
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
  const self = [process.execPath, '--import', 'tsx', import.meta.filename]
  const profile = values.profile !== undefined ? ['--profile', values.profile] : []
  const serverProfile = values.profile !== undefined ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []
  const server = spawn(self[0] ?? 'node', [...serverProfile, ...self.slice(1), '--role', 'serve', '--size', String(values.size)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]()
  const nextLine = async (): Promise<any> => JSON.parse((await lines.next()).value as string)
  const info = await nextLine() as { address: string, cid: string, port: number }
  const serverCpu = async (): Promise<number> => { server.stdin.write('\n'); return (await nextLine()).cpuMs }
  const libp2pRuns: number[] = []
  const rawRuns: number[] = []
  const fetchCpu: number[] = []
  const serveCpu: number[] = []
  for (let run = 0; run < Number(values.runs); run++) {
    const client = spawn(self[0] ?? 'node', [...self.slice(1), '--role', 'fetch', '--size', String(values.size), '--address', info.address, '--cid', info.cid, ...profile], { stdio: ['ignore', 'pipe', 'inherit'] })
    const [result] = await once(createInterface({ input: client.stdout }), 'line') as [string]
    // The serving process's CPU over the client's whole life: its connection, identify and the transfer.
    serveCpu.push(await serverCpu())
    const fetched = JSON.parse(result) as { libp2pSeconds: number, cpuMs: number }
    libp2pRuns.push(fetched.libp2pSeconds)
    fetchCpu.push(fetched.cpuMs)
    rawRuns.push(await rawOnce(info.port))
    await serverCpu()
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
    ratio: Number((libp2pRate / rawRate).toFixed(3)),
    // CPU time per MiB of a libp2p transfer, medians: the fetching process during the fetch, the serving process
    // while the fetching process ran.
    fetchCpuMsPerMiB: Number((median(fetchCpu) / mib).toFixed(2)),
    serveCpuMsPerMiB: Number((median(serveCpu) / mib).toFixed(2))
  }, null, 2))
}

switch (values.role) {
  case 'serve': await serve(); break
  case 'fetch': await fetchOnce(); break
  default: await main()
}

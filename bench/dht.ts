/**
 * DHT provider lookup latency in a loopback mesh: peers made by the product's host factory, joined as nodes join (every
 * node bootstraps through one peer, the coordinator's role), one peer provides some CIDs, and the others time
 * `findProviders` until the first provider arrives — what a chunk fetch waits for before it can dial.
 *
 * A provider record goes to the k (20) peers closest to the CID, so in a mesh of at most 21 peers every peer holds it
 * and answers from its own provider store; lookups answered by another peer are counted apart (`remote`), and a larger
 * `--peers` exercises them. All peers share this process's event loop: a remote answer waits behind every queried peer's
 * work, so it is slower here than between separate node processes.
 *
 *   node --import tsx bench/dht.ts [--peers 20] [--cids 10] [--lookups 50]
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { cidOf, createHost, loadOrCreateIdentity } from '../protocols/src/index.ts'
import type { BaseServices } from '../protocols/src/index.ts'
import type { Libp2p } from '@libp2p/interface'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '20' },
    cids: { type: 'string', default: '10' },
    lookups: { type: 'string', default: '50' }
  }
})
const PEERS = Number(values.peers)
const LOOKUPS = Number(values.lookups)

function quantile (xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/** Resolves once `check` holds, polling; throws after `ms`. */
async function until (check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Times one lookup (ms); the lookup is cancelled once it has its answer. */
async function timedLookup (lookup: (signal: AbortSignal) => Promise<boolean>): Promise<number> {
  const controller = new AbortController()
  const started = performance.now()
  try {
    if (!(await lookup(AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)])))) throw new Error('a lookup found no provider')
    return performance.now() - started
  } finally {
    controller.abort()
  }
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'runsurge-bench-dht-'))
  const peers: Array<Libp2p<BaseServices>> = []
  try {
    // The first peer plays the coordinator: every other peer bootstraps through it, as nodes do.
    const hub = await createHost({ privateKey: await loadOrCreateIdentity(join(dir, 'hub.key')) })
    peers.push(hub)
    const bootstrap = [hub.getMultiaddrs()[0]?.toString() ?? '']
    for (let i = 1; i < PEERS; i++) {
      peers.push(await createHost({ privateKey: await loadOrCreateIdentity(join(dir, `peer-${i}.key`)), bootstrap }))
    }
    // Nodes meet each other by looking themselves up through the hub (kad-dht's initial self-query): wait until each
    // is connected to all the others in a mesh a provide covers whole, to half a bucket's worth in a larger one (whose
    // self-queries need not connect everyone to k peers).
    const k = hub.services.dht.k
    const reach = PEERS - 1 <= k ? PEERS - 1 : Math.ceil(k / 2)
    await until(() => peers.every(peer => peer.getPeers().length >= reach), 'the mesh to connect')

    const provider = peers[1] as Libp2p<BaseServices>
    const cids = Array.from({ length: Number(values.cids) }, () => cidOf(randomBytes(64)))
    const provideStarted = performance.now()
    for (const cid of cids) await provider.contentRouting.provide(cid)
    const provideMs = (performance.now() - provideStarted) / cids.length

    const seekers = peers.filter(peer => peer !== provider)
    const latencies: number[] = []
    const remote: number[] = []
    const viaDht: number[] = []
    for (let i = 0; i < LOOKUPS; i++) {
      const seeker = seekers[i % seekers.length] as Libp2p<BaseServices>
      const cid = cids[i % cids.length]
      if (cid == null) throw new Error('no CIDs to look up')
      // What a fetch waits for: the first provider from libp2p's content routing.
      latencies.push(await timedLookup(async signal => {
        for await (const info of seeker.contentRouting.findProviders(cid, { signal })) {
          if (info.id.equals(provider.peerId)) return true
        }
        return false
      }))
      // The same query at the DHT, whose events say who answered.
      let answeredBy: Libp2p['peerId'] | undefined
      const ms = await timedLookup(async signal => {
        for await (const event of seeker.services.dht.findProviders(cid, { signal })) {
          if (event.name === 'PROVIDER' && event.providers.some(info => info.id.equals(provider.peerId))) {
            answeredBy = event.from
            return true
          }
        }
        return false
      })
      viaDht.push(ms)
      if (answeredBy?.equals(seeker.peerId) === false) remote.push(ms)
    }
    console.log(JSON.stringify({
      benchmark: 'DHT provider lookup, loopback, one process',
      peers: PEERS,
      cids: cids.length,
      lookups: latencies.length,
      medianMs: Number(quantile(latencies, 0.5).toFixed(1)),
      p90Ms: Number(quantile(latencies, 0.9).toFixed(1)),
      maxMs: Number(Math.max(...latencies).toFixed(1)),
      dhtMedianMs: Number(quantile(viaDht, 0.5).toFixed(1)),
      remote: remote.length,
      remoteMedianMs: remote.length > 0 ? Number(quantile(remote, 0.5).toFixed(1)) : null,
      provideMs: Number(provideMs.toFixed(1))
    }))
  } finally {
    await Promise.all(peers.map(async peer => await peer.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}

await main()

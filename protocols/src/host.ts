/**
 * The one libp2p host factory, used by the coordinator and by every node: TCP, noise, yamux, identify, ping and a
 * Kademlia DHT under our own protocol prefix, optional pnet (swarm key) and mDNS.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { MAX_STREAM_WINDOW } from './chunk/constants.ts'
import { protocolId, PROTOCOL_PREFIX } from './constants.ts'
import { nodeNoiseCrypto } from './noise-crypto.ts'
import type { Identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { ConnectionGater, Libp2p, PeerDiscovery, PeerId, PrivateKey } from '@libp2p/interface'
import type { ServiceFactoryMap } from 'libp2p'
import type { Ping } from '@libp2p/ping'

/** The DHT protocol of RunSurge meshes: never `/ipfs/kad/1.0.0`, so we cannot join (or be joined by) the public DHT. */

/** How soon after start the DHT's first self-query runs (ms); kad-dht's default is 1,000. */
const INITIAL_QUERY_SELF_MS = 50
export const DHT_PROTOCOL = protocolId('kad', '1.0.0')

/** Services every host has. */
export type BaseServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
}

export interface HostInit<S extends Record<string, unknown>> {
  /** The peer's identity; keep it on disk so the peer id survives restarts. */
  privateKey: PrivateKey
  /** Multiaddrs to listen on. Default: `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  /** Multiaddrs (with `/p2p/<id>`) dialed at start and kept connected: for nodes, the coordinator's. */
  bootstrap?: string[]
  /**
   * Contents of a swarm key file (`runsurge keygen`). With it, the host speaks only to peers holding the same key
   * (libp2p pnet); without it, only to peers without one.
   */
  swarmKey?: Uint8Array
  /** Discover peers on the LAN with mDNS. Default: false (opt-in for labs). */
  mdns?: boolean
  /** Extra services (our control protocols). */
  services?: ServiceFactoryMap<S>
  /**
   * Connections kept open before libp2p prunes the least valuable ones. Default: libp2p's (300), plenty for a node;
   * a coordinator holds one connection per node and needs more.
   */
  maxConnections?: number
  /**
   * Peers this host never connects to (the coordinator's removed nodes): asked before every dial, for the peer id of
   * a multiaddr being dialed, and once an outbound connection's peer is authenticated. Return true to refuse. Inbound
   * connections are left to the protocols, which answer a refused peer why it is refused. Default: nobody.
   */
  denyPeer?(peer: PeerId): boolean
  /** DHT tuning, mainly for tests: how often the DHT refreshes its view of the key space (ms). */
  dht?: { querySelfInterval?: number, initialQuerySelfInterval?: number }
}

/** Creates and starts a libp2p host. */
export async function createHost<S extends Record<string, unknown> = Record<string, never>> (
  init: HostInit<S>
): Promise<Libp2p<BaseServices & S>> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (init.bootstrap != null && init.bootstrap.length > 0) {
    peerDiscovery.push(bootstrap({ list: init.bootstrap, timeout: 0 }))
  }
  if (init.mdns === true) {
    peerDiscovery.push(mdns({ serviceTag: `${PROTOCOL_PREFIX}.local` }))
  }
  const swarmKey = init.swarmKey

  const services = {
    identify: identify({ protocolPrefix: PROTOCOL_PREFIX }),
    ping: ping({ protocolPrefix: PROTOCOL_PREFIX }),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      // Meshes live on loopback and LANs: keep private addresses (the default mapper drops them).
      peerInfoMapper: passthroughMapper,
      // Every peer of a mesh is dialable by the others, so each serves the DHT from the start.
      clientMode: false,
      querySelfInterval: init.dht?.querySelfInterval,
      // Queries wait for the first self-query (kad-dht's default runs it after 1 s): a node that just joined would
      // hold its first task's chunk lookup that long. A mesh peer has its bootstrap connection within milliseconds.
      initialQuerySelfInterval: init.dht?.initialQuerySelfInterval ?? INITIAL_QUERY_SELF_MS
    }),
    ...init.services
  } as unknown as ServiceFactoryMap<BaseServices & S>

  return await createLibp2p<BaseServices & S>({
    privateKey: init.privateKey,
    addresses: { listen: init.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    // Native chacha20-poly1305 with each session key imported once: the cipher is most of a bulk transfer's CPU.
    connectionEncrypters: [noise({ crypto: nodeNoiseCrypto })],
    // A paused reader (see chunk flow control) holds at most one window in flight; keep it bounded.
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW } })],
    ...(swarmKey != null ? { connectionProtector: preSharedKey({ psk: swarmKey }) } : {}),
    peerDiscovery,
    connectionManager: {
      // libp2p rate-limits inbound connections per IP (5/s by default). On loopback or behind one NAT a whole lab
      // shares an address, and a DHT lookup opens many connections at once.
      inboundConnectionThreshold: 200,
      ...(init.maxConnections !== undefined ? { maxConnections: init.maxConnections } : {})
    },
    // Liveness is our heartbeat protocol; libp2p's own monitor would ping on the public ping id.
    connectionMonitor: { enabled: false },
    ...(init.denyPeer !== undefined ? { connectionGater: denyPeerGater(init.denyPeer) } : {}),
    services
  })
}

/** libp2p's connection gater for `HostInit.denyPeer`: every outbound door (dial, address, secured connection). */
function denyPeerGater (deny: (peer: PeerId) => boolean): ConnectionGater {
  return {
    denyDialPeer: peer => deny(peer),
    denyDialMultiaddr: address => {
      // The last /p2p/ is the peer reached (earlier ones are relays).
      const id = address.getComponents().findLast(component => component.name === 'p2p')?.value
      return id !== undefined && deny(peerIdFromString(id))
    },
    // A dial to an address without /p2p/ learns whom it reached only once noise has authenticated it.
    denyOutboundEncryptedConnection: peer => deny(peer)
  }
}

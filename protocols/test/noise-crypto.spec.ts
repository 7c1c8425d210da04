import { randomBytes } from 'node:crypto'
import { pureJsCrypto } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { nodeNoiseCrypto } from '../src/noise-crypto.ts'

type List = Parameters<typeof nodeNoiseCrypto.chaCha20Poly1305Decrypt>[0]

/** The bytes split at the given offsets, as noise hands over a message that straddles socket reads. */
function split (bytes: Uint8Array, ...at: number[]): List {
  const bounds = [0, ...at, bytes.byteLength]
  return new Uint8ArrayList(...bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end))) as unknown as List
}

function flat (bytes: Uint8Array | { subarray(): Uint8Array }): Buffer {
  return Buffer.from(bytes.subarray())
}

describe('native noise crypto', () => {
  const k = randomBytes(32)
  const nonce = new Uint8Array(12)
  const ad = randomBytes(32)
  const plaintext = randomBytes(65_519)

  it('seals and opens exactly as the pure-JS reference does', () => {
    const sealed = flat(nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
    expect(sealed.equals(flat(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)))).toBe(true)
    expect(flat(nodeNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k)).equals(plaintext)).toBe(true)
  })

  it('takes lists, including a tag split across parts', () => {
    const sealed = flat(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
    for (const at of [[1000], [sealed.byteLength - 8], [sealed.byteLength - 16], [10, 40_000, sealed.byteLength - 3]]) {
      expect(flat(nodeNoiseCrypto.chaCha20Poly1305Decrypt(split(sealed, ...at), nonce, ad, k)).equals(plaintext)).toBe(true)
    }
    const fromList = flat(nodeNoiseCrypto.chaCha20Poly1305Encrypt(split(plaintext, 12, 30_000), nonce, ad, k))
    expect(fromList.equals(sealed)).toBe(true)
  })

  it('rejects a tampered message', () => {
    const sealed = flat(nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k))
    sealed[100] = (sealed[100] ?? 0) ^ 1
    expect(() => nodeNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k)).toThrow()
  })

  it('never uses a cached key for an array whose bytes changed', () => {
    const key = Uint8Array.from(k)
    const first = flat(nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key))
    key.set(randomBytes(32))
    const second = flat(nodeNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key))
    expect(second.equals(first)).toBe(false)
    expect(second.equals(flat(pureJsCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)))).toBe(true)
  })

  it('agrees with the reference on X25519 and SHA-256', () => {
    const a = nodeNoiseCrypto.generateX25519KeyPair()
    const b = pureJsCrypto.generateX25519KeyPair()
    expect(flat(nodeNoiseCrypto.generateX25519KeyPairFromSeed(a.privateKey).publicKey).equals(flat(a.publicKey))).toBe(true)
    expect(flat(nodeNoiseCrypto.generateX25519SharedKey(a.privateKey, b.publicKey))
      .equals(flat(pureJsCrypto.generateX25519SharedKey(b.privateKey, a.publicKey)))).toBe(true)
    expect(flat(nodeNoiseCrypto.hashSHA256(split(plaintext, 7))).equals(flat(pureJsCrypto.hashSHA256(plaintext)))).toBe(true)
  })
})

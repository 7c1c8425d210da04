/**
 * Noise's primitives on Node's native crypto (OpenSSL), for `noise({ crypto })` in the host factory.
 *
 * `@chainsafe/libp2p-noise` 17 already uses `node:crypto` for chacha20-poly1305 above 1200 bytes, but hands it the key
 * as raw bytes on every message: each 64 KiB noise message then pays for importing a secret key (`prepareSecretKey`)
 * on top of the cipher itself, which halves its throughput (600–750 vs 1100–1300 MiB/s on the benchmark machine).
 * Keys never change after the handshake, so we import each key once and keep the `KeyObject`.
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, createSecretKey, diffieHellman, generateKeyPairSync } from 'node:crypto'
import { pureJsCrypto } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { KeyObject } from 'node:crypto'

const CIPHER = 'chacha20-poly1305'
const TAG_LENGTH = 16
// DER wrappings of raw X25519 keys, as node:crypto imports and exports them.
const PKCS8_PREFIX = Buffer.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Buffer.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])

/** What noise passes around: a buffer, or a list of buffers (`Uint8ArrayList`, iterable over its parts). */
type Bytes = Uint8Array | Iterable<Uint8Array> & { byteLength: number, subarray(): Uint8Array }
type Output = ReturnType<ICryptoInterface['chaCha20Poly1305Encrypt']>

/**
 * Imported keys, by the array noise holds them in. The bytes are kept beside the key and compared on every use (32
 * bytes), so an array reused or rewritten in place can never select a stale key.
 */
const keys = new WeakMap<Uint8Array, { bytes: Buffer, key: KeyObject }>()

function secretKey (k: Uint8Array): KeyObject {
  const cached = keys.get(k)
  if (cached?.bytes.equals(k) === true) return cached.key
  const bytes = Buffer.from(k)
  const key = createSecretKey(bytes)
  keys.set(k, { bytes, key })
  return key
}

function parts (bytes: Bytes): Iterable<Uint8Array> {
  return bytes instanceof Uint8Array ? [bytes] : bytes
}

/**
 * One buffer: noise writes each part of a list to the socket separately, and a message's parts are mostly tiny (a
 * yamux header, the tag) beside one large part, so one copy costs less than the extra writes.
 */
function joined (bufs: Uint8Array[]): Output {
  if (bufs.length === 1) return bufs[0] as Uint8Array
  const length = bufs.reduce((sum, buf) => sum + buf.byteLength, 0)
  return Buffer.concat(bufs, length)
}

export const nodeNoiseCrypto: ICryptoInterface = {
  hashSHA256 (data) {
    const hash = createHash('sha256')
    for (const part of parts(data)) hash.update(part)
    return hash.digest()
  },

  getHKDF: pureJsCrypto.getHKDF,

  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    const cipher = createCipheriv(CIPHER, secretKey(k), nonce, { authTagLength: TAG_LENGTH })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const out: Uint8Array[] = []
    for (const part of parts(plaintext)) out.push(cipher.update(part))
    const final = cipher.final()
    if (final.byteLength > 0) out.push(final)
    out.push(cipher.getAuthTag())
    return joined(out)
  },

  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k) {
    const length = ciphertext.byteLength - TAG_LENGTH
    if (length < 0) throw new Error('Invalid chacha20poly1305 decryption')
    const decipher = createDecipheriv(CIPHER, secretKey(k), nonce, { authTagLength: TAG_LENGTH })
    decipher.setAAD(ad, { plaintextLength: length })
    const out: Uint8Array[] = []
    let offset = 0
    const tag = Buffer.alloc(TAG_LENGTH)
    for (const part of parts(ciphertext)) {
      const text = part.subarray(0, Math.max(0, Math.min(part.byteLength, length - offset)))
      if (text.byteLength > 0) out.push(decipher.update(text))
      // The tag may straddle parts.
      const tagStart = Math.max(0, length - offset)
      if (tagStart < part.byteLength) tag.set(part.subarray(tagStart), Math.max(0, offset - length))
      offset += part.byteLength
    }
    decipher.setAuthTag(tag)
    const final = decipher.final()
    if (final.byteLength > 0) out.push(final)
    // Received messages mostly straddle two socket reads: hand the plaintext on as a list, which yamux reads as is.
    // Noise declares its own uint8arraylist major; lists of both are one thing at runtime (a registered symbol).
    return out.length === 1 ? out[0] as Uint8Array : new Uint8ArrayList(...out) as unknown as Output
  },

  generateX25519KeyPair () {
    const { publicKey, privateKey } = generateKeyPairSync('x25519', {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' }
    })
    return { publicKey: publicKey.subarray(SPKI_PREFIX.length), privateKey: privateKey.subarray(PKCS8_PREFIX.length) }
  },

  generateX25519KeyPairFromSeed (seed) {
    const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), type: 'pkcs8', format: 'der' })
    const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(SPKI_PREFIX.length)
    return { publicKey, privateKey: seed }
  },

  generateX25519SharedKey (privateKey, publicKey) {
    return diffieHellman({
      privateKey: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, privateKey.subarray()]), type: 'pkcs8', format: 'der' }),
      publicKey: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey.subarray()]), type: 'spki', format: 'der' })
    })
  }
}

import { describe, expect, it } from 'vitest'
import { crc32c, maskCrc } from '../../src/store/crc32c.ts'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('crc32c', () => {
  it('gives the standard check value', () => {
    expect(crc32c(bytes('123456789'))).toBe(0xe3069283)
  })

  it('matches the test vectors of RFC 3720 (iSCSI) that LevelDB tests too', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e)
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c)
  })

  it('agrees with the bit-by-bit definition at every length and alignment', () => {
    const reference = (data: Uint8Array): number => {
      let c = 0xffffffff
      for (const byte of data) {
        c ^= byte
        for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
      }
      return ~c >>> 0
    }
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 17) & 0xff)
    for (let start = 0; start < 9; start++) {
      for (let length = 0; start + length <= data.length; length += 7) {
        const piece = data.subarray(start, start + length)
        expect(crc32c(piece), `${start}+${length}`).toBe(reference(piece))
      }
    }
  })

  it('continues over pieces', () => {
    expect(crc32c(bytes('56789'), crc32c(bytes('1234')))).toBe(crc32c(bytes('123456789')))
    expect(crc32c(new Uint8Array(0))).toBe(0)
  })

  it("masks as LevelDB's crc32c::Mask does", () => {
    const crc = crc32c(bytes('foo'))
    expect(maskCrc(crc)).not.toBe(crc)
    // Mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8, modulo 2^32.
    expect(maskCrc(0)).toBe(0xa282ead8)
    expect(maskCrc(0x00008000)).toBe((1 + 0xa282ead8) >>> 0)
  })
})

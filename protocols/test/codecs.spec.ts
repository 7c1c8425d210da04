/**
 * Golden wire fixtures: each message's encoding is pinned in fixtures/golden.json, so a change to a .proto that
 * alters the wire (renumbered field, changed type) fails here loudly instead of breaking peers of other versions.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RegisterRequest } from '../src/index.ts'
import { samples } from './fixtures/samples.ts'

describe('protobuf codecs', async () => {
  const golden: Record<string, string> = JSON.parse(await readFile(join(import.meta.dirname, 'fixtures', 'golden.json'), 'utf8'))

  it('has a golden fixture for every message', () => {
    expect(Object.keys(golden).sort()).toEqual(Object.keys(samples).sort())
  })

  for (const [name, [codec, sample]] of Object.entries(samples)) {
    it(`${name} encodes to its golden bytes and decodes back`, () => {
      expect(Buffer.from(codec.encode(sample)).toString('hex')).toBe(golden[name])
      expect(codec.decode(Buffer.from(golden[name] ?? '', 'hex'))).toEqual(sample)
    })
  }

  it('raises on bytes that are not a message instead of returning junk', () => {
    expect(() => RegisterRequest.decode(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow()
  })
})

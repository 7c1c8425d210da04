import { describe, expect, it } from 'vitest'
import { crc32c } from '../../src/store/crc32c.ts'
import { openRecord, sealRecord } from '../../src/store/record.ts'

describe('sealed records', () => {
  it('carry the CRC-32C of key NUL value in 8 hex digits, and open back to the value', () => {
    const sealed = sealRecord('!jobs!job-1', '{"name":"sums"}')
    expect(sealed.slice(0, 8)).toBe(crc32c(new TextEncoder().encode('!jobs!job-1\u0000{"name":"sums"}')).toString(16).padStart(8, '0'))
    expect(openRecord('!jobs!job-1', sealed)).toBe('{"name":"sums"}')
    expect(openRecord('!jobs!job-1', sealRecord('!jobs!job-1', ''))).toBe('')
  })

  it('refuse any change to the value, the key or the checksum, in short and long records alike', () => {
    for (const value of ['{"a":1}', `{"script":"${'print(1)\\n'.repeat(20_000)}","é":"ü—🙂"}`]) {
      const key = '!tasks!task-7'
      const sealed = sealRecord(key, value)
      for (let at = 0; at < sealed.length; at += Math.max(1, Math.floor(sealed.length / 300))) {
        const changed = sealed.slice(0, at) + (sealed[at] === 'x' ? 'y' : 'x') + sealed.slice(at + 1)
        expect(openRecord(key, changed), `character ${at}`).toBeUndefined()
      }
      expect(openRecord(key, sealed.slice(0, -1))).toBeUndefined()
      expect(openRecord('!tasks!task-8', sealed)).toBeUndefined()
      expect(openRecord(key, sealed)).toBe(value)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { InvalidSizeError, formatBytes, median, parseSize } from '../src/units.ts'

describe('parseSize', () => {
  it('reads binary units in every spelling the CLI, the node and the UI accept', () => {
    expect(parseSize('512M')).toBe(512 * 1024 ** 2)
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3)
    expect(parseSize('64k')).toBe(64 * 1024)
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3)
    expect(parseSize('2gb')).toBe(2 * 1024 ** 3)
    expect(parseSize(' 100b ')).toBe(100)
    expect(parseSize('1048576')).toBe(1048576)
    expect(parseSize('1.0001k')).toBe(1024)
  })

  it('refuses what is not a positive size, saying how to write one', () => {
    for (const text of ['', 'lots', '12 parsecs', '-5M', '1e3', 'M']) {
      expect(() => parseSize(text)).toThrow(InvalidSizeError)
    }
    expect(() => parseSize('0')).toThrow(/not a positive size/)
    expect(() => parseSize('lots')).toThrow(/write e\.g\. 512M/)
  })
})

describe('formatBytes', () => {
  it('writes one decimal above bytes, as plans and errors do', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(512 * 1024 ** 2)).toBe('512.0 MiB')
    expect(formatBytes(-1536)).toBe('-1.5 KiB')
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('unlimited')
  })

  it('writes significant digits on request, rolling 1024 of a unit over to the next', () => {
    expect(formatBytes(1536, { significant: 3 })).toBe('1.50 KiB')
    expect(formatBytes(12.3 * 1024 ** 2, { significant: 3 })).toBe('12.3 MiB')
    expect(formatBytes(512 * 1024 ** 2, { significant: 3 })).toBe('512 MiB')
    expect(formatBytes(1023.9 * 1024, { significant: 3 })).toBe('1.00 MiB')
    expect(formatBytes(Number.NaN, { significant: 3, infinite: '–' })).toBe('–')
  })
})

describe('median', () => {
  it('takes the middle value (the upper one of an even count), 0 for none', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(3)
    expect(median([])).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { formatBytes, formatDuration, formatFactor, formatMoney, formatNumber, formatPercent, parseSize } from '../src/lib/format.ts'

describe('formatMoney', () => {
  it('writes whole amounts with cents', () => {
    expect(formatMoney(0)).toBe('$0.00')
    expect(formatMoney(1_000_000)).toBe('$1.00')
    expect(formatMoney(12_345_678)).toBe('$12.35')
    expect(formatMoney(1_234_567_890_000)).toBe('$1,234,567.89')
  })

  it('keeps the digits that make small earnings non-zero', () => {
    expect(formatMoney(15)).toBe('$0.000015')
    expect(formatMoney(7_500)).toBe('$0.007500')
    expect(formatMoney(22_260)).toBe('$0.0223')
    expect(formatMoney(999_999)).toBe('$1.0000')
  })

  it('signs negative amounts', () => {
    expect(formatMoney(-2_500_000)).toBe('-$2.50')
  })
})

describe('formatBytes', () => {
  it('uses binary units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.50 KiB')
    expect(formatBytes(12.3 * 1024 ** 2)).toBe('12.3 MiB')
    expect(formatBytes(512 * 1024 ** 2)).toBe('512 MiB')
    expect(formatBytes(1024 ** 3)).toBe('1.00 GiB')
  })

  it('moves to the next unit instead of writing 1024 of the last', () => {
    expect(formatBytes(1023.9 * 1024)).toBe('1.00 MiB')
    expect(formatBytes(1023)).toBe('1023 B')
  })

  it('says nothing for what is not a number', () => {
    expect(formatBytes(Number.NaN)).toBe('–')
  })
})

describe('formatDuration', () => {
  it('picks the unit that reads best', () => {
    expect(formatDuration(420)).toBe('420 ms')
    expect(formatDuration(4_250)).toBe('4.2 s')
    expect(formatDuration(42_000)).toBe('42 s')
    expect(formatDuration(185_000)).toBe('3 min 05 s')
    expect(formatDuration(2 * 3600_000 + 3 * 60_000)).toBe('2 h 03 min')
  })

  it('refuses negative durations', () => {
    expect(formatDuration(-1)).toBe('–')
  })
})

describe('numbers', () => {
  it('groups digits, writes factors and percentages', () => {
    expect(formatNumber(1234567)).toBe('1,234,567')
    expect(formatFactor(1.25)).toBe('×1.25')
    expect(formatPercent(0.423)).toBe('42%')
  })

  it('parses sizes the way the CLI does', () => {
    expect(parseSize('512M')).toBe(512 * 1024 ** 2)
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3)
    expect(parseSize('64MiB')).toBe(64 * 1024 ** 2)
    expect(parseSize('1000')).toBe(1000)
    expect(parseSize('lots')).toBeUndefined()
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { armDeadline, MAX_TIMER_DELAY_MS } from '../../src/executors/deadline.ts'

describe('armDeadline', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('a delay past setTimeout\'s 2^31 - 1 ms fires at its time, not at once', () => {
    const onExpire = vi.fn()
    // The wire's largest timeout (uint32 ms, ~49.7 days): setTimeout alone would fire it after 1 ms.
    const delay = 4_294_967_295
    armDeadline(delay, onExpire)
    vi.advanceTimersByTime(1)
    expect(onExpire).not.toHaveBeenCalled()
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS)
    expect(onExpire).not.toHaveBeenCalled()
    vi.advanceTimersByTime(delay - MAX_TIMER_DELAY_MS - 2)
    expect(onExpire).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onExpire).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(10 * MAX_TIMER_DELAY_MS)
    expect(onExpire).toHaveBeenCalledTimes(1)
  })

  it('an ordinary delay fires once, and a cleared one never, even between steps', () => {
    const short = vi.fn()
    armDeadline(2000, short)
    vi.advanceTimersByTime(1999)
    expect(short).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(short).toHaveBeenCalledTimes(1)

    const cleared = vi.fn()
    const deadline = armDeadline(3 * MAX_TIMER_DELAY_MS, cleared)
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 5)
    deadline.clear()
    vi.advanceTimersByTime(5 * MAX_TIMER_DELAY_MS)
    expect(cleared).not.toHaveBeenCalled()
  })

  it('refuses a delay that is no number of milliseconds', () => {
    expect(() => armDeadline(Number.NaN, () => {})).toThrow(RangeError)
    expect(() => armDeadline(Number.POSITIVE_INFINITY, () => {})).toThrow(RangeError)
    expect(() => armDeadline(-1, () => {})).toThrow(RangeError)
  })
})

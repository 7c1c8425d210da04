/**
 * Timers for task deadlines of any length. `setTimeout` keeps its delay in a signed 32-bit integer:
 * anything above 2^31 − 1 ms (about 24.8 days) fires after 1 ms instead, so a task given a timeout of
 * 2,147,484 s or more would be killed at once with a nonsensical `time_limit`.
 */

/** The longest delay `setTimeout` honours: 2^31 − 1 ms, about 24.8 days. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1

/** A deadline armed by {@link armDeadline}. */
export interface Deadline {
  /** Disarms it; `onExpire` will not be called. Safe to call more than once, or after it fired. */
  clear: () => void
}

/**
 * Calls `onExpire` once, `delayMs` from now. A delay longer than {@link MAX_TIMER_DELAY_MS} is waited in
 * steps no timer overflows, so the task gets the whole time it was given (no clamping, no refusal).
 * The timer is unref'd: a pending deadline never keeps the process alive on its own.
 *
 * @throws RangeError when `delayMs` is negative, NaN or infinite (a caller's bug: limits are checked first).
 */
export function armDeadline (delayMs: number, onExpire: () => void): Deadline {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`a deadline must be a finite, non-negative number of milliseconds, not ${delayMs}`)
  let remaining = delayMs
  let timer: NodeJS.Timeout | undefined
  const step = (): void => {
    const wait = Math.min(remaining, MAX_TIMER_DELAY_MS)
    remaining -= wait
    timer = setTimeout(() => {
      if (remaining > 0) step()
      else onExpire()
    }, wait)
    timer.unref()
  }
  step()
  return { clear: () => { clearTimeout(timer) } }
}

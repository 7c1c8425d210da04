/** Time on a page: work repeated while the page is shown, and the time now, kept current for durations so far. */
import { createSignal, onCleanup } from 'solid-js'
import type { Accessor } from 'solid-js'

/** Runs `tick` every `ms` until the component that called it is disposed. */
export function onEvery (ms: number, tick: () => void): void {
  const timer = setInterval(tick, ms)
  onCleanup(() => { clearInterval(timer) })
}

/** The time now (ms since the epoch), updated every second while the calling component is shown. */
export function createNow (): Accessor<number> {
  const [now, setNow] = createSignal(Date.now())
  onEvery(1000, () => setNow(Date.now()))
  return now
}

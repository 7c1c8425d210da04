import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { monitorProcessTree, processTree, sampleProcessTree, UsageAccumulator } from '../src/monitor.ts'
import { resolvePython } from '../src/python.ts'

const MiB = 1024 ** 2

/** A Python parent and child each holding `mib` MiB, printing "ready" when both hold it, exiting on stdin EOF. */
function startTree (mib: number): ReturnType<typeof spawn> {
  const source = `
import os, sys
block = b'x' * (${mib} * 1024 * 1024)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    block2 = b'y' * (${mib} * 1024 * 1024)
    os.write(w, b'1')
    sys.stdin.read()
    os._exit(0)
os.read(r, 1)
print('ready', flush=True)
sys.stdin.read()
os.waitpid(pid, 0)
`
  return spawn(resolvePython(), ['-c', source], { stdio: ['pipe', 'pipe', 'inherit'] })
}

describe('monitor', () => {
  it('samples the whole process tree: RSS summed, high-water mark, process count, CPU', async () => {
    const child = startTree(40)
    await once(child.stdout as NodeJS.ReadableStream, 'data')
    try {
      const pid = child.pid as number
      expect(processTree(pid)).toHaveLength(2)
      const sample = sampleProcessTree(pid)
      expect(sample?.processes).toBe(2)
      // Parent: its block (40 MiB) + interpreter; child: the forked copy shares pages, plus its own block.
      expect(sample?.rssBytes).toBeGreaterThan(80 * MiB)
      expect(sample?.hwmBytes).toBeGreaterThan(40 * MiB)
      expect(sample?.vmBytes).toBeGreaterThan(sample?.rssBytes ?? 0)
      expect(sample?.cpuMs).toBeGreaterThanOrEqual(0)
      // Skipping the first level counts the child only.
      expect(sampleProcessTree(pid, 1)?.processes).toBe(1)
    } finally {
      child.stdin?.end()
      await once(child, 'exit')
    }
    expect(sampleProcessTree(child.pid as number)).toBeUndefined()
  })

  it('PSS counts the pages a forked child shares with its parent once; summed RSS counts them twice', async () => {
    const child = startTree(40)
    await once(child.stdout as NodeJS.ReadableStream, 'data')
    try {
      const pid = child.pid as number
      const sample = sampleProcessTree(pid, 0, undefined, true)
      expect(sample?.threads).toBe(2)
      // RSS: the parent's 40 MiB block twice (the child maps it too) plus the child's own block.
      expect(sample?.rssBytes).toBeGreaterThan(120 * MiB)
      // PSS: each block once, and the interpreter's pages split between the two.
      expect(sample?.pssBytes).toBeGreaterThan(80 * MiB)
      expect(sample?.pssBytes).toBeLessThan((sample?.rssBytes ?? 0) - 30 * MiB)
      expect(sampleProcessTree(pid)?.pssBytes).toBeUndefined()

      // A monitor reads PSS only once summed RSS passes `pssAbove`.
      const seen: Array<number | undefined> = []
      const above = monitorProcessTree(pid, { intervalMs: 10, pssAbove: 100 * MiB, onSample: (s) => { seen.push(s.pssBytes) } })
      const below = monitorProcessTree(pid, { intervalMs: 10, pssAbove: 1024 * MiB, onSample: (s) => { seen.push(s.pssBytes === undefined ? -1 : s.pssBytes) } })
      above.stop()
      below.stop()
      expect(seen[0]).toBeGreaterThan(80 * MiB)
      expect(seen[1]).toBe(-1)
    } finally {
      child.stdin?.end()
      await once(child, 'exit')
    }
  })

  it('a running monitor reports peak and average of what it saw', async () => {
    const child = startTree(20)
    await once(child.stdout as NodeJS.ReadableStream, 'data')
    const monitor = monitorProcessTree(child.pid as number, { intervalMs: 10 })
    child.stdin?.end()
    await once(child, 'exit')
    const usage = monitor.stop()
    expect(usage.samples).toBeGreaterThanOrEqual(1)
    expect(usage.peakMemoryBytes).toBeGreaterThan(40 * MiB)
    expect(usage.peakProcesses).toBe(2)
    expect(usage.avgMemoryBytes).toBeLessThanOrEqual(usage.peakMemoryBytes)
  })

  it('averages memory over time, weighting each interval', () => {
    const acc = new UsageAccumulator(0)
    acc.add({ at: 0, rssBytes: 100, hwmBytes: 100, vmBytes: 0, processes: 1, threads: 1, cpuMs: 0 })
    acc.add({ at: 1000, rssBytes: 100, hwmBytes: 100, vmBytes: 0, processes: 1, threads: 1, cpuMs: 10 })
    acc.add({ at: 3000, rssBytes: 300, hwmBytes: 300, vmBytes: 0, processes: 3, threads: 3, cpuMs: 50 })
    const usage = acc.usage(3000, { cpuMs: 60, maxRssBytes: 350 })
    // 1 s at 100, then 2 s rising linearly from 100 to 300 (mean 200): (100 + 400) / 3.
    expect(usage.avgMemoryBytes).toBe(Math.round(500 / 3))
    expect(usage.peakMemoryBytes).toBe(350)
    expect(usage.cpuMs).toBe(60)
    expect(usage.peakProcesses).toBe(3)
    expect(usage.wallMs).toBe(3000)
  })
})

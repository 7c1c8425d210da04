import { describe, expect, it } from 'vitest'
import { DENIED_SYSCALLS_X86_64, seccompProgram } from '../../src/executors/seccomp.ts'

describe('seccomp program', () => {
  it('is classic BPF: 8 bytes per instruction, an arch check, one test per denied call, allow, deny', () => {
    const program = seccompProgram('x64') as Buffer
    const denied = Object.keys(DENIED_SYSCALLS_X86_64).length
    expect(program.length).toBe((5 + denied + 2) * 8)
    // First instruction loads seccomp_data.arch (offset 4); the last two return ALLOW and ERRNO(EPERM).
    expect(program.readUInt16LE(0)).toBe(0x20)
    expect(program.readUInt32LE(4)).toBe(4)
    expect(program.readUInt32LE(program.length - 12)).toBe(0x7fff0000)
    expect(program.readUInt32LE(program.length - 4)).toBe(0x00050001)
  })

  it('every denied-call test jumps to the deny instruction', () => {
    const program = seccompProgram('x64') as Buffer
    const count = program.length / 8
    for (let i = 5; i < count - 2; i++) {
      expect(i + 1 + program.readUInt8(i * 8 + 2)).toBe(count - 1)
    }
  })

  it('has no program for architectures whose numbers it does not know', () => {
    expect(seccompProgram('arm64')).toBeUndefined()
  })
})

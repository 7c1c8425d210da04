/**
 * A seccomp filter for the bwrap sandbox (handed to `bwrap --seccomp FD` as raw classic BPF, so no
 * libseccomp is needed). It denies, with EPERM, the system calls that are the usual kernel attack
 * surface from inside a container and that no Python job needs — io_uring, bpf, userfaultfd,
 * perf_event_open, keyrings, ptrace and cross-process memory access, module/kexec loading, mounts
 * and namespace changes — and kills any process making 32-bit or x32 system calls. Everything else is
 * allowed: containment rests on namespaces and rlimits; this only shrinks what a kernel bug can be
 * reached through. Only x86_64 is covered (the numbers are per architecture); elsewhere there is no filter.
 */
import { arch } from 'node:os'

/** Denied system calls on x86_64 (asm/unistd_64.h). */
export const DENIED_SYSCALLS_X86_64: Readonly<Record<string, number>> = Object.freeze({
  ptrace: 101,
  syslog: 103,
  uselib: 134,
  vhangup: 153,
  pivot_root: 155,
  adjtimex: 159,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  lookup_dcookie: 212,
  clock_settime: 227,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  fanotify_init: 300,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  clock_adjtime: 305,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  pidfd_getfd: 438,
  mount_setattr: 442
})

// Classic BPF opcodes and seccomp constants (linux/filter.h, linux/seccomp.h, linux/audit.h).
const LD_W_ABS = 0x20
const JEQ_K = 0x15
const JGE_K = 0x35
const RET_K = 0x06
const SECCOMP_RET_ALLOW = 0x7fff0000
const SECCOMP_RET_KILL_PROCESS = 0x80000000
const SECCOMP_RET_ERRNO = 0x00050000
const EPERM = 1
const AUDIT_ARCH_X86_64 = 0xc000003e
/** x32 system calls have this bit set in their number. */
const X32_SYSCALL_BIT = 0x40000000
/** Offsets in struct seccomp_data. */
const NR_OFFSET = 0
const ARCH_OFFSET = 4

type Instruction = [code: number, jt: number, jf: number, k: number]

/**
 * The filter program for the machine's architecture (`os.arch()` naming), or undefined when there is
 * none for it.
 */
export function seccompProgram (architecture: string = arch()): Buffer | undefined {
  if (architecture !== 'x64' && architecture !== 'x86_64') return undefined
  const denied = Object.values(DENIED_SYSCALLS_X86_64)
  const program: Instruction[] = [
    [LD_W_ABS, 0, 0, ARCH_OFFSET],
    [JEQ_K, 1, 0, AUDIT_ARCH_X86_64],
    [RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, NR_OFFSET]
  ]
  // Jump targets: after the checks come "allow" and then "deny", so from instruction i the deny
  // instruction is (denied.length - j) + 1 steps ahead for the j-th check.
  const checks = denied.length + 1
  program.push([JGE_K, checks, 0, X32_SYSCALL_BIT])
  denied.forEach((nr, j) => { program.push([JEQ_K, denied.length - j, 0, nr]) })
  program.push([RET_K, 0, 0, SECCOMP_RET_ALLOW])
  program.push([RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM])

  const buffer = Buffer.alloc(program.length * 8)
  program.forEach(([code, jt, jf, k], i) => {
    buffer.writeUInt16LE(code, i * 8)
    buffer.writeUInt8(jt, i * 8 + 2)
    buffer.writeUInt8(jf, i * 8 + 3)
    buffer.writeUInt32LE(k >>> 0, i * 8 + 4)
  })
  return buffer
}

"""RunSurge sandbox launcher.

The first process inside every sandbox. It is trusted code: it imports nothing from the task.
It forks, applies the task's resource limits in the child (so they bind before any task code runs,
and are hard limits the task cannot raise), execs the task command, waits for it and reports how it
ended (exit code or signal, CPU time and peak RSS from wait4) as one JSON line to a report target.

Usage: python3 -I -S launcher.py LIMITS_JSON REPORT_TARGET -- COMMAND [ARGS...]
  LIMITS_JSON    {"as": bytes, "cpu": seconds, "nproc": n, "fsize": bytes, "nofile": n}; null = unlimited;
                 or "standby": COMMAND is standby.py, which waits for the task and applies its limits itself
  REPORT_TARGET  "fd:N" (a pipe the node reads) or a file path (SSH executor)
The launcher exits with the child's exit code, or 128 + signal when the child was killed.
"""
import json
import os
import resource
import signal
import sys

LIMITS = (
    ('as', resource.RLIMIT_AS),
    ('cpu', resource.RLIMIT_CPU),
    ('nproc', resource.RLIMIT_NPROC),
    ('fsize', resource.RLIMIT_FSIZE),
    ('nofile', resource.RLIMIT_NOFILE),
)

# Pre-started sandbox: the child is standby.py, which gets the task and its limits later (on stdin).
STANDBY = 'standby'


def apply_limits(limits):
    for key, which in LIMITS:
        value = limits.get(key)
        if value is None:
            continue
        value = int(value)
        soft, hard = value, value
        if key == 'cpu':
            # SIGXCPU at the soft limit lets the kernel stop the task cleanly; SIGKILL one second later
            # catches a task that ignores SIGXCPU.
            hard = value + 1
        resource.setrlimit(which, (soft, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def open_report(target):
    if target.startswith('fd:'):
        fd = int(target[3:])
        # Keep the report pipe away from the task: it must not inherit it across exec.
        os.set_inheritable(fd, False)
        return fd
    return None


def write_report(target, fd, report):
    data = (json.dumps(report) + '\n').encode()
    if fd is not None:
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        return
    tmp = target + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, target)


def main():
    if len(sys.argv) < 5 or sys.argv[3] != '--':
        sys.stderr.write('usage: launcher.py LIMITS_JSON REPORT_TARGET -- COMMAND [ARGS...]\n')
        return 125
    limits = STANDBY if sys.argv[1] == STANDBY else json.loads(sys.argv[1])
    target = sys.argv[2]
    argv = sys.argv[4:]
    fd = open_report(target)

    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            # Only stdin/stdout/stderr reach the task: any other descriptor the node inherited from
            # whatever started it (a log file, a socket) is closed here, the report pipe included.
            os.closerange(3, max(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1024))
            if limits == STANDBY:
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            else:
                apply_limits(limits)
            os.execv(argv[0], argv)
        except BaseException as error:  # noqa: B902 - report anything, the child must never return
            os.write(2, ('runsurge launcher: cannot start task: %r\n' % (error,)).encode())
        os._exit(126)

    # The launcher only waits; a stray SIGTERM/SIGINT meant for the task must not orphan the report.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    report = {
        'exitCode': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        'cpuMs': round((usage.ru_utime + usage.ru_stime) * 1000),
        # ru_maxrss is in KiB on Linux: the largest RSS of the child or any descendant it waited for.
        'maxRssBytes': usage.ru_maxrss * 1024,
    }
    try:
        write_report(target, fd, report)
    except OSError:
        pass
    if report['signal'] is not None:
        return 128 + report['signal']
    return report['exitCode']


if __name__ == '__main__':
    sys.exit(main())

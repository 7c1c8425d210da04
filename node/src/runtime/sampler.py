"""RunSurge remote monitor, run over SSH beside a task (not inside its sandbox).

  sampler.py start CWD CTL INTERVAL_MS SKIP_DEPTH DU_DIR DEADLINE_MS PSS_ABOVE MAX_ENTRIES -- COMMAND [ARGS...]
      Starts COMMAND in the background in a new session (cwd CWD, stdin /dev/null, stdout and stderr
      to CTL/stdout and CTL/stderr, fd 3 to CTL/report) under a shell that records its exit code in
      CTL/exit, prints {"pid": PID}, then one JSON line per sample of the process tree under PID
      until it is gone: {"rss", "hwm", "vm", "processes", "threads", "cpuMs", "output", "pss", "dir",
      "entries"}, then {"gone": true}. Processes less than SKIP_DEPTH levels below PID are supervisors
      and are not counted. "output" is the size of CTL/stdout + CTL/stderr. "pss" (the tree's summed
      PSS, shared pages counted once) is present when summed RSS is above PSS_ABOVE bytes, at most
      about a tenth of the time (it costs a page-table walk). "dir" and "entries" are the bytes and
      entries under DU_DIR every 10th sample ("-": never), counted up to MAX_ENTRIES + 1 entries.
      The task does not depend on the channel. The node enforces the wall clock; DEADLINE_MS is this
      monitor's own backstop (it kills the tree then, even if the node is gone).
  sampler.py kill ROOT_PID...
      SIGKILLs the process group ROOT_PID and every process of the tree, leaves first, then waits (up to
      10 s) until none of them runs any more: a killed process lingers until the kernel has torn it down,
      and whoever asked for the kill is told it is done only when it is.
  sampler.py du DIR [MAX_ENTRIES]
      Prints the total size of the regular files under DIR and the entries under it (as JSON), the
      count stopping at MAX_ENTRIES + 1.
"""
import json
import os
import signal
import sys
import time

TICKS = os.sysconf('SC_CLK_TCK')


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None once it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            text = f.read().decode('latin-1')
    except OSError:
        return None
    return text[text.rindex(')') + 2:].split(' ')


def read_stat(pid):
    fields = stat_fields(pid)
    if fields is None:
        return None
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def tree(root):
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        stat = read_stat(int(entry))
        if stat is not None:
            children.setdefault(stat[0], []).append(int(entry))
    out, queue, seen = [], [(root, 0)], set()
    while queue:
        pid, depth = queue.pop()
        if pid in seen:
            continue
        seen.add(pid)
        out.append((pid, depth))
        queue.extend((child, depth + 1) for child in children.get(pid, ()))
    return out


def status_kib(pid):
    values = {'VmRSS': 0, 'VmHWM': 0, 'VmSize': 0, 'Threads': 1}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                key, _, rest = line.partition(':')
                if key in values:
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return values


def pss_kib(pid):
    try:
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def sample(root, skip, with_pss=False):
    if read_stat(root) is None:
        return None
    s = {'rss': 0, 'hwm': 0, 'vm': 0, 'processes': 0, 'threads': 0, 'cpuMs': 0}
    pss = 0
    for pid, depth in tree(root):
        if depth < skip:
            continue
        st = status_kib(pid)
        stat = read_stat(pid)
        if st is None or stat is None:
            continue
        s['processes'] += 1
        s['threads'] += st['Threads']
        s['rss'] += st['VmRSS'] * 1024
        s['hwm'] = max(s['hwm'], st['VmHWM'] * 1024)
        s['vm'] += st['VmSize'] * 1024
        s['cpuMs'] += stat[1] * 1000 // TICKS
        if with_pss:
            # A process whose PSS cannot be read counts with its RSS.
            own = pss_kib(pid)
            pss += (st['VmRSS'] if own is None else own) * 1024
    if with_pss:
        s['pss'] = pss
    return s


def size_of(path):
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def du(path, max_entries=None):
    """(bytes of regular files, entries) under path; symlinks are not followed; the walk stops once
    it has seen more than max_entries entries, so 100,000 files cost no more than max_entries + 1."""
    total, entries, queue = 0, 0, [path]
    while queue:
        try:
            listing = os.scandir(queue.pop())
        except OSError:
            continue
        with listing:
            for entry in listing:
                entries += 1
                if max_entries is not None and entries > max_entries:
                    return total, entries
                try:
                    if entry.is_dir(follow_symlinks=False):
                        queue.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    pass
    return total, entries


WRAPPER = 'cd "$1" || exit 125; ctl="$2"; shift 2; "$@" 3>"$ctl/report"; echo $? >"$ctl/exit.tmp"; mv "$ctl/exit.tmp" "$ctl/exit"'


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def kill_tree(root):
    """Kills the tree under root and returns its pids. The tree is frozen first (SIGSTOP, until a walk finds no
    process it has not stopped: a stopped process cannot fork), because a killed parent's children are re-parented
    away from the tree and a walk after the kill would miss them."""
    frozen, seen = [], set()
    for _ in range(100):
        found = [pid for pid, _depth in reversed(tree(root)) if pid not in seen]
        if not found:
            break
        signal_all(found, signal.SIGSTOP)
        frozen.extend(found)
        seen.update(found)
    try:
        os.killpg(root, signal.SIGKILL)
    except OSError:
        pass
    signal_all(frozen, signal.SIGKILL)
    return frozen


def running(pid):
    """Whether pid is still a live process (a zombie has ended: only its parent's wait is missing)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ('Z', 'X')


def kill_and_wait(roots, timeout=10.0):
    killed = [pid for root in roots for pid in kill_tree(root)]
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        # Not killed again: a pid that ended may already belong to someone else.
        killed = [pid for pid in killed if running(pid)]
        if not killed:
            return
        time.sleep(0.01)


def start(argv):
    cwd, ctl, interval, skip, du_dir = argv[0], argv[1], int(argv[2]) / 1000, int(argv[3]), argv[4]
    deadline = time.monotonic() + int(argv[5]) / 1000
    pss_above, max_entries = int(argv[6]), int(argv[7])
    command = argv[9:]
    # Losing the node's connection must not stop the watch: keep enforcing the deadline silently.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            null = os.open('/dev/null', os.O_RDONLY)
            out = os.open(os.path.join(ctl, 'stdout'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            err = os.open(os.path.join(ctl, 'stderr'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(null, 0)
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.closerange(3, 65536)
            os.execv('/bin/sh', ['/bin/sh', '-c', WRAPPER, 'runsurge-task', cwd, ctl] + command)
        finally:
            os._exit(125)
    emit({'pid': pid})
    outputs = [os.path.join(ctl, 'stdout'), os.path.join(ctl, 'stderr')]
    count = 0
    next_pss = 0
    while True:
        # Reap the wrapper as soon as it ends: a zombie still has a /proc entry.
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        s = sample(pid, skip)
        if s is None:
            break
        if s['rss'] > pss_above and time.monotonic() >= next_pss:
            # Summed RSS counts pages forked processes share once per process: read what the tree
            # really holds, spending at most about a tenth of the time on it.
            started = time.monotonic()
            s = sample(pid, skip, with_pss=True) or s
            ended = time.monotonic()
            next_pss = ended + 9 * (ended - started)
        if time.monotonic() > deadline:
            kill_tree(pid)
        s['output'] = sum(size_of(f) for f in outputs)
        count += 1
        if du_dir != '-' and count % 10 == 0:
            s['dir'], s['entries'] = du(du_dir, max_entries)
        emit(s)
        time.sleep(interval)
    emit({'gone': True})


def emit(value):
    try:
        sys.stdout.write(json.dumps(value) + '\n')
        sys.stdout.flush()
    except (BrokenPipeError, OSError):
        pass


def main():
    mode = sys.argv[1]
    if mode == 'start':
        start(sys.argv[2:])
    elif mode == 'kill':
        kill_and_wait([int(root) for root in sys.argv[2:]])
    elif mode == 'du':
        total, entries = du(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
        print(json.dumps({'bytes': total, 'entries': entries}))


if __name__ == '__main__':
    main()

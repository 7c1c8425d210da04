"""RunSurge remote monitor, run over SSH beside a task (not inside its sandbox).

  sampler.py start CWD CTL INTERVAL_MS SKIP_DEPTH DU_DIR DEADLINE_MS -- COMMAND [ARGS...]
      Starts COMMAND in the background in a new session (cwd CWD, stdin /dev/null, stdout and stderr
      to CTL/stdout and CTL/stderr, fd 3 to CTL/report) under a shell that records its exit code in
      CTL/exit, prints {"pid": PID}, then one JSON line per sample of the process tree under PID
      until it is gone: {"rss", "hwm", "vm", "processes", "cpuMs", "output", "dir"}, then {"gone": true}.
      Processes less than SKIP_DEPTH levels below PID are supervisors and are not counted. "output"
      is the size of CTL/stdout + CTL/stderr; "dir" the size of DU_DIR every 10th sample ("-": never).
      The task does not depend on the channel. The node enforces the wall clock; DEADLINE_MS is this
      monitor's own backstop (it kills the tree then, even if the node is gone).
  sampler.py kill ROOT_PID...
      SIGKILLs the process group ROOT_PID and every process of the tree, leaves first.
  sampler.py du DIR
      Prints the total size of the regular files under DIR.
"""
import json
import os
import signal
import sys
import time

TICKS = os.sysconf('SC_CLK_TCK')


def read_stat(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            text = f.read().decode('latin-1')
    except OSError:
        return None
    fields = text[text.rindex(')') + 2:].split(' ')
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
    values = {'VmRSS': 0, 'VmHWM': 0, 'VmSize': 0}
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                key, _, rest = line.partition(':')
                if key in values:
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return values


def sample(root, skip):
    if read_stat(root) is None:
        return None
    s = {'rss': 0, 'hwm': 0, 'vm': 0, 'processes': 0, 'cpuMs': 0}
    for pid, depth in tree(root):
        if depth < skip:
            continue
        st = status_kib(pid)
        stat = read_stat(pid)
        if st is None or stat is None:
            continue
        s['processes'] += 1
        s['rss'] += st['VmRSS'] * 1024
        s['hwm'] = max(s['hwm'], st['VmHWM'] * 1024)
        s['vm'] += st['VmSize'] * 1024
        s['cpuMs'] += stat[1] * 1000 // TICKS
    return s


def size_of(path):
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def du(path):
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            total += size_of(os.path.join(dirpath, name))
    return total


WRAPPER = 'cd "$1" || exit 125; ctl="$2"; shift 2; "$@" 3>"$ctl/report"; echo $? >"$ctl/exit.tmp"; mv "$ctl/exit.tmp" "$ctl/exit"'


def kill_tree(root):
    try:
        os.killpg(root, signal.SIGKILL)
    except OSError:
        pass
    for pid, _depth in reversed(tree(root)):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def start(argv):
    cwd, ctl, interval, skip, du_dir = argv[0], argv[1], int(argv[2]) / 1000, int(argv[3]), argv[4]
    deadline = time.monotonic() + int(argv[5]) / 1000
    command = argv[7:]
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
    while True:
        # Reap the wrapper as soon as it ends: a zombie still has a /proc entry.
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        s = sample(pid, skip)
        if s is None:
            break
        if time.monotonic() > deadline:
            kill_tree(pid)
        s['output'] = sum(size_of(f) for f in outputs)
        count += 1
        if du_dir != '-' and count % 10 == 0:
            s['dir'] = du(du_dir)
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
        for root in sys.argv[2:]:
            kill_tree(int(root))
    elif mode == 'du':
        print(du(sys.argv[2]))


if __name__ == '__main__':
    main()

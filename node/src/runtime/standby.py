"""RunSurge pre-started task interpreter.

Trusted code, started by launcher.py in standby mode (`python3 -I -B /runsurge/standby.py`) before any task
exists, in a sandbox whose /task is still empty. It writes READY to stdout (the node strips it: it is always the
first bytes there), then waits on stdin for the node's one JSON line, the "go":

  {"limits": LIMITS_JSON (as launcher.py takes it), "argv": ["/task/<entry>", ARGS...]}

Then it does what the launcher's child and `exec python3 -I -B /task/<entry>` would: stdin becomes /dev/null,
every descriptor past stderr is closed, the limits are applied (hard limits, so the task cannot raise them), and
the entry runs as `__main__` with `sys.argv` set as exec would set it. No interpreter starts after the go.

RLIMIT_CPU counts the CPU this process has used since it was forked, its interpreter start included, exactly as
it counts the exec'd interpreter's start on the cold path; the idle wait for the go uses none.
EOF on stdin without a go (the node discarded the sandbox) exits quietly.
"""
import importlib.util
import json
import os
import resource
import runpy
import sys

READY = b'\0runsurge-standby-ready\n'
MAX_GO_BYTES = 1 << 20


def load_launcher():
    # Not imported through sys.path: -I leaves /runsurge off it, and the task must find it as exec leaves it.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'launcher.py')
    spec = importlib.util.spec_from_file_location('runsurge_launcher', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_go():
    data = b''
    while not data.endswith(b'\n'):
        chunk = os.read(0, 65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_GO_BYTES:
            raise ValueError('go message too long')
    return json.loads(data)


def detach_descriptors():
    null = os.open('/dev/null', os.O_RDONLY)
    os.dup2(null, 0)
    if null != 0:
        os.close(null)
    os.closerange(3, max(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1024))


def strip_own_frames(error, path):
    """The traceback from the task's first frame on, as a direct run of the entry would print it."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    return tb if tb is not None else error.__traceback__


def main():
    launcher = load_launcher()
    os.write(1, READY)
    go = read_go()
    if go is None:
        return 0
    argv = [str(arg) for arg in go['argv']]
    detach_descriptors()
    launcher.apply_limits(go['limits'])
    del go
    sys.argv = argv
    path = argv[0]
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit:
        raise
    except BaseException as error:  # noqa: B902 - printed and exited with as the interpreter would
        error = error.with_traceback(strip_own_frames(error, path))
        sys.excepthook(type(error), error, error.__traceback__)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

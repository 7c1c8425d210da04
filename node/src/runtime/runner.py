"""RunSurge task runtime: the DESIGN.md job contract.

Reads runsurge-task.json from the working directory:
  {"script": "job.py", "function": "main", "mode": "auto" | "manual" | "aggregate",
   "input": "input.csv" | null, "result": "result.json", "error": "error.json"}
auto       function(data): data loaded by extension (.json parsed, .jsonl list of parsed lines,
           .csv list of dicts from the header row, anything else list of text lines; no input: []).
manual     function(text): the chunk's text, whole.
aggregate  function(results): the input is a JSON array of task results.
segment    function(data, results): data loaded as in auto mode, results a JSON array (the "results" file).
The returned value is written as JSON (exact: big ints as digits, floats as the shortest repr that
round-trips) to `result`. On failure a JSON object {"code", "type", "message", "traceback"} goes to
`error`, the traceback to stderr, and the exit code says why (the executor maps it to a status):
  0 completed, 1 runtime_error, 2 bad task spec, 3 memory_limit, 4 process_limit, 5 output_limit.
"""
import csv
import errno
import importlib.util
import io
import json
import os
import sys
import traceback

EXIT_RUNTIME_ERROR = 1
EXIT_BAD_TASK = 2
EXIT_MEMORY_LIMIT = 3
EXIT_PROCESS_LIMIT = 4
EXIT_OUTPUT_LIMIT = 5
MAX_TRACEBACK_CHARS = 16384
ORIGINAL_PID = os.getpid()

# A single reserve block freed before reporting a MemoryError, so the report itself can allocate.
_reserve = bytearray(1 << 20)

if hasattr(sys, 'set_int_max_str_digits'):
    # Exact results are the contract: big ints must survive JSON in both directions, however long.
    sys.set_int_max_str_digits(0)


def load_input(path, mode):
    if path is None:
        return [] if mode == 'auto' else ''
    if mode == 'manual':
        with open(path, encoding='utf-8', newline='') as f:
            return f.read()
    if mode == 'aggregate':
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    lower = path.lower()
    if lower.endswith('.json'):
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    if lower.endswith('.jsonl'):
        with open(path, encoding='utf-8') as f:
            return [json.loads(line) for line in f if line.strip()]
    if lower.endswith('.csv'):
        with open(path, encoding='utf-8', newline='') as f:
            return list(csv.DictReader(f))
    # Line by line (split on '\n' only, like str.split('\n') minus a final empty line): never the whole file as
    # one string next to its lines, which would double the memory of loading.
    lines = []
    with open(path, encoding='utf-8', newline='\n') as f:
        for line in f:
            if line.endswith('\n'):
                line = line[:-1]
            if line.endswith('\r'):
                line = line[:-1]
            lines.append(line)
    return lines


def load_function(script, name):
    spec = importlib.util.spec_from_file_location('__runsurge_job__', script)
    module = importlib.util.module_from_spec(spec)
    sys.modules['__runsurge_job__'] = module
    spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise LookupError('the job script defines no function %s()' % name)
    return fn


def causes(error):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def classify(error):
    for e in causes(error):
        if isinstance(e, MemoryError):
            return 'memory_limit', EXIT_MEMORY_LIMIT
        if isinstance(e, BlockingIOError) and e.errno == errno.EAGAIN:
            # fork()/clone() answer EAGAIN when RLIMIT_NPROC is reached.
            return 'process_limit', EXIT_PROCESS_LIMIT
        if isinstance(e, RuntimeError) and "can't start new thread" in str(e):
            return 'process_limit', EXIT_PROCESS_LIMIT
        if isinstance(e, OSError) and e.errno in (errno.EFBIG, errno.ENOSPC, errno.EDQUOT):
            return 'output_limit', EXIT_OUTPUT_LIMIT
    return 'runtime_error', EXIT_RUNTIME_ERROR


def write_json(path, value):
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(',', ':')))
    os.replace(tmp, path)


def fail(spec, error):
    global _reserve
    _reserve = None
    code, exit_code = classify(error)
    text = ''.join(traceback.format_exception(type(error), error, error.__traceback__))
    if len(text) > MAX_TRACEBACK_CHARS:
        # The end of a traceback says what failed; keep it and the first frames.
        half = MAX_TRACEBACK_CHARS // 2
        text = text[:half] + '\n... (traceback truncated) ...\n' + text[-half:]
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except Exception:
        pass
    try:
        message = ''.join(traceback.format_exception_only(type(error), error)).strip()
        write_json(spec['error'], {
            'code': code, 'type': type(error).__name__, 'message': message[:4096], 'traceback': text,
        })
    except Exception:
        pass
    return exit_code


def run(spec):
    sys.path.insert(0, os.getcwd())
    fn = load_function(spec['script'], spec.get('function') or 'main')
    mode = spec.get('mode', 'auto')
    data = load_input(spec.get('input'), 'auto' if mode == 'segment' else mode)
    if mode == 'segment':
        with open(spec['results'], encoding='utf-8') as f:
            results = json.load(f)
        result = fn(data, results)
    else:
        result = fn(data)
    try:
        text = json.dumps(result, allow_nan=False, ensure_ascii=False, separators=(',', ':'))
    except (TypeError, ValueError) as error:
        raise TypeError('the job returned a value that is not JSON-serializable: %s' % error) from None
    tmp = spec['result'] + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, spec['result'])


def main():
    try:
        with open('runsurge-task.json', encoding='utf-8') as f:
            spec = json.load(f)
    except (OSError, ValueError) as error:
        sys.stderr.write('runsurge runner: bad task spec: %s\n' % error)
        return EXIT_BAD_TASK
    try:
        run(spec)
    except BaseException as error:  # noqa: B902 - SystemExit from the job is a failure too
        if os.getpid() != ORIGINAL_PID:
            # A child the job forked: only the original process reports.
            os._exit(EXIT_RUNTIME_ERROR)
        if isinstance(error, SystemExit):
            error = RuntimeError('the job called sys.exit(%r) instead of returning a result' % (error.code,))
        return fail(spec, error)
    if os.getpid() != ORIGINAL_PID:
        os._exit(0)
    return 0


if __name__ == '__main__':
    code = main()
    try:
        sys.stdout.flush()
    except Exception:
        pass
    # os._exit: skip interpreter teardown (atexit hooks and threads of the job cannot change the outcome).
    os._exit(code)

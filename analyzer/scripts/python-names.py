"""Writes analyzer/src/python-names.json: what the scanner's attribute rules need to know about CPython.

- `modules`: for every module on the analyzer's allow-list, the public names it defines that are not modules.
  A job may write `m.name` (or `from m import name`) only for these names and for allowed submodules, so a
  module re-exported by an allowed one (`re.enum`, `enum.bltns` = builtins, `json.codecs`) is out of reach.
- `interpreterAttributes`: the public attributes of frames, code objects, generators, coroutines, async
  generators and tracebacks (`gi_frame`, `f_globals`, `tb_frame`, `co_code`...), which lead from any running
  code back to the interpreter.

Run with the interpreter the nodes run (`/usr/bin/python3 analyzer/scripts/python-names.py ALLOWED...`);
`analyzer/test/attributes.spec.ts` re-runs it and fails when the committed file is out of date.
"""
import importlib
import json
import sys
import types
import warnings

allowed = sorted(sys.argv[1:])
modules = {}
with warnings.catch_warnings():
    # typing.io and typing.re warn when touched; their names are listed like any other.
    warnings.simplefilter('ignore')
    for name in allowed:
        module = importlib.import_module(name)
        modules[name] = sorted(
            attr for attr in dir(module)
            if not attr.startswith('_') and not isinstance(getattr(module, attr), types.ModuleType)
        )


def generator():
    yield 1


async def coroutine():
    pass


async def async_generator():
    yield 1


gen, coro, agen = generator(), coroutine(), async_generator()
try:
    raise ValueError
except ValueError as err:
    tb = err.__traceback__
interpreter = set()
for obj in (sys._getframe(), generator.__code__, gen, coro, agen, tb):
    interpreter.update(a for a in dir(obj) if a.split('_')[0] in ('f', 'co', 'gi', 'cr', 'ag', 'tb') and '_' in a)
coro.close()

json.dump({
    'python': '.'.join(map(str, sys.version_info[:3])),
    'modules': modules,
    'interpreterAttributes': sorted(interpreter),
}, sys.stdout, indent=0, sort_keys=True)
sys.stdout.write('\n')

"""Breaks working Python files the way edits break them, for analyzer/test/syntax.spec.ts.

Usage: mutate.py SEED FILE...; prints a JSON list of broken sources. For each file and each of 12 kinds of
damage (a block's colon, a closing or opening bracket, a closing quote, indentation added or removed, a
comma, `==` made `=`, a stray bracket or operator, a token deleted or doubled, a keyword misspelt), two
random instances, from a generator seeded with SEED so the list is the same on every run.
"""
import json, random, sys, tokenize, io
seed, files = int(sys.argv[1]), sys.argv[2:]
rng = random.Random(seed)
cases = []
def toks(src):
    return [t for t in tokenize.generate_tokens(io.StringIO(src).readline)]
for path in files:
    src = open(path).read()
    lines = src.split('\n')
    try:
        ts = toks(src)
    except Exception:
        continue
    def at(t):  # offset of token start
        return sum(len(l) + 1 for l in lines[:t.start[0]-1]) + t.start[1]
    def end(t):
        return sum(len(l) + 1 for l in lines[:t.end[0]-1]) + t.end[1]
    muts = []
    for kind in range(12):
        for _ in range(2):
            s = None
            if kind == 0:
                c = [t for t in ts if t.string == ':' and t.line.rstrip().endswith(':')]
                if c: t = rng.choice(c); s = src[:at(t)] + src[end(t):]
            elif kind == 1:
                c = [t for t in ts if t.string in ')]}']
                if c: t = rng.choice(c); s = src[:at(t)] + src[end(t):]
            elif kind == 2:
                c = [t for t in ts if t.string in '([{']
                if c: t = rng.choice(c); s = src[:at(t)] + src[end(t):]
            elif kind == 3:
                c = [t for t in ts if t.type == tokenize.STRING and '\n' not in t.string]
                if c: t = rng.choice(c); s = src[:end(t)-1] + src[end(t):]
            elif kind == 4:
                i = rng.randrange(len(lines)); 
                if lines[i].strip(): s = '\n'.join(lines[:i] + ['    ' + lines[i]] + lines[i+1:])
            elif kind == 5:
                i = rng.randrange(len(lines))
                if lines[i].startswith('  '): s = '\n'.join(lines[:i] + [lines[i][rng.choice([1,2,4]):]] + lines[i+1:])
            elif kind == 6:
                c = [t for t in ts if t.string == ',']
                if c: t = rng.choice(c); s = src[:at(t)] + src[end(t):]
            elif kind == 7:
                c = [t for t in ts if t.string == '==']
                if c: t = rng.choice(c); s = src[:at(t)] + '=' + src[end(t):]
            elif kind == 8:
                c = [t for t in ts if t.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER)]
                if c: t = rng.choice(c); s = src[:end(t)] + rng.choice([')', ']', '(', '[', '}', ' :', ' =', ',']) + src[end(t):]
            elif kind == 9:
                c = [t for t in ts if t.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)]
                if c: t = rng.choice(c); s = src[:at(t)] + src[end(t):]
            elif kind == 10:
                c = [t for t in ts if t.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)]
                if c: t = rng.choice(c); s = src[:end(t)] + ' ' + t.string + src[end(t):]
            elif kind == 11:
                c = [t for t in ts if t.type == tokenize.NAME and t.string in ('if','for','while','def','return','else','in','and','not','import','lambda','class','try','except','with','as','is')]
                if c: t = rng.choice(c); s = src[:at(t)] + rng.choice(['iff', 'fro', 'retrun', 'esle', 'whiel', 'then', 'elseif', 'function', 'var']) + src[end(t):]
            if s is not None:
                muts.append(s)
    cases.extend(muts)
json.dump(cases, sys.stdout)

"""RunSurge machine benchmark: a fixed, pure-Python workload shaped like data jobs (integer and
float arithmetic, dict and string work, sorting). Prints {"seconds": [...], "checksum": N}: the
time of each round, measured inside Python so interpreter start-up and sandbox set-up do not count.
Usage: python3 benchmark.py [ROUNDS]
"""
import json
import math
import sys
import time


def workload():
    total = 0
    for i in range(240000):
        total = (total + i * i) % 1000003
    x = 0.0
    for i in range(1, 120000):
        x += math.sqrt(i) * math.sin(i) / i
    counts = {}
    for i in range(120000):
        key = 'k%d' % (i % 997)
        counts[key] = counts.get(key, 0) + len(key)
    words = sorted(('%x' % ((i * 2654435761) % 4294967296)) for i in range(80000))
    return total + int(x * 1000) + sum(counts.values()) + len(words[0]) + len(words[-1])


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = []
    checksum = 0
    for _ in range(rounds):
        start = time.perf_counter()
        checksum = workload()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({'seconds': seconds, 'checksum': checksum}))


if __name__ == '__main__':
    main()

# An automatic job: main(data) receives the input's lines (a .txt file) and returns the job's result.
# Counting per line and merging the counts is a reduction RunSurge can split across nodes.
import re

STOP_WORDS = frozenset({"a", "an", "and", "the", "of", "to", "in", "is", "it", "that", "on", "for", "as", "with", "its"})


def words(line):
    return [w for w in re.findall(r"[a-z']+", line.lower()) if w not in STOP_WORDS]


def main(data):
    counts = {}
    total = 0
    for line in data:
        for word in words(line):
            counts[word] = counts.get(word, 0) + 1
            total += 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {"lines": len(data), "words": total, "distinct": len(counts), "top": top}

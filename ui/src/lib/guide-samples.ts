/** The guide's sample jobs (a test holds them to the template: the analyzer accepts each). */

export const AUTO_SAMPLE = `# word_stats.py — an automatic job: main(data) gets the whole input.
import re

STOP = {"the", "a", "of", "and", "to", "in"}


def words(line):
    return [w for w in re.findall(r"[a-z']+", line.lower()) if w not in STOP]


def main(data):
    counts = {}
    for line in data:            # data: the input's lines (.txt)
        for w in words(line):
            counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {"lines": len(data), "distinct": len(counts), "top": top}
`

export const MANUAL_SAMPLE = `# line_lengths.py — a manual job: process() runs once per chunk.
def process(input_data: str) -> dict:
    lines = input_data.splitlines()
    return {"lines": len(lines), "chars": sum(len(l) for l in lines)}


def aggregate(results: list) -> dict:
    return {
        "lines": sum(r["lines"] for r in results),
        "chars": sum(r["chars"] for r in results),
    }
`

export const GROUPED_SAMPLE = `# sales_total.py — grouped: process() once per input file …
import csv


def process(input_data: str) -> dict:
    rows = list(csv.DictReader(input_data.splitlines()))
    return {"rows": len(rows), "total": sum(float(r["amount"]) for r in rows)}

# sales_aggregate.py — … then aggregate() over every file's result.
def aggregate(results: list) -> dict:
    return {"files": len(results), "total": round(sum(r["total"] for r in results), 2)}
`

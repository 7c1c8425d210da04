# A manual job: process() runs once per chunk of the log (choose 4 tasks and 64M per task),
# aggregate() adds the chunks' counts together.
LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")


def process(input_data: str) -> dict:
    counts = {level: 0 for level in LEVELS}
    slowest = 0
    for line in input_data.splitlines():
        parts = line.split(" ")
        if len(parts) < 4:
            continue
        if parts[1] in counts:
            counts[parts[1]] += 1
        if parts[-1].endswith("ms"):
            slowest = max(slowest, int(parts[-1][:-2]))
    return {"counts": counts, "slowest_ms": slowest}


def aggregate(results: list) -> dict:
    counts = {level: sum(r["counts"][level] for r in results) for level in LEVELS}
    return {"chunks": len(results), "counts": counts, "slowest_ms": max(r["slowest_ms"] for r in results)}

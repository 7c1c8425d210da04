# A grouped job's processing script: process() runs once for each input file (one quarter's sales).
import csv


def process(input_data: str) -> dict:
    rows = list(csv.DictReader(input_data.splitlines()))
    by_region = {}
    for row in rows:
        by_region[row["region"]] = by_region.get(row["region"], 0) + int(row["cents"])
    return {"quarter": rows[0]["quarter"] if rows else "", "orders": len(rows), "cents": sum(by_region.values()), "by_region": by_region}

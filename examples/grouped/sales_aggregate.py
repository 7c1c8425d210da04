# A grouped job's aggregation script: aggregate() runs once, after every quarter was processed.
def aggregate(results: list) -> dict:
    regions = {}
    for result in results:
        for region, cents in result["by_region"].items():
            regions[region] = regions.get(region, 0) + cents
    return {
        "quarters": sorted(r["quarter"] for r in results),
        "orders": sum(r["orders"] for r in results),
        "total": sum(r["cents"] for r in results) / 100,
        "best_region": max(sorted(regions), key=lambda region: regions[region]),
    }

# An automatic job over a .csv input: data is a list of dicts, one per row, keyed by the header.
# Returns, for each city, the number of readings, the lowest, the highest and the mean temperature.
def main(data):
    cities = {}
    for row in data:
        celsius = float(row["celsius"])
        low, high, total, count = cities.get(row["city"], (celsius, celsius, 0.0, 0))
        cities[row["city"]] = (min(low, celsius), max(high, celsius), total + celsius, count + 1)
    return {
        city: {"readings": count, "min": low, "max": high, "mean": round(total / count, 2)}
        for city, (low, high, total, count) in sorted(cities.items())
    }

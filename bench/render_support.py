"""bench/render_support.py: what bench/render.py's sections share: number formats, medians
with their ranges, one system's result for one workload (Row), Markdown tables."""
import statistics

MIB = 1024 * 1024


# ---------------------------------------------------------------- numbers

def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def mb(value):
    mbps = value / 1e6
    return f"{mbps:,.0f}" if mbps >= 100 else f"{mbps:,.1f}" if mbps >= 1 else f"{mbps:.2f}"


def count(value):
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.0f} k"
    return f"{value:.0f}"


def ms(value_us):
    value = value_us / 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def sentence(text):
    return text[:1].upper() + text[1:]


def mib(value):
    return f"{value / MIB:,.1f}"


def with_range(triple, fmt):
    if triple is None:
        return "–"
    median, low, high = triple
    if fmt(low) == fmt(high):
        return fmt(median)
    return f"{fmt(median)} ({fmt(low)}–{fmt(high)})"


def ratio(value, reference):
    if value is None or not reference:
        return "–"
    return f"{value / reference:.2f}×"


def good_runs(result):
    if not result or result.get("status") != "ok":
        return []
    return [r for r in result.get("runs", []) if "error" not in r]


def path(run, *keys):
    for key in keys:
        if not isinstance(run, dict) or key not in run:
            return None
        run = run[key]
    return run


# ---------------------------------------------------------------- rows

class Row:
    """One system's result for one workload, or why there is none."""

    def __init__(self, system, workload, label=None):
        self.system = system
        self.workload = workload
        self.label = label or system["label"]
        self.result = system.get("workloads", {}).get(workload["name"])
        self.runs = good_runs(self.result)

    def missing(self):
        if self.system.get("status") not in ("ok", None):
            reason = self.system["status"]
            if self.system.get("error") and not reason.startswith("cairn"):
                reason += f": {self.system['error']}"
            return reason
        if self.result is None:
            return "not run"
        if self.result.get("status") != "ok":
            return f"{self.result.get('status')}: {self.result.get('error', '')}"[:160]
        if not self.runs:
            return "no successful run"
        return None

    def values(self, *keys):
        return stats([path(r, *keys) for r in self.runs])

    def durability(self):
        if self.system["id"] == "cairn":
            return ("acks=all: fsync before ack" if self.workload["acks"] == "all"
                    else "acks=1: ack before fsync")
        return self.system.get("durability_short", "")

    def client_cpu_cell(self):
        return with_range(self.values("client_cpu_seconds_per_gb"), lambda v: f"{v:.1f}")

    def broker_cells(self):
        return [with_range(self.values("broker", "cpu_seconds_per_gb"), lambda v: f"{v:.1f}"),
                with_range(self.values("broker", "rss_peak_bytes"), mib)]


def rows_for(results, workload):
    rows = []
    for system in results["systems"]:
        if system["role"] not in workload["systems"]:
            continue
        rows.append(Row(system, workload))
    return rows


def table(header, lines):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in line) + " |" for line in lines]
    return "\n".join(out)


def missing_line(row, width):
    return [row.label, row.durability(), f"*{row.missing()}*"] + ["–"] * (width - 3)


# ---------------------------------------------------------------- goals

def system_row(results, system_id, workload):
    if workload is None:
        return None
    for system in results["systems"]:
        if system["id"] == system_id:
            return Row(system, workload)
    return None


def median_of(row, *keys):
    if row is None or row.missing():
        return None
    triple = row.values(*keys)
    return triple[0] if triple else None


def check(value, target, at_most=False):
    if value is None or target is None:
        return "pending"
    return "met" if (value <= target if at_most else value >= target) else "not met"

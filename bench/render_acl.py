"""bench/render_acl.py: the "Authorization" section of docs/benchmarks.md (bench/acl_overhead.py:
max-rate produce with 1,000 ACLs loaded beside the same without an authorizer) and its goal
row."""
from render_support import check, mb, ratio, table, with_range


def triple(summary):
    return (summary["median"], summary["min"], summary["max"]) if summary else None


def median(figures, mode, key="bytes_per_second"):
    summary = (figures.get(mode) or {}).get(key)
    return summary["median"] if summary else None


def acl_goal_rows(results):
    figures = results.get("acl_overhead")
    if not figures:
        return []
    off, on = median(figures, "off"), median(figures, "acls_on")
    return [[f"produce with {figures['acls']:,} ACLs ≥ {figures['goal']} × no authorizer",
             mb(on) + " MB/s" if on else "–", ratio(on, off) + " of no authorizer",
             check(on, off and figures["goal"] * off)]]


def section_acl(results):
    figures = results.get("acl_overhead")
    if not figures:
        return None
    off = median(figures, "off")
    lines = []
    for mode, label in [("off", "authorizer off"),
                        ("acls_on", f"authorizer on, {figures['acls']:,} ACLs")]:
        f = figures[mode]
        rate = triple(f["bytes_per_second"])
        cpu = triple(f["broker_cpu_seconds_per_gb"])
        lines.append([label, len([r for r in f["runs"] if "error" not in r]),
                      with_range(rate, mb), ratio(rate[0] if rate else None, off),
                      with_range(cpu, lambda v: f"{v:.2f}")])
    pairs = ", ".join(f"{p:.2f}" for p in figures.get("pair_ratios", []))
    notes = []
    if pairs:
        notes.append(f"The ratio of each pair of runs taken one after the other: {pairs}.")
    if figures.get("load_average_before") is not None:
        notes.append(f"The machine's 1-minute load average was "
                     f"{figures['load_average_before']:.1f} on {figures['cpus']} CPUs when they "
                     "started.")
    matching = figures["acls_matching_bench_topics"]
    return ("## Authorization\n\n"
            f"Max-rate produce ({figures['workload']}: 1 KiB messages, 16 partitions, acks=all) "
            "against two Cairn brokers started side by side, one with authorization off and "
            f"one with `authorizer.enabled: true` and {figures['acls']:,} ACLs loaded: literal "
            "and prefixed topic ACLs for about 200 principals, group and transactional-id ACLs, "
            f"DENYs, and {matching} topic ACLs that match the benchmark's topics (the literal "
            "`*`, prefixes `b`, `bench`, `bench-`, among them the ALLOWs its principal, "
            "`User:ANONYMOUS`, needs), so that each check weighs several. After an "
            "uncounted run on each, runs alternate (off, on, on, off, off, on, ...) so that a "
            "busy machine slows both alike (`bench/acl_overhead.py`); measured in a minute of "
            f"their own ({figures.get('measured_at', 'after the rest')}), so their MB/s need not "
            "match workload 1a's above. "
            f"Goal: at least {figures['goal']} × the throughput without an authorizer "
            "(issue 15).\n\n"
            + table(["broker", "runs", "MB/s", "× authorizer off", "broker CPU s/GB"], lines)
            + ("\n\n" + " ".join(notes) if notes else ""))

"""bench/render_formats.py: the "Clients from before Kafka 0.11" section of docs/benchmarks.md
(workloads 8a/8b and 9a/9b: produce and catch-up with message format v0, which Cairn converts,
beside the same with format v2) and its goal rows."""
from render_support import check, mb, median_of, ratio, system_row, table, with_range

GOAL = 0.5  # converted throughput at least half of the v2 path's (issue 22)


def legacy_client(w):
    """Whether a workload's client is told to speak a pre-0.11 protocol (no ApiVersions)."""
    settings = {**(w.get("kafka_producer") or {}), **(w.get("kafka_consumer") or {})}
    return "broker.version.fallback" in settings


def format_pairs(results):
    """[(reference v2 workload, converted workload)] for produce and catch-up, as run."""
    by_name = {w["name"]: w for w in results["workloads"]}
    pairs = []
    for w in results["workloads"]:
        if legacy_client(w) and w.get("compare_with") in by_name:
            pairs.append((by_name[w["compare_with"]], w))
    return pairs


def label(w):
    return "produce" if w["kind"] == "max_rate_produce" else "catch-up read"


def formats_goal_rows(results):
    rows = []
    for reference, converted in format_pairs(results):
        value = median_of(system_row(results, "cairn", converted), "bytes_per_second")
        base = median_of(system_row(results, "cairn", reference), "bytes_per_second")
        rows.append([f"{label(converted)} with message format v0 (converted) ≥ {GOAL} × v2",
                     mb(value) + " MB/s" if value else "–",
                     ratio(value, base) + " of v2" if base else "",
                     check(value, base and GOAL * base)])
    return rows


def section_formats(results):
    pairs = format_pairs(results)
    if not pairs:
        return None
    header = ["workload", "client protocol", "MB/s", "× format v2", "broker CPU s/GB",
              "broker peak RSS MiB", "client CPU s/GB"]
    lines = []
    for reference, converted in pairs:
        base = median_of(system_row(results, "cairn", reference), "bytes_per_second")
        for w, protocol in [(reference, "format v2 (Produce v7 / Fetch v11)"),
                            (converted, "format v0 (Produce v1 / Fetch v1), converted")]:
            row = system_row(results, "cairn", w)
            if row is None or row.missing():
                reason = row.missing() if row else "not run"
                lines.append([label(w), protocol, f"*{reason}*"] + ["–"] * (len(header) - 3))
                continue
            rate = row.values("bytes_per_second")
            lines.append([label(w), protocol, with_range(rate, mb),
                          ratio(rate[0] if rate else None, base)] + row.broker_cells() +
                         [row.client_cpu_cell()])
    return ("## Clients from before Kafka 0.11\n\n"
            "librdkafka told it talks to Kafka 0.9 (`api.version.request=false`, "
            "`broker.version.fallback=0.9.0`) produces with Produce v1 and reads with Fetch v1, "
            "in message format v0, which Cairn converts to v2 batches on arrival and back on the "
            "way out, reading through memory instead of sendfile "
            "(`docs/format/legacy-message-sets.md`). Each pair runs alternately on one broker "
            "with the same settings but for the protocol era; 1 KiB messages, 16 partitions, "
            "acks=all.\n\n" + table(header, lines))

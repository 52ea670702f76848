#!/usr/bin/env python3
"""bench/render.py: writes docs/benchmarks.md and its charts from bench/run.py's results JSON.

Every figure is the median of the runs, with the min-max range beside it. Throughput is payload
bytes in decimal MB (10^6 B). A "Storage engine" section already in docs/benchmarks.md (written
by the storage engine's own benchmark, bench/storage) is kept as it is.
"""
import argparse
import json
import os
import sys

from render_support import (MIB, check, count, median_of, mib, missing_line, mb, ms, path,
                            ratio, rows_for, sentence, stats, system_row, table, with_range)
from render_acl import acl_goal_rows, section_acl
from render_formats import formats_goal_rows, section_formats
from render_tls import section_tls, tls_goal_rows
from render_transactions import (compared_names, section_transactions, transactions_chart_rows,
                                 transactions_goal_rows, transactions_held_back)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEPT_SECTION = "## Storage engine"


# ---------------------------------------------------------------- sections

def references(results):
    tcp = stats(results.get("loopback_tcp", {}).get("bytes_per_second", []))
    disk = stats(results.get("disk_write_fdatasync", {}).get("bytes_per_second", []))
    return (tcp[0] if tcp else None), (disk[0] if disk else None), tcp, disk


def section_references(results):
    _, _, tcp, disk = references(results)
    lines = [["Loopback TCP", with_range(tcp, mb) if tcp else "not measured",
              results.get("loopback_tcp", {}).get("tool", results.get("loopback_tcp",
                                                                      {}).get("error", ""))],
             ["Sequential write + fdatasync", with_range(disk, mb) if disk else "not measured",
              results.get("disk_write_fdatasync", {}).get(
                  "tool", results.get("disk_write_fdatasync", {}).get("error", ""))]]
    fill = results.get("page_cache_fill")
    text = ("## Physical references\n\nMeasured in the same run, on the same machine, before the "
            "systems start. Ratios in the tables below are to the first two medians.\n\n")
    if fill:
        fill_stats = stats(fill.get("bytes_per_second", []))
        lines.append(["Page cache, new pages",
                      with_range(fill_stats, mb) if fill_stats else "not measured",
                      fill.get("tool", "")])
        text += table(["reference", "MB/s median (min–max)", "how"], lines)
        slowest = f" ({mb(fill_stats[1])} MB/s here)" if fill_stats else ""
        text += ("\n\nThe last row is what it costs this machine to grow the page cache; its "
                 f"slowest steps{slowest} are the first touch of memory the hypervisor has not "
                 "backed yet. Any system that "
                 "writes through the page cache slows to about that rate once its writes outgrow "
                 "the warm free memory, so before each system starts `bench/run.py` fills the "
                 "page cache with clean pages of a sparse file (no disk I/O), as on a server "
                 "that has run for a while; the systems' new pages then come from reclaiming "
                 "those. Without it, whichever system runs first gets the warm memory.")
        return text
    return text + table(["reference", "MB/s median (min–max)", "how"], lines)


def produce_group_rows(results, group):
    rows = []
    for workload in group:
        for row in rows_for(results, workload):
            if row.system["id"] == "cairn":
                row.label = f"Cairn, acks={workload['acks']}"
            rows.append(row)
    # Cairn's rows first, then the peers in the order they ran.
    return sorted(rows, key=lambda r: r.system["id"] != "cairn")


def section_max_rate(results, group, title, chart):
    tcp, disk, _, _ = references(results)
    header = ["system", "durability", "MB/s", "messages/s", "× loopback TCP", "× disk fdatasync",
              "broker CPU s/GB", "broker peak RSS MiB", "client CPU s/GB"]
    lines = []
    for row in produce_group_rows(results, group):
        if row.missing():
            lines.append(missing_line(row, len(header)))
            continue
        rate = row.values("bytes_per_second")
        lines.append([row.label, row.durability(), with_range(rate, mb),
                      with_range(row.values("messages_per_second"), count),
                      ratio(rate[0], tcp), ratio(rate[0], disk)] + row.broker_cells() +
                     [row.client_cpu_cell()])
    w = group[0]
    text = (f"## {title}\n\n{sentence(w['description'])}; "
            f"{len(group) > 1 and 'acks=all and acks=1 for Cairn; ' or ''}"
            f"one producer, no consumer, {w['duration_seconds']:g} s measured after "
            f"{w['warmup_seconds']:g} s of warm-up, {w['runs']} runs. Throughput counts "
            "acknowledged payload bytes.\n\n" + table(header, lines))
    if chart:
        text += f"\n\n![{title}](bench/{chart})"
    return text


def section_latency(results, workload, chart):
    header = ["system", "durability", "sent MB/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
              "publish p99 ms", "broker CPU s/GB", "broker peak RSS MiB"]
    lines = []
    notes = []
    for row in rows_for(results, workload):
        if row.missing():
            lines.append(missing_line(row, len(header)))
            continue
        e2e = "end_to_end_latency"
        saturated = [r for r in row.runs if r.get("saturated")]
        label = row.label + (" †" if saturated else "")
        if saturated:
            notes.append(f"† {row.label}: could not sustain the rate in {len(saturated)} of "
                         f"{len(row.runs)} runs ({saturated[0].get('saturated_note', '')}); "
                         "its latencies cover only what arrived and understate the truth.")
        lines.append([label, row.durability(), with_range(row.values("sent_bytes_per_second"), mb),
                      with_range(row.values(e2e, "p50_us"), ms),
                      with_range(row.values(e2e, "p99_us"), ms),
                      with_range(row.values(e2e, "p999_us"), ms),
                      with_range(row.values(e2e, "max_us"), ms),
                      with_range(row.values("publish_latency", "p99_us"), ms)] +
                     row.broker_cells())
    rate = workload["rate_bytes_per_second"] / 1e6
    text = (f"## End-to-end latency at {rate:g} MB/s\n\n{sentence(workload['description'])}. "
            "Producer and consumer run in the harness process on one clock; each message "
            "carries its *intended* send time (message i is due at t0 + i/rate) and latency "
            "runs from that time to its arrival at the consumer, so a stall delays every "
            "message due during it instead of being hidden by a slowed sender (no coordinated "
            f"omission). {workload['duration_seconds']:g} s measured after "
            f"{workload['warmup_seconds']:g} s of warm-up, {workload['runs']} runs; each "
            "percentile is the median of the runs' percentiles (range in brackets).\n\n" +
            table(header, lines))
    if notes:
        text += "\n\n" + "\n".join(notes)
    if chart:
        text += f"\n\n![end-to-end latency](bench/{chart})"
    return text


def section_catch_up(results, workload, chart):
    tcp, _, _, _ = references(results)
    header = ["system", "read MB/s", "× loopback TCP", "MB/s incl. subscribe", "backlog build MB/s",
              "broker CPU s/GB", "broker peak RSS MiB", "client CPU s/GB"]
    lines = []
    for row in rows_for(results, workload):
        if row.missing():
            lines.append([row.label, f"*{row.missing()}*"] + ["–"] * (len(header) - 2))
            continue
        rate = row.values("bytes_per_second")
        incomplete = [r for r in row.runs if not r.get("complete")]
        fill = path(row.result, "fill", "bytes_per_second")
        lines.append([row.label + (" (incomplete read)" if incomplete else ""),
                      with_range(rate, mb), ratio(rate[0] if rate else None, tcp),
                      with_range(row.values("bytes_per_second_from_subscribe"), mb),
                      mb(fill) if fill else "–"] + row.broker_cells() + [row.client_cpu_cell()])
    built = [path(r.result, "workload", "backlog_bytes") for r in rows_for(results, workload)
             if r.result]
    backlog = max([b for b in built if b] or [workload["backlog_bytes"]])
    text = (f"## Consumer catch-up\n\n{sentence(workload['description'])}. The backlog "
            f"({backlog / MIB:,.0f} MiB) is built once, then {workload['runs']} fresh consumers "
            "each read it from the start; read MB/s runs from the first message to the last. "
            "The backlog was just written, so it is mostly in the page cache.\n\n" +
            table(header, lines))
    if results.get("backlog_note"):
        text += f"\n\nNote: {results['backlog_note']}."
    if chart:
        text += f"\n\n![catch-up](bench/{chart})"
    return text


def section_partitions(results, workload, chart):
    header = ["system", "idle RSS MiB (fresh process)", "RSS MiB per 1,000 more partitions",
              "broker CPU (cores) at low rate", "e2e p99 ms", "create s"]
    lines = []
    for row in rows_for(results, workload):
        if row.missing():
            lines.append([row.label, f"*{row.missing()}*"] + ["–"] * (len(header) - 2))
            continue
        idle = row.system.get("idle_rss_bytes")
        lines.append([row.label, mib(idle) if idle else "–",
                      with_range(row.values("rss_per_1000_partitions_bytes"), mib),
                      with_range(row.values("broker_cpu_cores"), lambda v: f"{v:.2f}"),
                      with_range(row.values("end_to_end_latency", "p99_us"), ms),
                      with_range(row.values("create_seconds"), lambda v: f"{v:.2f}")])
    rate = workload["rate_bytes_per_second"] / 1e6
    text = (f"## {workload['partitions']:,} partitions at a low rate\n\n"
            f"{sentence(workload['description'])}. Each run creates {workload['partitions']:,} "
            "new partitions, writes one message to each, waits "
            f"{workload['settle_seconds']:g} s and reads the broker's RSS (the increase is shown "
            f"per 1,000 partitions), then produces {rate:g} MB/s round robin over all of them "
            "with a consumer on every partition and reads the broker's CPU time. Runs add "
            "partitions to the same process. Idle RSS is read 2 s after the process starts.\n\n" +
            table(header, lines))
    if chart:
        text += f"\n\n![partitions](bench/{chart})"
    return text


# ---------------------------------------------------------------- goals

def find_workload(results, kind, **match):
    """The first workload of `kind` with the `match` fields, leaving out the workloads of a
    comparison (section_transactions shows those)."""
    compared = compared_names(results)
    for w in results["workloads"]:
        if w["name"] in compared:
            continue
        if w["kind"] == kind and all(w.get(k) == v for k, v in match.items()):
            return w
    return None


def section_goals(results):
    tcp, _, _, _ = references(results)
    w1a = find_workload(results, "max_rate_produce", message_bytes=1024, acks="all")
    w1b = find_workload(results, "max_rate_produce", message_bytes=1024, acks="1")
    w2 = find_workload(results, "fixed_rate_latency")
    w4 = find_workload(results, "catch_up")
    w5 = find_workload(results, "many_partitions")
    cairn = {name: system_row(results, "cairn", w) for name, w in
             [("1a", w1a), ("1b", w1b), ("2", w2), ("4", w4), ("5", w5)]}
    acks_all = median_of(cairn["1a"], "bytes_per_second")
    acks_one = median_of(cairn["1b"], "bytes_per_second")
    nats = median_of(system_row(results, "nats", w1a), "bytes_per_second")
    redis = median_of(system_row(results, "redis", w1a), "bytes_per_second")
    redis_always = median_of(system_row(results, "redis-always", w1a), "bytes_per_second")
    p99 = median_of(cairn["2"], "end_to_end_latency", "p99_us")
    catch_up = median_of(cairn["4"], "bytes_per_second")
    idle = None
    for system in results["systems"]:
        if system["id"] == "cairn":  # measurable as soon as the broker starts
            idle = system.get("idle_rss_bytes")
    per_1000 = median_of(cairn["5"], "rss_per_1000_partitions_bytes")

    rows = [
        ["acks=1 produce ≥ 0.5 × loopback TCP", mb(acks_one) + " MB/s" if acks_one else "–",
         ratio(acks_one, tcp), check(acks_one, tcp and 0.5 * tcp)],
        ["durable acks=all produce ≥ 0.35 × loopback TCP",
         mb(acks_all) + " MB/s" if acks_all else "–", ratio(acks_all, tcp),
         check(acks_all, tcp and 0.35 * tcp)],
        ["acks=all produce ≥ 2 × NATS JetStream default (not durable)",
         mb(acks_all) + " MB/s" if acks_all else "–", ratio(acks_all, nats) + " of NATS",
         check(acks_all, nats and 2 * nats)],
        ["acks=all produce ≥ Redis Streams (AOF everysec; AOF always beside)",
         mb(acks_all) + " MB/s" if acks_all else "–",
         f"{ratio(acks_all, redis)} of everysec, {ratio(acks_all, redis_always)} of always",
         check(acks_all, redis)],
        ["p99 end-to-end ≤ 5 ms, durable, at 20 MB/s", f"{ms(p99)} ms" if p99 else "–", "",
         check(p99, 5000, at_most=True)],
        ["catch-up reads ≥ 0.7 × loopback TCP", mb(catch_up) + " MB/s" if catch_up else "–",
         ratio(catch_up, tcp), check(catch_up, tcp and 0.7 * tcp)],
        ["idle RSS ≤ 50 MiB", f"{mib(idle)} MiB" if idle else "–", "",
         check(idle, 50 * MIB, at_most=True)],
        ["≤ 2 MiB more RSS per 1,000 idle partitions",
         f"{mib(per_1000)} MiB" if per_1000 is not None else "–", "",
         check(per_1000, 2 * MIB, at_most=True)],
    ] + transactions_goal_rows(results) + formats_goal_rows(results)
    rows += acl_goal_rows(results) + tls_goal_rows(results)
    cairn_system = next((s for s in results["systems"] if s["id"] == "cairn"), None)
    text = "## Cairn's goals\n\n"
    if cairn_system is None or cairn_system.get("status") != "ok":
        status = cairn_system.get("status") if cairn_system else "not run"
        error = (cairn_system or {}).get("error", "")
        text += (f"**Cairn was not measured in this run — {status}** ({error}). The peers and the "
                 "physical references below are measured; the goals that need produce and fetch "
                 "are pending until the broker has them.\n\n")
    text += table(["goal", "Cairn", "ratio", "status"], rows)
    text += ("\n\nA goal not met is reported with a profile of what holds Cairn back and the fix "
             "in progress (see the notes under the tables, when present).")
    return text


def cpu_budget_line(label, row, rate, target, cpus):
    """One goal not met, as CPU arithmetic: what the broker and the load generator spend per GB
    at the measured rate, and what they could spend at the goal's rate on this machine."""
    broker = median_of(row, "broker", "cpu_seconds_per_gb")
    client = median_of(row, "client_cpu_seconds_per_gb")
    if None in (broker, client, rate, target) or not cpus:
        return None
    busy = rate / 1e9 * (broker + client)
    allowed = cpus / (target / 1e9)
    text = (f"- **{label}**: {mb(rate)} MB/s against a goal of {mb(target)} MB/s. Per GB, Cairn "
            f"spends {broker:.2f} CPU s and the client {client:.2f} CPU s, {busy:.1f} of the "
            f"{cpus} vCPUs at this rate. The goal's rate leaves {allowed:.2f} CPU s per GB for "
            "both together: ")
    if client >= allowed:
        return text + "the client alone spends more than that."
    return text + (f"after the client's share, {allowed - client:.2f} s for Cairn (it spends "
                   f"{broker:.2f} s).")


def section_held_back(results):
    """Why the throughput goals that are not met are not met, from this run's figures."""
    tcp, _, _, _ = references(results)
    cpus = results.get("machine", {}).get("cpus")
    if not tcp:
        return ""
    items = [("acks=1 produce", find_workload(results, "max_rate_produce", message_bytes=1024,
                                                acks="1"), 0.5),
             ("acks=all produce", find_workload(results, "max_rate_produce", message_bytes=1024,
                                                  acks="all"), 0.35),
             ("catch-up reads", find_workload(results, "catch_up"), 0.7)]
    lines = []
    for label, workload, factor in items:
        row = system_row(results, "cairn", workload)
        rate = median_of(row, "bytes_per_second")
        if rate is None or rate >= factor * tcp:
            continue
        line = cpu_budget_line(label, row, rate, factor * tcp, cpus)
        if line:
            lines.append(line)
    partitions = system_row(results, "cairn", find_workload(results, "many_partitions"))
    per_1000 = median_of(partitions, "rss_per_1000_partitions_bytes")
    if per_1000 is not None and per_1000 > 2 * MIB:
        runs = ", ".join(mib(r["rss_per_1000_partitions_bytes"]) for r in partitions.runs)
        lines.append(f"- **RSS per 1,000 idle partitions**: {mib(per_1000)} MiB against 2 MiB "
                     f"(runs: {runs} MiB), about {per_1000 / 1000 / 1024:.1f} KiB per partition: "
                     "its Log and active segment with three open files, the in-memory indexes, "
                     "producer state and the partition's entry in the shard's tables.")
    lines += transactions_held_back(results)
    if not lines:
        return ""
    return ("## What holds Cairn back\n\nThe load generator runs on the same vCPUs as the broker, "
            "and librdkafka's work per GB (batching and checksumming on the producer, parsing "
            "every record on the consumer) is larger than Cairn's, so the goals that compare one "
            "client and one broker on this machine with iperf3's bare byte stream run out of CPU "
            "first. Each goal not met, with this run's figures:\n\n" + "\n".join(lines) + "\n\n"
            "Cairn's own share (see the profiles below) is mostly the kernel: copying received "
            "bytes out of the socket and into the page cache, and for acks=all the writeback "
            "and fdatasync; CRC-32C of every batch is about 5%. Catch-up reads are sent with "
            "sendfile, so Cairn spends little; the one consumer's network thread parsing the "
            "records is the limit.\n\n"
            "Done so far to cut Cairn's share: CRC-32C runs three interleaved crc32 chains "
            "(3× on long inputs), each batch's CRC is computed once instead of twice, batches "
            "are written from the request frame without a copy, and request frames up to 1 MiB "
            "are allocated once. Next: receiving produce frames straight into their buffer (the "
            "last user-space copy), and a catch-up workload with several consumers, as the "
            "OpenMessaging Benchmark's backlog workloads use, so that one client thread is not "
            "the limit.")


# ---------------------------------------------------------------- charts

def load_pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def bar_chart(plt, out_path, rows, metric, scale, unit, title, lines=(), log=False):
    """Horizontal bars: median with min-max whiskers; `lines` are (value, label) references."""
    measured = [(r.label, r.values(*metric)) for r in rows if not r.missing()]
    measured = [(label, t) for label, t in measured if t]
    if not measured:
        return False
    labels = [label for label, _ in measured]
    medians = [t[0] / scale for _, t in measured]
    low = [(t[0] - t[1]) / scale for _, t in measured]
    high = [(t[2] - t[0]) / scale for _, t in measured]
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(labels) + 1.6))
    ax.barh(labels, medians, xerr=[low, high], color="#4c72b0", capsize=3)
    if log:
        ax.set_xscale("log")
    ax.invert_yaxis()  # first row on top; the top edge is then y = -0.5
    for value, label in lines:
        if value:
            ax.axvline(value / scale, color="#c44e52", linestyle="--", linewidth=1)
            ax.text(value / scale, -0.5, f" {label}", color="#c44e52", fontsize=8,
                    va="bottom", rotation=0)
    ax.set_xlabel(unit)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return True


def latency_chart(plt, out_path, rows, title):
    measured = [r for r in rows if not r.missing() and r.values("end_to_end_latency", "p50_us")]
    if not measured:
        return False
    percentiles = [("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9")]
    fig, ax = plt.subplots(figsize=(8, 0.8 * len(measured) + 1.6))
    height = 0.25
    for i, (key, name) in enumerate(percentiles):
        values = [r.values("end_to_end_latency", key)[0] / 1000 for r in measured]
        ax.barh([j + i * height for j in range(len(measured))], values, height, label=name)
    ax.set_yticks([j + height for j in range(len(measured))])
    ax.set_yticklabels([r.label for r in measured])
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.axvline(5, color="#c44e52", linestyle="--", linewidth=1)
    ax.set_xlabel("end-to-end latency, ms (log scale; dashed: Cairn's 5 ms p99 goal)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return True


def draw_charts(results, chart_dir):
    """Returns {chart name: file name} for the charts drawn."""
    plt = load_pyplot()
    if plt is None:
        return {}
    os.makedirs(chart_dir, exist_ok=True)
    tcp, disk, _, _ = references(results)
    drawn = {}

    def out(name):
        return os.path.join(chart_dir, name)

    compared = compared_names(results)
    group = [w for w in results["workloads"] if w["name"] not in compared
             and w["kind"] == "max_rate_produce" and w["message_bytes"] == 1024]
    if group and bar_chart(plt, out("produce-1kb.png"), produce_group_rows(results, group),
                           ["bytes_per_second"], 1e6, "MB/s (median, whiskers min–max)",
                           "Max-rate produce, 1 KiB messages",
                           [(tcp, "loopback TCP"), (disk, "disk fdatasync")]):
        drawn["produce-1kb"] = "produce-1kb.png"
    small = [w for w in results["workloads"] if w["name"] not in compared
             and w["kind"] == "max_rate_produce" and w["message_bytes"] < 1024]
    if small and bar_chart(plt, out("produce-100b.png"), produce_group_rows(results, small),
                           ["messages_per_second"], 1e3, "thousand messages/s",
                           "Max-rate produce, 100-byte messages"):
        drawn["produce-100b"] = "produce-100b.png"
    w2 = find_workload(results, "fixed_rate_latency")
    if w2 and latency_chart(plt, out("latency.png"), rows_for(results, w2),
                            "End-to-end latency at a fixed rate"):
        drawn["latency"] = "latency.png"
    w4 = find_workload(results, "catch_up")
    if w4 and bar_chart(plt, out("catch-up.png"), rows_for(results, w4), ["bytes_per_second"],
                        1e6, "MB/s read", "Consumer catch-up", [(tcp, "loopback TCP")]):
        drawn["catch-up"] = "catch-up.png"
    w5 = find_workload(results, "many_partitions")
    if w5 and bar_chart(plt, out("partitions.png"), rows_for(results, w5),
                        ["rss_per_1000_partitions_bytes"], MIB, "MiB of RSS per 1,000 partitions",
                        "Memory per 1,000 idle partitions"):
        drawn["partitions"] = "partitions.png"
    if bar_chart(plt, out("transactions.png"), transactions_chart_rows(results),
                 ["bytes_per_second"], 1e6, "MB/s (median, whiskers min–max)",
                 "Cairn: transactions beside their references"):
        drawn["transactions"] = "transactions.png"
    return drawn


# ---------------------------------------------------------------- document

def section_profiles(results):
    """perf's top symbols of Cairn's process during each throughput workload."""
    cairn = next((s for s in results["systems"] if s["id"] == "cairn"), None)
    if not cairn:
        return ""
    blocks = []
    for name, result in cairn.get("workloads", {}).items():
        if result.get("broker_profile"):
            blocks.append(f"{name}:\n\n```\n" + "\n".join(result["broker_profile"]) + "\n```")
    if not blocks:
        return ""
    return ("## Where Cairn's time goes\n\n`perf record -F 499 -g` on the broker process for a "
            "few seconds in the middle of each throughput workload; self time by shared object "
            "and symbol, entries of 1% or more.\n\n" + "\n\n".join(blocks))


def section_systems(results):
    lines = []
    for s in results["systems"]:
        status = s.get("status", "")
        if status == "ok":
            status = "measured"
            if s.get("remeasured_at"):
                status += f" (re-measured {s['remeasured_at']} after a harness fix)"
        elif s.get("error"):
            status += f" ({s['error'][:200]})"
        lines.append([s["label"], s.get("version", ""), s.get("durability", ""), status])
    return ("## Systems and durability settings\n\nAll run on loopback on this machine, one at "
            "a time, each with a fresh data directory on the same disk, started and stopped by "
            "`bench/run.py`.\n\n" + table(["system", "version", "durability", "this run"], lines))


def section_method(results):
    machine = results.get("machine", {})
    load = machine.get("load_average_at_start", [])
    scale = results.get("duration_scale", 1)
    return f"""## Method

- Harness: `cairn-bench` (bench/harness, C++), one process for producer and consumer, after the
  OpenMessaging Benchmark's workloads and driver contract. Workloads are the YAML files in
  `bench/workloads/`; `bench/run.py` starts each system and runs them; `bench/render.py` wrote
  this page from `docs/bench/results.json`.
- Drivers: Kafka protocol via librdkafka (acks, linger and batch settings from the workload
  file; consumers assign every partition, no group rebalance); NATS JetStream via libnats (the
  official C client, Debian's libnats-dev): async publish with acks, one stream per partition,
  one ordered push consumer per stream; Redis Streams via hiredis: pipelined `XADD` over up to
  8 connections, `XREAD` on one connection, one stream key per partition.
- Producers are open loop with a bound on unacknowledged messages (NATS, Redis: the workload's
  `in_flight_max`; Kafka: librdkafka's queue), so max-rate figures include queueing in the
  client; publish latencies of max-rate runs are therefore large and not shown.
- Throughput: acknowledged payload bytes per second, decimal MB (10^6 B). Latency: log-linear
  histogram (≤ 0.8% bucket error), nearest-rank percentiles, from the intended send time.
- Broker CPU seconds per GB: the broker process's user + system CPU time (from /proc) over the
  measured window, divided by the GB moved (produced + consumed). Peak RSS: sampled every 50 ms.
- Shared machine: {machine.get('cpus', '?')} vCPU ({machine.get('cpu_model', '?')}),
  {machine.get('memory_bytes', 0) / 2**30:.0f} GiB RAM, kernel {machine.get('kernel', '?')}; the
  load generator shares the CPUs with the broker. Load average when the run started:
  {' / '.join(load) or '?'} (other work on the machine makes figures noisy).
- Durations scaled by {scale:g} to fit the time budget. Run date: {results.get('started_at')}.
- Reproduce: `make bench` (about 15 minutes after the build); a short development run:
  `BENCH_QUICK=1 scripts/run-bench.sh` (writes under build/bench-data/, not here). Systems
  marked re-measured were run again with `bench/run.py --only ... --merge` after a harness
  fix, at a different machine load than the rest.""" + merges_lines(results)


def merges_lines(results):
    """One Method bullet per `bench/run.py --workloads ... --merge` folded into these results."""
    lines = ""
    for merge in results.get("merges", []):
        load = " / ".join(merge.get("load_average_at_start") or []) or "?"
        lines += (f"\n- Added {merge['at']}: {', '.join(merge['workloads'])} on "
                  f"{', '.join(merge['systems'])}, measured then with `bench/run.py --only "
                  f"{','.join(merge['systems'])} --workloads ... --merge` (durations scaled by "
                  f"{merge.get('duration_scale') or 1:g}, load average at its start {load}).")
    return lines


def kept_section(doc_path):
    """The storage engine's section of the existing page, verbatim, or ''."""
    try:
        with open(doc_path) as f:
            text = f.read()
    except OSError:
        return ""
    start = text.find("\n" + KEPT_SECTION)
    if start < 0:
        start = 0 if text.startswith(KEPT_SECTION) else -1
    if start < 0:
        return ""
    start = text.index(KEPT_SECTION, start)
    end = text.find("\n## ", start + len(KEPT_SECTION))
    return text[start:end if end >= 0 else len(text)].rstrip() + "\n"


def render(results, chart_dir, doc_path):
    charts = draw_charts(results, chart_dir)
    workloads = results["workloads"]
    plain = [w for w in workloads if w["name"] not in compared_names(results)]
    produce_1k = [w for w in plain
                  if w["kind"] == "max_rate_produce" and w["message_bytes"] == 1024]
    produce_small = [w for w in plain
                     if w["kind"] == "max_rate_produce" and w["message_bytes"] < 1024]
    parts = ["# Benchmarks\n\n*Generated by `make bench` (bench/run.py, bench/render.py); edit "
             "the scripts, not this page. Medians of " +
             f"{max((w['runs'] for w in workloads), default=0)} runs with min–max in brackets.*"]
    if results.get("quick"):
        parts.append("> **Quick development run** (short durations, 1 run, small backlog): "
                     "not the published figures.")
    parts.append(section_goals(results))
    parts.append(section_references(results))
    if produce_1k:
        parts.append(section_max_rate(results, produce_1k, "Max-rate produce, 1 KiB messages",
                                      charts.get("produce-1kb")))
    w2 = find_workload(results, "fixed_rate_latency")
    if w2:
        parts.append(section_latency(results, w2, charts.get("latency")))
    if produce_small:
        parts.append(section_max_rate(results, produce_small,
                                      f"{produce_small[0]['message_bytes']}-byte messages at "
                                      "max rate", charts.get("produce-100b")))
    w4 = find_workload(results, "catch_up")
    if w4:
        parts.append(section_catch_up(results, w4, charts.get("catch-up")))
    transactions = section_transactions(results, charts.get("transactions"))
    if transactions:
        parts.append(transactions)
    formats = section_formats(results)
    if formats:
        parts.append(formats)
    acl = section_acl(results)
    if acl:
        parts.append(acl)
    tls = section_tls(results)
    if tls:
        parts.append(tls)
    w5 = find_workload(results, "many_partitions")
    if w5:
        parts.append(section_partitions(results, w5, charts.get("partitions")))
    held_back = section_held_back(results)
    if held_back:
        parts.append(held_back)
    profiles = section_profiles(results)
    if profiles:
        parts.append(profiles)
    parts.append(section_systems(results))
    parts.append(section_method(results))
    kept = kept_section(doc_path)
    if kept:
        parts.append(kept.rstrip())
    return "\n\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="?", default=os.path.join(ROOT, "docs/bench/results.json"))
    parser.add_argument("--doc", default=os.path.join(ROOT, "docs/benchmarks.md"))
    parser.add_argument("--charts", help="chart directory (default: bench/ beside the doc)")
    args = parser.parse_args()
    with open(args.results) as f:
        results = json.load(f)
    chart_dir = args.charts or os.path.join(os.path.dirname(os.path.abspath(args.doc)), "bench")
    text = render(results, chart_dir, args.doc)
    with open(args.doc, "w") as f:
        f.write(text)
    print(f"render: wrote {args.doc}", file=sys.stderr)


if __name__ == "__main__":
    main()

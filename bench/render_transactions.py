"""bench/render_transactions.py: the Transactions section of docs/benchmarks.md (workloads 6a/6b
and 7a/7b: transactional produce beside idempotent produce, read_committed catch-up beside
read_uncommitted), its goal rows and its lines for "What holds Cairn back"."""
from render_support import (MIB, check, count, median_of, mb, ms, path, ratio, sentence,
                            stats, system_row, table, with_range)


def compared_names(results):
    """Names of the workloads in a comparison (one names the other in compare_with): the
    transactions section shows them, the other sections leave them out."""
    names = {w["name"] for w in results["workloads"]}
    pairs = [(w["name"], w.get("compare_with")) for w in results["workloads"]]
    return {name for pair in pairs if pair[1] in names for name in pair}


def transactions_workloads(results):
    """(idempotent produce, transactional produce, read_uncommitted catch-up, read_committed
    catch-up): the two comparisons of workloads 6 and 7, found by what they are and their
    compare_with; each None when the results have none."""
    by_name = {w["name"]: w for w in results["workloads"]}

    def compared(kind, test):
        return next((w for w in results["workloads"] if w["kind"] == kind and test(w)
                     and w.get("compare_with") in by_name), None)

    transactional = compared("max_rate_produce", lambda w: bool(w.get("transactional")))
    committed = compared("catch_up", lambda w: w.get("kafka_consumer", {}).get(
        "isolation.level") == "read_committed")
    return (by_name.get(transactional["compare_with"]) if transactional else None, transactional,
            by_name.get(committed["compare_with"]) if committed else None, committed)


def commit_interval_ms(w):
    return (w.get("transactional") or {}).get("commit_interval_ms")


def transactions_figures(results):
    """Cairn's rows and medians for the two comparisons: {name: (row, MB/s median)}."""
    idempotent, transactional, uncommitted, committed = transactions_workloads(results)
    out = {}
    for name, w in [("idempotent", idempotent), ("transactional", transactional),
                    ("read_uncommitted", uncommitted), ("read_committed", committed)]:
        row = system_row(results, "cairn", w)
        out[name] = (row, median_of(row, "bytes_per_second"))
    return out


def transactions_goal_rows(results):
    idempotent, transactional, uncommitted, committed = transactions_workloads(results)
    if not any((idempotent, transactional, uncommitted, committed)):
        return []
    figures = transactions_figures(results)
    interval = commit_interval_ms(transactional) if transactional else None
    every = f" (commit every {interval} ms)" if interval else ""
    rows = []
    for label, goal, value_name, reference_name in [
            (f"transactional produce{every} ≥ 0.8 × idempotent", 0.8, "transactional",
             "idempotent"),
            ("read_committed catch-up ≥ 0.9 × read_uncommitted", 0.9, "read_committed",
             "read_uncommitted")]:
        value, reference = figures[value_name][1], figures[reference_name][1]
        rows.append([label, mb(value) + " MB/s" if value else "–",
                     ratio(value, reference) + f" of {reference_name}" if reference else "",
                     check(value, reference and goal * reference)])
    return rows


def transactions_produce_table(idempotent, transactional, figures):
    header = ["producer", "MB/s", "messages/s", "× idempotent", "commits/s",
              "commit drain p50 ms", "EndTxn p50 ms (p99)", "time in commit",
              "broker CPU s/GB", "client CPU s/GB"]
    reference = figures["idempotent"][1]
    lines = []
    for name, w in [("idempotent", idempotent), ("transactional", transactional)]:
        row = figures[name][0]
        label = (f"transactional, commit every {commit_interval_ms(w)} ms"
                 if name == "transactional" else "idempotent, no transactions")
        if w is None or row is None or row.missing():
            reason = row.missing() if row else "not run"
            lines.append([label, f"*{reason}*"] + ["–"] * (len(header) - 2))
            continue
        rate = row.values("bytes_per_second")
        txn = ["–"] * 4
        if name == "transactional":
            end = row.values("transactions", "end_latency", "p50_us")
            end99 = row.values("transactions", "end_latency", "p99_us")
            txn = [with_range(row.values("transactions", "committed_in_window"),
                              lambda v: f"{v / w['duration_seconds']:.1f}"),
                   with_range(row.values("transactions", "drain_latency", "p50_us"), ms),
                   f"{ms(end[0])} ({ms(end99[0])})" if end and end99 else "–",
                   with_range(row.values("transactions", "commit_blocked_fraction"),
                              lambda v: f"{v:.0%}")]
        lines.append([label, with_range(rate, mb),
                      with_range(row.values("messages_per_second"), count),
                      ratio(rate[0], reference)] + txn +
                     [row.broker_cells()[0], row.client_cpu_cell()])
    return table(header, lines)


def transactions_catch_up_table(uncommitted, committed, figures):
    header = ["isolation.level", "read MB/s", "× read_uncommitted", "MB/s incl. subscribe",
              "backlog build MB/s", "broker CPU s/GB", "client CPU s/GB"]
    reference = figures["read_uncommitted"][1]
    lines = []
    for name, w in [("read_uncommitted", uncommitted), ("read_committed", committed)]:
        row = figures[name][0]
        if w is None or row is None or row.missing():
            reason = row.missing() if row else "not run"
            lines.append([name, f"*{reason}*"] + ["–"] * (len(header) - 2))
            continue
        rate = row.values("bytes_per_second")
        incomplete = [r for r in row.runs if not r.get("complete")]
        fills = stats([f.get("bytes_per_second") for f in
                       row.result.get("fills", [row.result.get("fill", {})])])
        lines.append([name + (" (incomplete read)" if incomplete else ""), with_range(rate, mb),
                      ratio(rate[0], reference),
                      with_range(row.values("bytes_per_second_from_subscribe"), mb),
                      with_range(fills, mb), row.broker_cells()[0], row.client_cpu_cell()])
    return table(header, lines)


def interleaved(results, w):
    """Whether Cairn's runs of `w` alternated with its partner's (bench/run.py's run_pair)."""
    row = system_row(results, "cairn", w)
    return bool(row and row.result and row.result.get("interleaved_with"))


def transactions_produce_text(idempotent, transactional, results):
    w = transactional or idempotent
    text = (f"**Produce.** {sentence(w['description'])}, beside the same producer without "
            "transactions, both with `enable.idempotence=true` and otherwise workload 1a's "
            "settings (1a itself is not idempotent: librdkafka's default). ")
    if transactional:
        text += (f"The transactional producer begins a transaction, produces for "
                 f"{commit_interval_ms(transactional)} ms and commits; a message counts when "
                 "the commit of its transaction returns. A commit first waits for the "
                 "transaction's last acknowledgements (the drain: the producer queues faster "
                 "than the broker acknowledges, so this is what it queued and has not been "
                 "acknowledged yet) and then for EndTxn; the producer sends nothing new "
                 "meanwhile, and each new transaction's first batches to a partition wait for "
                 "AddPartitionsToTxn. ")
    order = ("the two workloads' runs alternating" if interleaved(results, w)
             else "one workload after the other")
    return text + (f"{w['duration_seconds']:g} s measured after {w['warmup_seconds']:g} s of "
                   f"warm-up, {w['runs']} runs each, {order} on the same broker process.")


def transactions_catch_up_text(uncommitted, committed, results):
    w = committed or uncommitted
    row = system_row(results, "cairn", w)
    backlog = path(row.result, "workload", "backlog_bytes") if row and row.result else None
    backlog = backlog or w["backlog_bytes"]
    interval = commit_interval_ms(w)
    writer = (f"a transactional producer committing every {interval} ms (so every partition "
              "holds a COMMIT marker per transaction)" if interval
              else "a producer without transactions")
    if interleaved(results, w):
        how = (f"Each of {w['runs']} runs per isolation level, the two levels alternating, "
               f"builds a fresh {backlog / MIB:,.0f} MiB backlog of 1 KiB messages over "
               f"{w['partitions']} partitions with {writer}, then a fresh consumer reads it "
               "from the start")
    else:
        how = (f"Each of the two workloads builds its own {backlog / MIB:,.0f} MiB backlog of "
               f"1 KiB messages over {w['partitions']} partitions with {writer}, the same way, "
               f"then {w['runs']} fresh consumers read it from the start")
    return (f"**Catch-up.** {how} with the isolation level shown; read MB/s runs from the first "
            "message to the last. Every transaction has committed before the read starts, so "
            "the last stable offset is the log end and both levels receive the same records; "
            "read_committed also gets each partition's aborted-transaction list with every "
            "fetch." + read_length_note(row))


def read_length_note(row):
    seconds = median_of(row, "seconds_first_to_last")
    if seconds is None:
        return ""
    return (f" A read lasts {seconds:.1f} s (median), long enough to compare the two levels, "
            "too short to stand beside workload 4's reads.")


def merged_note(rows, results):
    """Where these rows were measured apart from the rest of the page (bench/run.py --merge)."""
    dates = sorted({r.result.get("measured_at") for r in rows
                    if r and r.result and r.result.get("measured_at")})
    if not dates:
        return ""
    return (f"\n\nMeasured {', '.join(dates)} with `bench/run.py --workloads ... --merge` and "
            f"added to the run of {results.get('started_at')} (see Method): beside the other "
            "sections' figures they come from another time and machine load, so compare them "
            "with each other, not with those (workload 1a's or 4's, say). The two figures of "
            "each comparison were measured side by side.")


def section_transactions(results, chart):
    idempotent, transactional, uncommitted, committed = transactions_workloads(results)
    if not any((idempotent, transactional, uncommitted, committed)):
        return ""
    figures = transactions_figures(results)
    text = ("## Transactions\n\nCairn only: NATS JetStream and Redis Streams have no Kafka "
            "transactions. The goals: transactional throughput at least 0.8 × the idempotent "
            "producer's, read_committed catch-up at least 0.9 × read_uncommitted.")
    if idempotent or transactional:
        text += ("\n\n" + transactions_produce_text(idempotent, transactional, results) + "\n\n" +
                 transactions_produce_table(idempotent, transactional, figures))
    if uncommitted or committed:
        text += ("\n\n" + transactions_catch_up_text(uncommitted, committed, results) + "\n\n" +
                 transactions_catch_up_table(uncommitted, committed, figures))
    text += merged_note([row for row, _ in figures.values()], results)
    if chart:
        text += f"\n\n![transactions](bench/{chart})"
    return text


def transactions_chart_rows(results):
    labels = {"idempotent": "idempotent produce", "transactional": "transactional produce",
              "read_uncommitted": "catch-up, read_uncommitted",
              "read_committed": "catch-up, read_committed"}
    rows = []
    for name, (row, _) in transactions_figures(results).items():
        if row is not None:
            row.label = labels[name]
            rows.append(row)
    return rows


def transactions_held_back(results):
    """Lines for section_held_back: the transactions goals not met, with this run's figures."""
    figures = transactions_figures(results)
    lines = []
    txn_row, txn = figures["transactional"]
    idempotent = figures["idempotent"][1]
    if txn and idempotent and txn < 0.8 * idempotent:
        blocked = median_of(txn_row, "transactions", "commit_blocked_fraction")
        drain = median_of(txn_row, "transactions", "drain_latency", "p50_us")
        end = median_of(txn_row, "transactions", "end_latency", "p50_us")
        commits = median_of(txn_row, "transactions", "committed_in_window")
        seconds = txn_row.workload["duration_seconds"]
        lines.append(
            f"- **transactional produce**: {mb(txn)} MB/s, {ratio(txn, idempotent)} of the "
            f"idempotent producer's {mb(idempotent)} MB/s against 0.8×. It committed "
            f"{(commits or 0) / seconds:.1f} times a second and spent "
            f"{(blocked or 0):.0%} of the measured time committing: the drain "
            f"(p50 {ms(drain or 0)} ms) and EndTxn (p50 {ms(end or 0)} ms). While it commits "
            "it sends nothing new, so every transaction ends with the broker's pipeline "
            "running dry and starts with it refilling behind AddPartitionsToTxn.")
    committed_row, committed = figures["read_committed"]
    uncommitted = figures["read_uncommitted"][1]
    if committed and uncommitted and committed < 0.9 * uncommitted:
        broker = median_of(committed_row, "broker", "cpu_seconds_per_gb")
        client = median_of(committed_row, "client_cpu_seconds_per_gb")
        lines.append(
            f"- **read_committed catch-up**: {mb(committed)} MB/s, "
            f"{ratio(committed, uncommitted)} of read_uncommitted's {mb(uncommitted)} MB/s "
            f"against 0.9×; per GB, Cairn spent {broker or 0:.2f} CPU s and the client "
            f"{client or 0:.2f} CPU s.")
    return lines

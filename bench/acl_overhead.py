#!/usr/bin/env python3
"""bench/acl_overhead.py: max-rate produce with 1,000 ACLs loaded beside the same with no
authorizer (issue 15: the first at least 0.95 x the second).

Starts two `cairn serve` processes on loopback, side by side for the whole measurement:

  off   authorization off (the default)
  acls  authorizer.enabled=true, allow.everyone.if.no.acl.found=false, no super users, and
        ACLS ACLs in DATA_DIR/meta/acls.json before the start (docs/format/meta.md): a mix of
        literal and prefixed topic ACLs for many principals, group and transactional-id ACLs,
        DENYs, a few that apply to every topic the harness creates, and the ones that let the
        benchmark's principal (User:ANONYMOUS: a PLAINTEXT listener) create, write and delete
        its bench-* topics

Then runs the workload (default 1a: 1 KiB messages, 16 partitions, acks=all) through the
cairn-bench harness: an uncounted run on each, then one run at a time, alternately (off,
acls, acls, off, off, acls, ...), so that a machine busy with something else for a while
slows both alike. Both brokers stay up the whole
time: an idle Cairn is asleep in epoll, and neither start nor page cache differs between the
two. Prints one line per run and the medians; --out writes the figures as JSON, --merge adds
them to a results file of bench/run.py (key "acl_overhead") for bench/render.py.

  /usr/bin/python3 bench/acl_overhead.py --build-dir build/release --merge docs/bench/results.json
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from run import ROOT, Server, find_binary, free_port, log

GOAL = 0.95  # produce with 1,000 ACLs at least 0.95 x without an authorizer (issue 15)
WORKLOAD = os.path.join(ROOT, "bench/workloads/1a-max-rate-1kb-16p-acks-all.yaml")
BENCH_PRINCIPAL = "User:ANONYMOUS"


def acl(resource_type, name, principal, operation, permission="ALLOW", pattern="LITERAL",
        host="*"):
    return {"resource_type": resource_type, "resource_name": name, "pattern_type": pattern,
            "principal": principal, "host": host, "operation": operation,
            "permission": permission}


def bench_acls():
    """The ACLs that apply to the harness's topics (bench-<workload>-<pid>-<run>), so that every
    check weighs several bindings, not one."""
    return [
        # What the benchmark's principal needs: CreateTopics, Produce (and Metadata: WRITE
        # implies DESCRIBE), DeleteTopics; DESCRIBE on the cluster to count the ACLs loaded.
        acl("TOPIC", "bench-", BENCH_PRINCIPAL, "CREATE", pattern="PREFIXED"),
        acl("TOPIC", "bench-", BENCH_PRINCIPAL, "WRITE", pattern="PREFIXED"),
        acl("TOPIC", "bench-", BENCH_PRINCIPAL, "DELETE", pattern="PREFIXED"),
        acl("CLUSTER", "kafka-cluster", BENCH_PRINCIPAL, "DESCRIBE"),
        # Others that match the same topics: the literal wildcard and shorter prefixes.
        acl("TOPIC", "*", "User:auditor", "DESCRIBE"),
        acl("TOPIC", "*", "User:intruder", "ALL", permission="DENY"),
        acl("TOPIC", "b", "User:svc-001", "READ", pattern="PREFIXED"),
        acl("TOPIC", "bench", "User:svc-007", "WRITE", permission="DENY", pattern="PREFIXED"),
        acl("TOPIC", "bench-", "User:svc-002", "READ", pattern="PREFIXED"),
        acl("TOPIC", "bench-", "User:*", "ALTER", permission="DENY", pattern="PREFIXED"),
    ]


def background_acls(count):
    """`count` ACLs of teams svc-000, svc-001, ... that no benchmark request touches: five per
    team (its topics literal and prefixed, its consumer groups, a cross-team read, DENYs on
    audit topics, transactional ids)."""
    out = []
    team = 0
    while len(out) < count:
        user, mine = f"User:svc-{team:03d}", f"team-{team:03d}-"
        out += [
            acl("TOPIC", f"orders-{team:03d}", user, "WRITE"),
            acl("TOPIC", mine, user, "READ", pattern="PREFIXED"),
            acl("GROUP", mine, user, "READ", pattern="PREFIXED"),
        ]
        if team % 4 == 0:
            out.append(acl("TOPIC", f"audit-{team:03d}", "User:*", "WRITE", permission="DENY"))
        else:
            out.append(acl("GROUP", f"{mine}app", f"User:svc-{team + 1:03d}", "READ"))
        if team % 10 == 0:
            out.append(acl("TRANSACTIONAL_ID", f"{mine}tx-", user, "WRITE", pattern="PREFIXED"))
        else:
            out.append(acl("TOPIC", f"{mine}events", f"User:svc-{team + 1:03d}", "READ",
                           host=f"10.0.{team // 250}.{team % 250 + 1}"))
        team += 1
    return out[:count]


def write_acls(data_dir, bindings):
    meta = os.path.join(data_dir, "meta")
    os.makedirs(meta, exist_ok=True)
    with open(os.path.join(meta, "acls.json"), "w") as f:
        json.dump({"version": 1, "acls": bindings}, f, indent=1)


def acls_loaded(cairn, port):
    """How many ACLs the broker answers DescribeAcls with (cairn acl list)."""
    out = subprocess.run([cairn, "acl", "list", "--brokers", f"127.0.0.1:{port}",
                          "--format", "json"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"cairn acl list failed: {out.stderr.strip()}")
    listed = json.loads(out.stdout)
    return len(listed["acls"] if isinstance(listed, dict) else listed)


def enforced(cairn, port):
    """Whether the broker refuses the benchmark's principal a topic no ACL allows it."""
    out = subprocess.run([cairn, "topic", "create", "acl-bench-refused", "--brokers",
                          f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=60)
    return out.returncode != 0 and "AUTHORIZATION_FAILED" in out.stdout + out.stderr


def run_once(harness, server, mode, run, args, out_dir):
    out_path = os.path.join(out_dir, f"{mode}-{run}.json")
    argv = [harness, "run", "--system", "kafka", "--address", f"127.0.0.1:{server.port}",
            "--workload", args.workload, "--broker-pid", str(server.pid), "--runs", "1",
            "--label", mode, "--out", out_path]
    if args.quick:
        argv.append("--quick")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    try:
        with open(out_path) as f:
            result = json.load(f)
    except (OSError, ValueError):
        return {"error": f"harness wrote no results (status {out.returncode}): "
                         f"{out.stderr[-1000:]}"}
    if result.get("status") != "ok" or not result.get("runs") or "error" in result["runs"][0]:
        error = result.get("error") or (result.get("runs") or [{}])[0].get("error")
        return {"error": f"run failed: {error}"}
    r = result["runs"][0]
    return {"bytes_per_second": r["bytes_per_second"],
            "messages_per_second": r["messages_per_second"],
            "failed_messages": r.get("failed_messages", 0),
            "broker_cpu_seconds_per_gb": (r.get("broker") or {}).get("cpu_seconds_per_gb"),
            "p99_publish_us": (r.get("publish_latency") or {}).get("p99_us")}


def summary(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "values": values}


def measure(args):
    cairn = args.cairn or find_binary(args.build_dir, ["cairn"])
    harness = args.harness or find_binary(args.build_dir, ["bench/harness/cairn-bench"])
    measured_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = os.getloadavg()[0]  # other work on the machine, for the reader of the figures
    work = tempfile.mkdtemp(prefix="cairn-acl-bench-", dir=args.data_root)
    bindings = bench_acls() + background_acls(args.acls - len(bench_acls()))
    servers = {}
    try:
        for mode in ("off", "acls"):
            store = os.path.join(work, mode, "data")
            os.makedirs(store)
            port = free_port()
            # Two brokers: the admin HTTP listener on a port of its own each too.
            argv = [cairn, "serve", "--listen", f"127.0.0.1:{port}",
                    "--admin-listen=127.0.0.1:0", "--data-dir", store]
            if mode == "acls":
                write_acls(store, bindings)
                argv += ["--set", "authorizer.enabled=true",
                         "--set", "allow.everyone.if.no.acl.found=false"]
            servers[mode] = Server(f"cairn-{mode}", argv, port,
                                   os.path.join(work, mode, "server.log"))
            error = servers[mode].start()
            if error:
                raise RuntimeError(f"cairn ({mode}) {error}")
        loaded = acls_loaded(cairn, servers["acls"].port)
        if not enforced(cairn, servers["acls"].port):
            raise RuntimeError("the broker with ACLs let User:ANONYMOUS create acl-bench-refused")
        log(f"acl overhead: {loaded} ACLs loaded; {args.runs} runs each, alternating")
        # A run on each first, not counted: the first gigabytes written pay for growing the
        # page cache (memory the VM's host has not backed yet: bench/README.md), which would
        # fall on "off" alone.
        for mode in ("off", "acls"):
            run_once(harness, servers[mode], mode, "warmup", args, work)
        runs = {"off": [], "acls": []}
        started = time.monotonic()
        for run in range(args.runs):
            # off, acls, acls, off, off, acls, ...: a drift over the minute (the machine's other
            # work coming or going) weighs on both alike.
            for mode in ("off", "acls") if run % 2 == 0 else ("acls", "off"):
                result = run_once(harness, servers[mode], mode, run, args, work)
                runs[mode].append(result)
                if "error" in result:
                    log(f"  {mode} run {run + 1}: {result['error']}")
                else:
                    log(f"  {mode} run {run + 1}: {result['bytes_per_second'] / 1e6:.0f} MB/s, "
                        f"broker {result['broker_cpu_seconds_per_gb'] or 0:.2f} CPU s/GB")
        wall = time.monotonic() - started
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    good = {mode: [r for r in results if "error" not in r] for mode, results in runs.items()}
    figures = {mode: {"runs": results,
                      "bytes_per_second": summary(good[mode], "bytes_per_second"),
                      "broker_cpu_seconds_per_gb": summary(good[mode],
                                                           "broker_cpu_seconds_per_gb")}
               for mode, results in runs.items()}
    off, on = figures["off"]["bytes_per_second"], figures["acls"]["bytes_per_second"]
    # Runs are paired in time (off run i and acls run i, one after the other): each pair's
    # ratio as well as the ratio of the medians, to see how much of the spread is the machine's.
    pairs = [b["bytes_per_second"] / a["bytes_per_second"]
             for a, b in zip(runs["off"], runs["acls"]) if "error" not in a and "error" not in b]
    return {
        "workload": os.path.basename(args.workload),
        "quick": args.quick,
        "acls": loaded,
        "acls_matching_bench_topics": sum(1 for b in bench_acls() if b["resource_type"] == "TOPIC"),
        "goal": GOAL,
        "off": figures["off"],
        "acls_on": figures["acls"],
        "ratio": on["median"] / off["median"] if off and on else None,
        "pair_ratios": pairs,
        "measured_at": measured_at,
        "wall_seconds": wall,
        "load_average_before": load,
        "cpus": os.cpu_count(),
        "setup": "two brokers side by side; an uncounted run on each, then runs "
                 "alternating off, acls, acls, off, off, acls, ...",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build/release"))
    parser.add_argument("--cairn", help="cairn binary (default: found in --build-dir)")
    parser.add_argument("--harness", help="cairn-bench (default: found in --build-dir)")
    parser.add_argument("--workload", default=WORKLOAD)
    parser.add_argument("--acls", type=int, default=1000, help="ACLs loaded, all told")
    parser.add_argument("--runs", type=int, default=4, help="runs of each, alternating")
    parser.add_argument("--quick", action="store_true", help="the workload's quick: settings")
    parser.add_argument("--data-root", help="where the brokers' data directories go")
    parser.add_argument("--out", help="write the figures to this JSON file")
    parser.add_argument("--merge", help="add them to this results JSON file of bench/run.py")
    args = parser.parse_args()
    # `timeout` in scripts/run-bench.sh: stop the brokers (measure's finally) on SIGTERM too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    figures = measure(args)
    off, on = figures["off"]["bytes_per_second"], figures["acls_on"]["bytes_per_second"]
    if off and on:
        log(f"acl overhead: off {off['median'] / 1e6:.0f} MB/s "
            f"({off['min'] / 1e6:.0f}-{off['max'] / 1e6:.0f}), "
            f"{figures['acls']} ACLs {on['median'] / 1e6:.0f} MB/s "
            f"({on['min'] / 1e6:.0f}-{on['max'] / 1e6:.0f}): "
            f"{figures['ratio']:.3f}x (goal >= {GOAL}x); per pair "
            + ", ".join(f"{p:.3f}" for p in figures["pair_ratios"]))
    else:
        log("acl overhead: no figures (see the errors above)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(figures, f, indent=1)
    if args.merge:
        with open(args.merge) as f:
            results = json.load(f)
        results["acl_overhead"] = figures
        with open(args.merge, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    return 0 if off and on else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench/tls_overhead.py: consumer catch-up over a TLS listener beside the same over a
PLAINTEXT listener of the same broker (the goal: TLS at least 0.7 x plaintext).

Makes a CA and a server certificate with the `openssl` command in a temporary directory
(tests/interop/tls_support.py's Pki), starts one `cairn serve` with two listeners,
PLAINTEXT and SSL (TLS 1.3, no client certificates), and produces a backlog of 1 KiB records
over 16 partitions through the plaintext listener (confluent-kafka-python). Then one consumer at
a time (kcat: librdkafka, every partition from the start, exit at the end; a fresh one per
read) reads the whole backlog: an uncounted read on each listener, then reads alternating
plain, tls, tls, plain, plain, tls, ... so that a machine busy with something else for a while
slows both alike, and one more over TLS with librdkafka's default Nagle setting
(CLIENT_NO_NAGLE). Both read the same files from the page cache; only the listener differs,
so the ratio is what TLS costs a Fetch: the plaintext listener sends file ranges with
sendfile(), the TLS listener reads them into a buffer and encrypts them.

Each read is timed from kcat's start to its exit. Beside the rate, the CPU time of the broker
(and of its busiest thread) and of kcat over the same window, to tell which side limits.
Kernel TLS (the `tls` upper-layer protocol in /proc/sys/net/ipv4/tcp_available_ulp) is
recorded as available or not; the broker does not use it.

Prints one line per read and the medians; --out writes the figures as JSON, --merge adds them
to a results file of bench/run.py (key "tls_overhead") for bench/render.py.

  /usr/bin/python3 bench/tls_overhead.py --build-dir build/release --merge docs/bench/results.json
"""
import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

import confluent_kafka
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from run import ROOT, Server, find_binary, free_port, log, port_open

sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
from tls_support import Pki  # noqa: E402  (the interop tests' certificates)

GOAL = 0.7  # fetch over TLS at least 0.7 x plaintext
MIB = 1024 * 1024
PARTITIONS = 16
RECORD_BYTES = 1024
# Workload 4's consumer settings (bench/workloads/4-catch-up-2gib.yaml): large fetches, a deep
# local queue, so that the consumer asks for the next bytes before it has parsed the last.
# Fetch responses of at most 16 MiB, though, not 50: see CLIENT_MALLOC.
CONSUMER_SETTINGS = {"fetch.wait.max.ms": 100, "max.partition.fetch.bytes": 1048576,
                     "fetch.max.bytes": 16777216, "queued.max.messages.kbytes": 262144}
# librdkafka receives each Fetch response into a buffer of its own size. glibc serves such big
# blocks with mmap() and hands them back with munmap(), so every response lands in pages never
# touched before, and on this VM (a PVM guest) a page fault costs so much that the consumer
# then reads about 150 MB/s over either listener. The reading process therefore runs with
# malloc keeping blocks up to 32 MiB in its heap and not trimming it: after the first few
# responses the buffers are reused, warm.
# Nagle's algorithm off in the client (librdkafka's default is on). Over TLS, kcat's consumer
# writes two small requests back to back (about 280 bytes each, strace); with Nagle on the
# second waits in the kernel until the first is ACKed, and each such round took about 60 ms:
# with 4 MiB Fetch responses a read was 20 times slower. Over plaintext the same setting made
# no difference. One extra read over TLS with librdkafka's default shows it (tls_default_client).
CLIENT_NO_NAGLE = {"socket.nagle.disable": "true"}
CLIENT_MALLOC = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"
TICKS = os.sysconf("SC_CLK_TCK")
ULP_PATH = "/proc/sys/net/ipv4/tcp_available_ulp"


def kernel_tls():
    """Whether the kernel offers kTLS (the `tls` ULP), and the ULPs it lists."""
    try:
        with open(ULP_PATH) as f:
            ulps = f.read().split()
    except OSError:
        return {"available": False, "ulps": None, "source": ULP_PATH + " unreadable"}
    return {"available": "tls" in ulps, "ulps": ulps, "source": ULP_PATH}


def thread_ticks(pid):
    """{thread id: (name, user + system clock ticks)} of every thread of process pid."""
    out = {}
    task_dir = f"/proc/{pid}/task"
    try:
        tids = os.listdir(task_dir)
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"{task_dir}/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (name, int(fields[11]) + int(fields[12]))
    return out


def process_seconds(pid):
    """User + system CPU seconds of process pid so far (its threads' included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def busiest(before, after, seconds):
    """(name, share of one CPU) of the thread that used the most CPU between two
    thread_ticks() readings `seconds` apart."""
    best = ("-", 0)
    for tid, (name, ticks) in after.items():
        used = ticks - before.get(tid, (name, 0))[1]
        if used > best[1]:
            best = (name, used)
    return best[0], best[1] / TICKS / seconds if seconds > 0 else None


def produce_backlog(bootstrap, topic, total_bytes):
    """Writes total_bytes of RECORD_BYTES records round robin over the partitions; returns the
    number of records acknowledged."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "1", "linger.ms": 20,
                         "batch.size": 1000000, "queue.buffering.max.kbytes": 262144,
                         "compression.type": "none"})
    errors = []

    def delivered(err, _message):
        if err is not None and len(errors) < 5:
            errors.append(str(err))

    payload = os.urandom(RECORD_BYTES)  # incompressible, the same for every record
    count = total_bytes // RECORD_BYTES
    for i in range(count):
        while True:
            try:
                producer.produce(topic, payload, partition=i % PARTITIONS, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10000 == 0:
            producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError("backlog: records still unacknowledged after 120 s")
    if errors:
        raise RuntimeError(f"backlog: produce failed: {errors}")
    del admin
    return count


def read_backlog(settings, topic, expected, broker_pid, timeout_s):
    """One fresh kcat (librdkafka's simple consumer, every partition from the start, exit at
    the end) reads the topic, with CLIENT_MALLOC; timed from its start to its exit, so the
    connection, TLS handshake and Metadata are in (a few ms)."""
    argv = ["kcat", "-C", "-b", settings["bootstrap.servers"], "-t", topic, "-o", "beginning",
            "-e", "-q", "-c", str(expected), "-f", "."]
    for key, value in list(CONSUMER_SETTINGS.items()) + list(settings.items()):
        if key != "bootstrap.servers":
            argv += ["-X", f"{key}={value}"]
    env = dict(os.environ, GLIBC_TUNABLES=CLIENT_MALLOC)
    broker_threads0, broker0 = thread_ticks(broker_pid), process_seconds(broker_pid)
    started = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return {"error": f"kcat did not finish in {timeout_s} s"}
    seconds = time.monotonic() - started
    broker_threads1, broker1 = thread_ticks(broker_pid), process_seconds(broker_pid)
    # The child's CPU time: wait() collected it into this process's RUSAGE_CHILDREN.
    usage = child.rusage if hasattr(child, "rusage") else None
    records = out.count(b".")
    if child.returncode != 0 or records != expected:
        return {"error": f"kcat exited with status {child.returncode} after {records} of "
                         f"{expected} records: {err.decode(errors='replace')[-500:]}"}
    return {"seconds": seconds, "records": records, "usage": usage,
            "broker_seconds": broker1 - broker0,
            "broker_threads": busiest(broker_threads0, broker_threads1, seconds)}


def timed_read(settings, topic, expected, broker_pid, timeout_s):
    """read_backlog with the reader's CPU time (from RUSAGE_CHILDREN) and rates per GB."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = read_backlog(settings, topic, expected, broker_pid, timeout_s)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if "error" in result:
        return result
    client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    seconds, size = result["seconds"], expected * RECORD_BYTES
    broker_thread, broker_share = result["broker_threads"]
    return {"bytes_per_second": size / seconds, "seconds": seconds, "records": expected,
            "bytes": size, "client_cpu_seconds_per_gb": client / (size / 1e9),
            "broker_cpu_seconds_per_gb": result["broker_seconds"] / (size / 1e9),
            "client_cpus": client / seconds, "broker_cpus": result["broker_seconds"] / seconds,
            "client_user_seconds": after.ru_utime - before.ru_utime,
            "client_system_seconds": after.ru_stime - before.ru_stime,
            "broker_busiest_thread": broker_thread, "broker_busiest_thread_cpus": broker_share}


def summary(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "values": values}


def limit_of(runs, cpus):
    """What held a listener's reads back, from the medians of its runs."""
    def med(key):
        values = [r[key] for r in runs if r.get(key) is not None]
        return statistics.median(values) if values else 0

    client, broker = med("client_cpus"), med("broker_cpus")
    broker_thread = med("broker_busiest_thread_cpus")
    name = statistics.mode([r["broker_busiest_thread"] for r in runs]) if runs else "-"
    if client + broker >= 0.9 * cpus:
        what = "machine"  # both CPUs busy: client and broker share them
    elif broker_thread >= 0.9:
        what = "broker thread"
    elif client >= 0.9:
        what = "client"  # kcat: its threads together use a CPU
    else:
        what = "neither CPU-bound"
    return {"limit": what, "client_cpus": client, "broker_cpus": broker,
            "broker_busiest_thread": name, "broker_busiest_thread_cpus": broker_thread}


def tls_version(port, ca):
    """The protocol and cipher the SSL listener negotiates with a default client."""
    context = ssl.create_default_context(cafile=ca)
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port), 10),
                             server_hostname="localhost") as sock:
        return f"{sock.version()} {sock.cipher()[0]}"


def measure(args):
    cairn = args.cairn or find_binary(args.build_dir, ["cairn"])
    measured_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="cairn-tls-bench-", dir=args.data_root)
    server = None
    try:
        pki = Pki(os.path.join(work, "pki"), name="Cairn Bench CA")
        cert, key = pki.issue("server", "/CN=localhost/O=Cairn Bench", server=True)
        plain_port, tls_port = free_port(), free_port()
        store = os.path.join(work, "data")
        os.makedirs(store)
        argv = [cairn, "serve",
                "--listeners", f"PLAINTEXT://127.0.0.1:{plain_port},SSL://127.0.0.1:{tls_port}",
                "--ssl-keystore-location", cert, "--ssl-key-location", key,
                "--admin-listen=127.0.0.1:0", "--data-dir", store]
        for setting in args.set or []:
            argv += ["--set", setting]
        server = Server("cairn", argv, plain_port, os.path.join(work, "server.log"))
        error = server.start()
        deadline = time.monotonic() + 10
        while error is None and not port_open(tls_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if error or not port_open(tls_port):
            raise RuntimeError(f"cairn {error or 'did not listen on its SSL port'}")
        negotiated = tls_version(tls_port, pki.ca_cert)
        tls_settings = {"bootstrap.servers": f"127.0.0.1:{tls_port}", "security.protocol": "ssl",
                        "ssl.ca.location": pki.ca_cert}
        listeners = {
            "plain": dict(CLIENT_NO_NAGLE, **{"bootstrap.servers": f"127.0.0.1:{plain_port}"}),
            "tls": dict(CLIENT_NO_NAGLE, **tls_settings),
        }
        topic = "tls-bench"
        log(f"tls overhead: producing {args.backlog_mib} MiB of {RECORD_BYTES}-byte records "
            f"over {PARTITIONS} partitions")
        produce_started = time.monotonic()
        expected = produce_backlog(listeners["plain"]["bootstrap.servers"], topic,
                                   args.backlog_mib * MIB)
        produce_seconds = time.monotonic() - produce_started
        log(f"tls overhead: backlog written in {produce_seconds:.1f} s; TLS is {negotiated}; "
            f"{args.runs} reads each, alternating")
        for mode in ("plain", "tls"):  # uncounted: the first read of the files, each listener
            result = timed_read(listeners[mode], topic, expected, server.pid, args.timeout)
            if "error" in result:
                raise RuntimeError(f"{mode} warm-up read: {result['error']}")
        runs = {"plain": [], "tls": []}
        started = time.monotonic()
        for run in range(args.runs):
            for mode in ("plain", "tls") if run % 2 == 0 else ("tls", "plain"):
                result = timed_read(listeners[mode], topic, expected, server.pid, args.timeout)
                runs[mode].append(result)
                if "error" in result:
                    log(f"  {mode} run {run + 1}: {result['error']}")
                else:
                    log(f"  {mode} run {run + 1}: {result['bytes_per_second'] / 1e6:.0f} MB/s "
                        f"in {result['seconds']:.2f} s; CPUs used: broker "
                        f"{result['broker_cpus']:.2f} (busiest thread "
                        f"{result['broker_busiest_thread_cpus']:.2f}), client "
                        f"{result['client_cpus']:.2f}")
        wall = time.monotonic() - started
        # librdkafka's default (Nagle on), once: see CLIENT_NO_NAGLE.
        default_client = timed_read(tls_settings, topic, expected, server.pid, args.timeout)
        if "error" not in default_client:
            log(f"  tls with Nagle on in the client: "
                f"{default_client['bytes_per_second'] / 1e6:.0f} MB/s")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    good = {mode: [r for r in results if "error" not in r] for mode, results in runs.items()}
    cpus = os.cpu_count()
    figures = {mode: {"runs": results,
                      "bytes_per_second": summary(good[mode], "bytes_per_second"),
                      "broker_cpu_seconds_per_gb": summary(good[mode],
                                                           "broker_cpu_seconds_per_gb"),
                      "client_cpu_seconds_per_gb": summary(good[mode],
                                                           "client_cpu_seconds_per_gb"),
                      "held_back_by": limit_of(good[mode], cpus)}
               for mode, results in runs.items()}
    plain, tls = figures["plain"]["bytes_per_second"], figures["tls"]["bytes_per_second"]
    pairs = [b["bytes_per_second"] / a["bytes_per_second"]
             for a, b in zip(runs["plain"], runs["tls"]) if "error" not in a and "error" not in b]
    return {
        "backlog_bytes": expected * RECORD_BYTES,
        "record_bytes": RECORD_BYTES,
        "partitions": PARTITIONS,
        "backlog_produce_seconds": produce_seconds,
        "client": f"kcat, librdkafka {confluent_kafka.libversion()[0]}",
        "tls": negotiated,
        "openssl": ssl.OPENSSL_VERSION,
        "kernel_tls": kernel_tls(),
        "kernel": os.uname().release,
        "settings": args.set or [],
        "goal": GOAL,
        "plain": figures["plain"],
        "tls_listener": figures["tls"],
        "ratio": tls["median"] / plain["median"] if plain and tls else None,
        "pair_ratios": pairs,
        "tls_default_client": default_client,
        "client_settings": dict(CONSUMER_SETTINGS, **CLIENT_NO_NAGLE),
        "client_malloc": CLIENT_MALLOC,
        "measured_at": measured_at,
        "wall_seconds": wall,
        "load_average_before": load,
        "cpus": cpus,
        "setup": "one broker, PLAINTEXT and SSL listeners; an uncounted read on each, then "
                 "reads alternating plain, tls, tls, plain, plain, tls, ...",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build/release"))
    parser.add_argument("--cairn", help="cairn binary (default: found in --build-dir)")
    parser.add_argument("--backlog-mib", type=int, default=1024, help="backlog to read, MiB")
    parser.add_argument("--runs", type=int, default=3, help="reads of each, alternating")
    parser.add_argument("--quick", action="store_true", help="256 MiB, 2 reads each")
    parser.add_argument("--timeout", type=float, default=120, help="seconds one read may take")
    parser.add_argument("--set", action="append", help="KEY=VALUE for cairn serve --set")
    parser.add_argument("--data-root", help="where the broker's data directory goes")
    parser.add_argument("--out", help="write the figures to this JSON file")
    parser.add_argument("--merge", help="add them to this results JSON file of bench/run.py")
    args = parser.parse_args()
    if args.quick:
        args.backlog_mib, args.runs = min(args.backlog_mib, 256), min(args.runs, 2)
    # `timeout` in scripts/run-bench.sh: stop the broker (measure's finally) on SIGTERM too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    figures = measure(args)
    plain, tls = figures["plain"]["bytes_per_second"], figures["tls_listener"]["bytes_per_second"]
    ktls = "available" if figures["kernel_tls"]["available"] else "not available"
    if plain and tls:
        log(f"tls overhead: plaintext {plain['median'] / 1e6:.0f} MB/s "
            f"({plain['min'] / 1e6:.0f}-{plain['max'] / 1e6:.0f}), "
            f"TLS {tls['median'] / 1e6:.0f} MB/s ({tls['min'] / 1e6:.0f}-{tls['max'] / 1e6:.0f}): "
            f"{figures['ratio']:.3f}x (goal >= {GOAL}x); per pair "
            + ", ".join(f"{p:.3f}" for p in figures["pair_ratios"])
            + f"; held back by: plaintext {figures['plain']['held_back_by']['limit']}, "
            f"TLS {figures['tls_listener']['held_back_by']['limit']}; kernel TLS {ktls}")
    else:
        log("tls overhead: no figures (see the errors above)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(figures, f, indent=1)
    if args.merge:
        with open(args.merge) as f:
            results = json.load(f)
        results["tls_overhead"] = figures
        with open(args.merge, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    return 0 if plain and tls else 1


if __name__ == "__main__":
    sys.exit(main())

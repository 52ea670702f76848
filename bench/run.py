#!/usr/bin/env python3
"""bench/run.py: the benchmark run behind `make bench` (see bench/README.md).

Measures the machine's physical references (loopback TCP with iperf3, sequential write +
fdatasync with fio), then for each system variant (Cairn, NATS JetStream default and synced,
Redis Streams with AOF everysec and always): fills the page cache (PageCacheFill), starts the
system on loopback with a fresh data directory, runs every workload file that names the
variant's role through the cairn-bench harness, and stops it. Writes everything to one JSON
file, which bench/render.py turns into docs/benchmarks.md.

Bounded in time: the estimated total is scaled down to fit --budget-seconds, and anything that
would still run past the deadline is skipped and recorded as skipped.
"""
import argparse
import fnmatch
import glob
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START = time.monotonic()
MIB = 1024 * 1024
GIB = 1024 * MIB
# Workloads run in this order of kind: the memory readings of many_partitions first, on a
# fresh process, and the big catch-up backlog last.
KIND_ORDER = ["many_partitions", "max_rate_produce", "fixed_rate_latency", "catch_up"]


def log(message):
    print(f"[bench {time.monotonic() - START:6.1f}s] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def proc_status_bytes(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class Server:
    """One system under test: our own child process, stopped by its own pid."""

    def __init__(self, name, argv, port, log_path):
        self.name, self.argv, self.port, self.log_path = name, argv, port, log_path
        self.process = None

    def start(self, timeout_s=20):
        log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(self.argv, stdout=log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"exited with status {self.process.returncode}: {tail(self.log_path)}"
            if port_open(self.port):
                return None
            time.sleep(0.1)
        return f"did not listen on 127.0.0.1:{self.port} within {timeout_s} s"

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_json(argv, timeout_s):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    return json.loads(out.stdout)


# ---------------------------------------------------------------- physical references

def measure_loopback_tcp(runs, seconds):
    if not shutil.which("iperf3"):
        return {"error": "iperf3 not installed"}
    values = []
    for _ in range(runs):
        port = free_port()
        server = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)  # no connect probe: a one-off (-1) server would take it as the test
            result = run_json(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds),
                               "-J"], seconds + 30)
            values.append(result["end"]["sum_received"]["bits_per_second"] / 8)
        finally:
            try:
                server.wait(timeout=10)  # -1: the server exits after one test
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return {"tool": "iperf3, 1 TCP stream over 127.0.0.1, 128 KiB writes, "
                    f"{seconds} s per run", "bytes_per_second": values}


def measure_disk(runs, size_bytes, directory):
    if not shutil.which("fio"):
        return {"error": "fio not installed"}
    values = []
    for _ in range(runs):
        result = run_json(["fio", "--name=seqwrite-fdatasync", f"--directory={directory}",
                           "--rw=write", "--bs=1M", f"--size={size_bytes}", "--ioengine=psync",
                           "--fdatasync=1", "--end_fsync=1", "--unlink=1",
                           "--output-format=json"], 300)
        values.append(result["jobs"][0]["write"]["bw_bytes"])
    return {"tool": f"fio, sequential 1 MiB buffered writes, fdatasync after each, "
                    f"{size_bytes // MIB} MiB per run, on the data directory's disk",
            "bytes_per_second": values}


class PageCacheFill:
    """Keeps the page cache full while the systems run, as on a server that has been up for a
    while, by reading a sparse file as large as RAM (holes read as zeros: page-cache pages with
    no disk I/O and no disk space). On a fresh VM, free memory may not be backed by the host
    yet (or was handed back by free page reporting), and the first touch of each page costs a
    trip to the hypervisor: a system writing into a growing page cache then runs at that rate
    (~0.4-0.6 GB/s here) instead of its own, and whichever system runs first gets the warm
    pages. With the cache full, new pages come from reclaiming this file's clean pages, which
    are warm. The first read's rate is kept as a reference (the cost of new pages)."""

    STEP = GIB
    # Bigger machines are left partly unfilled: reading hundreds of GiB would not fit the time
    # budget, and the bench writes less than this per system.
    SIZE_MAX = 64 * GIB

    def __init__(self, directory):
        self.path = os.path.join(directory, "page-cache-fill")
        with open("/proc/meminfo") as f:
            self.size = min(int(f.readline().split()[1]) * 1024, self.SIZE_MAX)  # MemTotal
        with open(self.path, "wb") as f:
            f.truncate(self.size)

    def fill(self):
        """Reads the whole file; returns the read rate of each 1 GiB step."""
        rates = []
        buffer = bytearray(MIB)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            done = 0
            while done < self.size:
                started, step = time.monotonic(), 0
                while step < self.STEP and done < self.size:
                    got = os.readv(fd, [buffer])
                    if got <= 0:
                        return rates
                    step += got
                    done += got
                rates.append(step / max(time.monotonic() - started, 1e-9))
        finally:
            os.close(fd)
        return rates

    def remove(self):
        try:
            os.remove(self.path)
        except OSError:
            pass


# ---------------------------------------------------------------- systems

def version_of(argv):
    """The version word of `nats-server --version` ("v2.9.10") or `redis-server --version`."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        words = (out.stdout or out.stderr).split()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    for word in words:
        if word.startswith("v=") or (word.startswith("v") and word[1:2].isdigit()):
            return word.removeprefix("v=").removeprefix("v")
    return "unknown"


def git_version():
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return f"git {out.stdout.strip()}" if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def variant_list(args):
    nats_version = version_of(["nats-server", "--version"])
    redis_version = version_of(["redis-server", "--version"])
    return [
        {"id": "cairn", "label": "Cairn", "role": "cairn", "driver": "kafka",
         "version": git_version(), "durability_short": "acks=all: fsync before ack",
         "durability": "acks=all: the broker fsyncs (group commit) before it answers; "
                       "acks=1: it answers once the batch is written to the OS"},
        {"id": "nats", "label": "NATS JetStream (default)", "role": "peer_default",
         "driver": "nats", "version": nats_version, "durability_short": "no fsync (every 2 min)",
         "durability": "file store; publish acked once written to the OS, background fsync "
                       "every 2 minutes (the default); max_pending raised to 1 GiB"},
        {"id": "nats-sync", "label": "NATS JetStream (sync every write)",
         "role": "peer_durable", "driver": "nats", "version": nats_version,
         "durability_short": "every write synchronous",
         "durability": "file store on an ext4 loop device mounted -o sync, so every write "
                       "is synchronous (Debian's nats-server 2.9 has no sync_interval: always; "
                       "the loop device adds its own journal, so this is pessimistic)"},
        {"id": "redis", "label": "Redis Streams (AOF everysec)", "role": "peer_default",
         "driver": "redis", "version": redis_version, "durability_short": "fsync every second",
         "durability": "append-only file, fsync once a second (appendfsync everysec)"},
        {"id": "redis-always", "label": "Redis Streams (AOF always)", "role": "peer_durable",
         "driver": "redis", "version": redis_version, "durability_short": "fsync before reply",
         "durability": "append-only file, fsync before replying (appendfsync always)"},
    ]


def make_server(variant, data_dir, store, args):
    port = free_port()
    log_path = os.path.join(data_dir, "server.log")
    os.makedirs(store, exist_ok=True)
    if variant["id"] == "cairn":
        argv = [args.cairn, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", store]
    elif variant["driver"] == "nats":
        config = os.path.join(data_dir, "nats.conf")
        with open(config, "w") as f:
            # max_pending: the server's per-client send buffer, 64 MB by default. A catch-up
            # reader with 16 push consumers outruns it and the server drops the connection as a
            # slow consumer; 1 GiB lets the read finish.
            f.write(f'listen: "127.0.0.1:{port}"\nmax_pending: {GIB}\n'
                    f'jetstream {{\n  store_dir: "{store}"\n}}\n')
        argv = ["nats-server", "-c", config]
    else:
        fsync = "always" if variant["id"] == "redis-always" else "everysec"
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", store,
                "--appendonly", "yes", "--appendfsync", fsync, "--save", "",
                "--protected-mode", "no", "--daemonize", "no"]
    return Server(variant["id"], argv, port, log_path)


class SyncMount:
    """An ext4 file system on a loop device, mounted -o sync, for the synced NATS variant."""

    def __init__(self, directory):
        self.image = os.path.join(directory, "sync.img")
        self.mountpoint = os.path.join(directory, "mnt")
        self.mounted = False

    def mount(self):
        if os.geteuid() != 0:
            return "needs root to mount a loop device"
        if not shutil.which("mkfs.ext4"):
            return "mkfs.ext4 not installed"
        os.makedirs(self.mountpoint, exist_ok=True)
        with open(self.image, "wb") as f:
            f.truncate(8 * GIB)
        steps = [["mkfs.ext4", "-q", "-F", self.image],
                 ["mount", "-o", "loop,sync", self.image, self.mountpoint]]
        for step in steps:
            out = subprocess.run(step, capture_output=True, text=True)
            if out.returncode != 0:
                return f"{' '.join(step)}: {out.stderr.strip()}"
        self.mounted = True
        return None

    def unmount(self):
        if self.mounted:
            subprocess.run(["umount", self.mountpoint], capture_output=True)
            self.mounted = False
        if os.path.exists(self.image):
            os.remove(self.image)


def redis_flushall(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
            s.recv(64)
    except OSError as e:
        log(f"redis FLUSHALL failed: {e}")


# ---------------------------------------------------------------- workloads

def load_workloads(args):
    """The workload files, in running order; with --workloads, only those whose name matches
    one of its comma-separated patterns (fnmatch: `max-rate-*,catch-up-2gib`)."""
    patterns = args.workloads.split(",") if args.workloads else ["*"]
    workloads = []
    for path in sorted(glob.glob(os.path.join(ROOT, "bench", "workloads", "*.yaml"))):
        argv = [args.harness, "describe", "--workload", path] + (["--quick"] if args.quick else [])
        w = run_json(argv, 30)
        if not any(fnmatch.fnmatchcase(w["name"], p) for p in patterns):
            continue
        w["path"] = path
        workloads.append(w)
    if not workloads:
        sys.exit(f"bench: no workload matches --workloads {args.workloads}")
    workloads.sort(key=lambda w: KIND_ORDER.index(w["kind"]))
    return workloads


def backlog_for(w, backlog_cap):
    """A catch-up workload's backlog: its own, lowered to the cap when the disk or memory is
    short (0: no cap, as in quick runs)."""
    if not backlog_cap:
        return w["backlog_bytes"]
    return min(w["backlog_bytes"], backlog_cap)


def estimate_seconds(w, scale, backlog_cap):
    """Rough wall time of one workload on one system (topic set-up, probes and drains
    included), from the quick runs on a 2-vCPU machine."""
    per_run = (w["warmup_seconds"] + w["duration_seconds"]) * scale
    if w["kind"] == "catch_up":
        backlog = backlog_for(w, backlog_cap)
        return 10 + backlog / 100e6 + w["runs"] * (2 + backlog / 200e6)
    if w["kind"] == "many_partitions":
        return w["runs"] * (per_run + w["settle_seconds"] + 5)
    return w["runs"] * (per_run + 2)


def plan(workloads, variants, args, backlog_cap):
    """(variant, workload) pairs to run, and the duration scale that fits the budget."""
    pairs = [(v, w) for v in variants for w in workloads if v["role"] in w["systems"]]
    fixed = 40 + 8 * len(variants)  # references, start-up, probes

    def total(scale):
        return fixed + sum(estimate_seconds(w, scale, backlog_cap) for _, w in pairs)

    scale = 1.0
    while total(scale) > args.budget_seconds and scale > 0.4:
        scale = round(scale - 0.05, 2)
    return pairs, scale, total(scale)


def choose_backlog(args, data_root, workloads):
    """The cap on catch-up backlogs: the largest workload's backlog (2 GiB) unless the disk or
    memory is short; each catch-up workload builds its own backlog up to this cap."""
    wanted = max([w["backlog_bytes"] for w in workloads if w["kind"] == "catch_up"] or [0])
    free_disk = shutil.disk_usage(data_root).free
    with open("/proc/meminfo") as f:
        meminfo = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
    available_memory = meminfo.get("MemAvailable", 0)
    # One system's data at a time (deleted after each), Redis holds the backlog in memory too.
    fits = min((free_disk - 4 * GIB) // 3, (available_memory - 2 * GIB) // 3)
    backlog = min(wanted, max(0, fits)) // MIB * MIB
    note = None
    if backlog < wanted:
        note = (f"backlog lowered from {wanted // MIB} MiB to {backlog // MIB} MiB: "
                f"{free_disk // GIB} GiB disk free, {available_memory // GIB} GiB memory free")
    return backlog, note


def run_workload(variant, server, w, args, scale, backlog_cap, out_dir, deadline, run=None):
    """One harness call for `w`: all its runs, or with `run` (0, 1, ...) that one run alone."""
    estimate = estimate_seconds(w if run is None else dict(w, runs=1), scale, backlog_cap)
    if time.monotonic() + estimate > deadline:
        return {"status": "skipped", "error": "time budget exhausted"}
    suffix = "" if run is None else f"-{run}"
    out_path = os.path.join(out_dir, f"{variant['id']}-{w['name']}{suffix}.json")
    argv = [args.harness, "run", "--system", variant["driver"], "--address",
            f"127.0.0.1:{server.port}", "--workload", w["path"], "--broker-pid", str(server.pid),
            "--label", variant["label"], "--out", out_path,
            "--duration-scale", str(scale)]
    if args.quick:
        argv.append("--quick")
    if run is not None:
        argv += ["--runs", "1"]
    if w["kind"] == "catch_up" and backlog_for(w, backlog_cap) < w["backlog_bytes"]:
        argv += ["--backlog-bytes", str(backlog_for(w, backlog_cap))]
    log(f"  {w['name']}{'' if run is None else f' run {run + 1}'} (about {estimate:.0f} s)")
    started = time.monotonic()
    # In an alternating pair only the first run is profiled, and a catch-up run alone not at
    # all: it is over before the profiler's 5 s delay, and would only wait for `perf report`.
    profiled = run is None or (run == 0 and w["kind"] != "catch_up")
    profiler = Profiler.start(variant, server, w, args, scale, out_dir) if profiled else None
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=estimate * 2 + 120)
        stderr = out.stderr
    except subprocess.TimeoutExpired as e:
        return {"status": "error", "error": f"harness timed out after {e.timeout:.0f} s"}
    finally:
        profile = profiler.finish() if profiler else None
    try:
        with open(out_path) as f:
            result = json.load(f)
    except (OSError, ValueError):
        how = (f"killed by signal {-out.returncode}" if out.returncode < 0
               else f"exit status {out.returncode}")
        result = {"status": "error",
                  "error": f"harness wrote no results ({how}): {stderr[-2000:]}"}
    result["wall_seconds"] = time.monotonic() - started
    if profile:
        result["broker_profile"] = profile
    if result.get("status") != "ok":
        log(f"    error: {result.get('error')}")
    return result


def schedule(workloads):
    """The workloads in running order as (workload, partner) pairs. A workload that another
    one is compared with (its compare_with) runs together with it, in its own place; partner
    is None for the others."""
    names = {w["name"] for w in workloads}
    partners = {w["compare_with"]: w for w in workloads if w.get("compare_with") in names}
    return [(w, partners.get(w["name"])) for w in workloads
            if w.get("compare_with") not in names]


def combine_runs(parts, partner_name):
    """One workload's result from its one-run harness calls (run_pair)."""
    ok = [p for p in parts if p.get("status") == "ok"]
    if not ok:
        return parts[0]
    out = dict(ok[0])
    out["runs"] = [run for p in ok for run in p["runs"]]
    out["wall_seconds"] = sum(p.get("wall_seconds", 0) for p in parts)
    out["interleaved_with"] = partner_name
    if "fill" in out:
        out["fills"] = [p["fill"] for p in ok]
    failed = [p.get("error", p.get("status")) for p in parts if p.get("status") != "ok"]
    if failed:
        out["run_errors"] = failed
    return out


def run_pair(variant, server, reference, compared, args, scale, backlog_cap, out_dir,
             deadline):
    """A workload and its reference (compare_with), one run at a time, alternately, so that
    a machine busy with something else for a while slows both alike rather than one of them.
    A catch-up workload builds a fresh backlog for each run then."""
    parts = {reference["name"]: [], compared["name"]: []}
    for run in range(max(reference["runs"], compared["runs"])):
        for w in (reference, compared):
            if run < w["runs"] and server.process.poll() is None:
                parts[w["name"]].append(run_workload(variant, server, w, args, scale,
                                                     backlog_cap, out_dir, deadline, run))
    other = {reference["name"]: compared["name"], compared["name"]: reference["name"]}
    return {name: (combine_runs(results, other[name]) if results else
                   {"status": "skipped", "error": "the server had exited"})
            for name, results in parts.items()}


class Profiler:
    """perf samples of Cairn's process in the middle of a throughput workload, so that a goal
    not met comes with a profile of where the broker's time goes."""

    KINDS = ("max_rate_produce", "catch_up")

    def __init__(self, process, data_path):
        self.process, self.data_path = process, data_path

    @classmethod
    def start(cls, variant, server, w, args, scale, out_dir):
        if variant["id"] != "cairn" or args.no_profile or w["kind"] not in cls.KINDS:
            return None
        if not shutil.which("perf"):
            return None
        if w["kind"] == "catch_up":
            delay, seconds = 5, 5  # inside the backlog build
        else:
            delay = w["warmup_seconds"] * scale + 1
            seconds = max(1, min(5, w["duration_seconds"] * scale - 2))
        data_path = os.path.join(out_dir, f"perf-{w['name']}.data")
        command = (f"sleep {delay:.1f}; exec perf record -F 499 -g -p {server.pid} "
                   f"-o {data_path} -- sleep {seconds:.1f}")
        process = subprocess.Popen(["sh", "-c", command], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        return cls(process, data_path)

    def finish(self):
        # The workload is over: a profile still waiting for its start would only sample an idle
        # broker, and a recording one has what there was to see. SIGINT stops both (perf
        # writes its data file first), so a short workload is not kept waiting for them.
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None
        if not os.path.exists(self.data_path):
            return None
        try:
            out = subprocess.run(["perf", "report", "-i", self.data_path, "--stdio",
                                  "--no-children", "--sort", "dso,symbol", "-g", "none",
                                  "--percent-limit", "1"], capture_output=True, text=True,
                                 timeout=120)
        except subprocess.TimeoutExpired:
            return None
        finally:
            os.remove(self.data_path)
        top = []
        for line in out.stdout.splitlines():
            words = line.split()
            if not words or not words[0].endswith("%") or not words[0][0].isdigit():
                continue
            while words and words[-1] == "-":  # perf's empty columns
                words.pop()
            top.append(" ".join(words))
        return top[:20] or None


def run_workloads(variant, server, workloads, args, scale, backlog_cap, out_dir, deadline):
    """Runs `workloads` on the started server, a compared pair together; {name: result}."""
    results = {}
    for w, partner in schedule(workloads):
        if server.process.poll() is not None:
            for name in [w["name"]] + ([partner["name"]] if partner else []):
                results[name] = {"status": "skipped", "error": "the server had exited"}
            continue
        if variant["driver"] == "redis":
            redis_flushall(server.port)
        if partner is not None:
            results.update(run_pair(variant, server, w, partner, args, scale, backlog_cap,
                                    out_dir, deadline))
            continue
        results[w["name"]] = run_workload(variant, server, w, args, scale, backlog_cap, out_dir,
                                          deadline)
    return results


def run_variant(variant, pairs, args, scale, backlog_cap, data_root, out_dir, deadline):
    result = dict(variant)
    result.update({"status": "ok", "workloads": {}})
    mine = [w for v, w in pairs if v is variant]
    if not mine:
        result["status"] = "skipped"
        return result
    if time.monotonic() + 30 > deadline:
        result.update({"status": "skipped", "error": "time budget exhausted"})
        return result
    data_dir = tempfile.mkdtemp(prefix=f"{variant['id']}-", dir=data_root)
    mount = SyncMount(data_dir) if variant["id"] == "nats-sync" else None
    server = None
    try:
        if variant["id"] == "cairn" and not os.access(args.cairn, os.X_OK):
            result.update({"status": "cairn: not yet able to produce",
                           "error": f"{args.cairn} is not built"})
            log(f"Cairn: not yet able to produce ({args.cairn} is not built)")
            return result
        if mount is not None:
            problem = mount.mount()
            if problem:
                result.update({"status": "skipped", "error": problem})
                return result
            store = os.path.join(mount.mountpoint, "store")
        else:
            store = os.path.join(data_dir, "store")
        server = make_server(variant, data_dir, store, args)
        log(f"{variant['label']}: starting {' '.join(server.argv)}")
        problem = server.start()
        if problem:
            status = ("cairn: not yet able to produce" if variant["id"] == "cairn"
                      else "error")
            result.update({"status": status, "error": f"did not start: {problem}"})
            return result
        time.sleep(2)
        result["idle_rss_bytes"] = proc_status_bytes(server.pid, "VmRSS")
        if variant["id"] == "cairn":
            probe = subprocess.run([args.harness, "probe", "--system", "kafka", "--address",
                                    f"127.0.0.1:{server.port}"], capture_output=True, text=True,
                                   timeout=60)
            if probe.returncode != 0:
                result.update({"status": "cairn: not yet able to produce",
                               "error": probe.stderr.strip()[-1000:],
                               "server_log_tail": tail(server.log_path)})
                log(f"  cairn: not yet able to produce: {probe.stderr.strip()[-300:]}")
                return result
        result["workloads"] = run_workloads(variant, server, mine, args, scale, backlog_cap,
                                            out_dir, deadline)
        result["peak_rss_bytes"] = proc_status_bytes(server.pid, "VmHWM")
        if server.process.poll() is not None:
            result.update({"status": "error", "error": "the server exited during the run",
                           "server_log_tail": tail(server.log_path)})
        return result
    finally:
        if server is not None:
            server.stop()
        if mount is not None:
            mount.unmount()
        shutil.rmtree(data_dir, ignore_errors=True)


def merge_into(path, fresh):
    """The results in `path` with the freshly measured systems replacing theirs (--merge:
    re-measuring some systems after a fix without re-running everything). The physical
    references and the other systems stay as they were; each replaced entry says when it was
    measured."""
    with open(path) as f:
        merged = json.load(f)
    by_id = {s["id"]: s for s in fresh["systems"]}
    for system in by_id.values():
        system["remeasured_at"] = fresh["started_at"]
    merged["systems"] = [by_id.pop(s["id"], s) for s in merged["systems"]] + list(by_id.values())
    return merged


def merge_workloads_into(path, fresh):
    """The results in `path` with the freshly measured workloads added or replacing theirs,
    system by system (--merge --workloads: adding a workload, or re-measuring one, without
    re-running the rest). Everything else stays as it was; each merged workload result says
    when it was measured, at what duration scale and machine load, and `merges` lists the
    merges."""
    with open(path) as f:
        merged = json.load(f)
    names = [w["name"] for w in fresh["workloads"]]
    definitions = {w["name"]: w for w in fresh["workloads"]}
    kept = [definitions.pop(w["name"], w) for w in merged["workloads"]]
    merged["workloads"] = kept + list(definitions.values())
    merged["workloads"].sort(key=lambda w: KIND_ORDER.index(w["kind"]))
    old_systems = {s["id"]: s for s in merged["systems"]}
    for system in fresh["systems"]:
        if system.get("status") == "skipped" and not system.get("workloads"):
            continue  # none of the merged workloads runs on it
        old = old_systems.get(system["id"])
        if old is None:
            merged["systems"].append(system)
            continue
        for name, result in system.get("workloads", {}).items():
            result["measured_at"] = fresh["started_at"]
            result["duration_scale"] = fresh.get("duration_scale")
            result["load_average_before"] = system.get("load_average_before")
            old.setdefault("workloads", {})[name] = result
        if system.get("status") != "ok" and old.get("status") == "ok":
            old["merge_error"] = f"{system.get('status')}: {system.get('error', '')}"
    merged.setdefault("merges", []).append({
        "at": fresh["started_at"], "workloads": names,
        "systems": [s["id"] for s in fresh["systems"]],
        "duration_scale": fresh.get("duration_scale"), "quick": fresh.get("quick"),
        "load_average_at_start": fresh.get("machine", {}).get("load_average_at_start"),
        "wall_seconds": fresh.get("wall_seconds")})
    return merged


def find_binary(build_dir, candidates):
    """The first candidate that exists under build_dir (the first one if none does)."""
    for candidate in candidates:
        path = os.path.join(build_dir, candidate)
        if os.access(path, os.X_OK):
            return path
    return os.path.join(build_dir, candidates[0])


def machine_info(data_root):
    info = {"kernel": platform.release(), "cpus": os.cpu_count(),
            "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["memory_bytes"] = int(f.readline().split()[1]) * 1024
        with open("/proc/loadavg") as f:
            info["load_average_at_start"] = f.read().split()[:3]
    except OSError:
        pass
    info["data_disk_free_bytes"] = shutil.disk_usage(data_root).free
    return info


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="development run: the workloads' quick: settings, 1 run each")
    parser.add_argument("--budget-seconds", type=float, default=840)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build/release"),
                        help="where cairn and cairn-bench are built (the release preset)")
    parser.add_argument("--harness", help="cairn-bench (default: found in --build-dir)")
    parser.add_argument("--cairn", help="the cairn binary (default: found in --build-dir)")
    parser.add_argument("--only", help="comma-separated variant ids (cairn,nats,nats-sync,"
                                       "redis,redis-always)")
    parser.add_argument("--workloads", help="comma-separated workload names to run, fnmatch "
                                            "patterns allowed (default: every workload file)")
    parser.add_argument("--merge", action="store_true",
                        help="replace only the measured systems in an existing --out file; with "
                             "--workloads, only those workloads of those systems")
    parser.add_argument("--plan-only", action="store_true",
                        help="print what would run and the time estimates, run nothing")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the perf profile of Cairn during throughput workloads")
    parser.add_argument("--no-page-cache-fill", action="store_true",
                        help="do not fill the page cache before each system (see PageCacheFill;"
                             " quick runs never fill it)")
    parser.add_argument("--data-root", default=os.path.join(ROOT, "build/bench-data"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs/bench/results.json"))
    return parser.parse_args()


def main():
    args = parse_arguments()
    args.harness = args.harness or find_binary(args.build_dir, ["bench/harness/cairn-bench",
                                                                "cairn-bench"])
    args.cairn = args.cairn or find_binary(args.build_dir, ["cairn", "src/main/cairn"])
    for tool in [args.harness]:
        if not os.access(tool, os.X_OK):
            sys.exit(f"bench: {tool} is not built (cmake --build --preset release)")
    os.makedirs(args.data_root, exist_ok=True)
    deadline = START + args.budget_seconds

    results = {"started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": args.quick,
               "machine": machine_info(args.data_root), "systems": []}
    runs = 1 if args.quick else 3
    # A merge keeps the references of the file it merges into.
    if not (args.plan_only or args.merge):
        log("physical references")
        results["loopback_tcp"] = measure_loopback_tcp(runs, 1 if args.quick else 3)
        results["disk_write_fdatasync"] = measure_disk(runs, 64 * MIB if args.quick
                                                       else 256 * MIB, args.data_root)
    workloads = load_workloads(args)
    backlog, backlog_note = choose_backlog(args, args.data_root, workloads)
    variants = variant_list(args)
    if args.only:
        variants = [v for v in variants if v["id"] in args.only.split(",")]
    pairs, scale, estimate = plan(workloads, variants, args,
                                  0 if args.quick else backlog)
    log(f"{len(pairs)} workload runs, duration scale {scale}, about {estimate:.0f} s")
    if args.plan_only:
        for v, w in pairs:
            cap = 0 if args.quick else backlog
            log(f"  {v['id']:13} {w['name']:28} ~{estimate_seconds(w, scale, cap):.0f} s")
        return
    results.update({"duration_scale": scale, "backlog_bytes": backlog,
                    "backlog_note": backlog_note,
                    "workloads": [{k: v for k, v in w.items() if k != "path"}
                                  for w in workloads]})
    out_dir = tempfile.mkdtemp(prefix="results-", dir=args.data_root)
    page_cache = None
    if not (args.quick or args.no_page_cache_fill):
        page_cache = PageCacheFill(args.data_root)
    try:
        for i, variant in enumerate(variants):
            if page_cache is not None:
                started = time.monotonic()
                rates = page_cache.fill()
                log(f"page cache filled ({page_cache.size / GIB:.0f} GiB sparse file) in "
                    f"{time.monotonic() - started:.0f} s")
                if i == 0:
                    results["page_cache_fill"] = {
                        "tool": f"first read of a sparse file as large as RAM "
                                f"({page_cache.size / GIB:.0f} GiB): new page-cache pages, "
                                "no disk I/O; rate of each 1 GiB step",
                        "bytes_per_second": rates}
            with open("/proc/loadavg") as f:
                load = f.read().split()[:3]
            entry = run_variant(variant, pairs, args, scale, 0 if args.quick else backlog,
                                args.data_root, out_dir, deadline)
            entry["load_average_before"] = load
            results["systems"].append(entry)
    finally:
        if page_cache is not None:
            page_cache.remove()
    results["wall_seconds"] = time.monotonic() - START
    if args.merge:
        results = (merge_workloads_into(args.out, results) if args.workloads
                   else merge_into(args.out, results))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()

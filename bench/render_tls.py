"""bench/render_tls.py: the "TLS" section of docs/benchmarks.md (bench/tls_overhead.py: consumer
catch-up over a broker's SSL listener beside its PLAINTEXT listener) and its goal row."""
from render_support import check, mb, ratio, table, with_range


def triple(summary):
    return (summary["median"], summary["min"], summary["max"]) if summary else None


def median(figures, mode, key="bytes_per_second"):
    summary = (figures.get(mode) or {}).get(key)
    return summary["median"] if summary else None


def tls_goal_rows(results):
    figures = results.get("tls_overhead")
    if not figures:
        return []
    plain, tls = median(figures, "plain"), median(figures, "tls_listener")
    return [[f"fetch over TLS ≥ {figures['goal']} × plaintext",
             mb(tls) + " MB/s" if tls else "–", ratio(tls, plain) + " of plaintext",
             check(tls, plain and figures["goal"] * plain)]]


def held_back(held):
    """What limited one listener's reads, in words."""
    if not held:
        return "–"
    what = {"machine": "both CPUs (broker + client)",
            "client": "the client's CPU",
            "broker thread": "one broker thread",
            "neither CPU-bound": "neither side's CPU"}.get(held["limit"], held["limit"])
    return (f"{what}: CPUs used, broker {held['broker_cpus']:.2f} (busiest thread "
            f"{held['broker_busiest_thread_cpus']:.2f}) + client {held['client_cpus']:.2f}")


def section_tls(results):
    figures = results.get("tls_overhead")
    if not figures:
        return None
    plain = median(figures, "plain")
    lines = []
    for mode, label in [("plain", "PLAINTEXT (sendfile)"), ("tls_listener", "SSL")]:
        f = figures[mode]
        rate = triple(f["bytes_per_second"])
        lines.append([label, len([r for r in f["runs"] if "error" not in r]),
                      with_range(rate, mb), ratio(rate[0] if rate else None, plain),
                      with_range(triple(f["broker_cpu_seconds_per_gb"]), lambda v: f"{v:.2f}"),
                      with_range(triple(f["client_cpu_seconds_per_gb"]), lambda v: f"{v:.2f}"),
                      held_back(f.get("held_back_by"))])
    notes = []
    pairs = ", ".join(f"{p:.2f}" for p in figures.get("pair_ratios", []))
    if pairs:
        notes.append(f"The ratio of each pair of reads taken one after the other: {pairs}.")
    default = figures.get("tls_default_client") or {}
    if default.get("bytes_per_second"):
        notes.append(
            "The consumer runs with `socket.nagle.disable=true`. With librdkafka's default "
            f"(Nagle on) one read over TLS ran at {mb(default['bytes_per_second'])} MB/s "
            f"({ratio(default['bytes_per_second'], plain)} of plaintext): over TLS the consumer "
            "writes two small requests back to back, and with Nagle on the second waits until "
            "the first is ACKed, about 60 ms per round (with 4 MiB Fetch responses, reads were "
            "20 times slower); over plaintext the setting made no difference.")
    notes.append("The consumer also runs with glibc's malloc keeping blocks up to 32 MiB in its "
                 "heap (`GLIBC_TUNABLES`): by default librdkafka's Fetch response buffers are "
                 "mmap()ed and unmapped each time, and on this VM the page faults on fresh "
                 "memory held either listener to about 150 MB/s.")
    ktls = figures.get("kernel_tls") or {}
    ulps = " ".join(ktls.get("ulps") or []) or "none"
    notes.append("Kernel TLS: " + ("available" if ktls.get("available") else "not available")
                 + f" on this machine (kernel {figures.get('kernel', '?')}; "
                 f"`/proc/sys/net/ipv4/tcp_available_ulp` lists: {ulps}); Cairn does not use it "
                 "(OpenSSL 3 can hand a connection's record encryption to the kernel, which "
                 "would let TLS listeners keep `sendfile`).")
    if figures.get("load_average_before") is not None:
        notes.append(f"The machine's 1-minute load average was "
                     f"{figures['load_average_before']:.1f} on {figures['cpus']} CPUs when they "
                     "started.")
    mib = figures["backlog_bytes"] / (1024 * 1024)
    backlog = f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"
    record = figures["record_bytes"]
    record = f"{record // 1024} KiB" if record % 1024 == 0 else f"{record:,}-byte"
    return ("## TLS\n\n"
            f"Consumer catch-up, one consumer reading a {backlog} backlog of {record} records "
            f"over {figures['partitions']} partitions "
            "from one Cairn broker with two listeners, PLAINTEXT and SSL "
            f"({figures['tls']}, {figures['openssl']}, a server certificate made with the "
            "`openssl` command; no client certificates). The backlog is produced once, through "
            "the plaintext listener; then a fresh consumer "
            f"({figures['client']}, 1 MiB per partition and 16 MiB per Fetch) reads all of it "
            "from the start and exits; read MB/s runs from its start to its exit (connecting "
            "and the TLS handshake take a few ms of that). Both listeners read the same files "
            "from the page cache: the plaintext listener hands them to `sendfile()`, the SSL "
            "listener reads them into a buffer and encrypts them. After an uncounted read on "
            "each, reads alternate (plaintext, SSL, SSL, plaintext, ...) so that a busy machine "
            "slows both alike (`bench/tls_overhead.py`); measured in a minute of their own "
            f"({figures.get('measured_at', 'after the rest')}), so their MB/s need not match "
            "workload 4's above. CPU figures are per GB read; *held back by* gives the CPUs "
            "(cores) each side used during the reads (medians), and names a limit when one "
            "side's busiest thread or both sides together use about all they can. "
            f"Goal: at least {figures['goal']} × the plaintext throughput.\n\n"
            + table(["listener", "reads", "read MB/s", "× plaintext", "broker CPU s/GB",
                     "client CPU s/GB", "held back by"], lines)
            + "\n\n" + " ".join(notes))

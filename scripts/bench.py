#!/usr/bin/env python3
"""make bench: FundRecon's stages measured in rows per second against PostgreSQL's own limits.

For each of BENCH_SIZES (orders a month; default 100,000 and 1,000,000) generates a dataset, loads it
with `recon load` into a private PostgreSQL cluster, and measures the parts of BENCH_PARTS (build,
audit, incremental, rebuild, reports, ingest, diff: all by default) against PostgreSQL's own limits (the same SQL
through psql, plain `psql \\copy`). Writes BENCH_OUT (reports/bench.json) after every size. Every
recon run is wrapped in /usr/bin/time for its peak RSS.
"""
import json, os, re, shutil, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECON = os.path.join(ROOT, ".build/release/recon")
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "100000,1000000").split(",")]
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "reports/bench.json"))
# What to measure after generation and the first load (BENCH_PARTS=ingest for the ingest figures alone).
PARTS = set(os.environ.get("BENCH_PARTS", "build,audit,incremental,rebuild,reports,ingest,diff").split(","))
# --check-timeout of the audits and check runs (recon's default, 60 s, when unset).
CHECK_TIMEOUT = ["--check-timeout", os.environ["BENCH_CHECK_TIMEOUT"]] if os.environ.get("BENCH_CHECK_TIMEOUT") else []
DAYS = 30
# The server's shared_buffers: a quarter of the machine's memory, the usual start for a server of its own
# (docs/operations.md, "The warehouse's server"; 10M hours 1.99 s against 3.13 s at PostgreSQL's default
# of 128 MB, docs/performance.md, nineteenth session), or BENCH_SHARED_BUFFERS (128MB for that default).
MEMORY_MB = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) // 1024
SHARED_BUFFERS = os.environ.get("BENCH_SHARED_BUFFERS") or "%dMB" % (MEMORY_MB // 4)
# The planner's costs: "default", PostgreSQL's own (random_page_cost 4, effective_cache_size 4 GB),
# or "ssd": a random page read costed 1.1 sequential ones (PostgreSQL's docs' figure for SSDs) and
# three quarters of memory as the cache the planner counts on. Side by side in the twenty-first
# session (docs/performance.md) "ssd" sped the day's last hour at 1M (0.72x) and slowed the 1M
# hours (1.29x), at 10M within 4% either way: not what a warehouse's server is told to use.
PLANNER = os.environ.get("BENCH_PLANNER", "default")
PLANNER_SETTINGS = {"ssd": f"-c random_page_cost=1.1 -c effective_cache_size={MEMORY_MB * 3 // 4}MB",
                    "default": ""}[PLANNER]
PG_BIN = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
if not os.path.exists(os.path.join(PG_BIN, "initdb")):
    PG_BIN = sorted(d for d in os.popen("ls -d /usr/lib/postgresql/*/bin").read().split())[-1]


def as_server_user(args):
    return (["runuser", "-u", "postgres", "--"] + args) if os.geteuid() == 0 else args


def timed(args, env=None, accept=(0,), with_cpu=False, with_stderr=False):
    """Runs a command under /usr/bin/time; returns (seconds, peak RSS in MB, stdout), and with
    `with_cpu` its CPU seconds (user + system) fourth, with `with_stderr` its standard error last.
    An exit code outside `accept` ends the bench."""
    out = subprocess.run(["/usr/bin/time", "-f", "BENCH %e %M %U %S"] + args, capture_output=True, text=True, env=env)
    if out.returncode not in accept:
        sys.exit(f"bench: {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}\n{disk_free()}")
    line = [l for l in out.stderr.splitlines() if l.startswith("BENCH ")][-1].split()
    figures = (float(line[1]), int(line[2]) / 1024.0, out.stdout)
    figures = figures + (float(line[3]) + float(line[4]),) if with_cpu else figures
    return figures + (out.stderr,) if with_stderr else figures


def disk_free():
    """The free space of the bench's temporary folder, said with a failure (a 10M month spills tens of GB)."""
    stat = os.statvfs("/tmp")
    return f"free in /tmp now: {stat.f_bavail * stat.f_frsize / 2**30:.1f} GiB"


class NodeCPU:
    """CPU seconds each PostgreSQL server on this machine spends while it is active: a thread reads
    /proc every half second, per postmaster (by its data directory) its own time, its exited
    children's (which it reaps) and its live children's. A server running before counts from then."""
    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self):
        self.first, self.last, self.stop = None, {}, threading.Event()

    @staticmethod
    def sample():
        stats, masters = {}, {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                text = open(f"/proc/{name}/stat").read()
                command = open(f"/proc/{name}/cmdline").read().split("\0")
            except OSError:
                continue
            fields = text[text.rindex(")") + 2:].split()
            stats[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]), sum(int(x) for x in fields[11:13]))
            if command[0].endswith("postgres") and "-D" in command:
                masters[int(name)] = command[command.index("-D") + 1]
        return {directory: (stats[pid][1] + sum(own for parent, _, own in stats.values() if parent == pid)) / NodeCPU.HZ
                for pid, directory in masters.items() if pid in stats}

    def __enter__(self):
        self.first = self.sample()
        def run():
            while not self.stop.wait(0.5):
                for directory, seconds in self.sample().items():
                    self.last[directory] = max(self.last.get(directory, 0.0), seconds)
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()

    def seconds(self):
        return {d: round(s - self.first.get(d, 0.0), 1) for d, s in self.last.items() if s - self.first.get(d, 0.0) > 0.05}


def main():
    machine = {"cores": os.cpu_count(), "postgres": subprocess.run([f"{PG_BIN}/postgres", "--version"], capture_output=True, text=True).stdout.strip(),
               "shared_buffers": SHARED_BUFFERS, "planner": PLANNER}
    sizes = {}
    os.makedirs(os.path.dirname(os.path.abspath(OUT)), exist_ok=True)
    for orders in SIZES:
        print(f"== {orders} orders", flush=True)
        sizes[str(orders)] = bench_size(orders)
        # Written after every size: a long run that stops later keeps what it measured.
        with open(OUT, "w") as out:
            json.dump({"machine": machine, "sizes": sizes}, out, indent=2, sort_keys=True)
    print(f"wrote {OUT}")


def bench_size(ORDERS):
    work = tempfile.mkdtemp(prefix="recon-bench-", dir="/tmp")
    os.chmod(work, 0o777)
    data, cluster = os.path.join(work, "data"), os.path.join(work, "pg")
    try:
        # Weekends are busier and weekdays quieter, so aim 1% above the plain average.
        per_day = -(-ORDERS * 101 // (DAYS * 100))
        seconds, rss, _ = timed([RECON, "generate", "--out", data, "--seed", "1", "--start", "2026-10-01",
                                 "--days", str(DAYS), "--orders-per-day", str(per_day), "-q"])
        manifest = json.load(open(os.path.join(data, "manifest.json")))
        orders = int(manifest["generator"]["orders"])
        rows = sum(manifest["rows"].values())
        generation = {"orders": orders, "rows": rows, "seconds": seconds, "orders_per_s": round(orders / seconds),
                      "rows_per_s": round(rows / seconds), "peak_rss_mb": round(rss, 1),
                      "bytes": sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data) for f in fs)}
        print(f"generate: {orders} orders, {rows} rows in {seconds:.2f} s, peak RSS {rss:.0f} MB")

        os.makedirs(cluster)
        shutil.chown(cluster, "postgres", "postgres") if os.geteuid() == 0 else None
        subprocess.run(as_server_user([f"{PG_BIN}/initdb", "-D", f"{cluster}/data", "-U", "postgres", "-A", "trust",
                                       "--no-sync", "-E", "UTF8", "--locale=C"]), check=True, capture_output=True)
        subprocess.run(as_server_user([f"{PG_BIN}/pg_ctl", "-D", f"{cluster}/data", "-l", f"{cluster}/log", "-w", "-o",
                                       f"-p 5432 -k {cluster} -c listen_addresses='' -c fsync=off "
                                       "-c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB "
                                       f"-c shared_buffers={SHARED_BUFFERS} {PLANNER_SETTINGS}",
                                       "start"]), check=True, capture_output=True)
        db = f"host={cluster} port=5432 user=postgres dbname=postgres"
        seconds, rss, files, sources = recon_load(work, data, db)
        print(f"load: {sum(s['rows'] for s in sources.values())} rows in {seconds:.2f} s, peak RSS {rss:.0f} MB")

        figures = {"generation": generation}
        if "build" in PARTS:
            figures["build"] = bench_build(work, data, db)
        if "audit" in PARTS:
            figures["audit"] = bench_audit(work, data, db)
        if os.environ.get("BENCH_CITUS"):
            figures["citus"] = bench_citus(work, data, db, figures.get("audit"))
        if "incremental" in PARTS:
            figures["incremental"] = bench_incremental(work, data, db)
        if "reports" in PARTS:
            figures["reports"] = bench_reports(work)
        if "diff" in PARTS:
            figures["diff"] = bench_diff(work, data, db)
        figures["ingest"] = dict(bench_ingest(work, data, db, files) if "ingest" in PARTS else {},
                                 first_load_seconds=seconds, peak_rss_mb=round(rss, 1),
                                 note="reseller limit covers the CSV files only; XML has no COPY equivalent")
        return figures
    finally:
        if os.path.exists(f"{cluster}/data/postmaster.pid"):
            subprocess.run(as_server_user([f"{PG_BIN}/pg_ctl", "-D", f"{cluster}/data", "-m", "immediate", "stop"]),
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def bench_diff(work, data, db):
    """`recon diff` of two pipelines that differ in one DWD model (refunds recorded 0.50 lower):
    its two builds beside each other, and the comparison's own time against one build (the base's:
    the build alone, its sources shared with the head's load)."""
    repo = os.path.join(work, "diff-repo")
    os.makedirs(repo)
    for folder in ("pipeline", "expectations"):
        shutil.copytree(os.path.join(ROOT, folder), os.path.join(repo, folder))
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q", repo], check=True)
    subprocess.run(git + ["add", "pipeline", "expectations"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "base"], check=True)
    model = os.path.join(repo, "pipeline/models/dwd/dwd_refunds.sql")
    text = open(model).read()
    changed = text.replace("upper(currency) as currency, amount, reason",
                           "upper(currency) as currency, (amount - 0.50)::numeric(18,2) as amount, reason")
    assert changed != text, "the bench's change to dwd_refunds no longer applies"
    open(model, "w").write(changed)
    reports = os.path.join(work, "diff-reports")
    seconds, rss, _ = timed([RECON, "diff", "--base", "HEAD", "--pipeline", os.path.join(repo, "pipeline"),
                             "--expectations", os.path.join(repo, "expectations/fund_recon.yml"), "--data", data,
                             "--db", db, "--reports", reports, "--fail-on", "none", "-q"] + CHECK_TIMEOUT)
    result = json.load(open(os.path.join(reports, "diff.json")))["diff"]
    timings = {k: v / 1000.0 for k, v in result["timings"].items()}
    compared = [m for m in result["models"] if m["status"] == "compared"]
    figures = {"seconds": seconds, "peak_rss_mb": round(rss, 1), "timings_s": timings,
               "models_compared": len(compared), "models_changed": sum(1 for m in result["models"] if m["added"] + m["removed"] + m["changed"]),
               "rows_compared": sum(m["rows_base"] + m["rows_head"] for m in compared),
               "diff_vs_one_build": round(timings["diff"] / timings["build_base"], 3)}
    print(f"diff: {seconds:.2f} s (head build {timings['build_head']:.2f} s with the load, base build {timings['build_base']:.2f} s, "
          f"comparison {timings['diff']:.2f} s = {figures['diff_vs_one_build']:.2f}x the base build), "
          f"{len(compared)} models compared, peak RSS {rss:.0f} MB")
    return figures


def bench_reports(work):
    """HTML and XLSX reports of a synthetic run with BENCH_BREAKS break rows."""
    breaks = int(os.environ.get("BENCH_BREAKS", "1000000"))  # the report issue's size, at every data size
    seconds, rss, _ = timed([RECON, "bench-reports", "--breaks", str(breaks), "--out", os.path.join(work, "reports")])
    print(f"reports: {breaks} break rows to HTML + XLSX in {seconds:.2f} s, peak RSS {rss:.0f} MB")
    return {"break_rows": breaks, "seconds": seconds, "rows_per_s": round(breaks / seconds), "peak_rss_mb": round(rss, 1),
            "xlsx_bytes": os.path.getsize(os.path.join(work, "reports", "bench.xlsx"))}


def recon_load(work, data, db):
    """One `recon load` of every file into a run of its own; returns (seconds, peak RSS MB, files, per-source sums)."""
    report_path = os.path.join(work, "load.json")
    seconds, rss, _ = timed([RECON, "load", "--data", data, "--db", db, "--report-json", report_path, "-q"])
    files = json.load(open(report_path))
    sources = {}
    for f in files:
        s = sources.setdefault(f["source"], {"files": 0, "rows": 0, "seconds": 0.0})
        s["files"] += 1
        s["rows"] += f["rows_loaded"]
        s["seconds"] += f["duration_ms"] / 1000.0
    return seconds, rss, files, sources


def source_alone(work, data, source):
    """A dataset folder holding only `source`'s files (links to `data`'s), so its load runs alone on
    the server, as each plain COPY does: in a whole load the two parts share the 2 cores."""
    folder = os.path.join(work, f"alone-{source}")
    if os.path.exists(folder):
        return folder
    os.makedirs(os.path.join(folder, "oltp"))
    if source == "oltp":
        os.rmdir(os.path.join(folder, "oltp"))
        os.symlink(os.path.join(data, "oltp"), os.path.join(folder, "oltp"))
    elif source in ("stripe", "adyen"):
        os.makedirs(os.path.join(folder, "gateway"))
        os.symlink(os.path.join(data, "gateway", source), os.path.join(folder, "gateway", source))
    else:
        os.symlink(os.path.join(data, "resellers"), os.path.join(folder, "resellers"))
    return folder


def bench_ingest(work, data, db, files, rounds=2):
    """`recon load` against plain COPY of the same files, alternately on the warm server (the first load of a
    fresh cluster also creates its WAL segments). Per source, recon's time is the sum of its files' loads in a
    load of that source alone (the reseller CSV files apart from the XML ones, which have no COPY equivalent);
    the whole command (both parts side by side, ANALYZE, the file records) is set against all the COPYs in a row."""
    loads, limits, alone = [], [], []
    sources = sorted({f["source"] for f in files})
    for _ in range(rounds):
        limits.append(copy_limits(data, db, files))
        seconds, _, _, _ = recon_load(work, data, db)
        loads.append(seconds)
        by_source = {}
        for source in sources:
            _, _, source_files, _ = recon_load(work, source_alone(work, data, source), db)
            for f in source_files:
                if f["source"] != source:
                    continue
                key = "reseller_csv" if source == "reseller" and f["file"].endswith(".csv") else \
                      "reseller_xml" if source == "reseller" else source
                s = by_source.setdefault(key, {"files": 0, "rows": 0, "seconds": 0.0})
                s["files"] += 1
                s["rows"] += f["rows_loaded"]
                s["seconds"] += f["duration_ms"] / 1000.0
        alone.append(by_source)
    ingest = {}
    for key in sorted(alone[0]):
        s = min((a[key] for a in alone), key=lambda s: s["seconds"])
        entry = {"files": s["files"], "rows": s["rows"], "seconds": round(s["seconds"], 3),
                 "rows_per_s": round(s["rows"] / s["seconds"]) if s["seconds"] else None}
        limit_key = "reseller" if key == "reseller_csv" else key
        if key != "reseller_xml" and limit_key in limits[0]:
            lim = min(l[limit_key] for l in limits)
            entry.update(copy_limit_seconds=round(lim, 3), copy_limit_rows_per_s=round(s["rows"] / lim) if lim else None,
                         ratio_to_copy=round(s["seconds"] / lim, 2) if lim else None)
        ingest[key] = entry
        print(f"  {key:12} {s['rows']:>9} rows {s['seconds']:7.2f} s"
              + (f"  (plain COPY {entry['copy_limit_seconds']:.2f} s, x{entry['ratio_to_copy']})" if "copy_limit_seconds" in entry else ""))
    whole = min(loads)
    copies = min(sum(l.values()) for l in limits)
    print(f"  ingest: recon load {[round(l, 2) for l in loads]} s, every COPY in a row {[round(sum(l.values()), 2) for l in limits]} s: "
          f"x{whole / copies:.2f}")
    return {"sources": ingest, "recon_load_seconds": loads,
            "copy_all_seconds": [round(sum(l.values()), 3) for l in limits], "ratio_whole_to_copy_all": round(whole / copies, 2)}


def bench_audit(work, data, db, where=None, label="audit"):
    """The whole `recon audit` of the dataset on the server (or `where`: other database arguments):
    load, build, 64 checks, the four reports."""
    reports = os.path.join(work, label + "-reports")
    # Exit 1 (a check failed) and 3 (a check could not run, e.g. past its timeout) are figures too.
    with NodeCPU() as cpu:
        seconds, rss, _, recon_cpu, stderr = timed([RECON, "audit", "--data", data] + (where or ["--db", db]) + ["--reports", reports,
                                                   "--pipeline", os.path.join(ROOT, "pipeline"), "--expectations", os.path.join(ROOT, "expectations/fund_recon.yml"),
                                                   "-q"] + CHECK_TIMEOUT, accept=(0, 1, 3), with_cpu=True, with_stderr=True)
    if not os.path.exists(os.path.join(reports, "results.json")):
        # A run that could not even write its results (a full disk) ends the bench with what recon said.
        sys.exit(f"bench: {label} after {seconds:.2f} s wrote no results.json; recon said:\n{stderr[-4000:]}\n{disk_free()}")
    result = json.load(open(os.path.join(reports, "results.json")))
    tasks = {t["name"]: round(t["duration_ms"] / 1000.0, 2) for t in result["tasks"]}
    slowest, not_passed = check_figures(result, 5)
    print(f"{label}: {seconds:.2f} s, peak RSS {rss:.0f} MB {tasks}; slowest checks {slowest}; not passed {not_passed}")
    figures = {"seconds": seconds, "peak_rss_mb": round(rss, 1), "tasks": tasks, "summary": result["summary"],
               "slowest_checks_ms": slowest, "checks_not_passed": not_passed}
    # Where the CPU went: recon, and each server by its role (a Citus worker holds placements).
    workers = {p["node"].rsplit(":", 1)[0] for p in result.get("placement") or []}
    nodes = {("worker " if os.path.dirname(d) in workers else "coordinator " if workers else "server ") + d: s
             for d, s in sorted(cpu.seconds().items())}
    figures["cpu_seconds"] = {"recon": round(recon_cpu, 1), **nodes}
    print(f"{label}: CPU seconds {figures['cpu_seconds']}")
    if result.get("placement"):
        figures["placement"] = result["placement"]
        print(f"{label}: rows per node {[(p['node'], p['rows'], p['shards']) for p in result['placement']]}")
    return figures


def bench_citus(work, data, db, single):
    """The same audit on a throwaway Citus coordinator and BENCH_CITUS workers on this machine,
    beside the one-node audit just measured: its time per task, and where its rows lay."""
    workers = os.environ.get("BENCH_CITUS", "2")
    figures = bench_audit(work, data, db, where=["--embedded-citus", workers], label="citus")
    figures["workers"] = int(workers)
    if single:
        figures["ratio_to_one_node"] = round(figures["seconds"] / single["seconds"], 2)
        print(f"citus: {figures['ratio_to_one_node']}x the one-node audit")
    return figures


def check_figures(result, count):
    """From a results.json: the `count` slowest checks ({id: ms}, slowest first) and those that did not pass
    ({id: status}, with the message of a check in error: the results go with the bench's folder)."""
    checks = result.get("checks", [])
    slowest = sorted(((c.get("duration_ms", 0), c["id"]) for c in checks), reverse=True)[:count]
    return ({i: ms for ms, i in slowest},
            {c["id"]: c["status"] + (": " + (c.get("message") or "")[:300] if c["status"] == "error" else "")
             for c in checks if c["status"] not in ("pass", "passed")})


def run_period(work, data, db, prefix, grain, period, extra=()):
    """One `recon run` (JSON results only); returns (seconds, peak RSS MB, task durations). The task durations
    include the partitions written and the slowest checks (ms), which say where an hourly run's time goes."""
    reports = os.path.join(work, "run-" + prefix + "-" + period)
    seconds, rss, _ = timed([RECON, "run", "--db", db, "--schema-prefix", prefix, "--grain", grain, "--period", period,
                             "--data", data, "--reports", reports, "--format", "json", "-q"] + CHECK_TIMEOUT + list(extra),
                            accept=(0, 1, 3))
    result = json.load(open(os.path.join(reports, "results.json")))
    tasks = {t["name"]: round(t["duration_ms"] / 1000.0, 2) for t in result["tasks"]}
    if "partitions_replaced" in result:
        tasks["partitions_written"] = result["partitions_replaced"]
    slowest, not_passed = check_figures(result, 8)
    if slowest:
        tasks["slowest_checks_ms"] = slowest
    if not_passed:
        tasks["checks_not_passed"] = not_passed
    return seconds, rss, tasks


def io_snapshot(db, cluster):
    """Pages the server has read past its buffer cache (per table: heap and index pages) and the
    bytes the cluster's disk has read, for the difference around one run: where an hour's pages
    came from (the OS page cache or the disk) and whose they were. A backend reports its reads when
    it exits, which can follow its client's exit by a moment: the snapshot waits that moment."""
    time.sleep(0.2)
    rows = subprocess.run(["psql", db, "-tAF", "|", "-c",
                           "SELECT schemaname || '.' || relname, coalesce(heap_blks_read, 0), coalesce(idx_blks_read, 0) "
                           "FROM pg_statio_all_tables"], capture_output=True, text=True).stdout.split()
    tables = {name: (int(heap), int(index)) for name, heap, index in (row.split("|") for row in rows)}
    device = os.stat(cluster).st_dev
    stat = f"/sys/dev/block/{os.major(device)}:{os.minor(device)}/stat"
    disk = int(open(stat).read().split()[2]) * 512 if os.path.exists(stat) else None
    return tables, disk


def io_difference(before, after):
    """The pages read past the buffer cache between two snapshots (MB, and the five tables that read
    most, heap and index pages apart) and the disk's reads (MB; None where the device has no stat)."""
    pages = {name: (heap - before[0].get(name, (0, 0))[0], index - before[0].get(name, (0, 0))[1])
             for name, (heap, index) in after[0].items()}
    top = sorted(pages.items(), key=lambda item: -sum(item[1]))[:5]
    return {"server_reads_mb": round(sum(sum(p) for p in pages.values()) * 8192 / 2**20, 1),
            "disk_reads_mb": round((after[1] - before[1]) / 2**20, 1) if before[1] is not None else None,
            "most_read_pages": {name: {"heap": heap, "index": index} for name, (heap, index) in top if heap + index > 0}}


def bench_incremental(work, data, db):
    """An hourly `recon run` on a warehouse holding the month so far, against rebuilding it from nothing."""
    last = f"2026-10-{DAYS:02d}"
    before = f"2026-10-{DAYS - 1:02d}"
    earlier = f"2026-10-{DAYS - 2:02d}"
    seconds, _, _ = run_period(work, data, db, "bench_inc", "day", earlier)
    print(f"incremental: warehouse through {earlier} built in {seconds:.2f} s")
    # The day before the last: its hours through 22:00 in one catch-up run (not a figure), then its
    # last hour, the one hour of a day in which reconciles judge the pairs whose window closed.
    seconds, _, _ = run_period(work, data, db, "bench_inc", "hour", f"{before}T22")
    print(f"incremental: catch-up through {before}T22 in {seconds:.2f} s")
    cluster = os.path.join(work, "pg")

    def measured_hour(period, label):
        """One hourly run with its figures and the pages it read (io_snapshot around it)."""
        before_run = io_snapshot(db, cluster)
        seconds, rss, tasks = run_period(work, data, db, "bench_inc", "hour", period)
        hour = {"period": period, "seconds": seconds, "peak_rss_mb": round(rss, 1), "tasks": tasks,
                "reads": io_difference(before_run, io_snapshot(db, cluster))}
        print(f"incremental: {label} {period} in {seconds:.2f} s {tasks} {hour['reads']}")
        return hour

    last_hour = measured_hour(f"{before}T23", "a day's last hour")
    hourly = [measured_hour(f"{last}T{hour}", "hour") for hour in ["00", "01", "02"]]
    # What the hourly Airflow DAGs run: the two imports only (the daily DAG builds).
    imports = []
    for hour in ["03", "04", "05"]:
        seconds, _, tasks = run_period(work, data, db, "bench_inc", "hour", f"{last}T{hour}",
                                       ["--tasks", "import_main_data,import_reseller_data"])
        imports.append(seconds)
        print(f"incremental: imports only, hour {last}T{hour} in {seconds:.2f} s {tasks}")
    median = sorted(h["seconds"] for h in hourly)[1]
    figures = {"hourly_runs": hourly, "hourly_median_seconds": median, "hourly_imports_only_seconds": imports,
               "last_hour_of_a_day": last_hour}
    if "rebuild" in PARTS:
        seconds_full, rss_full, tasks_full = run_period(work, data, db, "bench_full", "hour", f"{last}T02")
        print(f"incremental: full rebuild through {last}T02 in {seconds_full:.2f} s {tasks_full}")
        figures["full_rebuild"] = {"seconds": seconds_full, "peak_rss_mb": round(rss_full, 1), "tasks": tasks_full}
        figures["ratio_full_to_hourly"] = round(seconds_full / median, 2)
    partitions = int(subprocess.run(["psql", db, "-tAc", "SELECT count(*) FROM recon_meta.partitions WHERE schema_prefix = 'bench_inc'"],
                                    capture_output=True, text=True).stdout.strip() or 0)
    print(f"incremental: the warehouse holds {partitions} partitions")
    return dict(figures, partitions_in_warehouse=partitions)


def bench_build(work, data, db):
    """recon build: per-layer model time, and the same compiled SQL replayed by psql (the limit)."""
    report_path, sql_path = os.path.join(work, "build.json"), os.path.join(work, "models.sql")
    seconds, rss, out = timed([RECON, "build", "--data", data, "--db", db, "--pipeline", os.path.join(ROOT, "pipeline"),
                               "--keep-schemas", "--report-json", report_path, "--emit-sql", sql_path, "-q"])
    report = json.load(open(report_path))
    layers = {}
    for model in report["models"]:
        layer = layers.setdefault(model["layer"], {"models": 0, "rows": 0, "seconds": 0.0})
        layer["models"] += 1
        layer["rows"] += model["rows"]
        layer["seconds"] += model["duration_ms"] / 1000.0
    models_seconds = sum(l["seconds"] for name, l in layers.items() if name != "seed")
    # Replay: drop what the models made, then run the very same statements through psql.
    statements = open(sql_path).read()
    targets = re.findall(r'^CREATE (TABLE|VIEW) ("[^"]+"\."[^"]+") AS', statements, flags=re.M)
    drops = "".join(f"DROP {kind} IF EXISTS {name} CASCADE;\n" for kind, name in reversed(targets))
    subprocess.run(["psql", db, "-q", "-v", "ON_ERROR_STOP=1", "-c", drops], check=True, capture_output=True)
    started = time.monotonic()
    subprocess.run(["psql", db, "-q", "-v", "ON_ERROR_STOP=1", "-f", sql_path], check=True, capture_output=True,
                   env=dict(os.environ, PGOPTIONS="-c jit=off"))
    by_hand = time.monotonic() - started
    run_id = re.search(r'"rc_(r[0-9]+_[0-9a-f]+)_ods"', statements).group(1)
    checks = bench_checks(work, db, run_id)
    checks["anchor_suite"] = bench_suite(work, db, run_id)
    for name, layer in sorted(layers.items()):
        layer["seconds"] = round(layer["seconds"], 3)
        print(f"  build {name:5} {layer['models']:3} models {layer['rows']:>9} rows {layer['seconds']:7.2f} s")
    overhead = 100 * (models_seconds - by_hand) / by_hand
    print(f"build: models {models_seconds:.2f} s, same SQL by psql {by_hand:.2f} s (overhead {overhead:+.1f}%), "
          f"whole command {seconds:.2f} s")
    return {"layers": layers, "models_seconds": round(models_seconds, 3), "same_sql_by_psql_seconds": round(by_hand, 3),
            "runner_overhead_percent": round(overhead, 1), "command_seconds": seconds, "peak_rss_mb": round(rss, 1),
            "checks": checks}


def bench_checks(work, db, run_id):
    """fund_recon.yml on the kept run (recon check --run), and the same checks one by one through psql: the limit."""
    reports = os.path.join(work, "check-reports")
    out = subprocess.run(["/usr/bin/time", "-f", "BENCH %e %M", RECON, "check", "--db", db, "--run", run_id,
                          "--pipeline", os.path.join(ROOT, "pipeline"), "--expectations", os.path.join(ROOT, "expectations/fund_recon.yml"),
                          "--reports", reports, "--format", "json", "-q"] + CHECK_TIMEOUT, capture_output=True, text=True)
    line = [l for l in out.stderr.splitlines() if l.startswith("BENCH ")][-1].split()
    seconds, rss = float(line[1]), int(line[2]) / 1024.0
    result = json.load(open(os.path.join(reports, "results.json")))
    checks = result["checks"]
    row_level_tables = {c["table"] for c in checks if c["type"] in ("not_null", "accepted_values", "range", "expression")
                        or (c["type"] == "balance" and "GROUP BY" not in c["sql"])}
    set_level = [c for c in checks if c["id"] not in {x["id"] for x in checks if x["table"] in row_level_tables
                 and (x["type"] in ("not_null", "accepted_values", "range", "expression") or (x["type"] == "balance" and "GROUP BY" not in x["sql"]))}]
    search_path = ", ".join(f'"rc_{run_id}_{layer}"' for layer in ("ads", "dws", "dwd", "ods", "oltp"))
    script = f"SET search_path = {search_path};\n" + "".join(
        f"SELECT count(*) FROM ({c['sql'].rstrip().rstrip(';')}) f;\n" for c in checks)
    path = os.path.join(work, "checks-by-hand.sql")
    open(path, "w").write(script)
    started = time.monotonic()
    # The limit: the same checks, one by one, on one psql connection with PostgreSQL's defaults.
    subprocess.run(["psql", db, "-q", "-f", path], capture_output=True)
    by_hand = time.monotonic() - started
    evaluation_ms = next(s["duration_ms"] for s in result["stages"] if s["name"] == "run_checks")
    print(f"  checks: {len(checks)} checks in {evaluation_ms / 1000:.2f} s ({len(row_level_tables)} fused scans + "
          f"{len(set_level)} set-level queries), one by one through psql {by_hand:.2f} s, whole command {seconds:.2f} s")
    return {"checks": len(checks), "evaluation_seconds": evaluation_ms / 1000, "fused_row_level_scans": len(row_level_tables),
            "set_level_queries": len(set_level), "same_checks_one_by_one_by_psql_seconds": round(by_hand, 3),
            "command_seconds": seconds, "peak_rss_mb": round(rss, 1), "summary": result["summary"]}


def bench_suite(work, db, run_id, rounds=3):
    """A reconciliation suite of the anchor shape (scripts/bench/anchor_suite.yml) as `recon check` with every report,
    against the same suite as the fastest SQL written by hand (anchor_suite.sql) on one psql connection, alternately."""
    suite = os.path.join(ROOT, "scripts/bench/anchor_suite")
    script = os.path.join(work, "anchor_suite.sql")
    search_path = ", ".join(f'"rc_{run_id}_{layer}"' for layer in ("ads", "dws", "dwd", "ods"))
    open(script, "w").write(f"SET search_path = {search_path};\n" + open(suite + ".sql").read())
    recon, by_hand = [], []
    for _ in range(rounds):
        seconds, _, _ = timed([RECON, "check", "--db", db, "--run", run_id, "--pipeline", os.path.join(ROOT, "pipeline"),
                               "--expectations", suite + ".yml", "--reports", os.path.join(work, "anchor-reports")] + CHECK_TIMEOUT,
                               accept=(0, 1, 3))
        recon.append(seconds)
        started = time.monotonic()
        subprocess.run(["psql", db, "-Atq", "-f", script], check=True, capture_output=True)
        by_hand.append(round(time.monotonic() - started, 2))
    checks = len(json.load(open(os.path.join(work, "anchor-reports", "results.json")))["checks"])
    ratio = round(sorted(recon)[rounds // 2] / sorted(by_hand)[rounds // 2], 2)
    print(f"  anchor suite: {checks} checks, recon check (all reports) {recon} s, by hand on one psql connection {by_hand} s: {ratio}x")
    return {"checks": checks, "recon_check_seconds": recon, "by_hand_seconds": by_hand, "ratio_median": ratio}


def copy_limits(data, db, files):
    """Seconds for psql to COPY each source's files into bare tables with the same column types."""
    tables = {
        "oltp": [("merchants", "merchant_id bigint, merchant_name text, category text, commission_rate numeric(5,4), currency text, onboarded_at timestamptz"),
                 ("resellers", "reseller_id text, reseller_name text, merchant_id bigint, file_format text"),
                 ("vouchers", "voucher_code text, funded_by text, discount_type text, discount_value numeric(18,2), valid_from timestamptz, valid_to timestamptz"),
                 ("orders", "order_id bigint, merchant_id bigint, customer_id bigint, channel text, reseller_id text, currency text, gross_amount numeric(18,2), voucher_code text, voucher_discount numeric(18,2), status text, created_at timestamptz"),
                 ("payments", "payment_id bigint, order_id bigint, gateway text, gateway_txn_ref text, currency text, amount numeric(18,2), status text, captured_at timestamptz"),
                 ("refunds", "refund_id bigint, order_id bigint, payment_id bigint, gateway_refund_ref text, currency text, amount numeric(18,2), reason text, refunded_at timestamptz"),
                 ("voucher_redemptions", "redemption_id bigint, voucher_code text, order_id bigint, amount numeric(18,2), redeemed_at timestamptz"),
                 ("commissions", "commission_id bigint, order_id bigint, merchant_id bigint, refund_id bigint, base_amount numeric(18,2), rate numeric(5,4), amount numeric(18,2), currency text, charged_at timestamptz"),
                 ("merchant_payouts", "payout_id bigint, merchant_id bigint, currency text, amount numeric(18,2), paid_at timestamptz")],
    }
    ddl = ["DROP SCHEMA IF EXISTS bench_limit CASCADE", "CREATE SCHEMA bench_limit"]
    for name, cols in tables["oltp"]:
        ddl.append(f"CREATE TABLE bench_limit.{name} ({cols})")
    ddl.append("CREATE TABLE bench_limit.stripe (balance_transaction_id text, created_utc timestamp, available_on_utc timestamp, currency text, gross numeric(18,2), fee numeric(18,2), net numeric(18,2), reporting_category text, source_id text, charge_id text, automatic_payout_id text, automatic_payout_effective_at_utc timestamp)")
    ddl.append("CREATE TABLE bench_limit.stripe_payouts (payout_id text, effective_at_utc timestamp, currency text, amount numeric(18,2))")
    ddl.append("CREATE TABLE bench_limit.adyen (company_account text, merchant_account text, psp_reference text, merchant_reference text, payment_method text, creation_date timestamp, timezone text, type text, modification_reference text, gross_currency text, gross_debit_gc numeric(18,2), gross_credit_gc numeric(18,2), exchange_rate numeric(18,8), net_currency text, net_debit_nc numeric(18,2), net_credit_nc numeric(18,2), commission_nc numeric(18,2), markup_nc numeric(18,2), scheme_fees_nc numeric(18,2), interchange_nc numeric(18,2), batch_number bigint)")
    ddl.append("CREATE TABLE bench_limit.reseller_csv (record_type text, reseller_id text, report_date date, txn_id text, order_ref text, sold_at timestamptz, currency text, amount numeric(18,2), record_count bigint, total_amount numeric(18,2))")
    subprocess.run(["psql", db, "-q", "-v", "ON_ERROR_STOP=1", "-c", "; ".join(ddl)], check=True, capture_output=True)
    scripts = {"oltp": [], "stripe": [], "adyen": [], "reseller": []}
    for f in files:
        path = os.path.join(data, f["file"])
        if f["source"] == "oltp" and f["status"] != "missing":
            scripts["oltp"].append(f"\\copy bench_limit.{os.path.basename(path)[:-4]} FROM '{path}' CSV HEADER")
        elif f["source"] == "stripe":
            table = "stripe" if "payout_reconciliation_" in path else "stripe_payouts"
            scripts["stripe"].append(f"\\copy bench_limit.{table} FROM '{path}' CSV HEADER")
        elif f["source"] == "adyen":
            scripts["adyen"].append(f"\\copy bench_limit.adyen FROM '{path}' CSV HEADER")
        elif f["source"] == "reseller" and path.endswith(".csv"):
            scripts["reseller"].append(f"\\copy bench_limit.reseller_csv FROM '{path}' CSV HEADER")
    limits = {}
    for source, lines in scripts.items():
        if not lines:
            continue
        script = os.path.join(os.path.dirname(data), f"limit_{source}.sql")
        open(script, "w").write("\n".join(lines) + "\n")
        started = time.monotonic()
        subprocess.run(["psql", db, "-q", "-v", "ON_ERROR_STOP=1", "-f", script], check=True, capture_output=True)
        limits[source] = time.monotonic() - started
    return limits


if __name__ == "__main__":
    main()

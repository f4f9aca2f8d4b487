#!/usr/bin/env python3
"""make interop: the same pipeline/ built by FundRecon and by dbt-postgres over the same ODS data;
every ADS table must be equal row for row (EXCEPT ALL both ways). Twice: a full build (`recon build`
against `dbt run`), and a full-then-incremental build (two `recon run`s of a persistent warehouse,
the second merging its incremental models' batches, against two `dbt run`s over the same sources,
the second incremental), where every DWD, DWS and ADS table must be equal."""
import os, re, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECON = os.path.join(ROOT, ".build/debug/recon")
DBT = os.path.join(ROOT, ".venv/bin/dbt")
PG_BIN = sorted(d for d in os.popen("ls -d /usr/lib/postgresql/*/bin").read().split())[-1]
# Every table of a layer of the pipeline (its views are compared through the tables that read them).
def tables(layer):
    folder = os.path.join(ROOT, "pipeline/models", layer)
    return sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".sql")
                  and "materialized='view'" not in open(os.path.join(folder, f)).read().split("}}")[0])


ADS = tables("ads")
VARS = {"business_timezone": "Europe/Berlin"}


def as_server_user(args):
    return (["runuser", "-u", "postgres", "--"] + args) if os.geteuid() == 0 else args


def run(args, **kw):
    out = subprocess.run(args, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"interop: {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


def main():
    work = tempfile.mkdtemp(prefix="recon-interop-", dir="/tmp")
    os.chmod(work, 0o777)
    cluster = os.path.join(work, "pg")
    os.makedirs(cluster)
    if os.geteuid() == 0:
        shutil.chown(cluster, "postgres", "postgres")
    try:
        run(as_server_user([f"{PG_BIN}/initdb", "-D", f"{cluster}/data", "-U", "postgres", "-A", "trust", "--no-sync"]))
        run(as_server_user([f"{PG_BIN}/pg_ctl", "-D", f"{cluster}/data", "-l", f"{cluster}/log", "-w", "-o",
                            f"-p 5432 -k {cluster} -c listen_addresses='' -c fsync=off", "start"]))
        db = f"host={cluster} port=5432 user=postgres dbname=postgres"
        data = os.path.join(work, "data")
        run([RECON, "generate", "--out", data, "--seed", "3", "--start", "2026-10-01", "--days", "21",
             "--orders-per-day", "150", "--anomalies", "all=1", "--business-timezone", VARS["business_timezone"], "-q"])
        out = run([RECON, "build", "--data", data, "--db", db, "--keep-schemas", "--pipeline", os.path.join(ROOT, "pipeline"),
                   "--var", f"business_timezone={VARS['business_timezone']}"])
        schemas = re.search(r"schemas kept: (\S+)_oltp", out).group(1)
        profiles = os.path.join(work, "profiles")
        os.makedirs(profiles)
        with open(os.path.join(profiles, "profiles.yml"), "w") as f:
            f.write(f"fund_recon:\n  target: interop\n  outputs:\n    interop:\n      type: postgres\n      host: {cluster}\n"
                    "      port: 5432\n      user: postgres\n      password: ''\n      dbname: postgres\n      schema: dbt\n"
                    "      threads: 2\n")
        env = dict(os.environ, DBT_PROFILES_DIR=profiles)

        def dbt(commands, sources, prefix, extra_vars=None):
            dbt_vars = "{" + ", ".join(f"{k}: '{v}'" for k, v in {
                **VARS, **(extra_vars or {}), "oltp_schema": f"{sources}_oltp", "ods_schema": f"{sources}_ods",
                "schema_prefix": prefix}.items()) + "}"
            for command in commands:
                run([DBT, *command, "--project-dir", os.path.join(ROOT, "pipeline"), "--vars", dbt_vars,
                     "--target-path", os.path.join(work, "dbt-target"), "--log-path", os.path.join(work, "dbt-logs")], env=env)

        def compare(ours_prefix, theirs_prefix, layers):
            failures = 0
            for layer in layers:
                for table in tables(layer):
                    ours, theirs = f'"{ours_prefix}_{layer}"."{table}"', f'"{theirs_prefix}_{layer}"."{table}"'
                    counts = run(["psql", db, "-Atc", f"SELECT (SELECT count(*) FROM {ours}), (SELECT count(*) FROM {theirs}), "
                                  f"(SELECT count(*) FROM (SELECT * FROM {ours} EXCEPT ALL SELECT * FROM {theirs}) a), "
                                  f"(SELECT count(*) FROM (SELECT * FROM {theirs} EXCEPT ALL SELECT * FROM {ours}) b)"]).strip()
                    recon_rows, dbt_rows, only_ours, only_theirs = map(int, counts.split("|"))
                    equal = recon_rows == dbt_rows and only_ours == 0 and only_theirs == 0
                    failures += not equal
                    print(f"{table:28} recon {recon_rows:6} rows, dbt {dbt_rows:6} rows: {'equal' if equal else 'DIFFERENT'}")
            return failures

        print("-- full build: recon build, dbt run")
        dbt([["seed"], ["run"]], schemas, "dbt")
        failures = compare(schemas, "dbt", ["ads"])

        # Full, then incremental: the month's first half, then its rest, on a persistent warehouse
        # (FundRecon merges its incremental models' batches) and under dbt (is_incremental() true).
        print("-- full then incremental: two recon runs, two dbt runs")
        common = ["--db", db, "--schema-prefix", "inc", "--grain", "day", "--data", data, "--pipeline", os.path.join(ROOT, "pipeline"),
                  "--expectations", os.path.join(ROOT, "expectations/fund_recon.yml"), "--reports", os.path.join(work, "run-reports"),
                  "--var", f"business_timezone={VARS['business_timezone']}", "-q"]
        for period in ("2026-10-10", "2026-10-24"):
            through = {"files_complete_through": period}
            out = subprocess.run([RECON, "run", *common, "--period", period, "--var", f"files_complete_through={period}"],
                                 capture_output=True, text=True)
            if out.returncode not in (0, 1):
                sys.exit(f"interop: recon run {period} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
            dbt([["seed"], ["run"]] if period == "2026-10-10" else [["run"]], "inc", "dbti", through)
        merged = run(["psql", db, "-Atc", "SELECT count(*) FROM recon_meta.model_builds WHERE schema_prefix = 'inc'"]).strip()
        print(f"({merged} incremental models tracked by the persistent warehouse)")
        failures += compare("inc", "dbti", ["dwd", "dws", "ads"])
        print("every table equal under FundRecon and dbt-postgres, full and incremental" if failures == 0
              else f"{failures} table(s) differ")
        sys.exit(1 if failures else 0)
    finally:
        if os.path.exists(f"{cluster}/data/postmaster.pid"):
            subprocess.run(as_server_user([f"{PG_BIN}/pg_ctl", "-D", f"{cluster}/data", "-m", "immediate", "stop"]),
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""make interop: the same pipeline/ built by FundRecon and by dbt-postgres over the same ODS data;
every ADS table must be equal row for row (EXCEPT ALL both ways)."""
import os, re, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECON = os.path.join(ROOT, ".build/debug/recon")
DBT = os.path.join(ROOT, ".venv/bin/dbt")
PG_BIN = sorted(d for d in os.popen("ls -d /usr/lib/postgresql/*/bin").read().split())[-1]
# Every ADS table of the pipeline (its views are compared through the tables that read them).
ADS = sorted(f[:-4] for f in os.listdir(os.path.join(ROOT, "pipeline/models/ads")) if f.endswith(".sql")
             and "materialized='view'" not in open(os.path.join(ROOT, "pipeline/models/ads", f)).read().split("}}")[0])
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
        dbt_vars = "{" + ", ".join(f"{k}: '{v}'" for k, v in {
            **VARS, "oltp_schema": f"{schemas}_oltp", "ods_schema": f"{schemas}_ods", "schema_prefix": "dbt"}.items()) + "}"
        env = dict(os.environ, DBT_PROFILES_DIR=profiles)
        target = os.path.join(work, "dbt-target")
        for command in (["seed"], ["run"]):
            run([DBT, *command, "--project-dir", os.path.join(ROOT, "pipeline"), "--vars", dbt_vars,
                 "--target-path", target, "--log-path", os.path.join(work, "dbt-logs")], env=env)
        failures = 0
        for table in ADS:
            ours, theirs = f'"{schemas}_ads"."{table}"', f'"dbt_ads"."{table}"'
            counts = run(["psql", db, "-Atc", f"SELECT (SELECT count(*) FROM {ours}), (SELECT count(*) FROM {theirs}), "
                          f"(SELECT count(*) FROM (SELECT * FROM {ours} EXCEPT ALL SELECT * FROM {theirs}) a), "
                          f"(SELECT count(*) FROM (SELECT * FROM {theirs} EXCEPT ALL SELECT * FROM {ours}) b)"]).strip()
            recon_rows, dbt_rows, only_ours, only_theirs = map(int, counts.split("|"))
            equal = recon_rows == dbt_rows and only_ours == 0 and only_theirs == 0
            failures += not equal
            print(f"{table:28} recon {recon_rows:6} rows, dbt {dbt_rows:6} rows: {'equal' if equal else 'DIFFERENT'}")
        print("every ADS table equal under FundRecon and dbt-postgres" if failures == 0 else f"{failures} table(s) differ")
        sys.exit(1 if failures else 0)
    finally:
        if os.path.exists(f"{cluster}/data/postmaster.pid"):
            subprocess.run(as_server_user([f"{PG_BIN}/pg_ctl", "-D", f"{cluster}/data", "-m", "immediate", "stop"]),
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

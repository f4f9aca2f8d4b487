#!/usr/bin/env python3
"""Superset on FundRecon's warehouse, run with the Python of .venv-superset (make superset).

  superset_fundrecon.py setup HOME            metadata database (SQLite) and secret key under HOME, the
                                    roles, and an admin whose generated password is kept in
                                    HOME/admin-password (readable by its owner only, never printed)
  superset_fundrecon.py import HOME           imports bi/superset/assets (database, datasets, charts, the
                                    "Fund reconciliation" dashboard): the warehouse from
                                    RECON_WAREHOUSE_URL (postgresql://...), its schemas from
                                    RECON_SCHEMA_PREFIX (<prefix>_ads, <prefix>_dws)
  superset_fundrecon.py serve HOME PORT       the web server on 127.0.0.1:PORT (RECON_SUPERSET_HOST to change), foreground
  superset_fundrecon.py check HOME PORT       logs in through the REST API and compares every chart's data
                                    (/api/v1/chart/<id>/data) with the same figures computed by SQL
                                    on RECON_WAREHOUSE_URL, per currency; exit 1 on any difference
  superset_fundrecon.py screenshot HOME PORT PNG
                                    the dashboard in headless Chromium, logged in, 1280 wide

Each chart's saved query (query_context) is derived at import from its params, as Superset's own
editor does when a chart is saved, so the data API answers for every chart.
"""
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The bundle imported: the repository's, or a copy named by RECON_SUPERSET_ASSETS.
ASSETS = os.environ.get("RECON_SUPERSET_ASSETS") or os.path.join(ROOT, "bi", "superset", "assets")
DASHBOARD_SLUG = "fund-reconciliation"


def environment(home):
    env = dict(os.environ)
    env["FUNDRECON_SUPERSET_HOME"] = home
    env["SUPERSET_CONFIG_PATH"] = os.path.join(ROOT, "bi", "superset", "superset_config.py")
    env.setdefault("FLASK_APP", "superset")
    return env


def private_file(path, text):
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def superset(home, *arguments):
    command = [os.path.join(os.path.dirname(sys.executable), "superset"), *arguments]
    result = subprocess.run(command, env=environment(home), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("superset %s failed:\n%s" % (" ".join(arguments[:2]), (result.stdout + result.stderr)[-3000:]))
    return result.stdout


def setup(home):
    os.makedirs(home, exist_ok=True)
    os.chmod(home, 0o700)
    if not os.path.exists(os.path.join(home, "secret_key")):
        private_file(os.path.join(home, "secret_key"), secrets.token_urlsafe(48) + "\n")
    superset(home, "db", "upgrade")
    password_file = os.path.join(home, "admin-password")
    if not os.path.exists(password_file):
        password = secrets.token_urlsafe(18)
        superset(home, "fab", "create-admin", "--username", "admin", "--firstname", "FundRecon", "--lastname", "Admin",
                 "--email", "admin@localhost", "--password", password)
        private_file(password_file, password + "\n")
    superset(home, "init")
    print("superset: metadata in %s/superset.db; user admin, password in %s (not printed)" % (home, password_file))


def read_assets(url, prefix):
    """The bundle as Superset's importer reads it (path -> YAML text), the warehouse filled in."""
    import yaml

    contents = {}
    for folder, _, files in os.walk(ASSETS):
        for name in sorted(files):
            if not name.endswith(".yaml"):
                continue
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, ASSETS)
            with open(path, encoding="utf-8") as handle:
                document = yaml.safe_load(handle)
            if relative.startswith("databases/"):
                document["sqlalchemy_uri"] = url.replace("postgresql://", "postgresql+psycopg2://", 1)
            elif relative.startswith("datasets/"):
                document["schema"] = "%s_%s" % (prefix, document["schema"])
            contents[relative] = yaml.safe_dump(document, sort_keys=False)
    return contents


def query_context(chart, params):
    """What Superset's editor saves for a chart: one query built from its form data."""
    if params.get("viz_type", "").startswith("echarts_timeseries"):
        axis = {"columnType": "BASE_AXIS", "sqlExpression": params["x_axis"], "label": params["x_axis"],
                "expressionType": "SQL", "timeGrain": params.get("time_grain_sqla")}
        columns = [axis] + list(params.get("groupby", []))
        metrics = params["metrics"]
        orderby = [[params["x_axis"], True]]
    elif params.get("query_mode") == "raw":
        columns = list(params["all_columns"])
        metrics = []
        orderby = [json.loads(item) for item in params.get("order_by_cols", [])]
    else:
        columns = list(params.get("groupby", []))
        metrics = params["metrics"]
        orderby = [[metrics[0], False]]
    query = {"columns": columns, "metrics": metrics, "orderby": orderby, "filters": [], "extras": {"having": "", "where": ""},
             "row_limit": params.get("row_limit", 10000), "annotation_layers": [], "applied_time_extras": {}, "url_params": {}}
    datasource = {"id": chart.datasource_id, "type": "table"}
    form_data = dict(params, datasource="%d__table" % chart.datasource_id, slice_id=chart.id)
    return {"datasource": datasource, "force": False, "queries": [query], "form_data": form_data,
            "result_format": "json", "result_type": "full"}


def import_assets(home):
    url = os.environ.get("RECON_WAREHOUSE_URL")
    prefix = os.environ.get("RECON_SCHEMA_PREFIX")
    if not url or not prefix:
        sys.exit("import needs RECON_WAREHOUSE_URL (postgresql://user:password@host:port/db) and RECON_SCHEMA_PREFIX")
    os.environ.update(environment(home))
    import yaml
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask import g
        from superset import db, security_manager
        from superset.commands.chart.importers.v1 import ImportChartsCommand
        from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
        from superset.commands.database.importers.v1 import ImportDatabasesCommand
        from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
        from superset.models.slice import Slice

        g.user = security_manager.find_user(username="admin")
        contents = read_assets(url, prefix)
        # A dashboard bundle overwrites only the dashboard: each kind is imported in its own right, so
        # importing again (another warehouse, changed charts) updates everything.
        for command, kind in ((ImportDatabasesCommand, "Database"), (ImportDatasetsCommand, "SqlaTable"),
                              (ImportChartsCommand, "Slice"), (ImportDashboardsCommand, "Dashboard")):
            metadata = yaml.safe_load(contents["metadata.yaml"])
            metadata["type"] = kind
            command(dict(contents, **{"metadata.yaml": yaml.safe_dump(metadata)}), overwrite=True).run()
        charts = 0
        for chart in db.session.query(Slice).all():
            params = json.loads(chart.params or "{}")
            chart.query_context = json.dumps(query_context(chart, params))
            charts += 1
        db.session.commit()
    print("superset: imported %d charts and the dashboard 'Fund reconciliation' on %s_ads" % (charts, prefix))


def serve(home, port):
    # 127.0.0.1 unless told (a container publishes 0.0.0.0: RECON_SUPERSET_HOST).
    host = os.environ.get("RECON_SUPERSET_HOST", "127.0.0.1")
    command = [os.path.join(os.path.dirname(sys.executable), "superset"), "run", "-h", host, "-p", str(port), "--with-threads"]
    os.execve(command[0], command, environment(home))


class Client:
    """The REST API as a user reaches it: a JWT from /api/v1/security/login."""

    def __init__(self, home, port):
        self.base = "http://127.0.0.1:%d" % port
        with open(os.path.join(home, "admin-password"), encoding="utf-8") as handle:
            self.password = handle.read().strip()
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("superset did not answer on %s/health within 180 s" % self.base)
            time.sleep(1)
        token = self.call("/api/v1/security/login", {"username": "admin", "password": self.password, "provider": "db",
                                                      "refresh": False})
        self.token = token["access_token"]

    def call(self, path, body=None):
        request = urllib.request.Request(self.base + path, data=None if body is None else json.dumps(body).encode(),
                                         headers={} if body is None else {"Content-Type": "application/json"})
        if getattr(self, "token", None):
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            sys.exit("superset %s: HTTP %d %s" % (path, error.code, error.read().decode(errors="replace")[:2000]))


def cents(value):
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(Decimal("0.01"))


def check(home, port):
    """Every chart's data against SQL, per currency (and per day where the chart is per day)."""
    import psycopg2

    prefix = os.environ["RECON_SCHEMA_PREFIX"]
    ads, dws = prefix + "_ads", prefix + "_dws"
    client = Client(home, port)
    connection = psycopg2.connect(os.environ["RECON_WAREHOUSE_URL"])
    cursor = connection.cursor()

    def sql(text):
        cursor.execute(text)
        return cursor.fetchall()

    dashboards = client.call("/api/v1/dashboard/?q=" + urllib.parse.quote(json.dumps(
        {"filters": [{"col": "slug", "opr": "eq", "value": DASHBOARD_SLUG}]})))
    if dashboards["count"] != 1:
        sys.exit("no dashboard %s" % DASHBOARD_SLUG)
    dashboard_id = dashboards["result"][0]["id"]
    charts = client.call("/api/v1/dashboard/%d/charts" % dashboard_id)["result"]
    names = {chart["slice_name"]: chart["id"] for chart in charts}
    problems = []

    def data(name):
        return client.call("/api/v1/chart/%d/data/" % names[name])["result"][0]["data"]

    def compare(name, what, got, expected):
        if got != expected:
            problems.append("%s: %s differ: chart %s, SQL %s" % (name, what, got, expected))
        else:
            print("ok  %s: %s equal SQL (%s)" % (name, what, "%d groups" % len(expected) if isinstance(expected, dict) else expected))

    def totals(rows, key, value, convert=cents):
        result = {}
        for row in rows:
            group = tuple(row.get(k) for k in key) if isinstance(key, tuple) else row.get(key)
            result[group] = result.get(group, Decimal(0)) + convert(row[value])
        return result

    name = "Daily gateway alignment"
    rows = data(name)
    for label, column in (("expected", "expected_amount"), ("settled", "actual_amount"), ("difference", "diff_amount")):
        compare(name, label + " per currency", totals(rows, "currency", label),
                {currency: cents(amount) for currency, amount in sql(
                    "SELECT currency, sum(%s) FROM %s.ads_gateway_recon GROUP BY 1" % (column, ads))})
    compare(name, "items per gateway and currency", totals(rows, ("gateway", "currency"), "items", int),
            {(gateway, currency): count for gateway, currency, count in sql(
                "SELECT gateway, currency, count(*) FROM %s.ads_gateway_recon GROUP BY 1, 2" % ads)})

    name = "Breaks by type and aging"
    rows = data(name)
    compare(name, "breaks per currency and type", totals(rows, ("currency", "break_type"), "breaks", int),
            {(currency, kind): count for currency, kind, count in sql(
                "SELECT currency, break_type, count(*) FROM %s.ads_recon_breaks GROUP BY 1, 2" % ads)})
    compare(name, "breaks per aging bucket", totals(rows, "aging", "breaks", int),
            {bucket: count for bucket, count in sql("""
                SELECT CASE WHEN age_days IS NULL THEN 'no date' WHEN age_days <= 1 THEN '0-1 days' WHEN age_days <= 7 THEN '2-7 days'
                            WHEN age_days <= 30 THEN '8-30 days' ELSE '>30 days' END, count(*)
                FROM %s.ads_recon_breaks GROUP BY 1""" % ads)})

    name = "Merchant closing balances per currency"
    rows = data(name)
    got = {(time.strftime("%Y-%m-%d", time.gmtime(row["biz_date"] / 1000)), row["currency"]): cents(row["closing balance"]) for row in rows}
    compare(name, "closing balance per day and currency", got,
            {(day.isoformat(), currency): cents(amount) for day, currency, amount in sql(
                "SELECT biz_date, currency, sum(closing_balance) FROM %s.ads_merchant_balance_daily GROUP BY 1, 2" % ads)})

    name = "Reconciliation per day"
    rows = data(name)
    compare(name, "breaks and matched amount per day",
            {time.strftime("%Y-%m-%d", time.gmtime(row["biz_date"] / 1000)): (row["break_count"], cents(row["matched_amount"])) for row in rows},
            {day.isoformat(): (count, cents(amount)) for day, count, amount in sql(
                "SELECT biz_date, break_count, matched_amount FROM %s.ads_recon_summary_daily" % ads)})

    name = "Hourly volume"
    rows = data(name)
    compare(name, "orders per currency", totals(rows, "currency", "orders", int),
            {currency: count for currency, count in sql("SELECT currency, sum(order_count)::bigint FROM %s.dws_merchant_hourly GROUP BY 1" % dws)})
    hours = sql("SELECT count(DISTINCT hour_start) FROM %s.dws_merchant_hourly" % dws)[0][0]
    compare(name, "hours", len({row["hour_start"] for row in rows}), hours)

    missing = {"Daily gateway alignment", "Breaks by type and aging", "Merchant closing balances per currency",
               "Reconciliation per day", "Hourly volume"} - set(names)
    if missing:
        problems.append("the dashboard lacks %s" % sorted(missing))
    for problem in problems:
        print("FAIL " + problem)
    print("superset check: %d charts, %s" % (len(names), "all equal SQL" if not problems else "%d problem(s)" % len(problems)))
    sys.exit(1 if problems else 0)


def screenshot(home, port, png):
    """Logs in through the form as a person would, then has Chromium (DevTools protocol) draw the dashboard."""
    import base64
    import socket
    import tempfile
    import websocket

    base = "http://127.0.0.1:%d" % port
    Client(home, port)
    with open(os.path.join(home, "admin-password"), encoding="utf-8") as handle:
        password = handle.read().strip()
    # Signed in from inside the page, as the login form does: a CSRF token, then the form's POST.
    login = """(async () => {
        const token = (await (await fetch('/api/v1/security/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({username: 'admin', password: %s, provider: 'db'})})).json()).access_token;
        const csrf = (await (await fetch('/api/v1/security/csrf_token/', {headers: {Authorization: 'Bearer ' + token}})).json()).result;
        const form = new URLSearchParams({username: 'admin', password: %s, csrf_token: csrf});
        const response = await fetch('/login/', {method: 'POST', body: form, credentials: 'same-origin'});
        return response.status;
    })()""" % (json.dumps(password), json.dumps(password))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        debug_port = probe.getsockname()[1]
    profile = tempfile.mkdtemp(prefix="recon-superset-chromium-")
    browser = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
                                "--remote-debugging-port=%d" % debug_port, "--window-size=1280,1400", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                targets = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/json" % debug_port, timeout=2).read())
                target = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                if time.time() > deadline:
                    sys.exit("chromium did not open its debugging port")
                time.sleep(0.3)
        socket_ = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
        counter = [0]

        def send(method, **params):
            counter[0] += 1
            socket_.send(json.dumps({"id": counter[0], "method": method, "params": params}))
            while True:
                message = json.loads(socket_.recv())
                if message.get("id") == counter[0]:
                    return message.get("result", {})

        send("Emulation.setDeviceMetricsOverride", width=1280, height=1400, deviceScaleFactor=1, mobile=False)
        send("Page.enable")
        send("Page.navigate", url=base + "/login/")
        time.sleep(3)
        signed = send("Runtime.evaluate", expression=login, awaitPromise=True, returnByValue=True)
        if signed.get("result", {}).get("value") not in (200, 302):
            sys.exit("could not sign in inside Chromium: %s" % signed)
        send("Page.navigate", url=base + "/superset/dashboard/%s/?standalone=1" % DASHBOARD_SLUG)
        time.sleep(25)  # the charts query the warehouse and draw
        shot = send("Page.captureScreenshot", format="png")
        with open(png, "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
        print("superset: dashboard drawn to %s" % png)
    finally:
        browser.terminate()
        browser.wait()


def main(argv):
    if len(argv) < 3 or argv[1] not in ("setup", "import", "serve", "check", "screenshot"):
        sys.exit(__doc__)
    home = os.path.abspath(argv[2])
    if argv[1] == "setup":
        setup(home)
    elif argv[1] == "import":
        import_assets(home)
    elif argv[1] == "serve":
        serve(home, int(argv[3]))
    elif argv[1] == "check":
        check(home, int(argv[3]))
    else:
        screenshot(home, int(argv[3]), argv[4])


if __name__ == "__main__":
    main(sys.argv)

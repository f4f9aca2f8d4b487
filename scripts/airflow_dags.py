#!/usr/bin/env python3
"""Checks the DAG files `recon dag --airflow DIR` writes, as an Airflow shop would see them.

  airflow_dags.py parse DIR    reads the files with Python's own parser (no Airflow needed):
                               every file compiles; DAG ids, schedules, tasks, dependencies and
                               the recon command of every BashOperator are as expected.
  airflow_dags.py dagbag DIR   loads them with Airflow's DagBag (run with a Python that has
                               apache-airflow): no import errors; the same ids, tasks and edges.
Exit 0 when everything holds, 1 otherwise (each problem printed).
"""
import ast
import os
import sys

# What the seed's DAGs were, and what FundRecon adds: id -> (schedule, tasks, edges).
EXPECTED = {
    "initialize_etl_environment": ("@once", {"initialize_etl_environment"}, set()),
    "import_main_data": ("@hourly", {"import_main_data"}, set()),
    "import_reseller_data": ("@hourly", {"import_reseller_data"}, set()),
    "run_dbt_init_tasks": ("@daily", {"run_dbt_init_tasks"}, set()),
    "run_dbt_model": ("@daily",
                      {"wait_for_import_main_data", "wait_for_import_reseller_data", "wait_for_run_dbt_init_tasks",
                       "run_dbt_model", "run_checks"},
                      {("wait_for_import_main_data", "run_dbt_model"), ("wait_for_import_reseller_data", "run_dbt_model"),
                       ("wait_for_run_dbt_init_tasks", "run_dbt_model"), ("run_dbt_model", "run_checks")}),
    "monthly_audit_report": ("@monthly", {"wait_for_run_dbt_model", "write_reports"}, {("wait_for_run_dbt_model", "write_reports")}),
}
# What each sensor waits for: (DAG, task, logical date): a delta in hours, or the month's last day.
SENSORS = {
    "wait_for_import_main_data": ("import_main_data", "import_main_data", "timedelta(hours=-23)"),
    "wait_for_import_reseller_data": ("import_reseller_data", "import_reseller_data", "timedelta(hours=-23)"),
    "wait_for_run_dbt_init_tasks": ("run_dbt_init_tasks", "run_dbt_init_tasks", "timedelta(hours=0)"),
    "wait_for_run_dbt_model": ("run_dbt_model", "run_dbt_model", "last day of month"),
}
# The grain each DAG's recon runs at.
GRAINS = {"@hourly": "hour", "@daily": "day", "@monthly": "month", "@once": "day"}


def keyword(call, name):
    for item in call.keywords:
        if item.arg == name:
            return ast.literal_eval(item.value) if isinstance(item.value, ast.Constant) else item.value
    return None


def parse(directory):
    problems = []
    seen = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py"):
            continue
        path = os.path.join(directory, name)
        source = open(path, encoding="utf-8").read()
        try:
            tree = ast.parse(source, filename=path)
            compile(tree, path, "exec")
        except SyntaxError as error:
            problems.append(f"{name}: does not parse: {error}")
            continue
        dag_id = schedule = None
        tasks, edges, commands, sensors, retries = {}, set(), {}, {}, {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DAG":
                dag_id, schedule = keyword(node, "dag_id"), keyword(node, "schedule")
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                kind = getattr(node.value.func, "id", None)
                if kind in ("BashOperator", "ExternalTaskSensor"):
                    task_id = keyword(node.value, "task_id")
                    tasks[node.targets[0].id] = task_id
                    if kind == "BashOperator":
                        commands[task_id] = keyword(node.value, "bash_command")
                        retries[task_id] = keyword(node.value, "retries")
                    else:
                        delta = keyword(node.value, "execution_delta")
                        when = ast.unparse(delta) if delta is not None else None
                        if keyword(node.value, "execution_date_fn") is not None:
                            fn = ast.unparse(keyword(node.value, "execution_date_fn"))
                            when = "last day of month" if "add(months=1).subtract(days=1)" in fn else fn
                        sensors[task_id] = (keyword(node.value, "external_dag_id"), keyword(node.value, "external_task_id"), when)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
                edges.add((node.left.id, node.right.id))
        if dag_id is None:
            problems.append(f"{name}: no DAG(...)")
            continue
        seen[dag_id] = (schedule, set(tasks.values()), {(tasks[a], tasks[b]) for a, b in edges}, commands, name, retries)
        for task_id, target in sensors.items():
            if SENSORS.get(task_id) != target:
                problems.append(f"DAG {dag_id} sensor {task_id}: waits for {target}, expected {SENSORS.get(task_id)}")
    for dag_id, (schedule, tasks, edges) in EXPECTED.items():
        if dag_id not in seen:
            problems.append(f"DAG {dag_id} is missing")
            continue
        got_schedule, got_tasks, got_edges, commands, name, retries = seen[dag_id]
        if name != dag_id + ".py":
            problems.append(f"DAG {dag_id} is in {name}")
        if got_schedule != schedule:
            problems.append(f"DAG {dag_id}: schedule {got_schedule!r}, expected {schedule!r}")
        if got_tasks != tasks:
            problems.append(f"DAG {dag_id}: tasks {sorted(got_tasks)}, expected {sorted(tasks)}")
        if got_edges != edges:
            problems.append(f"DAG {dag_id}: dependencies {sorted(got_edges)}, expected {sorted(edges)}")
        for task_id, command in commands.items():
            words = command.split() if isinstance(command, str) else []
            if len(words) < 2 or not words[0].strip("'").endswith("recon") or words[1] != "run":
                problems.append(f"DAG {dag_id} task {task_id}: does not call `recon run`: {command!r}")
                continue
            if f"--grain {GRAINS[schedule]}" not in command:
                problems.append(f"DAG {dag_id} task {task_id}: not at grain {GRAINS[schedule]}")
            named = command.split("--tasks ", 1)[1].split()[0].split(",")
            if task_id not in named and not (task_id == "write_reports" and "write_reports" in named):
                problems.append(f"DAG {dag_id} task {task_id}: runs {named}, not itself")
            # A failed check is a finding: the tasks that check never retry (DAG default: 2 retries).
            if "run_checks" in named and retries.get(task_id) != 0:
                problems.append(f"DAG {dag_id} task {task_id}: checks and retries ({retries.get(task_id)!r}, expected 0)")
            if "RECON_DATABASE_URL" in command or "postgres://" in command or "postgresql://" in command:
                problems.append(f"DAG {dag_id} task {task_id}: a database address is written into the file")
    for dag_id in seen:
        if dag_id not in EXPECTED:
            problems.append(f"unexpected DAG {dag_id}")
    return problems


def dagbag(directory):
    os.environ.setdefault("AIRFLOW_HOME", os.path.join(directory, ".airflow-home"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    from airflow.models import DagBag
    try:
        bag = DagBag(dag_folder=directory, include_examples=False)
    except TypeError:  # Airflow 3.3 reads examples from the setting above
        bag = DagBag(dag_folder=directory)
    problems = [f"import error in {path}: {error}" for path, error in bag.import_errors.items()]
    for dag_id, (_, tasks, edges) in EXPECTED.items():
        dag = bag.dags.get(dag_id)
        if dag is None:
            problems.append(f"DagBag has no DAG {dag_id}")
            continue
        if set(dag.task_ids) != tasks:
            problems.append(f"DAG {dag_id}: DagBag tasks {sorted(dag.task_ids)}, expected {sorted(tasks)}")
        got = {(upstream, task.task_id) for task in dag.tasks for upstream in task.upstream_task_ids}
        if got != edges:
            problems.append(f"DAG {dag_id}: DagBag dependencies {sorted(got)}, expected {sorted(edges)}")
        for task in dag.tasks:
            if task.task_id in SENSORS and SENSORS[task.task_id][2] == "last day of month":
                # February of a leap year and of a common one, and a 31-day month.
                import pendulum
                for month, last in [((2028, 2), 29), ((2026, 2), 28), ((2026, 10), 31)]:
                    day = task.execution_date_fn(pendulum.datetime(month[0], month[1], 1, tz="Europe/Berlin"))
                    if (day.year, day.month, day.day) != (month[0], month[1], last):
                        problems.append(f"DAG {dag_id} sensor {task.task_id}: {month} maps to {day}, not day {last}")
    return problems


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("parse", "dagbag"):
        print(__doc__)
        return 2
    problems = parse(sys.argv[2]) if sys.argv[1] == "parse" else dagbag(sys.argv[2])
    for problem in problems:
        print("airflow_dags:", problem)
    if not problems:
        print(f"airflow_dags: {sys.argv[1]}: {len(EXPECTED)} DAGs as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

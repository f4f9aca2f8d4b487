# FundRecon: `make demo` and `make test` do everything on a fresh Debian machine.

SWIFT ?= swift
RECON := .build/debug/recon
APT_PACKAGES := pkg-config libpq-dev libxml2-dev libxlsxwriter-dev postgresql chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: setup packages build test demo bench interop pytools airflow superset superset-demo citus golden clean

## setup: install the Debian packages FundRecon needs (only the missing ones), then build.
setup: packages build

packages:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
		dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "packages present: $(APT_PACKAGES)"; \
	fi

## build: compile the tool and the tests.
build:
	$(SWIFT) build --build-tests

## pytools: the independent readers tests use (openpyxl reads the XLSX back, lxml validates JUnit, pypdf reads
## the PDF's text).
pytools:
	@.venv/bin/python -c "import openpyxl, lxml, pypdf" 2>/dev/null || \
		(python3 -m venv .venv && .venv/bin/pip install -q openpyxl lxml pypdf)

## airflow: apache-airflow in .venv-airflow for the DagBag test of `recon dag --airflow` (about 3 minutes once;
## when PyPI is out of reach the DagBag test is skipped with a note and the parse test still runs).
AIRFLOW_VERSION := 3.3.2
airflow:
	@.venv-airflow/bin/python -c "import airflow" 2>/dev/null || \
		(python3 -m venv .venv-airflow && timeout 900 .venv-airflow/bin/pip install -q "apache-airflow==$(AIRFLOW_VERSION)") || \
		echo "airflow: apache-airflow $(AIRFLOW_VERSION) did not install: the DagBag test will be skipped"

## superset: Apache Superset (pinned) in .venv-superset, its metadata (SQLite), secret key and admin (generated password in
## .superset/admin-password) under .superset (about 1-2 minutes once). PyPI's apache-superset 6.1.0 lacks rich and
## cachetools and breaks with Flask-Caching 2.5: they are pinned beside it (bi/superset/requirements.txt).
SUPERSET_HOME ?= .superset
superset:
	@.venv-superset/bin/python -c "import superset, psycopg2, websocket" 2>/dev/null || \
		(python3 -m venv .venv-superset && timeout 1200 .venv-superset/bin/pip install -q -r bi/superset/requirements.txt) || \
		(echo "superset: apache-superset did not install: the Superset test will be skipped"; exit 0)
	@if .venv-superset/bin/python -c "import superset" 2>/dev/null && [ ! -f $(SUPERSET_HOME)/admin-password ]; then \
		.venv-superset/bin/python scripts/superset_fundrecon.py setup $(SUPERSET_HOME); fi

## superset-demo: a persistent local warehouse (recon server, .recon/pg) with a generated October, Superset's assets
## imported on it, and Superset at http://localhost:8088 (user admin, password in .superset/admin-password).
superset-demo: build superset
	$(RECON) server start --dir .recon/pg --port 5433
	$(RECON) generate --out .recon/landing --seed 42 --start 2026-10-01 --days 31 --orders-per-day 2000 \
		--anomalies $(DEMO_ANOMALIES) --quiet
	PGPASSFILE=.recon/pg/pgpass $(RECON) run --db postgresql://postgres@127.0.0.1:5433/postgres --schema-prefix wh \
		--grain month --period 2026-10 --data .recon/landing --reports reports/wh --quiet || true
	RECON_WAREHOUSE_URL="postgresql://postgres:$$(cat .recon/pg/password)@127.0.0.1:5433/postgres" RECON_SCHEMA_PREFIX=wh \
		.venv-superset/bin/python scripts/superset_fundrecon.py import $(SUPERSET_HOME)
	@echo "Superset: http://localhost:8088/superset/dashboard/fund-reconciliation/ (user admin, password in $(SUPERSET_HOME)/admin-password)"
	.venv-superset/bin/python scripts/superset_fundrecon.py serve $(SUPERSET_HOME) 8088

## citus: Citus (distributed PostgreSQL) in PostgreSQL 15, for the Citus tests and `--db` on a local topology. Nothing
## to do when it is installed; else ../shared/citus/install.sh builds it from the upstream source (1-2.5 minutes);
## else how to install Citus Data's packages.
PG_LIBDIR := $(shell pg_config --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
# The installer beside the repository (../shared), or where these machines keep it.
CITUS_INSTALLER := $(or $(firstword $(wildcard ../shared/citus/install.sh /work/shared/citus/install.sh)),../shared/citus/install.sh)
citus:
	@if [ -f $(PG_LIBDIR)/citus.so ]; then \
		echo "citus: installed in $(PG_LIBDIR)"; \
	elif [ -f $(CITUS_INSTALLER) ]; then \
		bash $(CITUS_INSTALLER); \
	else \
		echo "citus: not installed, and $(CITUS_INSTALLER) is not here. Install Citus Data's packages:"; \
		echo "  curl https://install.citusdata.com/community/deb.sh | sudo bash"; \
		echo "  sudo apt-get install -y postgresql-15-citus-13.2"; \
		exit 1; \
	fi

## test: every unit, integration and end-to-end test against real embedded PostgreSQL clusters, then the
## CI gate on this repository itself: golden-data regression and anomaly coverage of fund_recon.yml.
test: setup pytools airflow superset citus
	$(SWIFT) test --skip-build
	$(RECON) golden check --quiet
	$(RECON) coverage --quiet

## demo: check the machine, then a full audit of a generated month (about 2,000 orders a day) with a few
## injected anomalies: load, build, every check of expectations/fund_recon.yml, reports.
DEMO_ANOMALIES := duplicate_capture=1,missing_settlement=2,fee_mismatch=1,reseller_truncated_file=1,malformed_record=1
demo: setup
	$(RECON) doctor
	@$(RECON) audit --generate --seed 42 --start 2026-10-01 --days 31 --orders-per-day 2000 \
		--anomalies $(DEMO_ANOMALIES) --reports reports; code=$$?; \
	echo ""; \
	if [ $$code -eq 1 ]; then echo "exit code 1: the CI gate caught the injected anomalies ($(DEMO_ANOMALIES))"; \
	elif [ $$code -ne 0 ]; then echo "exit code $$code: the audit could not run"; exit $$code; fi; \
	echo "reports: $$(pwd)/reports/recon-report.html (open it in a browser), recon-report.xlsx, junit.xml, results.json"

## bench: every stage at BENCH_SIZES orders a month (default 100,000 and 1,000,000; 10,000,000 on request) against
## PostgreSQL's own limits; BENCH_PARTS picks parts; BENCH_CITUS=N also audits on a local Citus coordinator and
## N workers beside one node; writes reports/bench.json (docs/performance.md).
bench: packages
	@if [ -n "$(BENCH_CITUS)" ]; then $(MAKE) citus; fi
	$(SWIFT) build -c release --product recon
	python3 scripts/bench.py

## interop: the same pipeline/ built by dbt-postgres (in .venv) and by FundRecon; ADS tables compared row for row.
VENV := .venv
$(VENV)/bin/dbt: pytools
	$(VENV)/bin/pip install -q "dbt-core>=1.8,<1.11" "dbt-postgres>=1.8,<1.10"

interop: setup $(VENV)/bin/dbt
	python3 scripts/interop.py

## golden: rewrite the golden datasets' expected outputs after a deliberate change (then commit golden/).
golden: build
	$(RECON) golden update clean_month anomalies_month

clean:
	rm -rf .build reports/*.html reports/*.xlsx reports/*.xml reports/*.json

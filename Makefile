# FundRecon: `make demo` and `make test` do everything on a fresh Debian machine.

SWIFT ?= swift
RECON := .build/debug/recon
APT_PACKAGES := pkg-config libpq-dev libxml2-dev libxlsxwriter-dev postgresql
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: setup packages build test demo bench interop clean

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

## test: every unit, integration and end-to-end test, against real embedded PostgreSQL clusters.
test: setup
	$(SWIFT) test --skip-build

## demo: check the machine, generate a month of data with a few anomalies, load it and build the warehouse.
DEMO_DATA := reports/demo-data
demo: setup
	$(RECON) doctor
	rm -rf $(DEMO_DATA)
	$(RECON) generate --out $(DEMO_DATA) --seed 42 --start 2026-10-01 --days 31 --orders-per-day 2000 \
		--anomalies duplicate_capture=2,malformed_record=2,reseller_truncated_file=1,missing_settlement=2
	$(RECON) build --data $(DEMO_DATA) --report-json reports/build-report.json
	@echo "demo dataset: $(DEMO_DATA) (manifest.json lists the injected anomalies)"
	@echo "build report: reports/build-report.json (rows and time of every model)"

## bench: 1,000,000 orders through generation and ingest, against plain COPY; writes reports/bench.json.
bench: packages
	$(SWIFT) build -c release --product recon
	python3 scripts/bench.py

## interop: the same pipeline/ built by dbt-postgres (in .venv) and by FundRecon; ADS tables compared row for row.
VENV := .venv
$(VENV)/bin/dbt:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q "dbt-core>=1.8,<1.11" "dbt-postgres>=1.8,<1.10"

interop: setup $(VENV)/bin/dbt
	python3 scripts/interop.py

clean:
	rm -rf .build reports/*.html reports/*.xlsx reports/*.xml reports/*.json

# FundRecon: `make demo` and `make test` do everything on a fresh Debian machine.

SWIFT ?= swift
RECON := .build/debug/recon
APT_PACKAGES := pkg-config libpq-dev libxml2-dev libxlsxwriter-dev postgresql
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: setup packages build test demo clean

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

## demo: check the machine with `recon doctor` (grows into a full audit as the stages land).
demo: setup
	$(RECON) doctor

clean:
	rm -rf .build reports/*.html reports/*.xlsx reports/*.xml reports/*.json

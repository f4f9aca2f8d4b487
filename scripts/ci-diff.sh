#!/bin/sh
# recon diff as a CI gate: builds the pull request's pipeline (the working tree) and the target
# branch's side by side on one dataset, leaves reports/diff.md for a comment, exits as recon does
# (0 the change breaks no rule of --fail-on, 1 it does, 2 bad usage or files, 3 a runtime failure).
#
#   scripts/ci-diff.sh BASE_REF
#
# Settings from the environment (all optional):
#   RECON                 the recon binary (default .build/release/recon)
#   DIFF_DATA             a dataset folder; default: generated (DIFF_DAYS days of DIFF_ORDERS_PER_DAY orders
#                         from DIFF_START, anomalies DIFF_ANOMALIES)
#   DIFF_CLOSED_THROUGH   the last day of the closed periods (a change to them fails the gate)
#   DIFF_FAIL_ON          the gate's rules (default closed,checks)
#   DIFF_REPORTS          where the reports go (default reports)
#   DIFF_DB               a PostgreSQL URL (default: an embedded throwaway cluster)
set -eu
base=${1:?usage: scripts/ci-diff.sh BASE_REF}
recon=${RECON:-.build/release/recon}
if [ -n "${DIFF_DATA:-}" ]; then
    set -- --data "$DIFF_DATA"
else
    set -- --generate --start "${DIFF_START:-2026-10-01}" --days "${DIFF_DAYS:-7}" \
        --orders-per-day "${DIFF_ORDERS_PER_DAY:-500}" --anomalies "${DIFF_ANOMALIES:-all=1}"
fi
[ -n "${DIFF_CLOSED_THROUGH:-}" ] && set -- "$@" --closed-through "$DIFF_CLOSED_THROUGH"
[ -n "${DIFF_DB:-}" ] && set -- "$@" --db "$DIFF_DB"
exec "$recon" diff --base "$base" --reports "${DIFF_REPORTS:-reports}" --fail-on "${DIFF_FAIL_ON:-closed,checks}" "$@"

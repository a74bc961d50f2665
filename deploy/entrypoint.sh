#!/bin/sh
# Starts one Kumiai service, chosen by SERVICE, or runs the given command.
#
#   SERVICE=ledger            -> uvicorn ledger.app:create_app on the catalog port
#   SERVICE=ledger PORT=9000  -> the same on port 9000
#   kumiai-migrate            -> any arguments are run as they are
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

if [ -z "${SERVICE:-}" ]; then
    echo "SERVICE is not set: one of onboarding, subscription, ledger, disclosure, subsidy" >&2
    exit 64
fi

if [ -z "${PORT:-}" ]; then
    PORT="$(python -c 'import sys; from kumiai.catalog import service; print(service(sys.argv[1]).port)' "$SERVICE")"
fi

exec uvicorn "${SERVICE}.app:create_app" --factory \
    --host 0.0.0.0 --port "$PORT" \
    --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" \
    --timeout-graceful-shutdown "${GRACEFUL_SHUTDOWN_S:-20}" \
    --no-access-log

#!/bin/sh
# Runs before the package's files are removed. Debian calls it with "remove"
# (or "upgrade NEW-VERSION", "deconfigure", "failed-upgrade"), RPM with 0
# (removal) or 1 (upgrade). Only a removal stops and disables the service;
# an upgrade leaves it running for postinstall to restart.
set -e

unit=heartbeat.service

case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac

run_systemctl() {
	systemctl "$@" || echo "heartbeat: systemctl $* failed; continuing" >&2
}

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	run_systemctl stop "$unit"
fi
if command -v systemctl >/dev/null 2>&1; then
	run_systemctl disable "$unit"
fi

#!/bin/sh
# Runs after the package's files are in place. Debian calls it with
# "configure" and the previously configured version (empty on a first
# install), RPM with 1 (first install) or 2 and more (upgrade).
# A first install enables the service but does not start it: the packaged
# config only logs, so the user edits it first. An upgrade restarts the
# service if it runs. Without systemd (a container, a chroot) there is
# nothing to do, and that is no error.
set -e

unit=heartbeat.service

case "$1" in
configure)
	if [ -z "$2" ]; then action=install; else action=upgrade; fi
	;;
1 | "") action=install ;;
[0-9]*) action=upgrade ;;
*) exit 0 ;; # abort-upgrade, abort-remove, ...: leave the service as it is
esac

# systemctl warns instead of failing the install: the files are in place.
run_systemctl() {
	systemctl "$@" || echo "heartbeat: systemctl $* failed; continuing" >&2
}

running=no
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	running=yes
	run_systemctl daemon-reload
fi

case "$action" in
install)
	if command -v systemctl >/dev/null 2>&1; then
		run_systemctl enable "$unit"
	fi
	echo "heartbeat is installed. Edit /etc/heartbeat/heartbeat.yaml (check it with"
	echo "  heartbeat validate --config /etc/heartbeat/heartbeat.yaml), then start it:"
	echo "  systemctl start heartbeat"
	;;
upgrade)
	if [ "$running" = yes ]; then
		run_systemctl try-restart "$unit"
	fi
	;;
esac

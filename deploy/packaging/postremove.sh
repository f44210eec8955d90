#!/bin/sh
# Runs after the package's files are removed (Debian: "remove", "purge",
# "upgrade", ...; RPM: 0 removal, 1 upgrade): systemd forgets the removed
# unit or reads the new one. The config in /etc/heartbeat and the user
# heartbeat are kept, so a reinstall finds them (dpkg --purge deletes the
# config).
set -e

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || echo "heartbeat: systemctl daemon-reload failed; continuing" >&2
fi

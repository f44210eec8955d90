#!/bin/sh
# Runs before the package's files are unpacked: creates the system user and
# group the service runs as. Debian calls it with "install" or "upgrade
# OLD-VERSION", RPM with 1 (install) or 2 (upgrade); either way the user is
# created only when it is missing, so it is safe on every call.
set -e

name=heartbeat

case "$1" in
abort-upgrade) exit 0 ;;
esac

exists() { # exists passwd|group NAME
	if command -v getent >/dev/null 2>&1; then
		getent "$1" "$2" >/dev/null 2>&1
	else
		grep -q "^$2:" "/etc/$1" 2>/dev/null
	fi
}

nologin=/bin/false
for f in /usr/sbin/nologin /sbin/nologin; do
	if [ -x "$f" ]; then
		nologin=$f
		break
	fi
done

if ! exists group "$name"; then
	if command -v groupadd >/dev/null 2>&1; then
		groupadd --system "$name"
	elif command -v addgroup >/dev/null 2>&1; then
		addgroup --system "$name"
	else
		echo "heartbeat: cannot create the group $name: neither groupadd nor addgroup is installed" >&2
		exit 1
	fi
fi

if ! exists passwd "$name"; then
	# No home directory and no login shell: the service writes nothing.
	if command -v useradd >/dev/null 2>&1; then
		useradd --system --gid "$name" --no-create-home --home-dir /nonexistent \
			--shell "$nologin" --comment "heartbeat daemon" "$name"
	elif command -v adduser >/dev/null 2>&1; then
		adduser --system --ingroup "$name" --no-create-home --home /nonexistent \
			--shell "$nologin" --disabled-login --gecos "heartbeat daemon" "$name"
	else
		echo "heartbeat: cannot create the user $name: neither useradd nor adduser is installed" >&2
		exit 1
	fi
fi

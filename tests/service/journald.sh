#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# journald.sh OUT CMD [ARG...]: run CMD against a systemd-journald of its
# own, then write every entry that journald stored to OUT as
# `journalctl --all -o json` lines (--all: fields over 4096 bytes too),
# and to OUT.rule those that `journalctl DMABUF_RULE=missing-fence-wait` lists.
# Run it under `unshare -m`: /run, /var/log/journal and nothing else are
# replaced by empty tmpfs in this mount namespace, so the host's journal (if any) is neither read nor
# written, and nothing is left behind.  Says on stderr, and exits 3, when
# journald cannot be started here.
set -u
out=$1
shift
journald=/lib/systemd/systemd-journald
[ -x "$journald" ] || { echo "journald.sh: no $journald (the systemd package)" >&2; exit 3; }
mount --make-rprivate / || exit 3
mount -t tmpfs tmpfs /run || exit 3
[ -d /var/log/journal ] && { mount -t tmpfs tmpfs /var/log/journal || exit 3; }
mkdir -p /run/systemd/journal /run/log/journal
"$journald" </dev/null >/run/journald.log 2>&1 &
jpid=$!
i=0
while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -S /run/systemd/journal/socket ]; then
	echo "journald.sh: systemd-journald made no socket in 10 s:" >&2
	cat /run/journald.log >&2
	kill $jpid 2>/dev/null
	exit 3
fi
unset DMABUF_AUDIT_JOURNAL_SOCKET # the default path, as a service would use
"$@"
status=$?
# journald writes each entry as it reads it; SIGTERM makes it sync and exit
kill $jpid
wait $jpid
journalctl --directory=/run/log/journal --no-pager --all -o json >"$out" || exit 3
# and as an operator asks for one rule's findings
journalctl --directory=/run/log/journal --no-pager --all -o json \
	DMABUF_RULE=missing-fence-wait >"$out.rule" || exit 3
exit $status

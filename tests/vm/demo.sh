# shellcheck shell=sh
# demo.sh: the guest half of `make demo` (sourced by tests/vm/init when
# DAT_MODE=demo).  Output goes to the console, which tools/demo.sh shows.
policy=/etc/dmabuf-audit/policy
line() { echo "------------------------------------------------------------------------"; }

echo
line
echo "In the guest: Debian $(uname -r), dmabuf-audit and a test module"
echo "(dmabuf_audit_test.ko) whose exporter 'dat_revoker' revokes buffers the"
echo "way VFIO does (revoke scope: dat_exporter_revoke).  Policy used:"
grep -v '^#' "$policy" | grep . | sed 's/^/    /'
line
echo
echo "1) A CORRECT revoke, as VFIO does it since Linux 7.1: lock the buffer's"
echo "   reservation, mark it revoked, invalidate the importers' mappings,"
echo "   wait for their DMA fences (BOOKKEEP), unlock.  Expect: no finding."
echo
echo "   \$ dmabuf-audit run --policy $policy -- dat-trigger ok-revoke"
dmabuf-audit run --policy "$policy" --format text -o /tmp/ok.txt \
	-- /bin/dat-trigger ok-revoke >/tmp/ok.out 2>&1
ok_rc=$?
sed 's/^/   | /' /tmp/ok.out /tmp/ok.txt
echo "   exit status: $ok_rc"
echo
echo "2) The VFIO bug before Linux 7.1: the exporter invalidates the mappings"
echo "   and goes on WITHOUT waiting for the fences, while the importer's DMA"
echo "   to the old mapping is still in flight.  Expect: missing-fence-wait,"
echo "   with the buffer's history (export, attach, map, scope, invalidate...)."
echo
echo "   \$ dmabuf-audit run --policy $policy -- dat-trigger missing-fence-wait"
dmabuf-audit run --policy "$policy" --format text -o /tmp/bug.txt \
	-- /bin/dat-trigger missing-fence-wait >/tmp/bug.out 2>&1
bug_rc=$?
sed 's/^/   | /' /tmp/bug.out /tmp/bug.txt
echo "   exit status: $bug_rc (1 = a finding at or above --fail-on high)"
echo
note demo_ok_rc "$ok_rc"
note demo_bug_rc "$bug_rc"

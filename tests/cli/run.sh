#!/bin/bash
# tests/cli/run.sh BIN
#
# The command line as a user meets it: options anywhere before `--`, every
# refused value with its exact message and exit status 2, table sizes
# refused before anything is allocated, `hooks` output formats.  No kernel
# needed (the BTF test runs when /sys/kernel/btf/vmlinux is readable).
# TAP output.
set -uo pipefail

bin=${1:?usage: tests/cli/run.sh BIN}
here=$(cd "$(dirname "$0")" && pwd)
traces=$(cd "$here/../replay/traces" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$here/../lib/tap.sh"

# run BIN ARGS...: $rc, $out, $err (a hung command is killed after 20 s)
run() {
	timeout 20 "$bin" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}

# expect_usage NAME MESSAGE ARGS...: exit 2, stderr exactly MESSAGE, nothing on stdout
expect_usage() {
	local name=$1 msg=$2
	shift 2
	run "$@"
	if [ "$rc" -eq 2 ] && [ "$err" = "$msg" ] && [ -z "$out" ]; then
		ok "$name"
	else
		not_ok "$name" "args: $*
exit $rc (expected 2)
stderr: $err
expected: $msg
stdout: $out"
	fi
}

# expect_status NAME STATUS ARGS...: exit STATUS and an empty stderr
expect_status() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ] && [ -z "$err" ]; then
		ok "$name"
	else
		not_ok "$name" "args: $*
exit $rc (expected $want)
stderr: $err"
	fi
}

T=dmabuf-audit
bad="$T: invalid value"
ok_trace=$traces/ok-vfio-revoke.jsonl
bad_trace=$traces/access-after-revoke.jsonl

# ---- options anywhere before -- ----
expect_status "replay FILE --color never" 0 replay "$ok_trace" --color never
expect_status "replay FILE --error-exitcode 9 (after the file)" 9 \
	replay "$bad_trace" --error-exitcode 9
expect_status "replay --fail-on critical FILE -o OUT --format json" 1 \
	replay --fail-on critical "$bad_trace" -o "$work/report.json" --format json
if [ "$(head -c 18 "$work/report.json")" = '{"type":"header","' ]; then
	ok "-o after the file writes the JSON report"
else
	not_ok "-o after the file writes the JSON report" "$(head -c 200 "$work/report.json")"
fi
expect_status "replay FILE --record X (docs example)" 0 replay "$ok_trace" --record "$work/x.bin"
expect_status "the record written after FILE replays" 0 replay "$work/x.bin"
expect_status "replay -- FILE" 0 replay --color never -- "$ok_trace"
expect_usage "replay with two files" \
	"$T replay: expected exactly one FILE (or -), got 2" replay "$ok_trace" "$ok_trace"
expect_usage "replay FILE -- FILE" \
	"$T replay: expected exactly one FILE (or -), got 2" replay "$ok_trace" -- "$ok_trace"
expect_usage "replay without FILE" \
	"$T replay: expected exactly one FILE (or -), got 0" replay --color never
expect_usage "an unknown option after the file" \
	"$T replay: unrecognized option '--colour'" replay "$ok_trace" --colour never
expect_usage "watch takes no operand" "$T watch: unexpected argument 'now'" \
	watch --duration 1 now
expect_usage "run without CMD" "$T run: missing command: run [opts] -- CMD [ARG...]" \
	run --follow --
# before --: an option of ours; after it (or after CMD): CMD's own
expect_usage "run: options before -- are ours" \
	"$bad 'bogus' for --color: expected auto, always or never" run --color bogus -- true
run run --duration 5 -- /bin/true --color bogus
if [ "$rc" -eq 2 ] && ! grep -q "color" <<<"$err"; then
	ok "run: arguments after -- are CMD's"
else
	not_ok "run: arguments after -- are CMD's" "exit $rc: $err"
fi
run run /bin/true --color bogus
if ! grep -q "color" <<<"$err"; then
	ok "run: arguments after CMD are CMD's"
else
	not_ok "run: arguments after CMD are CMD's" "exit $rc: $err"
fi

# ---- numbers: no wrap, no sign, the option named ----
# expect_invalid OPTION VALUE EXPECTED CMD...: `CMD... OPTION VALUE` is refused
# with "invalid value 'VALUE' for OPTION: expected EXPECTED"
expect_invalid() {
	local opt=$1 value=$2 want=$3
	shift 3
	expect_usage "$opt '$value'" "$bad '$value' for $opt: expected $want" "$@" "$opt" "$value"
}

# 2 is the usage-error status, 0 success
for v in -18446744073709551615 2 0 256 99999999999999999999 +3; do
	expect_invalid --error-exitcode "$v" "1 or 3 to 255 (0 is success, 2 a usage error)" \
		replay "$ok_trace"
done
u32="an integer from 16 to 4294967295"
expect_invalid --max-buffers -18446744073709551600 "$u32" replay "$ok_trace"
expect_invalid --max-buffers 4294967296 "$u32" replay "$ok_trace"
expect_invalid --max-attachments " 64" "$u32" replay "$ok_trace"
expect_invalid --history 0 "an integer from 1 to 4294967295" replay "$ok_trace"
expect_invalid --pid -1 "an integer from 1 to 2147483647" watch
expect_invalid --mode trampoline "auto, fentry or kprobe" watch
for v in auto fexit ""; do
	expect_invalid --module-mode "$v" "kprobe or fentry" watch
done
for d in nan inf -1 0 1e10 5s; do
	expect_invalid --duration "$d" "a positive number of seconds, at most 1000000000" watch
done

# ---- table sizes: refused before allocating, the option named ----
limit="more than the limit of 1024 MiB"
# expect_too_big OPTION VALUE MIB: `replay OPTION VALUE` is refused, the option named
expect_too_big() {
	expect_usage "$1 $2: too big, the option blamed" \
		"$T: $1 $2: the engine's tables would take $3 MiB, $limit" replay "$ok_trace" "$1" "$2"
}

start=$(date +%s)
expect_too_big --max-attachments 2000000000 215897
expect_too_big --max-buffers 10000000 1981
expect_too_big --history 4294967295 819226
if [ $(($(date +%s) - start)) -le 5 ]; then
	ok "oversized tables are refused at once"
else
	not_ok "oversized tables are refused at once" "took $(($(date +%s) - start)) s"
fi
expect_status "--max-buffers 1000000 fits" 0 replay "$ok_trace" --max-buffers 1000000

# ---- hooks ----
expect_usage "hooks --format ktap" "$T hooks: --format must be text or json" hooks --format ktap
if [ -r /sys/kernel/btf/vmlinux ]; then
	run hooks --btf /sys/kernel/btf/vmlinux --format json
	if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
assert o["type"] == "hooks" and o["live"] is False
assert {h["hook"] for h in o["hooks"]} >= {"invalidate", "map", "scope"}
assert len(o["rules"]) == 16 and all("enforceable" in r for r in o["rules"])
' <<<"$out"; then
		ok "hooks --btf --format json is one JSON object"
	else
		not_ok "hooks --btf --format json is one JSON object" "exit $rc: $err"
	fi
	run hooks --btf /sys/kernel/btf/vmlinux
	if [ "$rc" -eq 0 ] && grep -q '^HOOK  *FUNCTION  *MODE  *STATUS$' <<<"$out" &&
		grep -q '^RULE  *ENFORCEABLE$' <<<"$out"; then
		ok "hooks --btf text has the hook and rule tables"
	else
		not_ok "hooks --btf text has the hook and rule tables" "exit $rc: $err"
	fi
else
	ok "# SKIP hooks --btf: /sys/kernel/btf/vmlinux not readable"
fi
echo "not BTF" >"$work/not-btf"
run hooks --btf "$work/not-btf"
if [ "$rc" -eq 2 ] && [ -z "$out" ] &&
	[[ "$err" == "$T hooks: cannot read BTF from $work/not-btf: "*" (expected a raw BTF blob such as /sys/kernel/btf/vmlinux or a vmlinux ELF with .BTF)" ]]; then
	ok "hooks --btf of a file that is not BTF"
else
	not_ok "hooks --btf of a file that is not BTF" "exit $rc: $err"
fi


# --- help, version and the bash completion, per command ----------------------------------------

# the options a help text names: --long and -s words (not words that merely contain a dash)
help_options() {
	grep -oE '(^|[ ,[(])--?[a-zA-Z][a-zA-Z-]*' | grep -oE -- '--?[a-zA-Z][a-zA-Z-]*' | sort -u
}
completion=$here/../../packaging/dmabuf-audit.bash
# what the completion offers for the last word
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_dmabuf_audit; printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$@" | sort -u
}
run --version
version_out=$out
for v in -V "replay -V" "hooks --version" "watch -V"; do
	# shellcheck disable=SC2086
	run $v
	if [ "$rc" -eq 0 ] && [ -z "$err" ] && [ "$out" = "$version_out" ] &&
		[[ $out == "$T "[0-9]* ]]; then
		ok "$v prints the version as --version does ($out)"
	else
		not_ok "$v prints the version as --version does" "exit $rc, out '$out', --version '$version_out', err $err"
	fi
done
all_help=$(timeout 20 "$bin" --help | help_options)
union=
for cmd in watch run replay hooks; do
	run "$cmd" --help
	opts=$(help_options <<<"$out")
	union+=$opts$'\n'
	offered=$(complete_words dmabuf-audit "$cmd" -)
	first=$(head -n 1 <<<"$out")
	if [ "$rc" -eq 0 ] && [ -z "$err" ] && [[ $first == "Usage: $T $cmd "* ]] &&
		[ "$(wc -l <<<"$opts")" -ge 6 ]; then
		ok "$cmd --help: that command's usage and its $(wc -l <<<"$opts") options"
	else
		not_ok "$cmd --help: that command's usage and its options" "exit $rc: $first
$err"
	fi
	if [ "$opts" = "$offered" ]; then
		ok "bash completion offers exactly the options of $cmd --help"
	else
		not_ok "bash completion offers exactly the options of $cmd --help" \
			"$(diff <(echo "$opts") <(echo "$offered") | sed -n 's/^</only in --help:/p; s/^>/only completed:/p')"
	fi
done
missing=$(comm -23 <(echo "$all_help") <(sort -u <<<"$union" | sed '/^$/d'))
if [ -z "$missing" ]; then
	ok "every option of --help is in some command's --help"
else
	not_ok "every option of --help is in some command's --help" "missing: $missing"
fi
# the per-command lists are not the general one: hooks takes none of the report's options
if [ "$(run hooks --help; help_options <<<"$out" | grep -c -- '--fail-on\|--duration\|--metrics')" = 0 ] &&
	run watch --help && grep -q -- '--duration' <<<"$out" && run replay --help &&
	! grep -q -- '--duration\|--follow\|--no-seed' <<<"$out"; then
	ok "each --help lists its own command's options only (hooks: no --fail-on, replay: no --duration)"
else
	not_ok "each --help lists its own command's options only" "$out"
fi

tap_done

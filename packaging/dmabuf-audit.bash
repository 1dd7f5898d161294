# SPDX-License-Identifier: GPL-2.0
# bash completion for dmabuf-audit(8): commands, each command's options, their values.
# Installed as /usr/share/bash-completion/completions/dmabuf-audit (loaded on first use).
# Self-contained: uses bash-completion's helpers only where they are loaded.
# shellcheck shell=bash

# Each command's options, as `dmabuf-audit COMMAND --help` lists them (tests/cli/run.sh
# compares the two).
# options every analysing command takes (watch, run, replay)
_dmabuf_audit_report_opts='--format -o --output --timeline --all-buffers --events --record
	--policy --stacks --fail-on --error-exitcode --addresses --stats-interval --color --max-buffers
	--max-attachments --history -v --verbose -h --help -V --version'
# options of attaching to a kernel (watch, run)
_dmabuf_audit_live_opts='--mode --module-mode --pid --no-seed'
# the service's (watch, and replay judging a trace again)
_dmabuf_audit_service_opts='--log --metrics --metrics-interval'

_dmabuf_audit_options()
{
	case $1 in
	watch)
		echo "$_dmabuf_audit_report_opts $_dmabuf_audit_live_opts --duration
			$_dmabuf_audit_service_opts" ;;
	run)
		echo "$_dmabuf_audit_report_opts $_dmabuf_audit_live_opts --follow" ;;
	replay)
		echo "$_dmabuf_audit_report_opts $_dmabuf_audit_service_opts" ;;
	hooks)
		echo "--btf --format --mode --module-mode --policy -v --verbose -h --help -V --version" ;;
	esac
}

# values of an option that takes one; returns 1 when the option takes none
_dmabuf_audit_values()
{
	local cmd=$1 opt=$2 cur=$3
	case $opt in
	--format)
		if [ "$cmd" = hooks ]; then
			COMPREPLY=($(compgen -W 'text json' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'text json ktap junit perfetto html' -- "$cur"))
		fi ;;
	--fail-on) COMPREPLY=($(compgen -W 'info warning high critical' -- "$cur")) ;;
	--mode) COMPREPLY=($(compgen -W 'auto fentry kprobe' -- "$cur")) ;;
	--addresses) COMPREPLY=($(compgen -W 'hashed raw none' -- "$cur")) ;;
	--module-mode) COMPREPLY=($(compgen -W 'kprobe fentry' -- "$cur")) ;;
	--color) COMPREPLY=($(compgen -W 'auto always never' -- "$cur")) ;;
	--log) COMPREPLY=($(compgen -W 'auto journal output' -- "$cur")) ;;
	--pid)
		local pids
		pids=$(cd /proc 2>/dev/null && compgen -G '[0-9]*')
		COMPREPLY=($(compgen -W "$pids" -- "$cur")) ;;
	-o | --output | --timeline | --record | --policy | --metrics | --btf)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null ;;
	--error-exitcode | --duration | --max-buffers | --max-attachments | --history | \
		--metrics-interval | --stats-interval)
		COMPREPLY=() ;; # a number: nothing to offer
	*) return 1 ;;
	esac
	return 0
}

_dmabuf_audit()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd=${COMP_WORDS[1]} i

	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W 'watch run replay hooks help version --help -V --version' \
			-- "$cur"))
		return 0
	fi
	# run: the first argument that is not an option (or the one after `--`) starts CMD
	if [ "$cmd" = run ]; then
		for ((i = 2; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			--)
				break ;;
			-o | --output | --timeline | --record | --policy | --format | --fail-on | \
				--error-exitcode | --addresses | --pid | --mode | --module-mode | --color | --max-buffers | \
				--max-attachments | --history | --stats-interval)
				((i++)) ;;
			-*) ;;
			*)
				break ;;
			esac
		done
		if [ "$i" -lt "$COMP_CWORD" ]; then
			[ "${COMP_WORDS[i]}" = -- ] && ((i++))
			if [ "$i" -eq "$COMP_CWORD" ]; then
				COMPREPLY=($(compgen -c -- "$cur" | sort -u))
			elif declare -F _command_offset >/dev/null; then
				_command_offset "$i"
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return 0
		fi
	fi
	_dmabuf_audit_values "$cmd" "$prev" "$cur" && return 0
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_dmabuf_audit_options "$cmd")" -- "$cur"))
	elif [ "$cmd" = replay ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
	elif [ "$cmd" = run ]; then
		COMPREPLY=($(compgen -c -- "$cur" | sort -u))
	fi
	return 0
}

complete -F _dmabuf_audit dmabuf-audit

// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf-audit: observe dma-buf exporters and importers and report breaches
 * of the revoke contract.  This file only parses the command line and hands
 * over to a command (src/live/ for watch, run and hooks; src/core/ for
 * replay).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " DA_TOOL_NAME " COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  watch [opts]              attach to the running kernel, report findings live\n"
		"  run [opts] -- CMD [ARG..] attach, run CMD, report when it exits (for CI)\n"
		"  replay [opts] FILE        judge a recorded trace (binary record or JSON Lines; - = stdin)\n"
		"  hooks [--btf FILE]        which hooks this kernel (or FILE's BTF) offers, and which\n"
		"                            rules are enforceable\n"
		"\n"
		"Options (watch, run, replay):\n"
		"  --format text|json|ktap|junit  report format (default text)\n"
		"  -o, --output FILE              write the report to FILE\n"
		"  --events                       also print every event\n"
		"  --record FILE                  write the event stream for replay (.gz: compressed)\n"
		"  --policy FILE                  policy file (docs/policy.md)\n"
		"  --stacks                       capture the kernel stack of offending calls\n"
		"  --fail-on SEVERITY             info|warning|high|critical (default high)\n"
		"  --error-exitcode N             exit status when a finding reaches --fail-on (default 1)\n"
		"  --duration SEC                 watch: stop after SEC seconds\n"
		"  --pid PID                      run/watch: only events of process PID\n"
		"  --follow                       run: only events of CMD and its descendants\n"
		"  --mode auto|fentry|kprobe      attach mode (default auto)\n"
		"  --color auto|always|never      colour in text output (default auto)\n"
		"  --max-buffers N, --max-attachments N, --history N\n"
		"                                 engine table sizes and history length\n"
		"  -v, --verbose                  libbpf and attach diagnostics on stderr\n"
		"  -h, --help                     this help;  --version  the version\n"
		"\n"
		"Exit status: 0 no finding at or above --fail-on; 1 (or --error-exitcode) when one is;\n"
		"2 usage or setup error.  run returns CMD's status when there is no such finding.\n");
}

enum {
	OPT_FORMAT = 256,
	OPT_EVENTS,
	OPT_RECORD,
	OPT_POLICY,
	OPT_STACKS,
	OPT_FAIL_ON,
	OPT_ERROR_EXITCODE,
	OPT_DURATION,
	OPT_BTF,
	OPT_PID,
	OPT_FOLLOW,
	OPT_MODE,
	OPT_COLOR,
	OPT_MAX_BUFFERS,
	OPT_MAX_ATTACHMENTS,
	OPT_HISTORY,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "events", no_argument, NULL, OPT_EVENTS },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "stacks", no_argument, NULL, OPT_STACKS },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "max-buffers", required_argument, NULL, OPT_MAX_BUFFERS },
	{ "max-attachments", required_argument, NULL, OPT_MAX_ATTACHMENTS },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

static int bad_value(const char *opt, const char *val, const char *expect)
{
	fprintf(stderr, DA_TOOL_NAME ": invalid value '%s' for %s: expected %s\n", val, opt,
		expect);
	return -1;
}

static int parse_u32(const char *opt, const char *val, uint32_t min, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || end == val || v < min || v > UINT32_MAX)
		return bad_value(opt, val, "a positive integer");
	*out = (uint32_t)v;
	return 0;
}

static int parse_option(struct da_opts *o, int c, const char *arg)
{
	char *end;
	uint32_t v;

	switch (c) {
	case OPT_FORMAT:
		if (!strcmp(arg, "text"))
			o->format = DA_FMT_TEXT;
		else if (!strcmp(arg, "json"))
			o->format = DA_FMT_JSON;
		else if (!strcmp(arg, "ktap"))
			o->format = DA_FMT_KTAP;
		else if (!strcmp(arg, "junit"))
			o->format = DA_FMT_JUNIT;
		else
			return bad_value("--format", arg, "text, json, ktap or junit");
		return 0;
	case 'o':
		o->output = arg;
		return 0;
	case OPT_EVENTS:
		o->events = true;
		return 0;
	case OPT_RECORD:
		o->record = arg;
		return 0;
	case OPT_POLICY:
		o->policy_path = arg;
		return 0;
	case OPT_STACKS:
		o->stacks = true;
		return 0;
	case OPT_FAIL_ON:
		if (da_severity_parse(arg, &o->fail_on))
			return bad_value("--fail-on", arg, "info, warning, high or critical");
		return 0;
	case OPT_ERROR_EXITCODE:
		if (parse_u32("--error-exitcode", arg, 1, &v) || v > 255)
			return v > 255 ? bad_value("--error-exitcode", arg, "1..255") : -1;
		o->error_exitcode = (int)v;
		return 0;
	case OPT_DURATION:
		errno = 0;
		o->duration = strtod(arg, &end);
		if (errno || *end || end == arg || o->duration <= 0)
			return bad_value("--duration", arg, "a positive number of seconds");
		return 0;
	case OPT_BTF:
		o->btf = arg;
		return 0;
	case OPT_PID:
		if (parse_u32("--pid", arg, 1, &v))
			return -1;
		o->pid = (int)v;
		return 0;
	case OPT_FOLLOW:
		o->follow = true;
		return 0;
	case OPT_MODE:
		if (!strcmp(arg, "auto"))
			o->mode = DA_MODE_AUTO;
		else if (!strcmp(arg, "fentry"))
			o->mode = DA_MODE_FENTRY;
		else if (!strcmp(arg, "kprobe"))
			o->mode = DA_MODE_KPROBE;
		else
			return bad_value("--mode", arg, "auto, fentry or kprobe");
		return 0;
	case OPT_COLOR:
		if (!strcmp(arg, "auto"))
			o->color = -1;
		else if (!strcmp(arg, "always"))
			o->color = 1;
		else if (!strcmp(arg, "never"))
			o->color = 0;
		else
			return bad_value("--color", arg, "auto, always or never");
		return 0;
	case OPT_MAX_BUFFERS:
		return parse_u32("--max-buffers", arg, 16, &o->max_buffers);
	case OPT_MAX_ATTACHMENTS:
		return parse_u32("--max-attachments", arg, 16, &o->max_attachments);
	case OPT_HISTORY:
		return parse_u32("--history", arg, 1, &o->history_len);
	case 'v':
		o->verbose++;
		return 0;
	default:
		return -1;
	}
}

int da_exit_status(const struct da_opts *opts, int max_severity)
{
	if (max_severity >= 0 && max_severity >= (int)opts->fail_on)
		return opts->error_exitcode;
	return DA_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct da_opts opts = {
		.fail_on = DA_SEV_HIGH,
		.error_exitcode = DA_EXIT_FINDINGS_DEFAULT,
		.color = -1,
	};
	const char *cmd;
	char err[512];
	int c;

	if (argc < 2) {
		usage(stderr);
		return DA_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return DA_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf(DA_TOOL_NAME " " DA_VERSION "\n");
		return DA_EXIT_OK;
	}
	if (strcmp(cmd, "watch") && strcmp(cmd, "run") && strcmp(cmd, "replay") &&
	    strcmp(cmd, "hooks")) {
		fprintf(stderr, DA_TOOL_NAME ": unknown command '%s' (try --help)\n", cmd);
		return DA_EXIT_USAGE;
	}

	/* "+": stop at the first non-option, so `run -- CMD -x` keeps -x for CMD */
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:vh", long_options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return DA_EXIT_OK;
		}
		if (c == OPT_VERSION) {
			printf(DA_TOOL_NAME " " DA_VERSION "\n");
			return DA_EXIT_OK;
		}
		if (c == '?' || parse_option(&opts, c, optarg))
			return DA_EXIT_USAGE;
	}

	da_policy_init_default(&opts.policy);
	if (opts.policy_path &&
	    da_policy_load(&opts.policy, opts.policy_path, err, sizeof(err))) {
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
		return DA_EXIT_USAGE;
	}

	if (!strcmp(cmd, "run")) {
		if (optind >= argc) {
			fprintf(stderr, DA_TOOL_NAME " run: missing command: run [opts] -- CMD [ARG...]\n");
			return DA_EXIT_USAGE;
		}
		return da_cmd_run(&opts, argc - optind, argv + optind);
	}
	if (!strcmp(cmd, "replay")) {
		if (optind != argc - 1) {
			fprintf(stderr, DA_TOOL_NAME " replay: expected exactly one FILE (or -)\n");
			return DA_EXIT_USAGE;
		}
		return da_cmd_replay(&opts, argv[optind]);
	}
	if (optind != argc) {
		fprintf(stderr, DA_TOOL_NAME " %s: unexpected argument '%s'\n", cmd, argv[optind]);
		return DA_EXIT_USAGE;
	}
	if (!strcmp(cmd, "hooks"))
		return da_cmd_hooks(&opts);
	return da_cmd_watch(&opts);
}

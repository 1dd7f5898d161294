// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf-audit: observe dma-buf exporters and importers and report breaches
 * of the revoke contract.  This file only parses the command line and hands
 * over to a command (src/cmd/).
 *
 * Options go anywhere before `--`, as in GNU tools: `replay FILE --color
 * never`.  `run` is the exception that makes it usable: its CMD starts at
 * the first argument that is not an option (or after `--`), and everything
 * from there on is CMD's.  Numbers are decimal digits only: a sign, a
 * space or a value out of range is refused with the option named, never
 * wrapped.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/engine.h"
#include "service/systemd.h"

/* the commands an option belongs to: each command's --help lists its own */
#define C_WATCH (1u << 0)
#define C_RUN (1u << 1)
#define C_REPLAY (1u << 2)
#define C_HOOKS (1u << 3)
#define C_LIVE (C_WATCH | C_RUN)
#define C_REPORT (C_WATCH | C_RUN | C_REPLAY)
#define C_SERVICE (C_WATCH | C_REPLAY)

struct option_help {
	unsigned int commands;
	const char *text;
};

static const struct option_help option_help[] = {
	{ C_REPORT, "  --format text|json|ktap|junit|perfetto|html\n"
		    "                                 report format (default text); perfetto: a trace\n"
		    "                                 for ui.perfetto.dev, html: one page with timelines\n" },
	{ C_HOOKS, "  --format text|json             the table (default) or one JSON object\n" },
	{ C_HOOKS, "  --btf FILE                     judge the kernel of this BTF file (a vmlinux or\n"
		   "                                 /sys/kernel/btf/vmlinux) instead of this one\n" },
	{ C_REPORT, "  -o, --output FILE              write the report to FILE\n" },
	{ C_REPORT, "  --timeline FILE                also write the run as a Perfetto trace to FILE\n" },
	{ C_REPORT, "  --all-buffers                  html: draw every buffer, not only those with findings\n" },
	{ C_REPORT, "  --events                       also print every event\n" },
	{ C_REPORT, "  --record FILE                  write the event stream for replay (.gz: compressed)\n" },
	{ C_REPORT | C_HOOKS, "  --policy FILE                  policy file (docs/policy.md)\n" },
	{ C_REPORT, "  --stacks                       capture the kernel stack of offending calls (replay:\n"
		    "                                 show the stacks the record holds)\n" },
	{ C_REPORT, "  --fail-on SEVERITY             info|warning|high|critical (default high)\n" },
	{ C_REPORT, "  --error-exitcode N             exit status when a finding reaches --fail-on: 1 (default)\n"
		    "                                 or 3..255\n" },
	{ C_WATCH, "  --duration SEC                 watch: stop after SEC seconds\n" },
	{ C_SERVICE, "  --log auto|journal|output      where findings go: the system journal (native\n"
		     "                                 protocol) or the report; auto: the journal when\n"
		     "                                 stdout is systemd's journal stream and no -o\n" },
	{ C_REPORT, "  --addresses hashed|raw|none    kernel addresses in every output: a keyed hash per\n"
		    "                                 run, as they are, or hidden (default: hashed for\n"
		    "                                 watch and for findings sent to the journal, raw for\n"
		    "                                 run and replay; a record always keeps them raw)\n" },
	{ C_SERVICE, "  --metrics FILE                 Prometheus text for node_exporter's textfile\n"
		     "                                 collector, replaced atomically\n" },
	{ C_SERVICE, "  --metrics-interval SEC         how often --metrics FILE is written (default 15)\n" },
	{ C_REPORT, "  --stats-interval SEC           json: a stats record every SEC seconds and at exit\n"
		    "                                 (watch: default 60; 0 = none)\n" },
	{ C_LIVE, "  --pid PID                      run/watch: only events of process PID\n" },
	{ C_RUN, "  --follow                       run: only events of CMD and its descendants\n" },
	{ C_LIVE, "  --no-seed                      watch/run: do not read the buffers that exist at start\n" },
	{ C_LIVE | C_HOOKS, "  --mode auto|fentry|kprobe      attach mode (default auto)\n" },
	{ C_LIVE | C_HOOKS, "  --module-mode kprobe|fentry    functions in modules: kprobe (default: rmmod stays\n"
			    "                                 possible) or as --mode (fentry holds the module)\n" },
	{ C_REPORT, "  --color auto|always|never      colour in text output (default auto)\n" },
	{ C_REPORT, "  --max-buffers N, --max-attachments N, --history N\n"
		    "                                 engine table sizes and history length (all the tables\n"
		    "                                 together at most 1 GiB)\n" },
	{ C_REPORT | C_HOOKS, "  -v, --verbose                  libbpf and attach diagnostics on stderr\n" },
	{ C_REPORT | C_HOOKS, "  -h, --help                     this help;  -V, --version  the version\n" },
};

static void print_options(FILE *out, unsigned int commands)
{
	for (size_t i = 0; i < sizeof(option_help) / sizeof(option_help[0]); i++)
		if (option_help[i].commands & commands)
			fputs(option_help[i].text, out);
}

static const char signals_help[] =
	"Signals (watch): SIGHUP reopens -o FILE and reloads --policy (a bad policy keeps the\n"
	"old one); SIGTERM/SIGINT detach, write the summary and exit.\n";
static const char exit_help[] =
	"Exit status: 0 no finding at or above --fail-on; 1 (or --error-exitcode) when one is;\n"
	"2 usage or setup error.  run returns CMD's status when there is no such finding.\n";

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
		DA_TOOL_NAME " COMMAND --help lists that command's options.  Options go anywhere\n"
		"before `--`; run's CMD starts at its first non-option argument or after `--`, and\n"
		"takes every argument after it.\n"
		"\n"
		"Options (watch, run, replay):\n");
	print_options(out, C_REPORT);
	fprintf(out, "\n%s\n%s", signals_help, exit_help);
}

/* `COMMAND --help`: what the command does and its options only */
static void usage_command(FILE *out, const char *cmd)
{
	static const struct {
		const char *name;
		unsigned int bit;
		const char *head;
	} commands[] = {
		{ "watch", C_WATCH,
		  "watch [OPTIONS]\n\nAttach to the running kernel and report findings live, until\n"
		  "SIGTERM/SIGINT or --duration.  What dmabuf-audit.service runs.\n" },
		{ "run", C_RUN,
		  "run [OPTIONS] [--] CMD [ARG...]\n\nAttach, run CMD once every hook is live, and\n"
		  "report when it exits (for CI).  CMD starts at the first non-option argument.\n"
		  "--format ktap without -o: one KTAP document, CMD's own KTAP (its standard\n"
		  "output, streamed) and the report as nested subtests; the exit status is the\n"
		  "same (docs/output.md \"Nested KTAP\").\n" },
		{ "replay", C_REPLAY,
		  "replay [OPTIONS] FILE\n\nJudge a recorded trace (--record's binary record or JSON\n"
		  "Lines; - reads standard input) with the same engine and rules.\n" },
		{ "hooks", C_HOOKS,
		  "hooks [OPTIONS]\n\nWhich hooks this kernel (or --btf FILE's) offers, how they attach,\n"
		  "and which rules are enforceable with them.\n" },
	};

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		fprintf(out, "Usage: " DA_TOOL_NAME " %s\n\nOptions:\n", commands[i].head);
		print_options(out, commands[i].bit);
		if (commands[i].bit == C_WATCH)
			fprintf(out, "\n%s", signals_help);
		if (commands[i].bit != C_HOOKS)
			fprintf(out, "\n%s", exit_help);
		fprintf(out, "\nMore: man dmabuf-audit (docs/dmabuf-audit.8).\n");
	}
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
	OPT_MODULE_MODE,
	OPT_COLOR,
	OPT_MAX_BUFFERS,
	OPT_MAX_ATTACHMENTS,
	OPT_HISTORY,
	OPT_TIMELINE,
	OPT_ALL_BUFFERS,
	OPT_LOG,
	OPT_METRICS,
	OPT_METRICS_INTERVAL,
	OPT_STATS_INTERVAL,
	OPT_NO_SEED,
	OPT_ADDRESSES,
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
	{ "module-mode", required_argument, NULL, OPT_MODULE_MODE },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "max-buffers", required_argument, NULL, OPT_MAX_BUFFERS },
	{ "max-attachments", required_argument, NULL, OPT_MAX_ATTACHMENTS },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "timeline", required_argument, NULL, OPT_TIMELINE },
	{ "all-buffers", no_argument, NULL, OPT_ALL_BUFFERS },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "no-seed", no_argument, NULL, OPT_NO_SEED },
	{ "addresses", required_argument, NULL, OPT_ADDRESSES },
	{ 0 },
};

static int bad_value(const char *opt, const char *val, const char *expect)
{
	fprintf(stderr, DA_TOOL_NAME ": invalid value '%s' for %s: expected %s\n", val, opt,
		expect);
	return -1;
}

/* a decimal number from min to max: digits only, so "-1" or " 7" cannot wrap or slip */
static int parse_number(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	char expect[96];
	uint64_t v = 0;
	const char *c;

	for (c = val; *c >= '0' && *c <= '9'; c++) {
		if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			break;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (c == val || *c || v < min || v > max) {
		snprintf(expect, sizeof(expect), "an integer from %" PRIu64 " to %" PRIu64, min,
			 max);
		return bad_value(opt, val, expect);
	}
	*out = v;
	return 0;
}

static int parse_u32(const char *opt, const char *val, uint32_t min, uint32_t *out)
{
	uint64_t v;

	if (parse_number(opt, val, min, UINT32_MAX, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* 0 is success and 2 a usage error: a finding must be told apart from both */
static int parse_error_exitcode(const char *val, int *out)
{
	const char *expect = "1 or 3 to 255 (0 is success, 2 a usage error)";
	const char *c = val;
	int v = 0;

	while (*c >= '0' && *c <= '9' && v <= 255)
		v = v * 10 + (*c++ - '0');
	if (c == val || *c || v < 1 || v > 255 || v == DA_EXIT_USAGE)
		return bad_value("--error-exitcode", val, expect);
	*out = v;
	return 0;
}

/* seconds, finite and positive; at most about 31 years, so that it fits in u64 ns */
#define MAX_DURATION_S 1e9

static int parse_duration(const char *val, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(val, &end);
	if (errno || *end || end == val || !isfinite(d) || d <= 0 || d > MAX_DURATION_S)
		return bad_value("--duration", val,
				 "a positive number of seconds, at most 1000000000");
	*out = d;
	return 0;
}

/* an interval in seconds: finite, at most a day; 0 only where it means "off" */
static int parse_interval(const char *opt, const char *val, bool zero_ok, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(val, &end);
	if (errno || *end || end == val || !isfinite(d) || d < 0 || (d == 0 && !zero_ok) ||
	    d > 86400)
		return bad_value(opt, val,
				 zero_ok ? "a number of seconds from 0 (off) to 86400" :
					   "a positive number of seconds, at most 86400");
	*out = d;
	return 0;
}

static int parse_service_option(struct da_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_LOG:
		if (!strcmp(arg, "auto"))
			o->log = DA_LOG_AUTO;
		else if (!strcmp(arg, "journal"))
			o->log = DA_LOG_JOURNAL;
		else if (!strcmp(arg, "output"))
			o->log = DA_LOG_OUTPUT;
		else
			return bad_value("--log", arg, "auto, journal or output");
		return 0;
	case OPT_METRICS:
		o->metrics = arg;
		return 0;
	case OPT_ADDRESSES:
		o->addresses = da_addr_mode_parse(arg);
		if (o->addresses < 0)
			return bad_value("--addresses", arg, "hashed, raw or none");
		return 0;
	case OPT_METRICS_INTERVAL:
		return parse_interval("--metrics-interval", arg, false, &o->metrics_interval);
	case OPT_STATS_INTERVAL:
		return parse_interval("--stats-interval", arg, true, &o->stats_interval);
	default:
		return -1;
	}
}

/* --mode, --module-mode: how hooks are attached (docs/hooks.md) */
static int parse_attach_option(struct da_opts *o, int c, const char *arg)
{
	if (c == OPT_MODULE_MODE) {
		if (!strcmp(arg, "kprobe"))
			o->module_mode = DA_MODULE_KPROBE;
		else if (!strcmp(arg, "fentry"))
			o->module_mode = DA_MODULE_FENTRY;
		else
			return bad_value("--module-mode", arg, "kprobe or fentry");
		return 0;
	}
	if (!strcmp(arg, "auto"))
		o->mode = DA_MODE_AUTO;
	else if (!strcmp(arg, "fentry"))
		o->mode = DA_MODE_FENTRY;
	else if (!strcmp(arg, "kprobe"))
		o->mode = DA_MODE_KPROBE;
	else
		return bad_value("--mode", arg, "auto, fentry or kprobe");
	return 0;
}

static int parse_option(struct da_opts *o, int c, const char *arg)
{
	uint64_t pid;

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
		else if (!strcmp(arg, "perfetto"))
			o->format = DA_FMT_PERFETTO;
		else if (!strcmp(arg, "html"))
			o->format = DA_FMT_HTML;
		else
			return bad_value("--format", arg,
					 "text, json, ktap, junit, perfetto or html");
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
	case OPT_TIMELINE:
		o->timeline = arg;
		return 0;
	case OPT_ALL_BUFFERS:
		o->all_buffers = true;
		return 0;
	case OPT_POLICY:
		o->policy_path = arg;
		return 0;
	case OPT_STACKS:
		o->stacks = true;
		return 0;
	case OPT_NO_SEED:
		o->no_seed = true;
		return 0;
	case OPT_FAIL_ON:
		if (da_severity_parse(arg, &o->fail_on))
			return bad_value("--fail-on", arg, "info, warning, high or critical");
		return 0;
	case OPT_ERROR_EXITCODE:
		return parse_error_exitcode(arg, &o->error_exitcode);
	case OPT_DURATION:
		return parse_duration(arg, &o->duration);
	case OPT_BTF:
		o->btf = arg;
		return 0;
	case OPT_PID:
		if (parse_number("--pid", arg, 1, INT_MAX, &pid))
			return -1;
		o->pid = (int)pid;
		return 0;
	case OPT_FOLLOW:
		o->follow = true;
		return 0;
	case OPT_MODE:
	case OPT_MODULE_MODE:
		return parse_attach_option(o, c, arg);
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
		return parse_service_option(o, c, arg);
	}
}

/*
 * The engine's tables are allocated at start: refuse sizes that would take
 * more than DA_ENGINE_MAX_TABLE_BYTES before anything is allocated, naming
 * the option whose tables are the largest.
 */
static int check_table_sizes(const struct da_opts *o)
{
	struct da_engine_config cfg = {
		.max_buffers = o->max_buffers,
		.max_attachments = o->max_attachments,
		.history_len = o->history_len,
	};
	struct da_engine_bytes b;
	const char *opt = "--max-buffers";
	uint64_t val = o->max_buffers, largest = 0;

	da_engine_table_bytes(&cfg, &b);
	if (b.total <= DA_ENGINE_MAX_TABLE_BYTES)
		return 0;
	largest = b.buffers;
	if (b.attachments > largest) {
		largest = b.attachments;
		opt = "--max-attachments";
		val = o->max_attachments;
	}
	if (b.history > largest) {
		opt = "--history";
		val = o->history_len;
	}
	fprintf(stderr,
		DA_TOOL_NAME ": %s %" PRIu64 ": the engine's tables would take %" PRIu64
			     " MiB, more than the limit of %llu MiB\n",
		opt, val, b.total >> 20, DA_ENGINE_MAX_TABLE_BYTES >> 20);
	return -1;
}

/* the command-line arguments that are not options */
struct operands {
	char **argv;
	int argc;
};

/*
 * Options anywhere before `--`.  Non-options come back in order (getopt's
 * "-" mode); for `run` the first one starts CMD, which takes the rest.
 * Returns -1 to exit with *status (help, version, usage error).
 */
static int parse_args(struct da_opts *opts, const char *cmd, int argc, char **argv,
		      struct operands *out, int *status)
{
	bool run = !strcmp(cmd, "run");
	int c;

	out->argc = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "-o:vhV", long_options, NULL)) != -1) {
		if (c == 1 && run) {
			optind--; /* CMD starts here */
			break;
		}
		if (c == 1) {
			out->argv[out->argc++] = optarg;
			continue;
		}
		if (c == 'h' || c == 'V') {
			if (c == 'h')
				usage_command(stdout, cmd);
			else
				printf(DA_TOOL_NAME " " DA_VERSION "\n");
			*status = DA_EXIT_OK;
			return -1;
		}
		if (c == '?' || parse_option(opts, c, optarg)) {
			*status = DA_EXIT_USAGE;
			return -1;
		}
	}
	/* after `--` (or CMD): operands as they are */
	while (optind < argc)
		out->argv[out->argc++] = argv[optind++];
	return 0;
}

/*
 * --addresses, or the command's default: what leaves the host (watch, the
 * journal) hides kernel addresses; a kernel developer's run or replay shows
 * them (docs/output.md "Kernel addresses").
 */
static int set_addresses(const char *cmd, struct da_opts *o)
{
	if (o->addresses < 0)
		o->addresses = !strcmp(cmd, "watch") || da_log_to_journal(o) ? DA_ADDR_HASHED :
									     DA_ADDR_RAW;
	if (da_addr_set_mode((enum da_addr_mode)o->addresses)) {
		fprintf(stderr, DA_TOOL_NAME ": --addresses hashed: no random key: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static bool known_command(const char *cmd)
{
	return !strcmp(cmd, "watch") || !strcmp(cmd, "run") || !strcmp(cmd, "replay") ||
	       !strcmp(cmd, "hooks");
}

static int dispatch(const char *cmd, struct da_opts *opts, struct operands *ops)
{
	if (!strcmp(cmd, "run")) {
		if (!ops->argc) {
			fprintf(stderr,
				DA_TOOL_NAME " run: missing command: run [opts] -- CMD [ARG...]\n");
			return DA_EXIT_USAGE;
		}
		return da_cmd_run(opts, ops->argc, ops->argv);
	}
	if (!strcmp(cmd, "replay")) {
		if (ops->argc != 1) {
			fprintf(stderr,
				DA_TOOL_NAME " replay: expected exactly one FILE (or -), got %d\n",
				ops->argc);
			return DA_EXIT_USAGE;
		}
		return da_cmd_replay(opts, ops->argv[0]);
	}
	if (ops->argc) {
		fprintf(stderr, DA_TOOL_NAME " %s: unexpected argument '%s'\n", cmd, ops->argv[0]);
		return DA_EXIT_USAGE;
	}
	if (!strcmp(cmd, "hooks"))
		return da_cmd_hooks(opts);
	return da_cmd_watch(opts);
}

int main(int argc, char **argv)
{
	struct da_opts opts = {
		.fail_on = DA_SEV_HIGH,
		.error_exitcode = DA_EXIT_FINDINGS_DEFAULT,
		.color = -1,
		.metrics_interval = DA_METRICS_INTERVAL_DEFAULT_S,
		.stats_interval = -1,
		.addresses = -1,
	};
	struct operands ops = { .argv = calloc((size_t)argc + 1, sizeof(char *)) };
	const char *cmd;
	char err[512], prog[64];
	int status = DA_EXIT_USAGE;

	if (argc < 2) {
		usage(stderr);
		goto out;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		status = DA_EXIT_OK;
		goto out;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf(DA_TOOL_NAME " " DA_VERSION "\n");
		status = DA_EXIT_OK;
		goto out;
	}
	if (!known_command(cmd)) {
		fprintf(stderr, DA_TOOL_NAME ": unknown command '%s' (try --help)\n", cmd);
		goto out;
	}
	if (!ops.argv) {
		fprintf(stderr, DA_TOOL_NAME ": out of memory\n");
		goto out;
	}
	/* getopt's own messages then read "dmabuf-audit replay: unrecognized option ..." */
	snprintf(prog, sizeof(prog), DA_TOOL_NAME " %s", cmd);
	argv[1] = prog;
	if (parse_args(&opts, cmd, argc - 1, argv + 1, &ops, &status) ||
	    check_table_sizes(&opts))
		goto out;
	da_policy_init_default(&opts.policy);
	if (opts.policy_path && da_policy_load(&opts.policy, opts.policy_path, err, sizeof(err))) {
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
		goto out;
	}
	if (strcmp(cmd, "hooks") && set_addresses(cmd, &opts))
		goto out;
	status = dispatch(cmd, &opts, &ops);
out:
	free(ops.argv);
	return status;
}

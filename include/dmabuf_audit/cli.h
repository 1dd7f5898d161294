/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line options shared by the commands, and the command entry points. */
#ifndef DMABUF_AUDIT_CLI_H
#define DMABUF_AUDIT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "dmabuf_audit/policy.h"
#include "dmabuf_audit/rules.h"

#define DA_TOOL_NAME "dmabuf-audit"
#ifndef DA_VERSION
#define DA_VERSION "0.1.0"
#endif

/* Exit status: docs/output.md "Exit status" */
#define DA_EXIT_OK 0
#define DA_EXIT_FINDINGS_DEFAULT 1
#define DA_EXIT_USAGE 2

enum da_format {
	DA_FMT_TEXT = 0,
	DA_FMT_JSON,
	DA_FMT_KTAP,
	DA_FMT_JUNIT,
	DA_FMT_PERFETTO,	/* Chrome trace event JSON (ui.perfetto.dev) */
	DA_FMT_HTML,		/* one self-contained page with SVG timelines */
};

enum da_attach_mode {
	DA_MODE_AUTO = 0,	/* fentry/fexit where possible, else kprobe */
	DA_MODE_FENTRY,		/* fentry/fexit only */
	DA_MODE_KPROBE,		/* kprobe/kretprobe only (tests the fallback) */
};

/*
 * --module-mode: how functions in modules (revoke scopes, iommufd's map
 * helper) are attached.  A trampoline holds its module (rmmod fails while
 * it is attached); a kprobe does not (docs/hooks.md).
 */
enum da_module_mode {
	DA_MODULE_KPROBE = 0,	/* kprobe/kretprobe: never holds the module (default) */
	DA_MODULE_FENTRY,	/* like vmlinux functions (--mode): holds the module */
};

/* --log: where findings go (docs/output.md "Service") */
enum da_log_mode {
	DA_LOG_AUTO = 0,	/* journal when started by systemd and no -o, else output */
	DA_LOG_JOURNAL,		/* the system journal, native protocol */
	DA_LOG_OUTPUT,		/* the report (--format, -o) */
};

struct da_opts {
	enum da_format format;
	const char *output;		/* -o FILE, NULL = stdout */
	bool events;			/* --events */
	const char *record;		/* --record FILE */
	const char *timeline;		/* --timeline FILE: a Perfetto trace besides the report */
	bool all_buffers;		/* --all-buffers: HTML draws every buffer */
	const char *policy_path;	/* --policy FILE */
	bool stacks;			/* --stacks */
	bool no_seed;			/* --no-seed: do not enumerate the buffers existing at start */
	enum da_severity fail_on;	/* --fail-on, default high */
	int error_exitcode;		/* --error-exitcode, default 1 */
	int verbose;			/* -v, repeatable */
	double duration;		/* watch --duration SEC, 0 = until signal */
	const char *btf;		/* hooks --btf FILE */
	int pid;			/* run --pid PID: only events of this tgid */
	bool follow;			/* run --follow: CMD and its descendants only */
	enum da_attach_mode mode;	/* --mode auto|fentry|kprobe */
	enum da_module_mode module_mode; /* --module-mode kprobe|fentry */
	int color;			/* --color: -1 auto (terminal), 0 never, 1 always */
	uint32_t max_buffers;		/* --max-buffers */
	uint32_t max_attachments;	/* --max-attachments */
	uint32_t history_len;		/* --history N */
	struct da_policy policy;	/* defaults + --policy */
	enum da_log_mode log;		/* --log auto|journal|output */
	const char *metrics;		/* --metrics FILE: OpenMetrics text */
	double metrics_interval;	/* --metrics-interval SEC (default 15) */
	double stats_interval;		/* --stats-interval SEC, 0 = none; < 0 = not given */
	int addresses;			/* --addresses: enum da_addr_mode, -1 = the command's default */
};

#define DA_METRICS_INTERVAL_DEFAULT_S 15
#define DA_STATS_INTERVAL_DEFAULT_S 60

/* Each returns the process exit status. */
int da_cmd_watch(struct da_opts *opts);
int da_cmd_run(struct da_opts *opts, int argc, char **argv);
int da_cmd_replay(struct da_opts *opts, const char *path);
int da_cmd_hooks(struct da_opts *opts);

#endif /* DMABUF_AUDIT_CLI_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The live commands: `watch` (until a signal or --duration), `run -- CMD`
 * (CMD starts only once every hook is live; trace until it exits) and
 * `hooks` (what this kernel, or the kernel of a BTF file, offers).
 *
 * Signals: the first SIGINT/SIGTERM stops the trace (run: forwards it to
 * CMD and waits for CMD); a second one exits at once.  Nothing is pinned,
 * so every hook goes away with the process either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "dmabuf_audit/pipeline.h"
#include "hooks.h"

#define POLL_MS 100
/* /proc/modules is small: look for new modules (revoke scopes) five times a second */
#define MODULE_CHECK_NS 200000000ull

static volatile sig_atomic_t signals_seen;
static volatile sig_atomic_t last_signal;
static volatile pid_t child_pid;

static void on_signal(int sig)
{
	if (signals_seen++ >= 1)
		_exit(128 + sig);
	last_signal = sig;
	if (child_pid > 0)
		kill(child_pid, sig);
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A live trace: session, pipeline and source, set up in this order. */
struct live_trace {
	struct da_trace_info info;
	struct da_live *live;
	struct da_pipeline *p;
	struct da_source *src;
	uint64_t next_module_check;
};

static void trace_free(struct live_trace *t)
{
	da_source_free(t->src);
	da_pipeline_free(t->p);
	da_live_close(t->live);
}

/*
 * live: findings are printed as they happen (watch); otherwise the report
 * comes at the end, grouped by buffer (run: a CI log reads best that way,
 * and CMD's own output does not interleave with it).
 */
static int trace_open(struct live_trace *t, const struct da_opts *opts, int live)
{
	struct da_pipeline_config cfg = { 0 };
	unsigned int n;
	const struct da_hook_plan *plans;
	char err[1024];

	memset(t, 0, sizeof(*t));
	if (da_live_open(opts, &t->info, &t->live, err, sizeof(err))) {
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
		da_live_close(t->live);
		t->live = NULL;
		return -1;
	}
	cfg.opts = opts;
	cfg.trace = &t->info;
	cfg.symbols = da_live_symbols(t->live);
	cfg.stack_resolver = opts->stacks ? da_live_resolve_stack : NULL;
	cfg.stack_ctx = t->live;
	cfg.live = live;
	t->p = da_pipeline_new(&cfg, err, sizeof(err));
	if (!t->p) {
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
		trace_free(t);
		return -1;
	}
	if (da_pipeline_begin(t->p)) {
		fprintf(stderr, DA_TOOL_NAME ": cannot write the report header\n");
		trace_free(t);
		return -1;
	}
	plans = da_live_plans(t->live, &n);
	for (unsigned int i = 0; i < n; i++) {
		if (plans[i].attached)
			continue;
		da_pipeline_notice(t->p, DA_NOTICE_HOOK, "%s hook %s (%s) not attached: %s",
				   plans[i].def ? plans[i].def->id : "scope", plans[i].function,
				   da_plan_mode_name(&plans[i]), plans[i].reason);
	}
	t->src = da_source_new(t->live, t->p, opts->verbose);
	if (!t->src) {
		fprintf(stderr, DA_TOOL_NAME ": cannot open the ring buffer: %s\n",
			strerror(errno));
		trace_free(t);
		return -1;
	}
	t->next_module_check = mono_ns() + MODULE_CHECK_NS;
	return 0;
}

/* one poll round; <0 on a fatal error */
static int trace_poll(struct live_trace *t)
{
	int n = da_source_poll(t->src, POLL_MS);

	if (n < 0) {
		fprintf(stderr, DA_TOOL_NAME ": reading the ring buffer failed: %s\n",
			strerror(-n));
		return n;
	}
	if (mono_ns() >= t->next_module_check) {
		da_live_check_modules(t->live, t->p);
		t->next_module_check = mono_ns() + MODULE_CHECK_NS;
	}
	return 0;
}

/* detach, drain, report; the highest severity, or -2 when the report could not be written */
static int trace_finish(struct live_trace *t)
{
	int max;

	da_live_detach(t->live);
	da_source_drain(t->src);
	max = da_pipeline_end(t->p);
	trace_free(t);
	return max;
}

int da_cmd_watch(struct da_opts *opts)
{
	struct live_trace t;
	uint64_t deadline = 0;
	int max;

	install_signals();
	if (trace_open(&t, opts, 1))
		return DA_EXIT_USAGE;
	if (opts->duration > 0)
		deadline = mono_ns() + (uint64_t)(opts->duration * 1e9);
	while (!signals_seen && (!deadline || mono_ns() < deadline))
		if (trace_poll(&t) < 0)
			break;
	max = trace_finish(&t);
	return max == -2 ? DA_EXIT_USAGE : da_exit_status(opts, max);
}

/*
 * Start CMD: the child waits until the parent has set up --follow, then
 * execs; an exec failure comes back through a close-on-exec pipe.
 */
static pid_t start_command(struct live_trace *t, const struct da_opts *opts, char **argv,
			   int *exec_errno)
{
	int go[2], status[2];
	pid_t pid;
	char byte = 1;
	int err = 0;

	if (pipe2(go, O_CLOEXEC) || pipe2(status, O_CLOEXEC)) {
		*exec_errno = errno;
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		*exec_errno = errno;
		return -1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(go[1]);
		close(status[0]);
		if (read(go[0], &byte, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		err = errno;
		if (write(status[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(status[1]);
	if (opts->follow) {
		int ret = da_live_follow(t->live, pid);

		if (ret)
			fprintf(stderr, DA_TOOL_NAME ": --follow: cannot track %d: %s\n", pid,
				strerror(-ret));
	}
	if (write(go[1], &byte, 1) != 1)
		kill(pid, SIGKILL);
	close(go[1]);
	if (read(status[0], &err, sizeof(err)) == sizeof(err))
		*exec_errno = err;
	close(status[0]);
	return pid;
}

int da_cmd_run(struct da_opts *opts, int argc, char **argv)
{
	struct live_trace t;
	int exec_errno = 0, wstatus = 0, max, cmd_status;
	pid_t pid;

	if (argc < 1) {
		fprintf(stderr, DA_TOOL_NAME " run: missing command\n");
		return DA_EXIT_USAGE;
	}
	install_signals();
	if (trace_open(&t, opts, 0))
		return DA_EXIT_USAGE; /* CMD is not started */
	if (signals_seen) {
		/* stopped during setup: CMD is not started */
		trace_finish(&t);
		return 128 + last_signal;
	}
	pid = start_command(&t, opts, argv, &exec_errno);
	if (pid < 0 || exec_errno) {
		fprintf(stderr, DA_TOOL_NAME " run: cannot run %s: %s\n", argv[0],
			strerror(exec_errno));
		if (pid > 0)
			waitpid(pid, NULL, 0);
		trace_finish(&t);
		return DA_EXIT_USAGE;
	}
	child_pid = pid;
	for (;;) {
		pid_t done = waitpid(pid, &wstatus, WNOHANG);

		if (done == pid)
			break;
		if (done < 0 && errno != EINTR) {
			fprintf(stderr, DA_TOOL_NAME " run: waiting for %s: %s\n", argv[0],
				strerror(errno));
			break;
		}
		if (trace_poll(&t) < 0) {
			kill(pid, SIGTERM);
			waitpid(pid, &wstatus, 0);
			break;
		}
	}
	child_pid = 0;
	max = trace_finish(&t);
	if (max == -2)
		return DA_EXIT_USAGE;
	if (max >= 0 && max >= (int)opts->fail_on)
		return opts->error_exitcode;
	if (WIFEXITED(wstatus))
		cmd_status = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		cmd_status = 128 + WTERMSIG(wstatus);
	else
		cmd_status = DA_EXIT_USAGE;
	return cmd_status;
}

/* hooks --btf FILE: answer for another kernel from its BTF, loading nothing */
static int hooks_from_btf(struct da_opts *opts)
{
	struct da_hook_plan plans[DA_MAX_HOOKS];
	struct da_trace_info info = { 0 };
	struct da_kernel_facts facts;
	struct btf *btf = btf__parse(opts->btf, NULL);
	char source[300];
	unsigned int n = 0;
	int ret;

	if (!btf) {
		fprintf(stderr,
			DA_TOOL_NAME
			" hooks: cannot read BTF from %s: %s (expected a raw BTF blob "
			"such as /sys/kernel/btf/vmlinux or a vmlinux ELF with .BTF)\n",
			opts->btf, strerror(errno));
		return DA_EXIT_USAGE;
	}
	da_kernel_facts_from_btf(btf, &facts);
	for (unsigned int i = 0; i < da_n_core_hooks; i++) {
		const struct da_hook_def *def = &da_core_hooks[i];
		struct da_hook_plan *p = &plans[n++];

		memset(p, 0, sizeof(*p));
		p->def = def;
		p->slot = -1;
		p->revoked_arg = -1;
		snprintf(p->function, sizeof(p->function), "%s", def->candidates[0]);
		for (int k = 0; k < DA_HOOK_MAX_CANDIDATES && def->candidates[k]; k++) {
			if (da_btf_has_func(btf, def->candidates[k])) {
				snprintf(p->function, sizeof(p->function), "%s",
					 def->candidates[k]);
				p->in_btf = true;
				p->mode =
					opts->mode == DA_MODE_KPROBE ? DA_HM_KPROBE : DA_HM_FENTRY;
				break;
			}
		}
		if (!p->in_btf)
			snprintf(p->reason, sizeof(p->reason), "%s",
				 def->why_absent ? def->why_absent : "not in this kernel");
	}
	n += da_plan_scope_hooks(&opts->policy, &info, plans + n, DA_MAX_HOOKS - n);
	/* a scope function built into vmlinux is visible in the BTF */
	for (unsigned int i = da_n_core_hooks; i < n; i++) {
		if (da_btf_has_func(btf, plans[i].function)) {
			plans[i].mode = DA_HM_FENTRY;
			plans[i].in_btf = true;
			plans[i].module[0] = '\0';
			plans[i].reason[0] = '\0';
		}
	}
	btf__free(btf);
	snprintf(source, sizeof(source), "btf:%s", opts->btf);
	ret = da_hooks_print(stdout, opts->format, NULL, source, plans, n, &facts, false);
	return ret ? DA_EXIT_USAGE : DA_EXIT_OK;
}

int da_cmd_hooks(struct da_opts *opts)
{
	struct da_trace_info info = { 0 };
	struct da_live *live = NULL;
	const struct da_hook_plan *plans;
	unsigned int n;
	char err[1024];
	int ret, status;

	if (opts->btf)
		return hooks_from_btf(opts);
	/* the live answer is what watch would do: load and attach, then let go */
	ret = da_live_open(opts, &info, &live, err, sizeof(err));
	if (!live) {
		fprintf(stderr, DA_TOOL_NAME " hooks: %s\n", err);
		return DA_EXIT_USAGE;
	}
	plans = da_live_plans(live, &n);
	status = da_hooks_print(stdout, opts->format, info.kernel, "live", plans, n,
				da_live_facts(live), true);
	fflush(stdout);
	if (ret)
		fprintf(stderr, DA_TOOL_NAME " hooks: %s\n", err);
	da_live_close(live);
	return ret || status ? DA_EXIT_USAGE : DA_EXIT_OK;
}

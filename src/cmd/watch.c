// SPDX-License-Identifier: GPL-2.0
/*
 * The live commands: `watch` (until a signal or --duration) and
 * `run -- CMD` (CMD starts only once every hook is live; trace until it
 * exits).  The trace itself is src/live/trace.c.
 *
 * Signals: the first SIGINT/SIGTERM stops the trace (run: forwards it to
 * CMD and waits for CMD); a second one exits at once.  Nothing is pinned,
 * so every hook goes away with the process either way.  `watch` is also a
 * service (docs/output.md "Service"): SIGHUP reopens -o FILE and reloads
 * --policy, systemd hears READY=1 once every hook is attached, STATUS= on
 * each stats interval, WATCHDOG=1 and STOPPING=1; the stats record and
 * the metrics file are written as time passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../live/live.h"
#include "../service/systemd.h"
#include "dmabuf_audit/ktap_nest.h"
#include "dmabuf_audit/pipeline.h"

static volatile sig_atomic_t signals_seen;
static volatile sig_atomic_t last_signal;
static volatile sig_atomic_t hangups_seen;
static volatile pid_t child_pid;

static void on_hangup(int sig)
{
	hangups_seen++;
}

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

static void install_hangup(void)
{
	struct sigaction sa = { .sa_handler = on_hangup };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int open_trace(struct da_live_trace *t, const struct da_opts *opts, bool live)
{
	char err[1024];

	if (!da_live_trace_open(t, opts, live, err, sizeof(err)))
		return 0;
	fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
	return -1;
}

static int poll_trace(struct da_live_trace *t)
{
	char err[256];
	int ret = da_live_trace_poll(t, err, sizeof(err));

	if (ret < 0)
		fprintf(stderr, DA_TOOL_NAME ": %s\n", err);
	return ret;
}

/* ---- watch as a service ---- */

/*
 * The ring buffer's fill, read from its two position pages mapped read
 * only (the kernel lets anyone with the map fd do that; libbpf 1.1 has no
 * call for it): producer minus consumer over the size.
 */
struct ring_fill {
	const unsigned long *consumer, *producer;
	void *map;
	size_t map_len;
	double size;
};

static void ring_fill_open(struct ring_fill *rf, int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);

	memset(rf, 0, sizeof(*rf));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || !info.max_entries)
		return;
	rf->map_len = 2 * (size_t)page;
	rf->map = mmap(NULL, rf->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (rf->map == MAP_FAILED) {
		rf->map = NULL;
		return;
	}
	rf->consumer = rf->map;
	rf->producer = (const unsigned long *)((const char *)rf->map + page);
	rf->size = info.max_entries;
}

static double ring_fill_now(const struct ring_fill *rf)
{
	unsigned long cons, prod;

	if (!rf->map)
		return -1;
	cons = __atomic_load_n(rf->consumer, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(rf->producer, __ATOMIC_ACQUIRE);
	return prod >= cons ? (double)(prod - cons) / rf->size : 0;
}

static void ring_fill_close(struct ring_fill *rf)
{
	if (rf->map)
		munmap(rf->map, rf->map_len);
	rf->map = NULL;
}

/*
 * STATUS=events N, lost N, findings N (and READY=1 the first time); what
 * weakens the service is added: journal entries dropped, the metrics file
 * not written (its folder missing: a warning, not a reason to stop)
 */
static void notify_status(struct da_pipeline *p, const char *prefix)
{
	const char *metrics_err = da_pipeline_metrics_error(p);
	struct da_stats st;
	uint64_t findings = 0;
	char state[768];
	int n;

	da_pipeline_stats(p, &st);
	for (int s = 0; s < DA_SEV__COUNT; s++)
		findings += st.sum.findings[s];
	n = snprintf(state, sizeof(state), "%sSTATUS=events %llu, lost %llu, findings %llu",
		     prefix, (unsigned long long)st.sum.events, (unsigned long long)st.sum.lost,
		     (unsigned long long)findings);
	if (st.journal_dropped && n > 0 && (size_t)n < sizeof(state))
		n += snprintf(state + n, sizeof(state) - n, ", journal entries dropped %llu",
			      (unsigned long long)st.journal_dropped);
	if (metrics_err[0] && n > 0 && (size_t)n < sizeof(state))
		snprintf(state + n, sizeof(state) - n, "; warning: %s", metrics_err);
	da_sd_notify(state);
}

/* sd_notify(3): a reload starts, stamped so that systemd can order reload cycles */
static void notify_reloading(void)
{
	char state[64];

	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)(mono_ns() / 1000));
	da_sd_notify(state);
}

/* SIGHUP: -o FILE again (logrotate), the policy again; a bad policy keeps the old one */
static void reload(struct da_live_trace *t, struct da_opts *opts)
{
	struct da_policy *next = malloc(sizeof(*next));
	char err[1024];

	if (da_pipeline_reopen_output(t->p, err, sizeof(err)))
		da_pipeline_notice(t->p, DA_NOTICE_INPUT, "SIGHUP: %s", err);
	if (!opts->policy_path) {
		free(next);
		return;
	}
	if (!next) {
		da_pipeline_notice(t->p, DA_NOTICE_INPUT, "SIGHUP: policy not reloaded: out of"
				   " memory; the policy in force is unchanged");
		return;
	}
	da_policy_init_default(next);
	if (da_policy_load(next, opts->policy_path, err, sizeof(err))) {
		fprintf(stderr, DA_TOOL_NAME ": SIGHUP: policy not reloaded: %s\n", err);
		da_pipeline_notice(t->p, DA_NOTICE_INPUT, "SIGHUP: policy not reloaded: %s; the"
				   " policy in force is unchanged", err);
		free(next);
		return;
	}
	/* scope hooks were planned at attach: their slots cannot change under the BPF side */
	if (next->n_scopes != opts->policy.n_scopes ||
	    memcmp(next->scopes, opts->policy.scopes, sizeof(next->scopes))) {
		next->n_scopes = opts->policy.n_scopes;
		memcpy(next->scopes, opts->policy.scopes, sizeof(next->scopes));
		da_pipeline_notice(t->p, DA_NOTICE_INPUT, "SIGHUP: revoke-scope changes in %s take"
				   " effect at the next start", opts->policy_path);
	}
	opts->policy = *next; /* in place: the engine holds a pointer to it */
	free(next);
	da_pipeline_policy_reloaded(t->p);
	da_pipeline_notice(t->p, DA_NOTICE_INPUT, "SIGHUP: policy reloaded from %s",
			   opts->policy_path);
}

struct service_clock {
	uint64_t watchdog_ns, next_watchdog;	/* 0: no watchdog */
	uint64_t status_ns, next_status;
};

/* what the service does as time passes, between two polls */
static void service_tick(struct da_live_trace *t, const struct ring_fill *rf,
			 struct service_clock *c)
{
	uint64_t now = mono_ns();

	da_pipeline_set_ringbuf_fill(t->p, ring_fill_now(rf));
	/* STATUS= with the stats record, or on its own clock when they are off */
	if (da_pipeline_service_tick(t->p, now) || now >= c->next_status) {
		notify_status(t->p, "");
		c->next_status = now + c->status_ns;
	}
	if (c->watchdog_ns && now >= c->next_watchdog) {
		da_sd_notify("WATCHDOG=1");
		c->next_watchdog = now + c->watchdog_ns;
	}
}

int da_cmd_watch(struct da_opts *opts)
{
	struct service_clock clock = { 0 };
	struct da_live_trace t;
	struct ring_fill rf;
	uint64_t deadline = 0;
	int max, status;

	install_signals();
	install_hangup();
	if (da_service_start_live(opts))
		return DA_EXIT_USAGE;
	if (open_trace(&t, opts, true)) {
		da_service_stop();
		return DA_EXIT_USAGE;
	}
	ring_fill_open(&rf, da_live_ringbuf_fd(t.live));
	clock.watchdog_ns = da_sd_watchdog_usec() * 1000 / 2;
	clock.status_ns = (uint64_t)((opts->stats_interval > 0 ? opts->stats_interval :
								   DA_STATS_INTERVAL_DEFAULT_S) * 1e9);
	clock.next_status = mono_ns() + clock.status_ns;
	da_pipeline_service_tick(t.p, mono_ns());
	/* every hook that can be is attached, the header is out: ready */
	notify_status(t.p, "READY=1\n");
	if (clock.watchdog_ns)
		da_sd_notify("WATCHDOG=1");
	clock.next_watchdog = mono_ns() + clock.watchdog_ns;
	if (opts->duration > 0)
		deadline = mono_ns() + (uint64_t)(opts->duration * 1e9);
	for (sig_atomic_t hangups = 0; !signals_seen && (!deadline || mono_ns() < deadline);) {
		if (poll_trace(&t) < 0)
			break;
		if (hangups != hangups_seen) {
			hangups = hangups_seen;
			notify_reloading();
			/* the poll the signal cut short left events behind: old file, old policy */
			da_live_trace_catch_up(&t);
			reload(&t, opts);
			notify_status(t.p, "READY=1\n");
		}
		service_tick(&t, &rf, &clock);
	}
	da_sd_notify("STOPPING=1");
	ring_fill_close(&rf);
	status = da_live_trace_finish(&t, &max) ? DA_EXIT_USAGE : da_exit_status(opts, max);
	da_service_stop();
	return status;
}

/*
 * Start CMD: the child waits until the parent has set up --follow, then
 * execs; an exec failure comes back through a close-on-exec pipe.  With
 * nested KTAP its standard output is the pipe the document reads.
 */
static pid_t start_command(struct da_live_trace *t, const struct da_opts *opts, char **argv,
			   struct da_ktap_nest *nested, int *exec_errno)
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
		if (nested)
			da_ktap_nest_child(nested);
		execvp(argv[0], argv);
		err = errno;
		if (write(status[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(status[1]);
	if (opts->follow) {
		int ret = da_live_trace_follow(t, pid);

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

/* trace until CMD exits (or the trace fails: CMD is stopped); CMD's wait status */
static int trace_command(struct da_live_trace *t, pid_t pid, const char *name)
{
	int wstatus = 0;

	child_pid = pid;
	for (;;) {
		pid_t done = waitpid(pid, &wstatus, WNOHANG);

		if (done == pid)
			break;
		if (done < 0 && errno != EINTR) {
			fprintf(stderr, DA_TOOL_NAME " run: waiting for %s: %s\n", name,
				strerror(errno));
			break;
		}
		if (poll_trace(t) < 0) {
			kill(pid, SIGTERM);
			waitpid(pid, &wstatus, 0);
			break;
		}
	}
	child_pid = 0;
	return wstatus;
}

/*
 * --format ktap with the report on standard output: CMD's KTAP and the
 * report become one document (docs/output.md "Nested KTAP"); with -o FILE
 * or the report in the journal, CMD's standard output stays its own.
 */
static bool nests_ktap(const struct da_opts *opts)
{
	if (opts->format != DA_FMT_KTAP)
		return false;
	return opts->output ? !strcmp(opts->output, "-") : !da_log_to_journal(opts);
}

/* the trace has ended: the document's second test; -1 when it could not be written */
static int finish_nested(struct da_ktap_nest *nested, const struct da_opts *opts, int max,
			 bool report_broken)
{
	if (!nested)
		return 0;
	return da_ktap_nest_finish(nested, da_exit_status(opts, max) != DA_EXIT_OK,
				   report_broken);
}

static int run_command(struct da_opts *opts, int argc, char **argv)
{
	struct da_ktap_nest nest, *nested = NULL;
	struct da_live_trace t;
	int exec_errno = 0, wstatus, max, broken;
	char err[512];
	pid_t pid;

	if (nests_ktap(opts)) {
		if (da_ktap_nest_open(&nest, argv[0], err, sizeof(err))) {
			fprintf(stderr, DA_TOOL_NAME " run: %s\n", err);
			return DA_EXIT_USAGE;
		}
		nested = &nest;
	}
	if (open_trace(&t, opts, false)) {
		if (nested)
			da_ktap_nest_abort(nested);
		return DA_EXIT_USAGE; /* CMD is not started */
	}
	if (signals_seen) {
		/* stopped during setup: CMD is not started */
		da_live_trace_finish(&t, &max);
		if (nested)
			da_ktap_nest_abort(nested);
		return 128 + last_signal;
	}
	pid = start_command(&t, opts, argv, nested, &exec_errno);
	if (pid < 0 || exec_errno) {
		fprintf(stderr, DA_TOOL_NAME " run: cannot run %s: %s\n", argv[0],
			strerror(exec_errno));
		if (pid > 0)
			waitpid(pid, NULL, 0);
		da_live_trace_finish(&t, &max);
		if (nested)
			da_ktap_nest_abort(nested);
		return DA_EXIT_USAGE;
	}
	da_timing_mark("cmd-started");
	if (nested && da_ktap_nest_cmd_started(nested))
		fprintf(stderr, DA_TOOL_NAME " run: cannot start reading %s's output\n", argv[0]);
	wstatus = trace_command(&t, pid, argv[0]);
	if (nested)
		da_ktap_nest_cmd_done(nested, wstatus);
	broken = da_live_trace_finish(&t, &max);
	if (finish_nested(nested, opts, max, broken) || broken)
		return DA_EXIT_USAGE;
	if (da_exit_status(opts, max) != DA_EXIT_OK)
		return da_exit_status(opts, max);
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return DA_EXIT_USAGE;
}

int da_cmd_run(struct da_opts *opts, int argc, char **argv)
{
	int status;

	if (argc < 1) {
		fprintf(stderr, DA_TOOL_NAME " run: missing command\n");
		return DA_EXIT_USAGE;
	}
	install_signals();
	if (da_service_start_live(opts)) /* --log journal */
		return DA_EXIT_USAGE;
	status = run_command(opts, argc, argv);
	da_service_stop();
	return status;
}

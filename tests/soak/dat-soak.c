// SPDX-License-Identifier: GPL-2.0
/*
 * dat-soak: the guest half of the soak test (make soak, tests/vm/soak.sh).
 *
 *   dat-soak --seed N --seconds S --pid WATCH_PID --log FILE --metrics-log FILE
 *            --policy FILE --policy-base FILE --output FILE --metrics FILE
 *            [--hup-every SEC] [--metrics-every SEC] [--no-service]
 *
 * While `dmabuf-audit watch` (WATCH_PID) runs, for S seconds:
 *   - churn: udmabuf and system dma-heap buffers imported into vgem through
 *     PRIME, mmapped, released (as tests/vm/dat-prime.c, in a loop); the test
 *     module's correct flows (ok-* scenarios) and its bench entry.  None of
 *     this may give a finding.
 *   - injections: the test module's bug scenarios at times drawn from a
 *     seeded RNG before the run starts (the plan is logged first, then every
 *     injection with its start and end time), each giving one known finding.
 *   - every --hup-every seconds: a new policy variant (suppress-window and a
 *     rule's severity changed, once a policy with an error), the -o file
 *     renamed away as logrotate does, then SIGHUP.
 *   - every --metrics-every seconds: the --metrics file read back (and the
 *     tool's VmRSS and open fds from /proc), appended to the metrics log.
 * --no-service: for a binary without the service features (no
 * suppress-window directive, SIGHUP would end it): neither is used, the rest
 * runs, and the judge fails what needs them.
 * Every line of the log is one JSON object with CLOCK_MONOTONIC times in ns:
 * the clock of the tool's ts_ns, so the host (tests/soak/judge.py) can tell
 * which injection each finding came from.  Exit 0 when everything ran, 1
 * when the workload itself failed (a scenario or a buffer cycle errored:
 * logged), 2 on usage errors.  Built static for the initramfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "../vm/dat-drivers.h"
#include "../vm/dat-rng.h"

#define RUN_FILE "/sys/kernel/debug/dmabuf_audit_test/run"
#define BENCH_FILE "/sys/kernel/debug/dmabuf_audit_test/bench"
#define NSEC 1000000000LL
#define MAX_PLAN 256

/* ------------------------------------------------------------ options */

static struct {
	uint64_t seed;
	int seconds;
	pid_t pid;
	const char *log, *metrics_log, *policy, *policy_base, *output, *metrics;
	int hup_every, metrics_every, no_service;
} opt = { .hup_every = 30, .metrics_every = 5 };

static int64_t t_start;
static volatile int stopping;
static int workload_failed;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

/* one JSON object per line; the caller gives the members after "t_ns" */
static void log_line(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	fprintf(log_file, "{\"t_ns\":%lld,", (long long)now_ns());
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputs("}\n", log_file);
	fflush(log_file);
	pthread_mutex_unlock(&log_lock);
}

/* sleep until t_start + at_ns, or until stopping */
static void sleep_until(int64_t at_ns)
{
	struct timespec ts;
	int64_t t = t_start + at_ns;

	ts.tv_sec = t / NSEC;
	ts.tv_nsec = t % NSEC;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == EINTR)
		;
}

/* ------------------------------------------------------------ policy variants */

/*
 * Variant k is what the k-th SIGHUP loads (0: the one the tool starts with).
 * Every reload changes something the judge can see: missing-fence-wait's
 * severity alternates critical/high, the suppress-window cycles 120 s, 120,
 * 120, 0 (report every one), 60, 60.  Reload 7 is a policy with an error:
 * the tool must keep variant 6 and say why.
 */
#define BAD_VARIANT 7

struct variant {
	int window;
	const char *mfw_severity;
	int bad;
};

static struct variant variant_of(int k)
{
	static const int windows[6] = { 120, 120, 120, 0, 60, 60 };
	struct variant v;

	if (k == BAD_VARIANT) {
		v = variant_of(k - 1);
		v.bad = 1;
		return v;
	}
	v.window = windows[k % 6];
	v.mfw_severity = k % 2 ? "high" : "critical";
	v.bad = 0;
	return v;
}

/* the variant in force at time t (seconds from the start), bad ones skipped */
static struct variant variant_at(double t)
{
	int k = opt.no_service ? 0 : (int)(t / opt.hup_every);

	return variant_of(k);
}

static int copy_file(FILE *to, const char *from)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(from, "r");

	if (!f)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, to);
	fclose(f);
	return 0;
}

/* write variant k to the policy file atomically (tmp + rename) */
static int write_policy(int k)
{
	struct variant v = variant_of(k);
	char tmp[512];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", opt.policy);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	if (copy_file(f, opt.policy_base)) {
		fclose(f);
		return -1;
	}
	fprintf(f, "\n# soak variant %d (dat-soak)\n", k);
	if (!opt.no_service)
		fprintf(f, "suppress-window %d\n", v.window);
	fprintf(f, "rule missing-fence-wait severity %s\n", v.mfw_severity);
	/*
	 * revoke-stalled is a wall-clock rule: a correct revoke waits for the
	 * importers' 400 ms fences and drains for up to 250 ms, and under TCG,
	 * with the churn and the tool on the same emulated CPUs, its task was
	 * seen preempted inside the scope for up to 1.4 s more (a correct
	 * cleanup revoke open 1989 ms), longer than the stalled scenario's
	 * 1.8 s stall needs to exceed.  No threshold tells them apart here: the
	 * rule is off and its scenario not injected (the guest suite, one
	 * scenario at a time, covers it).
	 */
	fprintf(f, "rule revoke-stalled off\n");
	if (v.bad)
		fprintf(f, "rule no-such-rule severity high\n");
	if (fclose(f))
		return -1;
	return rename(tmp, opt.policy);
}

/* ------------------------------------------------------------ the plan */

static const char *const bug_scenarios[] = {
	"access-after-revoke",
	"access-attempt-after-revoke",
	"access-after-revoke-vmap",
	"missing-fence-wait",
	"weak-fence-wait",
	"fence-wait-incomplete",
	"revoke-static-importer",
	"revoke-stub-importer",
	"non-revocable-importer-accepted",
	"pinning-importer-missing-pin",
	"pin-leak",
	"unbalanced-unpin",
	"mapping-leak",
	"unbalanced-unmap",
	"resv-not-held",
	"pinned-importer-left-revoked",
};
#define N_BUGS (sizeof(bug_scenarios) / sizeof(bug_scenarios[0]))

/* the scenarios injected often, so that repeats are held back */
static const char *const hot_scenarios[] = {
	"missing-fence-wait",
	"unbalanced-unpin",
	"mapping-leak",
	"access-attempt-after-revoke",
};
#define N_HOT (sizeof(hot_scenarios) / sizeof(hot_scenarios[0]))

/*
 * bench paths, one flow in four, for volume: the engine's event journal
 * (65536 events) must have gone round once well before half time, so that
 * its pages are all in RSS before the flat-RSS check's second half.  Not
 * "revoke": 50 revoke scopes back to back under TCG had one stay open over a
 * second now and then (the task preempted inside it), a true revoke-stalled
 * the plan did not inject.
 */
static const char *const bench_lines[] = {
	"300 attach-detach", "300 map-unmap", "300 map-unmap-unlocked", "300 pin-unpin",
	"300 vmap-vunmap", "300 vmap-vunmap-unlocked", "300 ww-mutex",
};
#define N_BENCH (sizeof(bench_lines) / sizeof(bench_lines[0]))

static const char *const ok_scenarios[] = {
	"ok-dynamic-move", "ok-revoke",	     "ok-cleanup-revoke",      "ok-static",
	"ok-static-dynamic-exporter", "ok-unrevoke-map", "ok-pinned-import", "ok-refuse-nonrevocable",
	"ok-vmap",
};
#define N_OK (sizeof(ok_scenarios) / sizeof(ok_scenarios[0]))

struct injection {
	double at; /* seconds from the start */
	const char *scenario;
};

static struct injection plan[MAX_PLAN];
static int n_plan;

/* margins, seconds: away from a SIGHUP, and from a suppress-window's edge */
#define HUP_MARGIN 5.0
#define EDGE_MARGIN 8.0
#define MIN_GAP 4.0

static int near_hup(double t)
{
	double r;

	if (opt.no_service)
		return 0;
	r = t - opt.hup_every * (int)(t / opt.hup_every);
	return r < HUP_MARGIN || opt.hup_every - r < HUP_MARGIN;
}

static int scenario_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_BUGS; i++)
		if (!strcmp(bug_scenarios[i], name))
			return (int)i;
	return -1;
}

/*
 * Would injecting scenario i at t land within EDGE_MARGIN of its
 * suppress-window's end?  Then which side of the edge the tool sees it on
 * depends on the guest's timing, and the judge could not say what to expect.
 * last_report[i] < 0: never reported.
 */
static int near_edge(const double *last_report, int i, double t)
{
	struct variant v = variant_at(t);
	double since;

	if (last_report[i] < 0 || v.window == 0)
		return 0;
	since = t - last_report[i];
	return since > v.window - EDGE_MARGIN && since < v.window + EDGE_MARGIN;
}

/* what the tool will do with it: report (1) or hold back (0) */
static void model_step(double *last_report, int i, double t)
{
	struct variant v = variant_at(t);

	if (last_report[i] < 0 || t - last_report[i] >= v.window)
		last_report[i] = t;
}

/*
 * The injection plan: times at least MIN_GAP apart, away from SIGHUPs; every
 * bug scenario once in a random order in the first part of the run, the rest
 * drawn from the hot ones (half the time) or from all.  A draw that would
 * land near a window edge is drawn again (then the slot stays empty).
 */
static void make_plan(void)
{
	uint64_t rng = opt.seed;
	double last_report[N_BUGS], t = 8.0, end = opt.seconds - 15.0;
	int order[N_BUGS], next_first = 0, tries, i, j, tmp;

	for (i = 0; i < (int)N_BUGS; i++) {
		last_report[i] = -1;
		order[i] = i;
	}
	for (i = N_BUGS - 1; i > 0; i--) {
		j = (int)rng_below(&rng, i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	while (n_plan < MAX_PLAN) {
		t += MIN_GAP + rng_below(&rng, 9000) / 1000.0;
		if (t > end)
			break;
		if (near_hup(t))
			continue;
		for (tries = 0; tries < 8; tries++) {
			if (next_first < (int)N_BUGS && tries == 0)
				i = order[next_first];
			else if (rng_below(&rng, 2))
				i = scenario_index(hot_scenarios[rng_below(&rng, N_HOT)]);
			else
				i = (int)rng_below(&rng, N_BUGS);
			if (!near_edge(last_report, i, t))
				break;
		}
		if (tries == 8)
			continue;
		if (next_first < (int)N_BUGS && i == order[next_first])
			next_first++;
		model_step(last_report, i, t);
		plan[n_plan].at = t;
		plan[n_plan].scenario = bug_scenarios[i];
		n_plan++;
	}
}

static void log_plan(void)
{
	int i;

	log_line("\"what\":\"start\",\"seed\":%llu,\"seconds\":%d,\"pid\":%d,\"hup_every\":%d,"
		 "\"metrics_every\":%d,\"hup\":%s,\"injections\":%d,\"window\":%d,"
		 "\"mfw_severity\":\"%s\"",
		 (unsigned long long)opt.seed, opt.seconds, (int)opt.pid, opt.hup_every,
		 opt.metrics_every, opt.no_service ? "false" : "true", n_plan, variant_of(0).window,
		 variant_of(0).mfw_severity);
	for (i = 0; i < n_plan; i++)
		log_line("\"what\":\"plan\",\"i\":%d,\"at_s\":%.3f,\"scenario\":\"%s\"", i,
			 plan[i].at, plan[i].scenario);
}

/* ------------------------------------------------------------ test module */

/* run one scenario (or bench line) through debugfs: 0 or errno */
static int write_debugfs(const char *file, const char *what)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, what, strlen(what)) < 0)
		err = errno;
	close(fd);
	return err;
}

static void *injector(void *unused __attribute__((unused)))
{
	int i, err;
	int64_t t0;

	for (i = 0; i < n_plan && !stopping; i++) {
		sleep_until((int64_t)(plan[i].at * NSEC));
		t0 = now_ns();
		err = write_debugfs(RUN_FILE, plan[i].scenario);
		log_line("\"what\":\"inject\",\"i\":%d,\"scenario\":\"%s\",\"start_ns\":%lld,"
			 "\"end_ns\":%lld,\"err\":%d",
			 i, plan[i].scenario, (long long)t0, (long long)now_ns(), err);
		if (err)
			workload_failed = 1;
	}
	return NULL;
}

/* correct flows and the bench entry, back to back with random pauses */
static void *flows(void *unused __attribute__((unused)))
{
	uint64_t rng = opt.seed ^ 0x5eed0f10a5ULL;
	const char *what, *file;
	int64_t t0;
	int err, bench;

	while (!stopping) {
		bench = rng_below(&rng, 4) == 0;
		file = bench ? BENCH_FILE : RUN_FILE;
		what = bench ? bench_lines[rng_below(&rng, N_BENCH)] :
			       ok_scenarios[rng_below(&rng, N_OK)];
		t0 = now_ns();
		err = write_debugfs(file, what);
		log_line("\"what\":\"flow\",\"name\":\"%s%s\",\"start_ns\":%lld,\"end_ns\":%lld,"
			 "\"err\":%d",
			 bench ? "bench " : "", what, (long long)t0,
			 (long long)now_ns(), err);
		if (err)
			workload_failed = 1;
		sleep_ms(200 + rng_below(&rng, 1800));
	}
	return NULL;
}

/* ------------------------------------------------------------ real drivers */

/* one buffer: create, import into vgem, CPU access, release; 0 or a step name */
static const char *prime_cycle(int drm, int use_heap)
{
	struct dat_drm_prime_handle prime = { 0 };
	struct dat_drm_gem_close gclose = { 0 };
	int buf = use_heap ? heap_create() : udmabuf_create("dat-soak");
	const char *failed = NULL;
	void *p;

	if (buf < 0)
		return use_heap ? "heap alloc" : "udmabuf create";
	prime.fd = buf;
	if (ioctl(drm, DAT_DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime)) {
		close(buf);
		return "PRIME_FD_TO_HANDLE";
	}
	p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (p == MAP_FAILED) {
		failed = "mmap";
	} else {
		memset(p, 0x5a, BUF_SIZE);
		munmap(p, BUF_SIZE);
	}
	gclose.handle = prime.handle;
	if (ioctl(drm, DAT_DRM_IOCTL_GEM_CLOSE, &gclose) && !failed)
		failed = "GEM_CLOSE";
	close(buf);
	return failed;
}

/* udmabuf / heap buffers through vgem; counts logged every 60 s */
static void *prime_churn(void *unused __attribute__((unused)))
{
	uint64_t rng = opt.seed ^ 0x9e1e5eedULL;
	unsigned long done[2] = { 0, 0 }, errors = 0;
	int64_t next_report = now_ns() + 60 * NSEC;
	const char *failed;
	int drm = open_vgem(), heap;

	if (drm < 0) {
		log_line("\"what\":\"prime\",\"error\":\"no vgem device: %s\"", strerror(errno));
		workload_failed = 1;
		return NULL;
	}
	while (!stopping) {
		heap = (int)rng_below(&rng, 2);
		failed = prime_cycle(drm, heap);
		if (failed) {
			errors++;
			workload_failed = 1;
			log_line("\"what\":\"prime\",\"error\":\"%s: %s\"", failed, strerror(errno));
		} else {
			done[heap]++;
		}
		if (now_ns() >= next_report || stopping) {
			log_line("\"what\":\"prime\",\"udmabuf\":%lu,\"heap\":%lu,\"errors\":%lu",
				 done[0], done[1], errors);
			next_report += 60 * NSEC;
		}
		sleep_ms(20 + rng_below(&rng, 180));
	}
	log_line("\"what\":\"prime\",\"final\":true,\"udmabuf\":%lu,\"heap\":%lu,\"errors\":%lu",
		 done[0], done[1], errors);
	close(drm);
	return NULL;
}

/* ------------------------------------------------------------ SIGHUP, metrics */

/*
 * Every hup_every seconds: the next policy variant, the -o file moved to
 * FILE.K (logrotate's default: rename, then tell the daemon), SIGHUP.  Three
 * seconds later: did the tool open a new FILE?
 */
static void *hupper(void *unused __attribute__((unused)))
{
	char moved[512];
	struct stat st;
	int k, moved_ok, policy_ok, sent, waited;

	/* none in the last 6 s: the reload would race with the end */
	for (k = 1; !stopping && k * opt.hup_every + 6 <= opt.seconds; k++) {
		sleep_until((int64_t)k * opt.hup_every * NSEC);
		policy_ok = write_policy(k) == 0;
		snprintf(moved, sizeof(moved), "%s.%d", opt.output, k);
		moved_ok = rename(opt.output, moved) == 0;
		sent = kill(opt.pid, SIGHUP) == 0;
		log_line("\"what\":\"hup\",\"k\":%d,\"window\":%d,\"mfw_severity\":\"%s\","
			 "\"bad\":%s,\"policy_written\":%s,\"moved\":%s,\"sent\":%s",
			 k, variant_of(k).window, variant_of(k).mfw_severity,
			 variant_of(k).bad ? "true" : "false", policy_ok ? "true" : "false",
			 moved_ok ? "true" : "false", sent ? "true" : "false");
		if (!policy_ok || !moved_ok || !sent)
			workload_failed = 1;
		/* how long until the tool has opened the new file (at most 20 s) */
		for (waited = 0; waited < 20000 && stat(opt.output, &st); waited += 50)
			sleep_ms(50);
		log_line("\"what\":\"reopened\",\"k\":%d,\"exists\":%s,\"after_ms\":%d", k,
			 stat(opt.output, &st) == 0 ? "true" : "false", waited);
	}
	return NULL;
}

/* VmRSS (kB) of the tool, and how many fds it has open */
static void proc_figures(long *rss_kb, int *fds)
{
	char path[64], line[256];
	struct dirent *d;
	FILE *f;
	DIR *dir;

	*rss_kb = -1;
	*fds = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)opt.pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "VmRSS:", 6))
				*rss_kb = strtol(line + 6, NULL, 10);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)opt.pid);
	dir = opendir(path);
	if (dir) {
		*fds = 0;
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.')
				(*fds)++;
		closedir(dir);
	}
}

/* the metrics file as it is now, after a marker line, into the metrics log */
static void read_metrics(FILE *out, int final)
{
	struct timespec wall;
	long rss_kb, age_ms = -1;
	int fds, present;
	struct stat st;

	proc_figures(&rss_kb, &fds);
	present = stat(opt.metrics, &st) == 0;
	/* how old the file is: written every --metrics-interval, never much later */
	clock_gettime(CLOCK_REALTIME, &wall);
	if (present)
		age_ms = (wall.tv_sec - st.st_mtim.tv_sec) * 1000L +
			 (wall.tv_nsec - st.st_mtim.tv_nsec) / 1000000L;
	fprintf(out, "=== t_ns %lld rss_kb %ld fds %d final %d present %d age_ms %ld\n",
		(long long)now_ns(), rss_kb, fds, final, present, age_ms);
	copy_file(out, opt.metrics);
	fprintf(out, "=== end\n");
	fflush(out);
}

static void *metrics_reader(void *out)
{
	int k;

	for (k = 1; k * opt.metrics_every <= opt.seconds; k++) {
		sleep_until((int64_t)k * opt.metrics_every * NSEC);
		read_metrics(out, 0);
	}
	return NULL;
}

/* ------------------------------------------------------------ main */

static int usage(void)
{
	fprintf(stderr,
		"usage: dat-soak --seed N --seconds S --pid PID --log FILE --metrics-log FILE\n"
		"                --policy FILE --policy-base FILE --output FILE --metrics FILE\n"
		"                [--hup-every SEC] [--metrics-every SEC] [--no-service]\n"
		"                [--init-policy | --final-metrics]\n");
	return 2;
}

static const char **string_option(const char *name)
{
	static const struct {
		const char *name;
		const char **dst;
	} table[] = {
		{ "--log", &opt.log },
		{ "--metrics-log", &opt.metrics_log },
		{ "--policy", &opt.policy },
		{ "--policy-base", &opt.policy_base },
		{ "--output", &opt.output },
		{ "--metrics", &opt.metrics },
	};
	unsigned int i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(name, table[i].name))
			return table[i].dst;
	return NULL;
}

/* 0, or 1 with the mode in *mode: 'r' run, 'p' init policy, 'm' final metrics */
static int parse_args(int argc, char **argv, int *mode)
{
	const char **dst;
	int i;

	*mode = 'r';
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-service")) {
			opt.no_service = 1;
		} else if (!strcmp(argv[i], "--init-policy")) {
			*mode = 'p';
		} else if (!strcmp(argv[i], "--final-metrics")) {
			*mode = 'm';
		} else if (i + 1 >= argc) {
			return -1;
		} else if ((dst = string_option(argv[i]))) {
			*dst = argv[++i];
		} else if (!strcmp(argv[i], "--seed")) {
			opt.seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seconds")) {
			opt.seconds = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--pid")) {
			opt.pid = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--hup-every")) {
			opt.hup_every = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--metrics-every")) {
			opt.metrics_every = atoi(argv[++i]);
		} else {
			return -1;
		}
	}
	if (!opt.policy || !opt.policy_base)
		return -1;
	if (*mode == 'r' && (opt.seconds < 60 || opt.pid <= 0 || !opt.log || !opt.metrics_log ||
			     !opt.output || !opt.metrics || opt.hup_every < 15 ||
			     opt.metrics_every < 1))
		return -1;
	if (*mode == 'm' && (opt.pid <= 0 || !opt.metrics || !opt.metrics_log))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th[5];
	FILE *metrics_out;
	int mode, i;

	if (parse_args(argc, argv, &mode))
		return usage();
	if (mode == 'p')
		return write_policy(0) ? 1 : 0;
	metrics_out = fopen(opt.metrics_log, "a");
	if (!metrics_out) {
		perror(opt.metrics_log);
		return 1;
	}
	if (mode == 'm') {
		read_metrics(metrics_out, 1);
		return fclose(metrics_out) ? 1 : 0;
	}
	log_file = fopen(opt.log, "w");
	if (!log_file) {
		perror(opt.log);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	t_start = now_ns();
	make_plan();
	log_plan();
	pthread_create(&th[0], NULL, injector, NULL);
	pthread_create(&th[1], NULL, flows, NULL);
	pthread_create(&th[2], NULL, prime_churn, NULL);
	pthread_create(&th[3], NULL, metrics_reader, metrics_out);
	if (!opt.no_service)
		pthread_create(&th[4], NULL, hupper, NULL);
	sleep_until((int64_t)opt.seconds * NSEC);
	stopping = 1;
	for (i = 0; i < (opt.no_service ? 4 : 5); i++)
		pthread_join(th[i], NULL);
	log_line("\"what\":\"end\",\"workload_failed\":%s", workload_failed ? "true" : "false");
	fclose(metrics_out);
	fclose(log_file);
	return workload_failed;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * sd_notify and the journal's native protocol (systemd.h), and the journal
 * as the service log of the pipeline (--log journal): one entry per
 * reported finding, notice and summary, with structured DMABUF_* fields so
 * that `journalctl DMABUF_RULE=missing-fence-wait` finds them.
 *
 * Native protocol: a datagram of fields, each "KEY=value\n", or, for a
 * value with a newline, "KEY\n", the value's length as 64-bit little
 * endian, the value and "\n".  An entry bigger than a datagram may be
 * (EMSGSIZE) goes into a memfd, sealed, whose descriptor is sent alone
 * with SCM_RIGHTS: what sd_journal_sendv() does.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dmabuf_audit/addr.h"
#include "systemd.h"

/* ---- sockets ---- */

/* "/path" or "@abstract" into addr; its length, or -EINVAL */
static int unix_addr(const char *name, struct sockaddr_un *addr, socklen_t *len)
{
	size_t n = strlen(name);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof(addr->sun_path))
		return -EINVAL;
	memcpy(addr->sun_path, name, n);
	if (name[0] == '@')
		addr->sun_path[0] = '\0'; /* abstract: no terminating NUL counts */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
	return 0;
}

/* ---- sd_notify ---- */

int da_sd_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr;
	socklen_t len;
	ssize_t sent;
	int fd, ret;

	if (!name || !*name)
		return 1;
	ret = unix_addr(name, &addr, &len);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, len);
	ret = sent < 0 ? -errno : 0;
	close(fd);
	return ret;
}

uint64_t da_sd_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (!usec || !*usec)
		return 0;
	if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
		return 0; /* meant for another process (our parent's) */
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno || *end || !v)
		return 0;
	return v;
}

/* ---- the journal ---- */

struct da_journal {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	char *buf; /* the entry being built, kept between entries */
	size_t len, cap;
};

static const char *journal_path(void)
{
	const char *path = getenv(DA_JOURNAL_SOCKET_ENV);

	return path && *path ? path : DA_JOURNAL_SOCKET;
}

struct da_journal *da_journal_open(char *err, size_t errlen)
{
	const char *path = journal_path();
	struct da_journal *j = calloc(1, sizeof(*j));
	struct stat st;

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	j->fd = -1;
	if (path[0] == '/' && (stat(path, &st) || !S_ISSOCK(st.st_mode))) {
		snprintf(err, errlen,
			 "no journal at %s: %s (is systemd-journald running? use"
			 " --log output)",
			 path, errno ? strerror(errno) : "not a socket");
		goto fail;
	}
	if (unix_addr(path, &j->addr, &j->addrlen)) {
		snprintf(err, errlen, "%s: not a socket path", path);
		goto fail;
	}
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (j->fd < 0) {
		snprintf(err, errlen, "cannot make a socket for the journal: %s", strerror(errno));
		goto fail;
	}
	return j;
fail:
	da_journal_close(j);
	return NULL;
}

void da_journal_close(struct da_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->buf);
	free(j);
}

static int reserve(struct da_journal *j, size_t more)
{
	size_t cap = j->cap ? j->cap : 4096;
	char *buf;

	if (j->len + more <= j->cap)
		return 0;
	while (cap < j->len + more)
		cap *= 2;
	buf = realloc(j->buf, cap);
	if (!buf)
		return -ENOMEM;
	j->buf = buf;
	j->cap = cap;
	return 0;
}

static int put_field(struct da_journal *j, const struct da_journal_field *f)
{
	size_t klen = strlen(f->key);
	bool binary = memchr(f->value, '\n', f->len) != NULL;
	uint64_t le = f->len;

	if (reserve(j, klen + f->len + 10))
		return -ENOMEM;
	memcpy(j->buf + j->len, f->key, klen);
	j->len += klen;
	if (binary) {
		j->buf[j->len++] = '\n';
		for (int i = 0; i < 8; i++)
			j->buf[j->len++] = (char)((le >> (8 * i)) & 0xff);
	} else {
		j->buf[j->len++] = '=';
	}
	memcpy(j->buf + j->len, f->value, f->len);
	j->len += f->len;
	j->buf[j->len++] = '\n';
	return 0;
}

/* the entry in a sealed memfd, the descriptor alone in the datagram */
static int send_memfd(struct da_journal *j)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr mh = { 0 };
	struct cmsghdr *cmsg;
	int fd, ret = 0;

	fd = memfd_create("dmabuf-audit-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < j->len;) {
		ssize_t n = write(fd, j->buf + off, j->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		off += (size_t)n;
	}
	/* journald takes a memfd only sealed: it cannot change while it is read */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		ret = -errno;
		goto out;
	}
	memset(&control, 0, sizeof(control));
	mh.msg_name = &j->addr;
	mh.msg_namelen = j->addrlen;
	mh.msg_control = control.buf;
	mh.msg_controllen = sizeof(control.buf);
	cmsg = CMSG_FIRSTHDR(&mh);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	if (sendmsg(j->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		ret = -errno;
out:
	close(fd);
	return ret;
}

/*
 * Never block for long on a journal that does not read: the ring buffer
 * would fill behind us and events be lost.  A full queue gets this long to
 * drain, then the entry is dropped (and counted by the caller).
 */
#define JOURNAL_WAIT_MS 100
#define JOURNAL_RETRY_MS 10

/* (an unconnected datagram socket cannot poll for the peer's queue: sleep and retry) */
int da_journal_send(struct da_journal *j, const struct da_journal_field *fields, unsigned int n)
{
	const struct timespec pause = { 0, JOURNAL_RETRY_MS * 1000000L };

	j->len = 0;
	for (unsigned int i = 0; i < n; i++)
		if (put_field(j, &fields[i]))
			return -ENOMEM;
	for (int waited = 0;; waited += JOURNAL_RETRY_MS) {
		if (sendto(j->fd, j->buf, j->len, MSG_NOSIGNAL | MSG_DONTWAIT,
			   (struct sockaddr *)&j->addr, j->addrlen) >= 0)
			return 0;
		if (errno == EMSGSIZE || errno == ENOBUFS)
			return send_memfd(j);
		if (errno != EAGAIN || waited >= JOURNAL_WAIT_MS)
			return -errno;
		nanosleep(&pause, NULL);
	}
}

/* ---- the journal as the pipeline's service log ---- */

#define MAX_FIELDS 32
#define MAX_NUMBERS 10

struct entry {
	struct da_journal_field f[MAX_FIELDS];
	unsigned int n;
	char num[MAX_NUMBERS][24];
	unsigned int nnum;
};

static struct {
	struct da_journal *journal;
	struct da_service_log log; /* .dropped: entries not sent (the stats count them) */
	int last_errno; /* the last send error said on stderr */
	bool local_pids; /* the events are this host's, now (watch, run): OBJECT_PID */
} service;

/*
 * MESSAGE_IDs of the entries that are not findings (a finding's is its
 * rule's, da_rule_message_ids): made once, never changed, in the catalog
 * (packaging/dmabuf-audit.catalog) and docs/output.md.
 */
#define SUMMARY_MESSAGE_ID "ff7e53287bec4c36957ac8ae740811ac"
static const char *const notice_message_ids[] = {
	[DA_NOTICE_PARTIAL] = "0432de6cb69649b2a1582e940f4ac398",
	[DA_NOTICE_LOST] = "a1d6a3f51a6849da87e35b7a6649b9e7",
	[DA_NOTICE_EVICTED] = "4981f8d26bae482197d3c96716685dc0",
	[DA_NOTICE_HOOK] = "da88241b293c47a2ad730fe69c289009",
	[DA_NOTICE_INPUT] = "094aee98611046219161685aa1ebc058",
};

static void add_len(struct entry *e, const char *key, const char *value, size_t len)
{
	if (!value || e->n == MAX_FIELDS)
		return;
	/* the journal shows a message's trailing newline as an empty line */
	while (len && value[len - 1] == '\n')
		len--;
	e->f[e->n++] = (struct da_journal_field){ key, value, len };
}

static void add(struct entry *e, const char *key, const char *value)
{
	if (value && *value)
		add_len(e, key, value, strlen(value));
}

static void add_fmt(struct entry *e, const char *key, const char *fmt, uint64_t v)
{
	if (e->nnum == MAX_NUMBERS)
		return;
	snprintf(e->num[e->nnum], sizeof(e->num[0]), fmt, v);
	add(e, key, e->num[e->nnum++]);
}

static void send_entry(struct entry *e)
{
	int ret;

	add(e, "SYSLOG_IDENTIFIER", DA_TOOL_NAME);
	ret = da_journal_send(service.journal, e->f, e->n);
	if (!ret) {
		service.last_errno = 0;
		return;
	}
	service.log.dropped++;
	if (-ret != service.last_errno)
		fprintf(stderr, DA_TOOL_NAME ": cannot send to the journal at %s: %s\n",
			journal_path(), strerror(-ret));
	service.last_errno = -ret;
}

/* syslog levels: crit, err, warning, info */
static const char *priority(enum da_severity sev)
{
	switch (sev) {
	case DA_SEV_CRITICAL:
		return "2";
	case DA_SEV_HIGH:
		return "3";
	case DA_SEV_WARNING:
		return "4";
	default:
		return "6";
	}
}

/* the offending workload (docs/output.md "Workload identity"); each field when known */
static void add_cgroup(struct entry *e, const struct da_cgroup_identity *cg)
{
	if (!cg->id)
		return;
	add_fmt(e, "DMABUF_CGROUP_ID", "%" PRIu64, cg->id);
	if (cg->path)
		add(e, "DMABUF_CGROUP", cg->path);
	if (cg->unit)
		add(e, "DMABUF_UNIT", cg->unit);
	if (cg->container)
		add(e, "DMABUF_CONTAINER_ID", cg->container);
	if (cg->pod)
		add(e, "DMABUF_POD_UID", cg->pod);
}

static void log_finding(void *ctx, const struct da_finding *f, const char *text, uint64_t repeats)
{
	const struct da_finding_attachment *a = &f->attachment;
	struct entry e = { 0 };

	add(&e, "MESSAGE", text);
	add(&e, "PRIORITY", priority(f->severity));
	if ((unsigned int)f->rule < DA_RULE__COUNT)
		add(&e, "MESSAGE_ID", da_rule_message_ids[f->rule]);
	add(&e, "DMABUF_RULE",
	    (unsigned int)f->rule < DA_RULE__COUNT ? da_rules[f->rule].name : "?");
	add(&e, "DMABUF_SEVERITY", da_severity_name(f->severity));
	add(&e, "DMABUF_EXPORTER", f->buffer.exporter);
	if (f->buffer.ino)
		add_fmt(&e, "DMABUF_INO", "%" PRIu64, f->buffer.ino);
	if (f->has_attachment && a->known) {
		if (a->importer_ops_sym)
			add(&e, "DMABUF_IMPORTER_OPS", a->importer_ops_sym);
		else if (a->importer_ops)
			add(&e, "DMABUF_IMPORTER_OPS", da_addr_str(0, a->importer_ops));
		else
			add(&e, "DMABUF_IMPORTER_OPS", "none");
	}
	if (f->has_attachment)
		add(&e, "DMABUF_DEVICE", a->dev);
	if (f->comm && f->comm[0])
		add_len(&e, "DMABUF_TASK", f->comm, strnlen(f->comm, DA_COMM_LEN));
	/*
	 * OBJECT_PID: journald adds the task's OBJECT_SYSTEMD_UNIT, _EXE,
	 * _CMDLINE, _CGROUP... (from a sender as privileged as the service).
	 * A task that has exited by then gets none.  Only for this host's
	 * tasks: a replayed trace's pid would name whatever runs here now.
	 * DMABUF_PID stays for the queries written before OBJECT_PID.
	 */
	if (service.local_pids && f->pid > 0)
		add_fmt(&e, "OBJECT_PID", "%" PRIu64, f->pid);
	if (f->pid || f->tid)
		add_fmt(&e, "DMABUF_PID", "%" PRIu64, f->pid);
	add_cgroup(&e, &f->cgroup);
	add_fmt(&e, "DMABUF_SEQ", "%" PRIu64, f->seq);
	add_fmt(&e, "DMABUF_COUNT", "%" PRIu64, repeats);
	send_entry(&e);
}

static const char *const notice_kinds[] = {
	[DA_NOTICE_PARTIAL] = "partial", [DA_NOTICE_LOST] = "lost",
	[DA_NOTICE_EVICTED] = "evicted", [DA_NOTICE_HOOK] = "hook",
	[DA_NOTICE_INPUT] = "input",
};

static void log_notice(void *ctx, enum da_notice_kind kind, const char *msg)
{
	const char *name = (unsigned int)kind < sizeof(notice_kinds) / sizeof(notice_kinds[0]) ?
				   notice_kinds[kind] :
				   "notice";
	struct entry e = { 0 };

	add(&e, "MESSAGE", msg);
	/* lost events and missing hooks weaken the audit: warning; the rest: notice */
	add(&e, "PRIORITY", kind == DA_NOTICE_LOST || kind == DA_NOTICE_HOOK ? "4" : "5");
	if ((unsigned int)kind < sizeof(notice_message_ids) / sizeof(notice_message_ids[0]) &&
	    notice_message_ids[kind])
		add(&e, "MESSAGE_ID", notice_message_ids[kind]);
	add(&e, "DMABUF_NOTICE", name);
	send_entry(&e);
}

static void log_summary(void *ctx, const struct da_stats *st, const char *text)
{
	uint64_t findings = 0;
	struct entry e = { 0 };

	for (int s = 0; s < DA_SEV__COUNT; s++)
		findings += st->sum.findings[s];
	add(&e, "MESSAGE", text);
	add(&e, "PRIORITY", "6");
	add(&e, "MESSAGE_ID", SUMMARY_MESSAGE_ID);
	add(&e, "DMABUF_SUMMARY", "1");
	add_fmt(&e, "DMABUF_EVENTS", "%" PRIu64, st->sum.events);
	add_fmt(&e, "DMABUF_LOST", "%" PRIu64, st->sum.lost);
	add_fmt(&e, "DMABUF_FINDINGS", "%" PRIu64, findings);
	add_fmt(&e, "DMABUF_COUNT", "%" PRIu64, st->repeats_held);
	/* the entries dropped before this one (this one is not counted if it fails) */
	add_fmt(&e, "DMABUF_JOURNAL_DROPPED", "%" PRIu64, st->journal_dropped);
	send_entry(&e);
}

/*
 * Whether descriptor fd is the journal stream systemd connected the service
 * to: JOURNAL_STREAM holds its "device:inode" (systemd.exec(5)).  The
 * variable alone is not enough: a service's children inherit it, so a CI job
 * started under a runner service has it while its output is a pipe that
 * someone reads.
 */
static bool is_journal_stream(int fd)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int end = 0;

	if (!v || sscanf(v, "%llu:%llu%n", &dev, &ino, &end) != 2 || v[end] || fstat(fd, &st))
		return false;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

bool da_log_to_journal(const struct da_opts *opts)
{
	struct stat st;

	if (opts->log != DA_LOG_AUTO)
		return opts->log == DA_LOG_JOURNAL;
	/* the report would have gone to the journal as plain lines anyway */
	if (opts->output || !is_journal_stream(STDOUT_FILENO))
		return false;
	return !stat(journal_path(), &st) && S_ISSOCK(st.st_mode);
}

int da_service_start(const struct da_opts *opts)
{
	char err[512];

	if (!da_log_to_journal(opts))
		return 0;
	service.journal = da_journal_open(err, sizeof(err));
	if (!service.journal) {
		fprintf(stderr, DA_TOOL_NAME ": --log journal: %s\n", err);
		return -1;
	}
	service.log = (struct da_service_log){
		.finding = log_finding,
		.notice = log_notice,
		.summary = log_summary,
	};
	return 0;
}

int da_service_start_live(const struct da_opts *opts)
{
	int ret = da_service_start(opts);

	service.local_pids = true;
	return ret;
}

void da_service_stop(void)
{
	if (service.log.dropped)
		fprintf(stderr, DA_TOOL_NAME ": %" PRIu64 " journal entries could not be sent\n",
			service.log.dropped);
	da_journal_close(service.journal);
	service.journal = NULL;
	service.log.dropped = 0;
	service.local_pids = false;
}

void da_service_config(struct da_pipeline_config *cfg, const struct da_opts *opts, bool service_run)
{
	if (service.journal) {
		cfg->log = &service.log;
		cfg->no_report = !opts->output;
	}
	/* a report of run or replay stays the same from one run to the next unless asked */
	cfg->stats_interval_s = opts->stats_interval;
	if (opts->stats_interval < 0)
		cfg->stats_interval_s = service_run ? DA_STATS_INTERVAL_DEFAULT_S : 0;
	if (service_run) {
		cfg->default_suppress_window_ns = DA_SUPPRESS_WINDOW_DEFAULT_S * 1000000000ull;
		cfg->metrics_best_effort = true;
	}
}

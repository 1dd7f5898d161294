// SPDX-License-Identifier: GPL-2.0
/*
 * Policy: defaults and the line-based policy file (docs/policy.md).
 *
 * A file is applied to a private copy and committed only when every line
 * parsed, so a malformed file leaves the caller's policy exactly as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmabuf_audit/event.h"
#include "dmabuf_audit/policy.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
/* a year: a window longer than that is a mistake, and the product stays far from overflow */
#define MAX_SUPPRESS_WINDOW_S 31536000ull
/* kprobes reach six register arguments; argument 0 is the scope object */
#define MAX_REVOKED_ARG 5

static void namelist_add_default(struct da_namelist *list, const char *name)
{
	if (list->n < DA_POLICY_MAX_NAMES && !da_namelist_has(list, name))
		snprintf(list->names[list->n++], DA_FUNC_LEN, "%s", name);
}

/*
 * The default revoke scopes, by kernel function id: their names and module
 * are in the kernel function table (da_kfuncs).  VFIO's revoke path:
 * vfio_pci_dma_buf_move(vdev, revoked); vfio_pci_dma_buf_cleanup(vdev).
 * The iommufd selftest's mock exporter revokes and un-revokes in
 * iommufd_test_dmabuf_revoke(ucmd, fd, revoked).
 */
static const struct {
	enum da_kfunc func;
	int revoked_arg;
} default_scopes[] = {
	{ DA_KF_VFIO_DMA_BUF_MOVE, 1 },
	{ DA_KF_VFIO_DMA_BUF_CLEANUP, -1 },
	{ DA_KF_IOMMUFD_TEST_REVOKE, 2 },
};

static void scopes_add_default(struct da_policy *pol)
{
	for (unsigned int i = 0; i < sizeof(default_scopes) / sizeof(default_scopes[0]); i++) {
		enum da_kfunc f = default_scopes[i].func;
		struct da_scope_spec *spec = &pol->scopes[pol->n_scopes++];

		/* the newest name: the kernels that have the scope */
		snprintf(spec->function, sizeof(spec->function), "%s",
			 da_kfunc_name(f, da_kfunc_n_names(f) - 1));
		spec->revoked_arg = default_scopes[i].revoked_arg;
	}
}

void da_policy_init_default(struct da_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	for (int i = 0; i < DA_RULE__COUNT; i++) {
		pol->rule_enabled[i] = true;
		pol->rule_severity[i] = da_rules[i].severity;
	}
	/* RDMA's pinned umem callback up to 7.0: warns and does nothing */
	namelist_add_default(&pol->stub_callbacks, "ib_umem_dmabuf_unsupported_move_notify");
	/* importers that cannot fault, so they must pin (seed thread, Jason Gunthorpe) */
	namelist_add_default(&pol->pinning_importers, "iopt_dmabuf_attach_revoke_ops");
	namelist_add_default(&pol->pinning_importers, "ib_umem_dmabuf_attach_pinned_ops");
	/*
	 * exp_name is KBUILD_MODNAME (DEFINE_DMA_BUF_EXPORT_INFO): the module a
	 * multi-object exporter is linked into, '-' turned into '_'.  Checked in
	 * 7.3: vfio_pci_dmabuf.o is in vfio-pci-core.ko, uverbs_std_types_dmabuf.o
	 * in ib_uverbs.ko, the iommufd selftest exporter in iommufd.ko.
	 */
	namelist_add_default(&pol->revoking_exporters, "vfio_pci_core");
	namelist_add_default(&pol->revoking_exporters, "ib_uverbs");
	namelist_add_default(&pol->revoking_exporters, "iommufd");
	scopes_add_default(pol);
	pol->stall_threshold_ns = 1000 * NS_PER_MS;
}

bool da_namelist_has(const struct da_namelist *list, const char *name)
{
	if (!name)
		return false;
	for (unsigned int i = 0; i < list->n; i++)
		if (!strcmp(list->names[i], name))
			return true;
	return false;
}

const struct da_scope_spec *da_policy_scope(const struct da_policy *pol, const char *function)
{
	for (unsigned int i = 0; i < pol->n_scopes; i++)
		if (!strcmp(pol->scopes[i].function, function))
			return &pol->scopes[i];
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Parser */

#define MAX_TOKENS 8

struct parser {
	const char *path;
	unsigned int line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
	int n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->path, ps->line);
	va_list ap;

	if (n < 0 || (size_t)n >= ps->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_name(struct parser *ps, const char *what, const char *name)
{
	if (strlen(name) >= DA_FUNC_LEN)
		return fail(ps, "%s '%.20s...' is too long (at most %d characters)", what, name,
			    DA_FUNC_LEN - 1);
	return 0;
}

static int add_name(struct parser *ps, struct da_namelist *list, const char *directive,
		    const char *name)
{
	if (check_name(ps, "name", name))
		return -1;
	if (da_namelist_has(list, name))
		return 0;
	if (list->n >= DA_POLICY_MAX_NAMES)
		return fail(ps,
			    "too many %s names (at most %d, the built-in defaults included;"
			    " 'clear %ss' first makes room)",
			    directive, DA_POLICY_MAX_NAMES, directive);
	strcpy(list->names[list->n++], name);
	return 0;
}

/* strict unsigned decimal: digits only, no sign, no overflow */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int want_args(struct parser *ps, int ntok, int min, int max, const char *usage)
{
	if (ntok < min)
		return fail(ps, "missing argument; usage: %s", usage);
	if (ntok > max)
		return fail(ps, "unexpected extra argument; usage: %s", usage);
	return 0;
}

static int rule_index(struct parser *ps, const char *id, bool allow_all, int *out)
{
	if (allow_all && !strcmp(id, "*")) {
		*out = -1;
		return 0;
	}
	*out = da_rule_lookup(id);
	if (*out < 0)
		return fail(ps, "unknown rule '%s' (see docs/rules.md for the rule IDs)", id);
	return 0;
}

/* rule ID|* [on|off] [severity SEV] */
static int parse_rule(struct parser *ps, struct da_policy *pol, char **tok, int ntok)
{
	static const char usage[] = "rule ID|* [on|off] [severity info|warning|high|critical]";
	int enabled = -1, sev = -1, rule, i;

	if (want_args(ps, ntok, 3, 5, usage) || rule_index(ps, tok[1], true, &rule))
		return -1;
	for (i = 2; i < ntok; i++) {
		if (!strcmp(tok[i], "on") || !strcmp(tok[i], "off")) {
			if (enabled >= 0)
				return fail(ps, "on/off given twice; usage: %s", usage);
			enabled = !strcmp(tok[i], "on");
		} else if (!strcmp(tok[i], "severity")) {
			enum da_severity s;

			if (sev >= 0)
				return fail(ps, "severity given twice; usage: %s", usage);
			if (i + 1 >= ntok)
				return fail(ps, "missing severity; usage: %s", usage);
			if (da_severity_parse(tok[++i], &s))
				return fail(
					ps,
					"unknown severity '%s' (expected info, warning, high or critical)",
					tok[i]);
			sev = s;
		} else {
			return fail(ps, "unexpected '%s'; usage: %s", tok[i], usage);
		}
	}
	for (i = 0; i < DA_RULE__COUNT; i++) {
		if (rule >= 0 && i != rule)
			continue;
		if (enabled >= 0)
			pol->rule_enabled[i] = enabled;
		if (sev >= 0)
			pol->rule_severity[i] = (enum da_severity)sev;
	}
	return 0;
}

/* revoke-scope FUNCTION [revoked-arg N] */
static int parse_scope(struct parser *ps, struct da_policy *pol, char **tok, int ntok)
{
	static const char usage[] = "revoke-scope FUNCTION [revoked-arg N]";
	struct da_scope_spec *spec = NULL;
	int revoked_arg = -1;

	if (want_args(ps, ntok, 2, 4, usage) || check_name(ps, "function name", tok[1]))
		return -1;
	if (ntok == 3)
		return fail(ps, "missing argument; usage: %s", usage);
	if (ntok == 4) {
		uint64_t n;

		if (strcmp(tok[2], "revoked-arg"))
			return fail(ps, "unexpected '%s'; usage: %s", tok[2], usage);
		if (parse_u64(tok[3], &n) || n < 1 || n > MAX_REVOKED_ARG)
			return fail(
				ps,
				"revoked-arg must be an argument index from 1 to %d (argument 0 is the scope object), got '%s'",
				MAX_REVOKED_ARG, tok[3]);
		revoked_arg = (int)n;
	}
	for (unsigned int i = 0; i < pol->n_scopes; i++)
		if (!strcmp(pol->scopes[i].function, tok[1]))
			spec = &pol->scopes[i];
	if (!spec) {
		if (pol->n_scopes >= DA_MAX_SCOPES)
			return fail(ps,
				    "too many revoke scopes (at most %d, the built-in defaults"
				    " included; 'clear revoke-scopes' first makes room)",
				    DA_MAX_SCOPES);
		spec = &pol->scopes[pol->n_scopes++];
		strcpy(spec->function, tok[1]);
	}
	spec->revoked_arg = revoked_arg;
	return 0;
}

/* stall-threshold-ms N */
static int parse_stall(struct parser *ps, struct da_policy *pol, char **tok, int ntok)
{
	uint64_t ms;

	if (want_args(ps, ntok, 2, 2, "stall-threshold-ms N"))
		return -1;
	if (parse_u64(tok[1], &ms) || ms > UINT64_MAX / NS_PER_MS)
		return fail(ps, "stall-threshold-ms needs a whole number of milliseconds, got '%s'",
			    tok[1]);
	pol->stall_threshold_ns = ms * NS_PER_MS;
	return 0;
}

/* suppress-window SECONDS */
static int parse_suppress_window(struct parser *ps, struct da_policy *pol, char **tok, int ntok)
{
	uint64_t s;

	if (want_args(ps, ntok, 2, 2, "suppress-window SECONDS"))
		return -1;
	if (parse_u64(tok[1], &s) || s > MAX_SUPPRESS_WINDOW_S)
		return fail(ps,
			    "suppress-window needs a whole number of seconds from 0 to %llu, got '%s'",
			    MAX_SUPPRESS_WINDOW_S, tok[1]);
	pol->suppress_window_set = true;
	pol->suppress_window_ns = s * NS_PER_S;
	return 0;
}

static const char *const allow_fields[] = {
	[DA_ALLOW_EXPORTER] = "exporter", [DA_ALLOW_IMPORTER] = "importer",
	[DA_ALLOW_CALLBACK] = "callback", [DA_ALLOW_DEVICE] = "device",
	[DA_ALLOW_COMM] = "comm", [DA_ALLOW_UNIT] = "unit",
	[DA_ALLOW_CGROUP] = "cgroup", [DA_ALLOW_CONTAINER] = "container",
	[DA_ALLOW_POD] = "pod",
};

#define FIELDS "exporter|importer|callback|device|comm|unit|cgroup|container|pod"

const char *da_allow_field_name(enum da_allow_field field)
{
	return (unsigned int)field < sizeof(allow_fields) / sizeof(allow_fields[0]) ?
		       allow_fields[field] : "?";
}

/* RULE|* FIELD VALUE of allow and severity into *m */
static int parse_match(struct parser *ps, char **tok, struct da_allow *m)
{
	int rule, field = -1;

	if (rule_index(ps, tok[1], true, &rule))
		return -1;
	for (unsigned int i = 0; i < sizeof(allow_fields) / sizeof(allow_fields[0]); i++)
		if (!strcmp(tok[2], allow_fields[i]))
			field = (int)i;
	if (field < 0)
		return fail(ps, "unknown %s field '%s' (expected exporter, importer, callback,"
			    " device, comm, unit, cgroup, container or pod)", tok[0], tok[2]);
	if (strlen(tok[3]) >= DA_POLICY_VALUE_LEN)
		return fail(ps, "value '%.20s...' is too long (at most %d characters)", tok[3],
			    DA_POLICY_VALUE_LEN - 1);
	m->rule = rule;
	m->field = (enum da_allow_field)field;
	strcpy(m->value, tok[3]);
	return 0;
}

/* allow RULE|* FIELD VALUE */
static int parse_allow(struct parser *ps, struct da_policy *pol, char **tok, int ntok)
{
	static const char usage[] = "allow RULE|* " FIELDS " VALUE";
	struct da_allow m = { 0 };

	if (want_args(ps, ntok, 4, 4, usage) || parse_match(ps, tok, &m))
		return -1;
	if (pol->n_allow >= DA_POLICY_MAX_ALLOW)
		return fail(ps, "too many allow entries (at most %d)", DA_POLICY_MAX_ALLOW);
	pol->allow[pol->n_allow++] = m;
	return 0;
}

/* severity RULE|* FIELD VALUE SEV */
static int parse_severity(struct parser *ps, struct da_policy *pol, char **tok, int ntok)
{
	static const char usage[] =
		"severity RULE|* " FIELDS " VALUE info|warning|high|critical";
	struct da_allow m = { 0 };

	if (want_args(ps, ntok, 5, 5, usage) || parse_match(ps, tok, &m))
		return -1;
	if (da_severity_parse(tok[4], &m.severity))
		return fail(ps, "unknown severity '%s' (expected info, warning, high or critical)",
			    tok[4]);
	if (pol->n_severity >= DA_POLICY_MAX_ALLOW)
		return fail(ps, "too many severity entries (at most %d)", DA_POLICY_MAX_ALLOW);
	pol->severity[pol->n_severity++] = m;
	return 0;
}

/* clear stub-callbacks|pinning-importers|revoking-exporters|revoke-scopes|allow|severities */
static int parse_clear(struct parser *ps, struct da_policy *pol, char **tok, int ntok)
{
	static const char usage[] =
		"clear stub-callbacks|pinning-importers|revoking-exporters|revoke-scopes|allow"
		"|severities";

	if (want_args(ps, ntok, 2, 2, usage))
		return -1;
	if (!strcmp(tok[1], "stub-callbacks"))
		pol->stub_callbacks.n = 0;
	else if (!strcmp(tok[1], "pinning-importers"))
		pol->pinning_importers.n = 0;
	else if (!strcmp(tok[1], "revoking-exporters"))
		pol->revoking_exporters.n = 0;
	else if (!strcmp(tok[1], "revoke-scopes"))
		pol->n_scopes = 0;
	else if (!strcmp(tok[1], "allow"))
		pol->n_allow = 0;
	else if (!strcmp(tok[1], "severities"))
		pol->n_severity = 0;
	else
		return fail(ps, "cannot clear '%s'; usage: %s", tok[1], usage);
	return 0;
}

static int parse_line(struct parser *ps, struct da_policy *pol, char *line)
{
	char *tok[MAX_TOKENS + 1];
	int ntok = 0;
	char *hash = strchr(line, '#'), *save = NULL, *t;

	if (hash)
		*hash = '\0';
	for (t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (ntok == MAX_TOKENS)
			return fail(ps, "too many words on one line");
		tok[ntok++] = t;
	}
	if (!ntok)
		return 0;

	if (!strcmp(tok[0], "rule"))
		return parse_rule(ps, pol, tok, ntok);
	if (!strcmp(tok[0], "stub-callback"))
		return want_args(ps, ntok, 2, 2, "stub-callback NAME") ?:
			       add_name(ps, &pol->stub_callbacks, tok[0], tok[1]);
	if (!strcmp(tok[0], "pinning-importer"))
		return want_args(ps, ntok, 2, 2, "pinning-importer NAME") ?:
			       add_name(ps, &pol->pinning_importers, tok[0], tok[1]);
	if (!strcmp(tok[0], "revoking-exporter"))
		return want_args(ps, ntok, 2, 2, "revoking-exporter NAME") ?:
			       add_name(ps, &pol->revoking_exporters, tok[0], tok[1]);
	if (!strcmp(tok[0], "revoke-scope"))
		return parse_scope(ps, pol, tok, ntok);
	if (!strcmp(tok[0], "stall-threshold-ms"))
		return parse_stall(ps, pol, tok, ntok);
	if (!strcmp(tok[0], "allow"))
		return parse_allow(ps, pol, tok, ntok);
	if (!strcmp(tok[0], "severity"))
		return parse_severity(ps, pol, tok, ntok);
	if (!strcmp(tok[0], "suppress-window"))
		return parse_suppress_window(ps, pol, tok, ntok);
	if (!strcmp(tok[0], "clear"))
		return parse_clear(ps, pol, tok, ntok);
	return fail(
		ps,
		"unknown directive '%s' (expected rule, stub-callback, pinning-importer, revoking-exporter, revoke-scope, stall-threshold-ms, allow, severity, suppress-window or clear)",
		tok[0]);
}

/*
 * A policy line is a directive of a few words: 4 KiB is far more than any
 * needs, and a bound means a file of NUL bytes or one endless line (e.g.
 * --policy /dev/zero) is refused at once instead of filling memory.
 */
#define POLICY_MAX_LINE 4096

/*
 * The next line into buf (NUL-terminated, without its '\n'): 1, 0 at the
 * end of the file, -1 with the error in ps (a read error, a NUL byte, a
 * line longer than POLICY_MAX_LINE).  A comment may be longer: what
 * follows a '#' is not kept (the limit is on the directive before it).
 */
static int read_policy_line(struct parser *ps, FILE *f, char *buf)
{
	size_t n = 0;
	bool comment = false;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return fail(ps, "NUL byte in line (not a text file?)");
		comment = comment || c == '#';
		if (n == POLICY_MAX_LINE && comment)
			continue;
		if (n == POLICY_MAX_LINE)
			return fail(ps, "line longer than %d bytes", POLICY_MAX_LINE);
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (c == EOF && ferror(f))
		return fail(ps, "read error: %s", strerror(errno));
	return c != EOF || n;
}

#define UTF8_BOM "\xef\xbb\xbf"

/*
 * The file, opened without blocking (a FIFO without a writer would block
 * open() for ever) and refused unless it can be read again: a policy is
 * re-read on SIGHUP, which a FIFO or a socket cannot give.  Character
 * devices are read (their bytes are judged like a file's).
 */
static FILE *open_policy(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *f;
	int fd, fl;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open policy file: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: cannot open policy file: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a policy file: %s (a policy is read again on SIGHUP:"
			 " give a regular file)", path,
			 S_ISFIFO(st.st_mode) ? "a FIFO or pipe" :
			 S_ISSOCK(st.st_mode) ? "a socket" : "a directory");
		close(fd);
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) || !(f = fdopen(fd, "re"))) {
		snprintf(err, errlen, "%s: cannot open policy file: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

int da_policy_load(struct da_policy *pol, const char *path, char *err, size_t errlen)
{
	struct parser ps = { .path = path, .err = err, .errlen = errlen };
	char line[POLICY_MAX_LINE + 1];
	struct da_policy *work;
	int ret = 0, got;
	FILE *f;

	f = open_policy(path, err, errlen);
	if (!f)
		return -1;
	work = malloc(sizeof(*work));
	if (!work) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	*work = *pol;
	for (ps.line = 1; (got = read_policy_line(&ps, f, line)) > 0; ps.line++) {
		/* an editor's UTF-8 byte order mark is not a directive */
		if (ps.line == 1 && !strncmp(line, UTF8_BOM, strlen(UTF8_BOM)))
			memmove(line, line + strlen(UTF8_BOM), strlen(line) - strlen(UTF8_BOM) + 1);
		if (parse_line(&ps, work, line)) {
			ret = -1;
			break;
		}
	}
	if (got < 0)
		ret = -1;
	fclose(f);
	if (!ret)
		*pol = *work;
	free(work);
	return ret;
}

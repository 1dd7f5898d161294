// SPDX-License-Identifier: GPL-2.0
/*
 * What every sink shares: the JSON encoding of events (walking the field
 * table of event_schema.c), findings, headers and summaries, and the text
 * rendering of an event's fields.  The finding store of the sinks that
 * report at the end is finding_store.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/rules.h"
#include "sink.h"

static const char *const notice_names[] = {
	[DA_NOTICE_PARTIAL] = "partial",
	[DA_NOTICE_LOST] = "lost",
	[DA_NOTICE_EVICTED] = "evicted",
	[DA_NOTICE_HOOK] = "hook",
	[DA_NOTICE_INPUT] = "input",
};

const char *da_notice_kind_name(enum da_notice_kind kind)
{
	if ((unsigned int)kind < sizeof(notice_names) / sizeof(notice_names[0]))
		return notice_names[kind];
	return "notice";
}

/* ---------------------------------------------------------------- wall clock */

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void da_trace_info_this_host(struct da_trace_info *info)
{
	struct utsname uts;
	int64_t mono0, real, mono1;
	char id[40] = "";
	ssize_t n;
	int fd;

	if (!uname(&uts))
		snprintf(info->host, sizeof(info->host), "%s", uts.nodename);
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, id, sizeof(id) - 1);
		close(fd);
		if (n >= 36) {
			id[36] = '\0';
			snprintf(info->boot_id, sizeof(info->boot_id), "%s", id);
		}
	}
	/* the realtime read between two monotonic ones: the offset is right to their gap */
	mono0 = clock_ns(CLOCK_MONOTONIC);
	real = clock_ns(CLOCK_REALTIME);
	mono1 = clock_ns(CLOCK_MONOTONIC);
	info->realtime_offset_ns = real - (mono0 + (mono1 - mono0) / 2);
	info->has_realtime = true;
}

bool da_trace_wallclock(const struct da_trace_info *info, uint64_t ts_ns, char *buf, size_t len)
{
	int64_t ns;
	time_t sec;
	struct tm tm;
	size_t n;

	if (!info || !info->has_realtime || ts_ns > INT64_MAX - 1 ||
	    (int64_t)ts_ns > INT64_MAX - info->realtime_offset_ns)
		return false;
	ns = (int64_t)ts_ns + info->realtime_offset_ns;
	if (ns < 0)
		return false;
	sec = (time_t)(ns / 1000000000);
	if (!gmtime_r(&sec, &tm))
		return false;
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n)
		return false;
	return snprintf(buf + n, len - n, ".%09" PRId64 "Z", ns % 1000000000) < (int)(len - n);
}

static void set_wallclock(json_t *o, const struct da_trace_info *trace, uint64_t ts_ns)
{
	char buf[48];

	if (da_trace_wallclock(trace, ts_ns, buf, sizeof(buf)))
		json_object_set_new(o, "time", json_string(buf));
}

/* ---------------------------------------------------------------- JSON */

json_t *da_json_ptr(uint64_t v)
{
	char buf[24];

	if (!v)
		return json_null();
	return json_string(da_addr_fmt(buf, sizeof(buf), v));
}

/*
 * jansson's integers are signed 64-bit: a u64 at or above 2^63 would come
 * out negative.  Such a value is written as a string of its decimal digits
 * (docs/output.md): exact, never negative, and the line stays valid JSON
 * that every reader can parse (an integer literal past 2^63-1 is refused by
 * jansson's and many other parsers).  No live run gets there: seqs, times
 * and counters start at 0 and grow by one per event or nanosecond.
 */
json_t *da_json_u64(uint64_t v)
{
	char buf[24];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

json_t *da_json_sym(struct da_symbols *syms, uint64_t addr)
{
	const char *name;

	if (!addr)
		return json_null();
	name = da_symbols_lookup(syms, addr);
	return name ? da_json_str(name, SIZE_MAX) : da_json_ptr(addr);
}

/*
 * The length of the valid UTF-8 sequence at s (n bytes left), or 0: no
 * overlong forms, no surrogates, nothing past U+10FFFF (RFC 3629).
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* C0, DEL, and C1 (U+0080-U+009F, which terminals read as escape sequences too) */
static bool is_control(const unsigned char *s, size_t len)
{
	return len == 1 ? s[0] < 0x20 || s[0] == 0x7f : len == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

/*
 * The cleaning rule for every string from a trace or the kernel
 * (docs/output.md "Strings from the trace"): each byte that is not part of
 * valid UTF-8 becomes '?', and with `controls` so does each control
 * character.  Stops at NUL, at srclen, or where the next character would
 * not fit; dst is always terminated.  The length written.
 */
static size_t clean_bytes(char *dst, size_t dstlen, const char *src, size_t srclen,
			  bool controls)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n = strnlen(src, srclen), len;

	if (!dstlen)
		return 0;
	while (i < n) {
		len = utf8_seq_len(s + i, n - i);
		if (len && !(controls && is_control(s + i, len))) {
			if (o + len >= dstlen)
				break;
			memcpy(dst + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		if (o + 1 >= dstlen)
			break;
		dst[o++] = '?';
		i += len ? len : 1;
	}
	dst[o] = '\0';
	return o;
}

void da_clean_str(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	clean_bytes(dst, dstlen, src, srclen, true);
}

const char *da_clean_arg(char *buf, size_t len, const char *s)
{
	clean_bytes(buf, len, s ? s : "", SIZE_MAX, true);
	return buf;
}

/*
 * Kernel strings (comm, exp_name, dev_name, symbol names, and messages that
 * quote them) are bytes, not necessarily UTF-8: json_stringn refuses invalid
 * UTF-8, so the bytes that are not UTF-8 become '?' (the cleaning rule; the
 * control characters stay, jansson escapes them) rather than losing the
 * field.  Empty gives null (unknown).
 */
json_t *da_json_str(const char *s, size_t max)
{
	size_t n;
	char *tmp;
	json_t *j;

	if (!s)
		return json_null();
	n = strnlen(s, max);
	if (!n)
		return json_null();
	j = json_stringn(s, n);
	if (j)
		return j;
	tmp = malloc(n + 1);
	if (!tmp)
		return json_null();
	n = clean_bytes(tmp, n + 1, s, n, false);
	j = json_stringn(tmp, n);
	free(tmp);
	return j ? j : json_null();
}

/* the same for a string that is never empty in the schema (a message) */
json_t *da_json_text(const char *s)
{
	json_t *j = da_json_str(s, SIZE_MAX);

	if (json_is_null(j)) {
		json_decref(j);
		return json_string("");
	}
	return j;
}

static json_t *resv_held_json(unsigned int v)
{
	if (v == DA_RESV_HELD)
		return json_true();
	if (v == DA_RESV_NOT_HELD)
		return json_false();
	return json_null();
}

static json_t *scope_json(const struct da_trace_info *trace, unsigned int slot)
{
	const char *name = da_event_scope_name(trace, slot);

	if (name)
		return da_json_str(name, DA_FUNC_LEN);
	/* a slot the trace info does not name (should not happen): keep it distinct */
	return json_sprintf("scope#%u", slot);
}

static json_t *field_json(const struct da_event *ev, enum da_evfield f, struct da_symbols *syms,
			  const struct da_trace_info *trace)
{
	unsigned int flag = da_evfield_flag(f);
	uint64_t value;

	if (da_evfield_ptr(ev, f, &value))
		return da_json_ptr(value);
	if (da_evfield_u64(ev, f, &value))
		return da_json_u64(value);
	if (flag)
		return json_boolean(ev->flags & flag);
	switch (f) {
	case DA_EVF_EXPORTER:
	case DA_EVF_DEV:
		return da_json_str(ev->name, sizeof(ev->name));
	case DA_EVF_IMPORTER_OPS:
		return da_json_sym(syms, ev->importer_ops);
	case DA_EVF_INVALIDATE_CB:
		return da_json_sym(syms, ev->invalidate_cb);
	case DA_EVF_RESV_HELD:
		return resv_held_json(ev->resv_held);
	case DA_EVF_USAGE:
		return json_string(da_usage_name(ev->usage));
	case DA_EVF_FN:
		return json_string(da_invalidate_fn_name(ev->fn));
	case DA_EVF_SCOPE:
		return scope_json(trace, ev->fn);
	case DA_EVF_RET:
		return json_integer((json_int_t)ev->ret);
	default:
		return json_null();
	}
}

json_t *da_event_to_json(const struct da_event *ev, struct da_symbols *syms,
			 const struct da_trace_info *trace, bool with_type)
{
	json_t *o = json_object();
	const struct da_op_spec *spec;

	if (!o)
		return NULL;
	if (with_type)
		json_object_set_new(o, "type", json_string("event"));
	json_object_set_new(o, "seq", da_json_u64(ev->seq));
	json_object_set_new(o, "ts_ns", da_json_u64(ev->ts_ns));
	if (with_type) /* an event line; not each history entry of a finding */
		set_wallclock(o, trace, ev->ts_ns);
	json_object_set_new(o, "cpu", json_integer(ev->cpu));
	json_object_set_new(o, "pid", json_integer(ev->pid));
	json_object_set_new(o, "tid", json_integer(ev->tid));
	json_object_set_new(o, "comm", da_json_str(ev->comm, sizeof(ev->comm)));
	/* an extension: absent = 0, no cgroup (seed records, traces before it) */
	if (ev->cgroup_id)
		json_object_set_new(o, "cgroup_id", da_json_u64(ev->cgroup_id));
	json_object_set_new(o, "op", json_string(da_op_name(ev->op)));
	if (ev->op >= DA_OP__COUNT)
		return o;
	spec = &da_op_specs[ev->op];
	for (unsigned int i = 0; i < spec->n; i++) {
		if (!da_evfield_present(ev, &spec->f[i]))
			continue;
		json_object_set_new(o, da_evfield_names[spec->f[i].field],
				    field_json(ev, spec->f[i].field, syms, trace));
	}
	return o;
}

static json_t *finding_attachment_json(const struct da_finding_attachment *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "ptr", da_json_ptr(a->ptr));
	json_object_set_new(o, "dev", da_json_str(a->dev, SIZE_MAX));
	/* only when true: a report without seeding reads as before */
	if (a->seeded)
		json_object_set_new(o, "seeded", json_true());
	if (!a->known) {
		/* attach event not seen: the importer is unknown, not static */
		json_object_set_new(o, "importer_ops", json_null());
		json_object_set_new(o, "invalidate_cb", json_null());
		return o;
	}
	json_object_set_new(o, "importer_ops",
			    a->importer_ops_sym ? da_json_str(a->importer_ops_sym, SIZE_MAX)
						: da_json_ptr(a->importer_ops));
	json_object_set_new(o, "invalidate_cb",
			    a->invalidate_cb_sym ? da_json_str(a->invalidate_cb_sym, SIZE_MAX)
						 : da_json_ptr(a->invalidate_cb));
	return o;
}

/* the workload of a finding: null without a cgroup id */
json_t *da_cgroup_to_json(const struct da_cgroup_identity *cg)
{
	json_t *o;

	if (!cg->id)
		return json_null();
	o = json_object();
	json_object_set_new(o, "id", da_json_u64(cg->id));
	json_object_set_new(o, "path", da_json_str(cg->path, SIZE_MAX));
	json_object_set_new(o, "unit", da_json_str(cg->unit, SIZE_MAX));
	json_object_set_new(o, "container", da_json_str(cg->container, SIZE_MAX));
	json_object_set_new(o, "pod", da_json_str(cg->pod, SIZE_MAX));
	return o;
}

json_t *da_finding_to_json(const struct da_finding *f, struct da_symbols *syms,
			   const struct da_trace_info *trace, bool stacks)
{
	json_t *o = json_object(), *b, *hist;

	if (!o)
		return NULL;
	json_object_set_new(o, "type", json_string("finding"));
	json_object_set_new(o, "rule", json_string((unsigned int)f->rule < DA_RULE__COUNT ?
							   da_rules[f->rule].name : "?"));
	json_object_set_new(o, "severity", json_string(da_severity_name(f->severity)));
	json_object_set_new(o, "seq", da_json_u64(f->seq));
	json_object_set_new(o, "ts_ns", da_json_u64(f->ts_ns));
	set_wallclock(o, trace, f->ts_ns);
	json_object_set_new(o, "pid", f->pid || f->tid ? json_integer(f->pid) : json_null());
	json_object_set_new(o, "tid", f->pid || f->tid ? json_integer(f->tid) : json_null());
	json_object_set_new(o, "comm", f->comm ? da_json_str(f->comm, DA_COMM_LEN) : json_null());
	json_object_set_new(o, "cgroup", da_cgroup_to_json(&f->cgroup));

	b = json_object();
	json_object_set_new(b, "ptr", da_json_ptr(f->buffer.ptr));
	json_object_set_new(b, "ino", f->buffer.ino ? da_json_u64(f->buffer.ino)
						    : json_null());
	json_object_set_new(b, "exporter", f->buffer.exporter && *f->buffer.exporter ?
						   da_json_str(f->buffer.exporter, SIZE_MAX) : json_null());
	json_object_set_new(b, "size", f->buffer.size ? da_json_u64(f->buffer.size)
						      : json_null());
	if (f->buffer.seeded)
		json_object_set_new(b, "seeded", json_true());
	json_object_set_new(o, "buffer", b);
	json_object_set_new(o, "attachment", f->has_attachment ?
						     finding_attachment_json(&f->attachment) :
						     json_null());
	json_object_set_new(o, "message", da_json_text(f->message));
	hist = json_array();
	for (unsigned int i = 0; i < f->n_history; i++)
		json_array_append_new(hist, da_event_to_json(f->history[i], syms, trace, false));
	json_object_set_new(o, "history", hist);
	json_object_set_new(o, "history_truncated", json_boolean(f->history_truncated));
	if (f->repeats)
		json_object_set_new(o, "repeats", da_json_u64(f->repeats));
	if (stacks) {
		json_t *st = json_array();

		for (unsigned int i = 0; i < f->n_stack; i++)
			json_array_append_new(st, da_json_text(f->stack[i]));
		json_object_set_new(o, "stack", st);
	}
	return o;
}

json_t *da_summary_to_json(const struct da_summary *sum)
{
	json_t *o = json_object(), *fs = json_object(), *br = json_object(), *pr = json_object();

	json_object_set_new(o, "type", json_string("summary"));
	json_object_set_new(o, "events", da_json_u64(sum->events));
	json_object_set_new(o, "lost", da_json_u64(sum->lost));
	json_object_set_new(o, "buffers", da_json_u64(sum->buffers));
	json_object_set_new(o, "attachments", da_json_u64(sum->attachments));
	json_object_set_new(o, "partial", da_json_u64(sum->partial));
	for (int s = DA_SEV__COUNT - 1; s >= 0; s--)
		json_object_set_new(fs, da_severity_name(s),
				    da_json_u64(sum->findings[s]));
	json_object_set_new(o, "findings", fs);
	for (int r = 0; r < DA_RULE__COUNT; r++)
		json_object_set_new(br, da_rules[r].name,
				    da_json_u64(sum->by_rule[r]));
	json_object_set_new(o, "by_rule", br);
	json_object_set_new(pr, "late", da_json_u64(sum->partial_late));
	json_object_set_new(pr, "lost", da_json_u64(sum->partial_lost));
	json_object_set_new(pr, "evicted", da_json_u64(sum->partial_evicted));
	json_object_set_new(pr, "seeded", da_json_u64(sum->partial_seeded));
	json_object_set_new(o, "partial_reasons", pr);
	json_object_set_new(o, "evicted", da_json_u64(sum->evicted));
	json_object_set_new(o, "suppressed", da_json_u64(sum->suppressed));
	if (sum->repeats_held) /* an extension: absent = 0, as in reports before it */
		json_object_set_new(o, "repeats_held", da_json_u64(sum->repeats_held));
	return o;
}

json_t *da_header_to_json(const struct da_trace_info *trace)
{
	json_t *o = json_object(), *hooks = json_array(), *quirks = json_array(),
	       *scopes = json_array();

	json_object_set_new(o, "type", json_string("header"));
	json_object_set_new(o, "schema", json_integer(DA_JSON_SCHEMA));
	json_object_set_new(o, "tool", json_string(DA_TOOL_NAME));
	json_object_set_new(o, "version", json_string(DA_VERSION));
	json_object_set_new(o, "kernel", da_json_str(trace->kernel, sizeof(trace->kernel)));
	json_object_set_new(o, "source", trace->source[0] ? da_json_text(trace->source) :
							  json_string("live"));
	/* the recording host's, also in a replay (absent: a trace from before they were kept) */
	if (trace->host[0])
		json_object_set_new(o, "host", da_json_text(trace->host));
	if (trace->boot_id[0])
		json_object_set_new(o, "boot_id", da_json_text(trace->boot_id));
	if (trace->has_realtime)
		json_object_set_new(o, "realtime_offset_ns",
				    json_integer((json_int_t)trace->realtime_offset_ns));
	for (unsigned int i = 0; i < trace->n_hooks && i < DA_MAX_HOOKS; i++) {
		const struct da_hook_status *h = &trace->hooks[i];
		json_t *ho = json_object();

		json_object_set_new(ho, "function", da_json_str(h->function, sizeof(h->function)));
		json_object_set_new(ho, "mode", da_json_str(h->mode, sizeof(h->mode)));
		json_object_set_new(ho, "attached", json_boolean(h->attached));
		if (h->reason[0])
			json_object_set_new(ho, "reason",
					    da_json_str(h->reason, sizeof(h->reason)));
		json_array_append_new(hooks, ho);
	}
	json_object_set_new(o, "hooks", hooks);
	if (trace->quirks & DA_QUIRK_LEGACY_LOCKING)
		json_array_append_new(quirks, json_string("legacy-locking"));
	if (trace->quirks & DA_QUIRK_NO_RESV_OWNER)
		json_array_append_new(quirks, json_string("no-resv-owner"));
	json_object_set_new(o, "quirks", quirks);
	for (unsigned int i = 0; i < trace->n_scopes && i < DA_MAX_SCOPES; i++)
		json_array_append_new(scopes, da_json_text(trace->scope_names[i]));
	json_object_set_new(o, "scopes", scopes);
	return o;
}

int da_json_write_line(FILE *out, json_t *obj)
{
	int ret;

	if (!obj)
		return -1;
	/* JSON_ENSURE_ASCII: a line survives any terminal or log pipeline */
	ret = json_dumpf(obj, out, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(obj);
	if (ret || putc('\n', out) == EOF)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- text */

void da_fmt_ts(char *buf, size_t len, uint64_t ts_ns)
{
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, ts_ns / UINT64_C(1000000000),
		 (ts_ns % UINT64_C(1000000000)) / 1000);
}

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n < len - *pos ? (size_t)n : len - *pos - 1;
}

/* a pointer or symbol field: "key=name", "key=0x…" or "key=NULL" */
static void append_addr(char *buf, size_t len, size_t *pos, const char *key,
			struct da_symbols *syms, uint64_t addr)
{
	const char *name = syms ? da_symbols_lookup(syms, addr) : NULL;
	char clean[DA_CLEAN_MAX];

	if (!addr)
		append(buf, len, pos, " %s=NULL", key);
	else if (name)
		append(buf, len, pos, " %s=%s", key, da_clean_arg(clean, sizeof(clean), name));
	else
		append(buf, len, pos, " %s=%s", key, da_addr_str(0, addr));
}

/*
 * How the text line shows a boolean field: its word when the flag is set
 * and when it is clear (NULL: nothing is shown).
 */
static const char *const flag_words[DA_EVF__COUNT][2] = {
	[DA_EVF_DYNAMIC] = { "static", "dynamic" },
	[DA_EVF_PEER2PEER] = { NULL, "peer2peer" },
	[DA_EVF_LOCKED] = { "unlocked", "locked" },
	[DA_EVF_INTR] = { NULL, "intr" },
	[DA_EVF_REVOKED] = { "revoked=false", "revoked=true" },
	[DA_EVF_PHYS] = { NULL, "phys" },
};

static const char *const resv_held_words[] = {
	[DA_RESV_HELD] = "resv_held",
	[DA_RESV_NOT_HELD] = "resv_NOT_held",
};

static void append_field(char *buf, size_t len, size_t *pos, const struct da_event *ev,
			 enum da_evfield f, struct da_symbols *syms,
			 const struct da_trace_info *trace)
{
	const char *key = da_evfield_names[f], *word, *scope;
	unsigned int flag = da_evfield_flag(f);
	char name[DA_NAME_LEN + 1], clean[DA_CLEAN_MAX];
	uint64_t value;

	if (da_evfield_ptr(ev, f, &value)) {
		append_addr(buf, len, pos, key, NULL, value);
		return;
	}
	if (da_evfield_u64(ev, f, &value)) {
		append(buf, len, pos, " %s=%" PRIu64, key, value);
		return;
	}
	if (flag) {
		word = flag_words[f][!!(ev->flags & flag)];
		if (word)
			append(buf, len, pos, " %s", word);
		return;
	}
	switch (f) {
	case DA_EVF_EXPORTER:
	case DA_EVF_DEV:
		da_clean_str(name, sizeof(name), ev->name, sizeof(ev->name));
		append(buf, len, pos, " %s=%s", key, name[0] ? name : "?");
		break;
	case DA_EVF_IMPORTER_OPS:
	case DA_EVF_INVALIDATE_CB:
		append_addr(buf, len, pos, key, syms,
			    f == DA_EVF_IMPORTER_OPS ? ev->importer_ops : ev->invalidate_cb);
		break;
	case DA_EVF_RESV_HELD:
		word = ev->resv_held < sizeof(resv_held_words) / sizeof(resv_held_words[0]) ?
			       resv_held_words[ev->resv_held] : NULL;
		if (word)
			append(buf, len, pos, " %s", word);
		break;
	case DA_EVF_USAGE:
		append(buf, len, pos, " usage=%s", da_usage_name(ev->usage));
		break;
	case DA_EVF_FN:
		append(buf, len, pos, " fn=%s", da_invalidate_fn_name(ev->fn));
		break;
	case DA_EVF_SCOPE:
		scope = da_event_scope_name(trace, ev->fn);
		if (scope)
			append(buf, len, pos, " scope=%s",
			       da_clean_arg(clean, sizeof(clean), scope));
		else
			append(buf, len, pos, " scope=scope#%u", ev->fn);
		break;
	case DA_EVF_RET:
		append(buf, len, pos, " ret=%" PRId64, (int64_t)ev->ret);
		break;
	default:
		break;
	}
}

void da_event_details(char *buf, size_t len, const struct da_event *ev, struct da_symbols *syms,
		      const struct da_trace_info *trace)
{
	const struct da_op_spec *spec;
	size_t pos = 0;

	buf[0] = '\0';
	if (ev->op >= DA_OP__COUNT)
		return;
	spec = &da_op_specs[ev->op];
	for (unsigned int i = 0; i < spec->n; i++)
		if (da_evfield_present(ev, &spec->f[i]))
			append_field(buf, len, &pos, ev, spec->f[i].field, syms, trace);
	/* drop the leading space */
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
}


/* ---------------------------------------------------------------- sinks */

struct da_sink *da_sink_alloc(size_t size, const struct da_sink_ops *ops)
{
	struct da_sink *s = calloc(1, size);

	if (s)
		s->ops = ops;
	return s;
}

unsigned int da_hooks_attached(const struct da_trace_info *trace)
{
	unsigned int attached = 0;

	for (unsigned int i = 0; i < trace->n_hooks; i++)
		attached += trace->hooks[i].attached;
	return attached;
}

static void say_write_error(const struct da_sink *s, int err)
{
	fprintf(stderr, DA_TOOL_NAME ": cannot write the %s to %s: %s\n", s->what, s->out_name,
		strerror(err));
}

int da_sink_end(struct da_sink *s, const struct da_summary *sum)
{
	int ret = s->ops->end(s, sum), bad;
	bool failed = false;

	if (!s->what)
		return ret ? -1 : 0;
	if (ret && s->error) {
		say_write_error(s, s->error);
		failed = true;
	}
	if (s->out_owned) {
		bad = ferror(s->out);
		if (fclose(s->out) || bad) {
			if (!failed)
				say_write_error(s, errno ? errno : EIO);
			failed = true;
		}
		s->out = NULL;
	} else if (fflush(s->out) || ferror(s->out)) {
		if (!failed)
			say_write_error(s, errno ? errno : EIO);
		failed = true;
	}
	return failed ? -1 : 0;
}

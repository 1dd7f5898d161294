// SPDX-License-Identifier: GPL-2.0
/*
 * JSON Lines input: the event and header lines `--events --format json`
 * prints, or hand-written traces that give only what matters (op, the op's
 * identifying pointers, ret).  The per-op field table (sink_common.c) says
 * which fields an op has and which are required, the same table the encoder
 * uses.  Parsing is jansson's (see sink.h for why).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/addr.h"
#include "dmabuf_audit/cli.h"
#include "dmabuf_audit/record.h"
#include "errorf.h"
#include "event_schema.h"

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
	default:
		return "null";
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Exactly "0x" followed by 1-16 hex digits: strtoull would also take a sign,
 * white space or a second "0x" ("0x-1", "0x 2", "0x0x5").
 */
static int parse_hex_ptr(const char *s, __u64 *out)
{
	uint64_t v = 0;
	size_t n = 0;
	int d;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	for (s += 2; *s; s++, n++) {
		d = hex_digit(*s);
		if (d < 0 || n == 16)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (!n)
		return -1;
	*out = v;
	return 0;
}

/* "0x…" (or a non-negative integer); null = 0 */
static int get_ptr(json_t *v, const char *key, __u64 *out, char *err, size_t errlen)
{
	const char *s;

	if (json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return da_errorf(err, errlen,
					 "'%s' must be a pointer, not the negative integer %lld",
					 key, (long long)json_integer_value(v));
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return da_errorf(err, errlen,
				 "'%s' must be a pointer string like \"0xffff8881…\", not %s", key,
				 json_kind(v));
	s = json_string_value(v);
	/*
	 * a hashed pointer (--addresses hashed) stands for its pointer: a
	 * hashed JSON Lines report judges the same as the raw one
	 */
	if (!strncmp(s, DA_ADDR_HASH_PREFIX, 2) && strlen(s) == 18) {
		char hex[19] = "0x";

		memcpy(hex + 2, s + 2, 17);
		if (!parse_hex_ptr(hex, out) && *out)
			return 0;
	}
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return da_errorf(err, errlen,
				 "'%s' must be a pointer string like \"0xffff8881…\", not \"%s\"",
				 key, s);
	if (parse_hex_ptr(s, out))
		return da_errorf(err, errlen,
				 "'%s': \"%s\" is not a pointer (\"0x\" and 1 to 16 hex digits)",
				 key, s);
	return 0;
}

/* importer_ops / invalidate_cb: a pointer, or a symbol name (interned) */
static int get_sym(json_t *v, const char *key, struct da_symbols *syms, __u64 *out, char *err,
		   size_t errlen)
{
	const char *s;

	if (json_is_string(v)) {
		s = json_string_value(v);
		if (!(s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) &&
		    strncmp(s, DA_ADDR_HASH_PREFIX, 2)) {
			if (!*s)
				return da_errorf(err, errlen, "'%s' is an empty symbol name", key);
			*out = da_symbols_intern(syms, s);
			if (!*out)
				return da_errorf(err, errlen, "out of memory");
			return 0;
		}
	}
	return get_ptr(v, key, out, err, errlen);
}

static int get_int(json_t *v, const char *key, int64_t *out, char *err, size_t errlen)
{
	if (json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v))
		return da_errorf(err, errlen, "'%s' must be an integer, not %s", key, json_kind(v));
	*out = json_integer_value(v);
	return 0;
}

static int get_uint(json_t *v, const char *key, uint64_t max, __u64 *out, char *err,
		    size_t errlen)
{
	int64_t i = 0;

	if (get_int(v, key, &i, err, errlen))
		return -1;
	if (i < 0 || (uint64_t)i > max)
		return da_errorf(err, errlen, "'%s' out of range: %" PRId64, key, i);
	*out = (uint64_t)i;
	return 0;
}

static int get_bool(json_t *v, const char *key, bool *out, char *err, size_t errlen)
{
	if (json_is_null(v)) {
		*out = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return da_errorf(err, errlen, "'%s' must be true or false, not %s", key,
				 json_kind(v));
	*out = json_is_true(v);
	return 0;
}

static int get_name(json_t *v, const char *key, char *dst, size_t len, char *err, size_t errlen)
{
	memset(dst, 0, len);
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return da_errorf(err, errlen, "'%s' must be a string, not %s", key, json_kind(v));
	/* kernel strings are fixed arrays: longer names are cut as the kernel side would */
	strncpy(dst, json_string_value(v), len - 1);
	return 0;
}

/* an enum given by name (or by its number) */
static int get_enum(json_t *v, const char *key, int (*parse)(const char *), unsigned int max,
		    const char *expect, uint8_t *out, char *err, size_t errlen)
{
	int val;

	if (json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0 || (uint64_t)i > max)
			return da_errorf(err, errlen, "'%s' out of range: %lld (expected %s)", key,
					 (long long)i, expect);
		*out = (uint8_t)i;
		return 0;
	}
	if (!json_is_string(v))
		return da_errorf(err, errlen, "'%s' must be a string (%s), not %s", key, expect,
				 json_kind(v));
	val = parse(json_string_value(v));
	if (val < 0)
		return da_errorf(err, errlen, "'%s': unknown value \"%s\" (expected %s)", key,
				 json_string_value(v), expect);
	*out = (uint8_t)val;
	return 0;
}

/* fn of an invalidate: one of the names da_kfuncs gives the function, or its index */
static int decode_invalidate_fn(json_t *v, const char *key, uint8_t *out, char *err,
				size_t errlen)
{
	unsigned int n = da_kfunc_n_names(DA_KF_INVALIDATE), i;
	char expect[256];
	size_t pos = 0;

	for (i = 0; i < n && pos < sizeof(expect); i++)
		pos += snprintf(expect + pos, sizeof(expect) - pos, "%s%s", i ? " or " : "",
				da_kfunc_name(DA_KF_INVALIDATE, i));
	return get_enum(v, key, da_invalidate_fn_parse, n - 1, expect, out, err, errlen);
}

static bool known_key(const char *key)
{
	static const char *const common[] = { "type", "seq", "ts_ns", "cpu", "pid", "tid",
					      "comm", "op", "comment", "time", "cgroup_id" };

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (!strcmp(key, common[i]))
			return true;
	for (int f = 0; f < DA_EVF__COUNT; f++)
		if (!strcmp(key, da_evfield_names[f]))
			return true;
	return false;
}

static int decode_field(json_t *v, enum da_evfield f, struct da_event *ev,
			struct da_symbols *syms, struct da_trace_info *trace, char *err,
			size_t errlen)
{
	const char *key = da_evfield_names[f];
	int64_t i = 0;
	bool b = false;
	int slot;

	switch (f) {
	case DA_EVF_BUF:
		return get_ptr(v, key, &ev->buf, err, errlen);
	case DA_EVF_ATTACH:
		return get_ptr(v, key, &ev->attach, err, errlen);
	case DA_EVF_RESV:
		return get_ptr(v, key, &ev->resv, err, errlen);
	case DA_EVF_SGT:
		return get_ptr(v, key, &ev->sgt, err, errlen);
	case DA_EVF_OBJECT:
		return get_ptr(v, key, &ev->importer_ops, err, errlen);
	case DA_EVF_INO:
		return get_uint(v, key, INT64_MAX, &ev->ino, err, errlen);
	case DA_EVF_SIZE:
		return get_uint(v, key, INT64_MAX, &ev->size, err, errlen);
	case DA_EVF_EXPORTER:
	case DA_EVF_DEV:
		return get_name(v, key, ev->name, sizeof(ev->name), err, errlen);
	case DA_EVF_DYNAMIC:
	case DA_EVF_PEER2PEER:
	case DA_EVF_LOCKED:
	case DA_EVF_INTR:
	case DA_EVF_REVOKED:
	case DA_EVF_PHYS:
		if (get_bool(v, key, &b, err, errlen))
			return -1;
		if (f == DA_EVF_REVOKED) {
			/* present = the scope function takes a revoked argument */
			if (!json_is_null(v))
				ev->flags |= DA_F_HAS_REVOKED;
			if (b)
				ev->flags |= DA_F_REVOKED;
			return 0;
		}
		if (b)
			ev->flags |= da_evfield_flag(f);
		return 0;
	case DA_EVF_IMPORTER_OPS:
		return get_sym(v, key, syms, &ev->importer_ops, err, errlen);
	case DA_EVF_INVALIDATE_CB:
		return get_sym(v, key, syms, &ev->invalidate_cb, err, errlen);
	case DA_EVF_RESV_HELD:
		if (json_is_null(v)) {
			ev->resv_held = DA_RESV_UNKNOWN;
			return 0;
		}
		if (get_bool(v, key, &b, err, errlen))
			return da_errorf(err, errlen,
					 "'resv_held' must be true, false or null, not %s",
					 json_kind(v));
		ev->resv_held = b ? DA_RESV_HELD : DA_RESV_NOT_HELD;
		return 0;
	case DA_EVF_USAGE:
		return get_enum(v, key, da_usage_parse, DA_USAGE_BOOKKEEP,
				"kernel, write, read or bookkeep", &ev->usage, err, errlen);
	case DA_EVF_FN:
		return decode_invalidate_fn(v, key, &ev->fn, err, errlen);
	case DA_EVF_TIMEOUT:
		if (get_int(v, key, &i, err, errlen))
			return -1;
		ev->timeout = (uint64_t)i;
		return 0;
	case DA_EVF_RET:
		if (get_int(v, key, &i, err, errlen))
			return -1;
		ev->ret = i;
		return 0;
	case DA_EVF_SCOPE:
		if (!json_is_string(v) || !*json_string_value(v))
			return da_errorf(err, errlen,
					 "'scope' must be the scope function's name, not %s",
					 json_kind(v));
		slot = da_trace_scope_slot(trace, json_string_value(v));
		if (slot < 0)
			return da_errorf(
				err, errlen,
				"scope \"%s\": too many scope functions (at most %d) or name too long",
				json_string_value(v), DA_MAX_SCOPES);
		ev->fn = (uint8_t)slot;
		return 0;
	default:
		return 0;
	}
}

int da_event_from_json(json_t *obj, struct da_event *ev, uint64_t seq_default, uint64_t ts_default,
		       struct da_symbols *syms, struct da_trace_info *trace, char *err,
		       size_t errlen)
{
	const struct da_op_spec *spec;
	const char *key;
	json_t *v;
	int op;
	bool have_dynamic = false;

	memset(ev, 0, sizeof(*ev));
	json_object_foreach(obj, key, v) {
		if (!known_key(key))
			return da_errorf(err, errlen, "unknown field '%s'", key);
	}
	v = json_object_get(obj, "op");
	if (!v)
		return da_errorf(err, errlen, "missing 'op'");
	if (!json_is_string(v))
		return da_errorf(err, errlen, "'op' must be a string, not %s", json_kind(v));
	op = da_op_parse(json_string_value(v));
	if (op < 0)
		return da_errorf(err, errlen, "unknown op \"%s\"", json_string_value(v));
	ev->op = (uint8_t)op;

	v = json_object_get(obj, "seq");
	if (v && !json_is_null(v)) {
		if (get_uint(v, "seq", INT64_MAX, &ev->seq, err, errlen))
			return -1;
	} else {
		ev->seq = seq_default;
	}
	ev->ts_ns = ts_default;
	if ((v = json_object_get(obj, "ts_ns")) && get_uint(v, "ts_ns", INT64_MAX, &ev->ts_ns, err,
							    errlen))
		return -1;
	{
		static const char *const ids[] = { "cpu", "pid", "tid" };
		uint32_t *dst[] = { &ev->cpu, &ev->pid, &ev->tid };

		for (int i = 0; i < 3; i++) {
			__u64 u;

			v = json_object_get(obj, ids[i]);
			if (!v)
				continue;
			if (get_uint(v, ids[i], UINT32_MAX, &u, err, errlen))
				return -1;
			*dst[i] = (uint32_t)u;
		}
	}
	if ((v = json_object_get(obj, "comm")) &&
	    get_name(v, "comm", ev->comm, sizeof(ev->comm), err, errlen))
		return -1;
	if ((v = json_object_get(obj, "cgroup_id")) && !json_is_null(v) &&
	    get_uint(v, "cgroup_id", INT64_MAX, &ev->cgroup_id, err, errlen))
		return -1;

	spec = &da_op_specs[op];
	for (unsigned int i = 0; i < spec->n; i++) {
		enum da_evfield f = spec->f[i].field;

		v = json_object_get(obj, da_evfield_names[f]);
		if (!v) {
			if (spec->f[i].flags & DA_EVF_REQUIRED)
				return da_errorf(err, errlen, "op \"%s\" needs '%s'",
						 da_op_name(op), da_evfield_names[f]);
			continue;
		}
		if (f == DA_EVF_DYNAMIC)
			have_dynamic = true;
		if (decode_field(v, f, ev, syms, trace, err, errlen))
			return -1;
	}
	/* dynamic means importer_ops != NULL (event.h); hand-written input may leave it out */
	if ((op == DA_OP_ATTACH || op == DA_OP_SEED_ATTACHMENT) && !have_dynamic && ev->importer_ops)
		ev->flags |= DA_F_DYNAMIC;
	/* the same domain a binary record's events are held to */
	return da_event_check(ev, trace->n_scopes, err, errlen);
}

/* host, boot_id, realtime_offset_ns: optional (headers before them have none) */
static int header_host(json_t *obj, struct da_trace_info *trace, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, "host");

	if (v && get_name(v, "host", trace->host, sizeof(trace->host), err, errlen))
		return -1;
	v = json_object_get(obj, "boot_id");
	if (v && get_name(v, "boot_id", trace->boot_id, sizeof(trace->boot_id), err, errlen))
		return -1;
	v = json_object_get(obj, "realtime_offset_ns");
	trace->has_realtime = v && !json_is_null(v);
	if (trace->has_realtime && !json_is_integer(v))
		return da_errorf(err, errlen, "header: 'realtime_offset_ns' must be an integer"
				 " (nanoseconds), not %s", json_kind(v));
	if (trace->has_realtime)
		trace->realtime_offset_ns = json_integer_value(v);
	return 0;
}

int da_header_from_json(json_t *obj, struct da_trace_info *trace, char *err, size_t errlen)
{
	json_t *v, *item;
	size_t i;

	v = json_object_get(obj, "schema");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1))
		return da_errorf(err, errlen, "header: 'schema' must be a positive integer");
	if (v && json_integer_value(v) > DA_JSON_SCHEMA)
		return da_errorf(err, errlen,
				 "header: written with JSON schema %lld, this " DA_TOOL_NAME
				 " " DA_VERSION
				 " reads schema %d: replay it with a newer " DA_TOOL_NAME,
				 (long long)json_integer_value(v), DA_JSON_SCHEMA);
	v = json_object_get(obj, "kernel");
	if (v && get_name(v, "kernel", trace->kernel, sizeof(trace->kernel), err, errlen))
		return -1;
	if (header_host(obj, trace, err, errlen))
		return -1;

	v = json_object_get(obj, "quirks");
	if (v && !json_is_array(v))
		return da_errorf(err, errlen, "header: 'quirks' must be a list of names");
	json_array_foreach(v, i, item) {
		const char *q = json_is_string(item) ? json_string_value(item) : "";

		if (!strcmp(q, "legacy-locking"))
			trace->quirks |= DA_QUIRK_LEGACY_LOCKING;
		else if (!strcmp(q, "no-resv-owner"))
			trace->quirks |= DA_QUIRK_NO_RESV_OWNER;
		else
			return da_errorf(
				err, errlen,
				"header: unknown quirk \"%s\" (known: legacy-locking, no-resv-owner)",
				q);
	}

	v = json_object_get(obj, "hooks");
	if (v && !json_is_array(v))
		return da_errorf(err, errlen, "header: 'hooks' must be a list");
	trace->n_hooks = 0;
	json_array_foreach(v, i, item) {
		struct da_hook_status *h;
		json_t *f;

		if (i >= DA_MAX_HOOKS)
			return da_errorf(err, errlen, "header: more than %d hooks", DA_MAX_HOOKS);
		if (!json_is_object(item))
			return da_errorf(err, errlen, "header: hooks[%zu] must be an object", i);
		h = &trace->hooks[trace->n_hooks++];
		memset(h, 0, sizeof(*h));
		if ((f = json_object_get(item, "function")) &&
		    get_name(f, "function", h->function, sizeof(h->function), err, errlen))
			return -1;
		if ((f = json_object_get(item, "mode")) &&
		    get_name(f, "mode", h->mode, sizeof(h->mode), err, errlen))
			return -1;
		if ((f = json_object_get(item, "attached")) &&
		    get_bool(f, "attached", &h->attached, err, errlen))
			return -1;
		if ((f = json_object_get(item, "reason")) &&
		    get_name(f, "reason", h->reason, sizeof(h->reason), err, errlen))
			return -1;
	}

	/* scope slots in the header's order, so slots match the recording run's */
	v = json_object_get(obj, "scopes");
	if (v && !json_is_array(v))
		return da_errorf(err, errlen, "header: 'scopes' must be a list of function names");
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) ||
		    da_trace_scope_slot(trace, json_string_value(item)) < 0)
			return da_errorf(
				err, errlen,
				"header: scopes[%zu] is not a usable function name (or more than %d scopes)",
				i, DA_MAX_SCOPES);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A BTF file from anywhere (`hooks --btf FILE`) checked before it is read.
 * libbpf parses the header, the sections and each type's size, but (in
 * Debian 12's libbpf 1.1) not the string offsets or the type ids inside the
 * records, nor whether a chain of typedefs and modifiers ends: a name
 * offset past the strings gives NULL names, and a typedef cycle sends a
 * walk round for ever (issue 24).  Every offset and every reference is
 * checked here, and every chain of references is walked once (O(types)).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "live.h"

struct btf_checker {
	const struct btf *btf;
	unsigned int n_types; /* ids 1 .. n_types - 1 (0 is void) */
	char *err;
	size_t errlen;
};

static int bad_name(struct btf_checker *c, unsigned int id, const char *what, __u32 off)
{
	if (btf__name_by_offset(c->btf, off))
		return 0;
	snprintf(c->err, c->errlen, "type %u: %s name offset %u is beyond the string section", id,
		 what, off);
	return -1;
}

static int bad_ref(struct btf_checker *c, unsigned int id, const char *what, __u32 ref)
{
	if (ref < c->n_types)
		return 0;
	snprintf(c->err, c->errlen, "type %u: %s refers to type %u, beyond the last type %u", id,
		 what, ref, c->n_types - 1);
	return -1;
}

/* the names and references held in a type's trailing records */
static int check_records(struct btf_checker *c, unsigned int id, const struct btf_type *t)
{
	unsigned int n = btf_vlen(t);

	if (btf_is_composite(t)) {
		const struct btf_member *m = btf_members(t);

		for (unsigned int i = 0; i < n; i++, m++)
			if (bad_name(c, id, "member", m->name_off) ||
			    bad_ref(c, id, "member", m->type))
				return -1;
	} else if (btf_is_func_proto(t)) {
		const struct btf_param *p = btf_params(t);

		for (unsigned int i = 0; i < n; i++, p++)
			if (bad_name(c, id, "parameter", p->name_off) ||
			    bad_ref(c, id, "parameter", p->type))
				return -1;
	} else if (btf_is_enum(t)) {
		const struct btf_enum *e = btf_enum(t);

		for (unsigned int i = 0; i < n; i++, e++)
			if (bad_name(c, id, "enumerator", e->name_off))
				return -1;
	} else if (btf_is_enum64(t)) {
		const struct btf_enum64 *e = btf_enum64(t);

		for (unsigned int i = 0; i < n; i++, e++)
			if (bad_name(c, id, "enumerator", e->name_off))
				return -1;
	} else if (btf_is_datasec(t)) {
		const struct btf_var_secinfo *v = btf_var_secinfos(t);

		for (unsigned int i = 0; i < n; i++, v++)
			if (bad_ref(c, id, "variable", v->type))
				return -1;
	} else if (btf_is_array(t)) {
		const struct btf_array *a = btf_array(t);

		if (bad_ref(c, id, "array element", a->type) ||
		    bad_ref(c, id, "array index", a->index_type))
			return -1;
	}
	return 0;
}

/* kinds whose `type` is a reference to one other type */
static bool refers(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_FUNC:
	case BTF_KIND_FUNC_PROTO:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return true;
	default:
		return false;
	}
}

/* chains that name one type through others (typedef, const, pointer ...) */
static bool chains(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return true;
	default:
		return false;
	}
}

enum { UNSEEN, ON_PATH, ENDS };

/*
 * Follow the chain from id until a type that is not a link, or one known
 * to end; meeting a type of the walk itself is a cycle.  Each type is on
 * one walk only, so all the walks together cost O(types).
 */
static int check_chain(struct btf_checker *c, unsigned char *state, unsigned int id)
{
	unsigned int at = id;
	const struct btf_type *t;
	int ret = 0;

	while (at && state[at] == UNSEEN) {
		t = btf__type_by_id(c->btf, at);
		if (!t || !chains(t))
			break;
		state[at] = ON_PATH;
		at = t->type; /* in range: checked before */
	}
	if (at && state[at] == ON_PATH) {
		snprintf(c->err, c->errlen,
			 "type %u: its chain of typedefs and modifiers comes back to type %u"
			 " (a cycle)", id, at);
		ret = -1;
	}
	/* everything on this walk ends (or is reported): mark it so */
	for (at = id; at && state[at] == ON_PATH; at = btf__type_by_id(c->btf, at)->type)
		state[at] = ENDS;
	return ret;
}

/* every record is a multiple of 4 bytes long: the first one's address says for all */
bool da_btf_aligned(const struct btf *btf)
{
	return btf__type_cnt(btf) < 2 ||
	       !((uintptr_t)btf__type_by_id(btf, 1) % __alignof__(struct btf_type));
}

int da_btf_check(const struct btf *btf, char *err, size_t errlen)
{
	struct btf_checker c = { btf, btf__type_cnt(btf), err, errlen };
	unsigned char *state;
	int ret = 0;

	if (btf__base_btf(btf)) {
		snprintf(err, errlen, "split BTF (a module's): give the kernel's vmlinux BTF");
		return -1;
	}
	if (!da_btf_aligned(btf)) {
		snprintf(err, errlen, "the type records are not 4-byte aligned (header length or"
			 " type offset not a multiple of 4)");
		return -1;
	}
	for (unsigned int id = 1; id < c.n_types; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t || bad_name(&c, id, "its", t->name_off) ||
		    (refers(t) && bad_ref(&c, id, "it", t->type)) || check_records(&c, id, t))
			return -1;
	}
	state = calloc(c.n_types, 1);
	if (!state) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned int id = 1; id < c.n_types && !ret; id++)
		if (state[id] == UNSEEN)
			ret = check_chain(&c, state, id);
	free(state);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The fields of each op in the JSON form of an event: docs/output.md's
 * table as data.  The JSON writer (sink_common.c), the JSON reader
 * (jsonl.c) and the text event line all walk it, so they cannot drift apart.
 */
#include <stddef.h>
#include <string.h>

#include "event_schema.h"

#define R DA_EVF_REQUIRED
#define NZ DA_EVF_NONZERO
#define F(name, fl) { DA_EVF_##name, (fl) }

/*
 * docs/output.md's table, in its order.  Extensions (documented in
 * docs/output.md): `resv` on every op that names a buffer (written when
 * known, the engine indexes buffers by it), `locked` and `resv_held` on
 * vmap/vunmap (resv-not-held judges them), `object` on scope ops, `buf` on
 * resv_unlock when known, `phys` on map when true (iommufd's map path).  Without them a JSON Lines replay would not see
 * what the live engine saw.
 */
const struct da_op_spec da_op_specs[DA_OP__COUNT] = {
	[DA_OP_EXPORT] = { 6, { F(BUF, R), F(INO, 0), F(EXPORTER, 0), F(SIZE, 0), F(RESV, R),
				F(RET, R) } },
	[DA_OP_RELEASE] = { 2, { F(BUF, R), F(RESV, NZ) } },
	[DA_OP_ATTACH] = { 9, { F(BUF, R), F(ATTACH, R), F(DEV, 0), F(DYNAMIC, 0),
				F(IMPORTER_OPS, 0), F(INVALIDATE_CB, 0), F(PEER2PEER, 0),
				F(RET, R), F(RESV, NZ) } },
	[DA_OP_DETACH] = { 3, { F(BUF, R), F(ATTACH, R), F(RESV, NZ) } },
	[DA_OP_PIN] = { 5, { F(ATTACH, R), F(BUF, R), F(RESV_HELD, 0), F(RET, R), F(RESV, NZ) } },
	[DA_OP_UNPIN] = { 4, { F(ATTACH, R), F(BUF, R), F(RESV_HELD, 0), F(RESV, NZ) } },
	[DA_OP_MAP] = { 8, { F(ATTACH, R), F(BUF, R), F(SGT, R), F(LOCKED, 0), F(RESV_HELD, 0),
			     F(RET, R), F(RESV, NZ), F(PHYS, NZ) } },
	[DA_OP_UNMAP] = { 6, { F(ATTACH, R), F(BUF, R), F(SGT, R), F(LOCKED, 0),
			       F(RESV_HELD, 0), F(RESV, NZ) } },
	[DA_OP_VMAP] = { 5, { F(BUF, R), F(LOCKED, 0), F(RESV_HELD, 0), F(RET, R), F(RESV, NZ) } },
	[DA_OP_VUNMAP] = { 5, { F(BUF, R), F(LOCKED, 0), F(RESV_HELD, 0), F(RET, 0),
				F(RESV, NZ) } },
	[DA_OP_MMAP] = { 3, { F(BUF, R), F(RET, R), F(RESV, NZ) } },
	[DA_OP_INVALIDATE] = { 4, { F(BUF, R), F(RESV_HELD, 0), F(FN, 0), F(RESV, NZ) } },
	[DA_OP_FENCE_WAIT] = { 5, { F(RESV, R), F(USAGE, 0), F(INTR, 0), F(TIMEOUT, 0),
				    F(RET, R) } },
	[DA_OP_REVOCABLE_CHECK] = { 4, { F(ATTACH, R), F(BUF, R), F(RET, R), F(RESV, NZ) } },
	[DA_OP_SCOPE_ENTER] = { 3, { F(SCOPE, R), F(REVOKED, 0), F(OBJECT, NZ) } },
	[DA_OP_SCOPE_EXIT] = { 3, { F(SCOPE, R), F(REVOKED, 0), F(OBJECT, NZ) } },
	[DA_OP_RESV_UNLOCK] = { 2, { F(RESV, R), F(BUF, NZ) } },
	[DA_OP_SEED_BUFFER] = { 5, { F(BUF, R), F(INO, 0), F(EXPORTER, 0), F(SIZE, 0),
				     F(RESV, NZ) } },
	[DA_OP_SEED_ATTACHMENT] = { 8, { F(BUF, R), F(ATTACH, R), F(DEV, 0), F(DYNAMIC, 0),
					 F(IMPORTER_OPS, 0), F(INVALIDATE_CB, 0),
					 F(PEER2PEER, 0), F(RESV, NZ) } },
};

#undef F
#undef R
#undef NZ

const char *const da_evfield_names[DA_EVF__COUNT] = {
	[DA_EVF_BUF] = "buf",
	[DA_EVF_ATTACH] = "attach",
	[DA_EVF_RESV] = "resv",
	[DA_EVF_SGT] = "sgt",
	[DA_EVF_OBJECT] = "object",
	[DA_EVF_INO] = "ino",
	[DA_EVF_SIZE] = "size",
	[DA_EVF_EXPORTER] = "exporter",
	[DA_EVF_DEV] = "dev",
	[DA_EVF_DYNAMIC] = "dynamic",
	[DA_EVF_PEER2PEER] = "peer2peer",
	[DA_EVF_LOCKED] = "locked",
	[DA_EVF_INTR] = "intr",
	[DA_EVF_REVOKED] = "revoked",
	[DA_EVF_IMPORTER_OPS] = "importer_ops",
	[DA_EVF_INVALIDATE_CB] = "invalidate_cb",
	[DA_EVF_RESV_HELD] = "resv_held",
	[DA_EVF_USAGE] = "usage",
	[DA_EVF_TIMEOUT] = "timeout",
	[DA_EVF_FN] = "fn",
	[DA_EVF_SCOPE] = "scope",
	[DA_EVF_RET] = "ret",
	[DA_EVF_PHYS] = "phys",
};


/* where the pointer and unsigned number fields are kept in struct da_event (all __u64) */
enum slot_kind { SLOT_NONE, SLOT_PTR, SLOT_U64 };

#define SLOT(kind, member) { SLOT_##kind, offsetof(struct da_event, member) }

static const struct {
	uint8_t kind;		/* enum slot_kind */
	uint16_t offset;
} slots[DA_EVF__COUNT] = {
	[DA_EVF_BUF] = SLOT(PTR, buf),
	[DA_EVF_ATTACH] = SLOT(PTR, attach),
	[DA_EVF_RESV] = SLOT(PTR, resv),
	[DA_EVF_SGT] = SLOT(PTR, sgt),
	[DA_EVF_OBJECT] = SLOT(PTR, importer_ops),	/* scope ops reuse importer_ops */
	[DA_EVF_INO] = SLOT(U64, ino),
	[DA_EVF_SIZE] = SLOT(U64, size),
	[DA_EVF_TIMEOUT] = SLOT(U64, timeout),
};

#undef SLOT

static bool slot_value(const struct da_event *ev, enum da_evfield f, enum slot_kind kind,
		       uint64_t *value)
{
	if ((unsigned int)f >= DA_EVF__COUNT || slots[f].kind != kind)
		return false;
	memcpy(value, (const char *)ev + slots[f].offset, sizeof(*value));
	return true;
}

bool da_evfield_ptr(const struct da_event *ev, enum da_evfield f, uint64_t *ptr)
{
	return slot_value(ev, f, SLOT_PTR, ptr);
}

bool da_evfield_u64(const struct da_event *ev, enum da_evfield f, uint64_t *value)
{
	return slot_value(ev, f, SLOT_U64, value);
}

unsigned int da_evfield_flag(enum da_evfield f)
{
	switch (f) {
	case DA_EVF_DYNAMIC:
		return DA_F_DYNAMIC;
	case DA_EVF_PEER2PEER:
		return DA_F_PEER2PEER;
	case DA_EVF_LOCKED:
		return DA_F_LOCKED;
	case DA_EVF_INTR:
		return DA_F_INTR;
	case DA_EVF_REVOKED:
		return DA_F_REVOKED;
	case DA_EVF_PHYS:
		return DA_F_PHYS;
	default:
		return 0;
	}
}

bool da_evfield_present(const struct da_event *ev, const struct da_evfield_spec *spec)
{
	uint64_t ptr;

	/* DA_EVF_NONZERO: a pointer field written when not zero, a flag when set */
	if ((spec->flags & DA_EVF_NONZERO) && da_evfield_ptr(ev, spec->field, &ptr) && !ptr)
		return false;
	if ((spec->flags & DA_EVF_NONZERO) && da_evfield_flag(spec->field) &&
	    !(ev->flags & da_evfield_flag(spec->field)))
		return false;
	/* "revoked" exists only where the scope function takes that argument */
	if (spec->field == DA_EVF_REVOKED && !(ev->flags & DA_F_HAS_REVOKED))
		return false;
	return true;
}

const char *da_event_scope_name(const struct da_trace_info *trace, unsigned int slot)
{
	if (trace && slot < trace->n_scopes)
		return trace->scope_names[slot];
	return NULL;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/core: the fields of each op in the JSON form of an event
 * (docs/output.md's table).  One table drives the JSON writer
 * (sink_common.c), the JSON reader (jsonl.c) and the text event line, so the
 * three cannot drift apart.  An input includes this header, not sink.h.
 */
#ifndef DMABUF_AUDIT_EVENT_SCHEMA_H
#define DMABUF_AUDIT_EVENT_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dmabuf_audit/event.h"
#include "dmabuf_audit/symbols.h"
#include "dmabuf_audit/trace.h"

/* JSON Lines header "schema" (docs/output.md): bumped when a field changes meaning. */
#define DA_JSON_SCHEMA 1

enum da_evfield {
	DA_EVF_BUF,
	DA_EVF_ATTACH,
	DA_EVF_RESV,
	DA_EVF_SGT,
	DA_EVF_OBJECT,		/* scope_*: the scope function's object argument */
	DA_EVF_INO,
	DA_EVF_SIZE,
	DA_EVF_EXPORTER,	/* export: name[] */
	DA_EVF_DEV,		/* attach: name[] */
	DA_EVF_DYNAMIC,
	DA_EVF_PEER2PEER,
	DA_EVF_LOCKED,
	DA_EVF_INTR,
	DA_EVF_REVOKED,		/* only when DA_F_HAS_REVOKED */
	DA_EVF_IMPORTER_OPS,
	DA_EVF_INVALIDATE_CB,
	DA_EVF_RESV_HELD,
	DA_EVF_USAGE,
	DA_EVF_TIMEOUT,
	DA_EVF_FN,
	DA_EVF_SCOPE,
	DA_EVF_RET,
	DA_EVF_PHYS,		/* map: DA_F_PHYS (iommufd's map path), written when true */
	DA_EVF__COUNT,
};

/* field spec flags */
#define DA_EVF_REQUIRED	(1u << 0)	/* hand-written JSON input must give it */
#define DA_EVF_NONZERO	(1u << 1)	/* extension: written only when not zero (or true) */

struct da_evfield_spec {
	uint8_t field;		/* enum da_evfield */
	uint8_t flags;		/* DA_EVF_REQUIRED, DA_EVF_NONZERO */
};

#define DA_EVF_MAX_PER_OP 10

struct da_op_spec {
	unsigned int n;
	struct da_evfield_spec f[DA_EVF_MAX_PER_OP];
};

extern const struct da_op_spec da_op_specs[DA_OP__COUNT];
extern const char *const da_evfield_names[DA_EVF__COUNT];

/* A pointer field (buf, attach, resv, sgt, object): true and its value in *ptr. */
bool da_evfield_ptr(const struct da_event *ev, enum da_evfield f, uint64_t *ptr);
/* An unsigned number field (ino, size, timeout): true and its value in *value. */
bool da_evfield_u64(const struct da_event *ev, enum da_evfield f, uint64_t *value);
/* A boolean field (dynamic, peer2peer, locked, intr, revoked, phys): its DA_F_* bit, else 0. */
unsigned int da_evfield_flag(enum da_evfield f);
/* Whether an encoder writes this field of ev (NONZERO fields, "revoked"). */
bool da_evfield_present(const struct da_event *ev, const struct da_evfield_spec *spec);
/* The scope function a scope event's slot names in trace, or NULL. */
const char *da_event_scope_name(const struct da_trace_info *trace, unsigned int slot);

/*
 * Decode one JSON event object (jsonl.c; hand-written input needs only op,
 * the op's identifying pointers and ret).  seq_default and ts_default are
 * used when the object has no seq / ts_ns (file order; time stands still
 * rather than jumping back to 0).  Scope names are given slots in *trace;
 * symbol names of importer_ops / invalidate_cb are interned in syms.  0, or
 * -1 with a message in err.
 */
int da_event_from_json(json_t *obj, struct da_event *ev, uint64_t seq_default, uint64_t ts_default,
		       struct da_symbols *syms, struct da_trace_info *trace, char *err,
		       size_t errlen);
/* header line → trace info (kernel, quirks, hooks, scopes); 0 or -1 + err */
int da_header_from_json(json_t *obj, struct da_trace_info *trace, char *err, size_t errlen);

#endif /* DMABUF_AUDIT_EVENT_SCHEMA_H */

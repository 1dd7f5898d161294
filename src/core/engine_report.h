/* SPDX-License-Identifier: GPL-2.0 */
/*
 * engine_report.c, for the engine's files only: a finding with its
 * evidence (handed to the finding stage through the engine's output),
 * notices, and the labels findings and notices name things by.
 */
#ifndef DMABUF_AUDIT_ENGINE_REPORT_H
#define DMABUF_AUDIT_ENGINE_REPORT_H

#include <stdarg.h>

#include "engine_tables.h"

struct fctx {
	const struct da_event *trigger; /* NULL: end of trace or tick */
	uint64_t seq, ts;
	uint32_t pid, tid;
	const char *comm;
	uint64_t cgroup_id;
	uint64_t buf_ptr;
	const struct ebuf *buf; /* NULL when unknown */
	uint64_t att_ptr; /* 0: no attachment */
	const struct eatt *att; /* NULL when unknown */
	uint64_t extra_jpos[2]; /* scope enter/exit to show with the history */
};

void eng_fctx_from_event(struct fctx *fc, const struct da_event *ev, struct ebuf *buf,
			 struct eatt *att);
void eng_emit(struct da_engine *eng, enum da_rule rule, const struct fctx *fc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* eng_emit with the context of the event ev (buf, att: its entities, or NULL) */
void eng_emit_event(struct da_engine *eng, enum da_rule rule, const struct da_event *ev,
		    struct ebuf *buf, struct eatt *att, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void eng_notice(struct da_engine *eng, enum da_notice_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void eng_final_notices(struct da_engine *eng);
/* "ino 42 (vfio_pci_core)" or "0xffff... (first seen mid-life)" */
const char *eng_buf_label(const struct da_engine *eng, const struct ebuf *b, uint64_t ptr,
			  char *out, size_t len);
const char *eng_att_label(struct da_engine *eng, const struct eatt *a, uint64_t ptr, char *out,
			  size_t len);
const char *eng_scope_name(const struct da_engine *eng, unsigned int slot);

#endif /* DMABUF_AUDIT_ENGINE_REPORT_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/core: findings kept for a report written at the end (text
 * report, KTAP, JUnit).  Each finding is rendered when it happens (the
 * engine's pointers are only valid during the callback) and spilled to an
 * unlinked temporary file, so a run with very many findings does not grow
 * the heap by their text; only a small index entry stays in memory.
 */
#ifndef DMABUF_AUDIT_FINDING_STORE_H
#define DMABUF_AUDIT_FINDING_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dmabuf_audit/engine.h"
#include "dmabuf_audit/event.h"
#include "sink.h"

struct da_store_entry {
	uint64_t buf_ptr;
	uint64_t buf_ino;
	uint64_t buf_size;
	char exporter[DA_NAME_LEN];
	uint64_t group; /* set by da_store_sort_by_buffer */
	uint32_t index; /* arrival order */
	uint8_t rule;
	uint8_t severity;
	long offset;
	size_t len;
};

struct da_store {
	FILE *spill;
	struct da_store_entry *entries;
	size_t n, cap;
	char *mem; /* open_memstream fallback when no temporary file */
	size_t memlen;
	int error;
};

int da_store_init(struct da_store *st);
static inline bool da_store_is_open(const struct da_store *st)
{
	return st->spill != NULL;
}
/* append a rendered text for a finding; 0 or -1 */
int da_store_add(struct da_store *st, const struct da_finding *f, const char *text, size_t len);
/* read entry e's text into a malloc'd string (NUL-terminated); NULL on error */
char *da_store_text(struct da_store *st, const struct da_store_entry *e);
void da_store_sort_by_rule(struct da_store *st);
/* after da_store_sort_by_rule: the end of rule's run of entries that starts at first */
size_t da_store_rule_end(const struct da_store *st, size_t first, int rule);
/* by buffer (in order of each buffer's first finding), then arrival */
void da_store_sort_by_buffer(struct da_store *st);
/* also safe on a zeroed store that was never initialised */
void da_store_fini(struct da_store *st);

/* ---- what those sinks call (a failure is left in the sink's error) ---- */

/* how such a sink renders one finding into its store */
typedef void (*da_sink_render_fn)(FILE *out, const struct da_sink *s, const struct da_finding *f);
/* da_store_init; 0, or -1 with s->error set */
int da_sink_store_open(struct da_sink *s, struct da_store *st);
/* render f into st; a failure is left in s->error */
void da_sink_store_finding(struct da_sink *s, struct da_store *st, const struct da_finding *f,
			   da_sink_render_fn render);
/* entry e's text (free it), or NULL with s->error set */
char *da_sink_store_text(struct da_sink *s, struct da_store *st, const struct da_store_entry *e);

#endif /* DMABUF_AUDIT_FINDING_STORE_H */

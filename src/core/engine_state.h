/* SPDX-License-Identifier: GPL-2.0 */
/*
 * engine_state.c, for the engine's files only: the tables' life (sizes,
 * allocation), the intrusive lists, the evidence journal, interned names
 * and importer ops, entities born, killed, freed and evicted, mappings,
 * pending revokes and tasks.
 */
#ifndef DMABUF_AUDIT_ENGINE_STATE_H
#define DMABUF_AUDIT_ENGINE_STATE_H

#include "engine_tables.h"

int eng_state_init(struct da_engine *eng, const struct da_engine_config *cfg);
void eng_state_free(struct da_engine *eng);

void eng_dlist_init(struct dlist *l);
#define DLINK(base, i, field) (&(base)[i].field)
/* generic list operations over an entity array: link at byte offset `off` */
void eng_dl_push_tail(void *base, size_t stride, size_t off, struct dlist *l, uint32_t i);
void eng_dl_remove(void *base, size_t stride, size_t off, struct dlist *l, uint32_t i);
uint32_t eng_dl_pop_head(void *base, size_t stride, size_t off, struct dlist *l);

uint64_t eng_journal_append(struct da_engine *eng, const struct da_event *ev);
void eng_journal_link(struct da_engine *eng, struct ebuf *b, uint64_t jpos);

uint16_t eng_name_intern(struct da_engine *eng, const char *name, size_t maxlen);
/* id of the pair; -1 when the table is full */
int eng_ops_intern(struct da_engine *eng, uint64_t importer_ops, uint64_t invalidate_cb);

/* eviction is CLOCK: a use only sets a bit in an entity already in cache */
static inline void eng_buf_touch(struct da_engine *eng, uint32_t bi)
{
	eng->bufs[bi].flags |= BF_REF;
}

static inline void eng_att_touch(struct da_engine *eng, uint32_t ai)
{
	eng->atts[ai].flags |= AF_REF;
}

static inline uint32_t eng_map_bucket(const struct da_engine *eng, uint64_t sgt)
{
	/* by sg_table alone, so the bucket can be fetched before the attachment is known */
	return hash_ptr(sgt, eng->mbits);
}
uint32_t eng_buf_new(struct da_engine *eng, uint64_t ptr, uint32_t gen, uint16_t partial_flag);
uint32_t eng_att_new(struct da_engine *eng, uint64_t ptr, uint32_t bi, uint32_t gen,
		     uint32_t partial_flag);
uint16_t eng_buf_partial_reason(struct da_engine *eng, uint64_t ptr);
uint32_t eng_att_partial_reason(struct da_engine *eng, uint64_t ptr);
void eng_buf_set_resv(struct da_engine *eng, struct ebuf *b, uint64_t resv);
void eng_buf_kill(struct da_engine *eng, uint32_t bi, uint64_t seq);
void eng_att_kill(struct da_engine *eng, uint32_t ai, uint64_t seq);
void eng_buf_free(struct da_engine *eng, uint32_t bi);
void eng_att_free(struct da_engine *eng, uint32_t ai);
void eng_entity_clean_gone(struct da_engine *eng, int kind, uint32_t birth_epoch, bool partial);
/* an entity of kind first seen mid-life was in the seed after all: count it seeded */
void eng_count_late_seeded(struct da_engine *eng, int kind);

int eng_map_add(struct da_engine *eng, uint32_t ai, uint64_t sgt);
/* 1 when a live mapping of sgt was dropped, 0 when there was none */
int eng_map_del(struct da_engine *eng, uint32_t ai, uint64_t sgt);
void eng_maps_free_all(struct da_engine *eng, struct eatt *a);

uint32_t eng_pend_alloc(struct da_engine *eng);
void eng_pend_release(struct da_engine *eng, uint32_t pi);

uint32_t eng_task_find(const struct da_engine *eng, uint32_t tid);
uint32_t eng_task_get(struct da_engine *eng, const struct da_event *ev);
void eng_task_put(struct da_engine *eng, uint32_t ti);

#endif /* DMABUF_AUDIT_ENGINE_STATE_H */

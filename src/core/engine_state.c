// SPDX-License-Identifier: GPL-2.0
/*
 * Engine tables: fixed arrays of buffers, attachments, mappings, pending
 * revokes, tasks and names, sized once at da_engine_new.  A full table
 * reuses the slot of the oldest released entity, else evicts a live one
 * chosen by CLOCK (a use sets a bit in the entity, the hand clears it: no
 * list maintenance on the per-event path); an evicted pointer seen again
 * starts a partial ("evicted") entity so no verdict is made on the history
 * that was dropped.  Free slots are stacks: the slot freed last, still in
 * cache, is reused first.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine_report.h"
#include "engine_state.h"

/* ------------------------------------------------------------------------ */
/* Intrusive lists over entity arrays */

void eng_dlist_init(struct dlist *l)
{
	l->head = l->tail = NIL;
	l->count = 0;
}

static inline struct dlink *link_at(void *base, size_t stride, size_t off, uint32_t i)
{
	return (struct dlink *)((char *)base + (size_t)i * stride + off);
}

void eng_dl_push_tail(void *base, size_t stride, size_t off, struct dlist *l, uint32_t i)
{
	struct dlink *n = link_at(base, stride, off, i);

	n->prev = l->tail;
	n->next = NIL;
	if (l->tail != NIL)
		link_at(base, stride, off, l->tail)->next = i;
	else
		l->head = i;
	l->tail = i;
	l->count++;
}

void eng_dl_remove(void *base, size_t stride, size_t off, struct dlist *l, uint32_t i)
{
	struct dlink *n = link_at(base, stride, off, i);

	if (n->prev != NIL)
		link_at(base, stride, off, n->prev)->next = n->next;
	else
		l->head = n->next;
	if (n->next != NIL)
		link_at(base, stride, off, n->next)->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NIL;
	l->count--;
}

uint32_t eng_dl_pop_head(void *base, size_t stride, size_t off, struct dlist *l)
{
	uint32_t i = l->head;

	if (i != NIL)
		eng_dl_remove(base, stride, off, l, i);
	return i;
}

#define BUF_LIST(eng) (eng)->bufs, sizeof(struct ebuf), offsetof(struct ebuf, lru)
#define ATT_LIST(eng) (eng)->atts, sizeof(struct eatt), offsetof(struct eatt, lru)
#define PEND_LIST(eng) (eng)->pends, sizeof(struct epend), offsetof(struct epend, slink)
#define TASK_LIST(eng) (eng)->tasks, sizeof(struct etask), offsetof(struct etask, alink)

/* free stacks, linked through the entity's link .next */
#define STACK_PUSH(head, arr, field, i)       \
	do {                                  \
		(arr)[i].field.next = (head); \
		(head) = (i);                 \
	} while (0)
#define STACK_POP(head, arr, field)                    \
	({                                             \
		uint32_t _i = (head);                  \
		if (_i != NIL)                         \
			(head) = (arr)[_i].field.next; \
		_i;                                    \
	})

/* hash chains: entity i goes first on the chain whose head is *head, linked through *next */
static inline void chain_push(uint32_t *head, uint32_t *next, uint32_t i)
{
	*next = *head;
	*head = i;
}

/*
 * A buffer's attachments: the list head lives in the buffer (b->atts) and
 * has no tail, so it is handled here rather than with struct dlist.
 */
static void blist_add(struct da_engine *eng, struct ebuf *b, uint32_t ai)
{
	struct eatt *a = &eng->atts[ai];

	a->blink.prev = NIL;
	a->blink.next = b->atts;
	if (b->atts != NIL)
		eng->atts[b->atts].blink.prev = ai;
	b->atts = ai;
}

static void blist_del(struct da_engine *eng, struct ebuf *b, uint32_t ai)
{
	struct eatt *a = &eng->atts[ai];

	if (a->blink.prev != NIL)
		eng->atts[a->blink.prev].blink.next = a->blink.next;
	else
		b->atts = a->blink.next;
	if (a->blink.next != NIL)
		eng->atts[a->blink.next].blink.prev = a->blink.prev;
	a->blink.prev = a->blink.next = NIL;
}

/* ------------------------------------------------------------------------ */
/* Setup */

static unsigned int bits_for(uint64_t n)
{
	unsigned int bits = 1;

	while ((1ull << bits) < n)
		bits++;
	return bits;
}

static uint32_t *heads_new(unsigned int bits)
{
	uint32_t *h = malloc(sizeof(*h) << bits);

	if (h)
		memset(h, 0xff, sizeof(*h) << bits);
	return h;
}

/*
 * A table the lookups hit at random (entities, hash heads): on transparent
 * huge pages where the system offers them on request.  With 4 KiB pages a
 * table of a few MB spans more pages than the TLB holds, and every lookup
 * pays a page walk before its cache miss.  Only the whole huge pages inside
 * the table are asked for, so the memory it touches (its RSS) stays what
 * it was.  The result is freed with free().
 */
#define TABLE_HUGE (2ul << 20)

static void *table_alloc(size_t bytes)
{
	void *t = aligned_alloc(bytes >= TABLE_HUGE ? TABLE_HUGE : 64,
				(bytes + 63) & ~(size_t)63);

	if (t && bytes >= TABLE_HUGE)
		madvise(t, bytes & ~(TABLE_HUGE - 1), MADV_HUGEPAGE);
	return t;
}

/* The table sizes a configuration asks for (0 = default), before any allocation. */
struct table_sizes {
	uint64_t nbufs, natts, hlen, jlen, nmaps, npends, ntasks, nevicted;
};

static void table_sizes(const struct da_engine_config *cfg, struct table_sizes *z)
{
	uint64_t jlen = cfg->journal_len ? cfg->journal_len : DA_ENGINE_DEFAULT_JOURNAL;

	z->nbufs = cfg->max_buffers ? cfg->max_buffers : DA_ENGINE_DEFAULT_BUFFERS;
	z->natts = cfg->max_attachments ? cfg->max_attachments : DA_ENGINE_DEFAULT_ATTACHMENTS;
	z->hlen = cfg->history_len ? cfg->history_len : DA_ENGINE_DEFAULT_HISTORY;
	/* a live mapping per attachment on average; more marks attachments partial */
	z->nmaps = z->natts;
	/* revokes pending at once: a fraction of the buffers is plenty */
	z->npends = z->nbufs / 4 < 64 ? 64 : z->nbufs / 4;
	z->ntasks = z->nbufs / 32 > DA_ENGINE_MIN_TASKS ? z->nbufs / 32 : DA_ENGINE_MIN_TASKS;
	z->nevicted = 1ull << bits_for(z->natts / 4 < 1024 ? 1024 : z->natts / 4);
	if (jlen < z->hlen)
		jlen = z->hlen;
	z->jlen = 1ull << bits_for(jlen);
}

/* bytes of the hash heads for n entries */
static uint64_t heads_bytes(uint64_t n)
{
	return sizeof(uint32_t) << bits_for(n);
}

/*
 * The pointer hashes of buffers and attachments: a table full of entities
 * (the dead stay findable until evicted) would chain them at a load of 1;
 * twice the buckets make the entity looked up the head of its chain more
 * often, the one line the prefetch stages fetch for sure (docs/performance.md).
 */
static unsigned int entity_hash_bits(uint64_t n)
{
	return bits_for(n) + 1;
}

void da_engine_table_bytes(const struct da_engine_config *cfg, struct da_engine_bytes *out)
{
	struct table_sizes z;

	table_sizes(cfg, &z);
	out->buffers = z.nbufs * sizeof(struct ebuf) +
		       2 * (sizeof(uint32_t) << entity_hash_bits(z.nbufs)) +
		       z.npends * sizeof(struct epend) + z.ntasks * sizeof(struct etask) +
		       heads_bytes(z.ntasks);
	out->attachments = z.natts * sizeof(struct eatt) +
			   (sizeof(uint32_t) << entity_hash_bits(z.natts)) +
			   z.nmaps * sizeof(struct emap) + heads_bytes(z.nmaps) +
			   2 * z.nevicted * sizeof(uint64_t);
	out->history = z.jlen * (sizeof(struct da_event) + sizeof(uint64_t)) +
		       (z.hlen + 2) * (sizeof(const struct da_event *) + sizeof(uint64_t));
	out->total = out->buffers + out->attachments + out->history +
		     DA_ENGINE_MAX_OPS * sizeof(struct eops) + heads_bytes(DA_ENGINE_MAX_OPS) +
		     DA_ENGINE_MAX_NAMES * sizeof(struct ename) + heads_bytes(DA_ENGINE_MAX_NAMES);
}

int eng_state_init(struct da_engine *eng, const struct da_engine_config *cfg)
{
	struct da_engine_bytes bytes;
	struct table_sizes z;
	uint32_t i;

	table_sizes(cfg, &z);
	da_engine_table_bytes(cfg, &bytes);
	/* every table is sized before anything is allocated: refuse what cannot be */
	if (z.nbufs >= NIL || z.natts >= NIL || z.hlen >= NIL - 2 || z.jlen > (1ull << 31) ||
	    bytes.total > DA_ENGINE_MAX_TABLE_BYTES)
		return -1;
	eng->nbufs = (uint32_t)z.nbufs;
	eng->natts = (uint32_t)z.natts;
	eng->hlen = (uint32_t)z.hlen;
	eng->nmaps = (uint32_t)z.nmaps;
	eng->npends = (uint32_t)z.npends;
	eng->jmask = z.jlen - 1;

	eng->bbits = entity_hash_bits(eng->nbufs);
	eng->abits = entity_hash_bits(eng->natts);
	eng->mbits = bits_for(eng->nmaps);
	eng->ntasks = (uint32_t)z.ntasks;
	eng->tbits = bits_for(eng->ntasks);
	eng->nbits = bits_for(DA_ENGINE_MAX_NAMES);

	/* cache-line aligned: an entity never straddles more lines than it must */
	eng->bufs = table_alloc((size_t)eng->nbufs * sizeof(*eng->bufs));
	eng->atts = table_alloc((size_t)eng->natts * sizeof(*eng->atts));
	if (eng->bufs)
		memset(eng->bufs, 0, (size_t)eng->nbufs * sizeof(*eng->bufs));
	if (eng->atts)
		memset(eng->atts, 0, (size_t)eng->natts * sizeof(*eng->atts));
	eng->opbits = bits_for(DA_ENGINE_MAX_OPS);
	eng->ops = calloc(DA_ENGINE_MAX_OPS, sizeof(*eng->ops));
	eng->ophash = heads_new(eng->opbits);
	eng->maps = table_alloc((size_t)eng->nmaps * sizeof(*eng->maps));
	if (eng->maps)
		memset(eng->maps, 0, (size_t)eng->nmaps * sizeof(*eng->maps));
	eng->pends = calloc(eng->npends, sizeof(*eng->pends));
	eng->tasks = calloc(eng->ntasks, sizeof(*eng->tasks));
	eng->names = calloc(DA_ENGINE_MAX_NAMES, sizeof(*eng->names));
	eng->bhash = heads_new(eng->bbits);
	eng->rhash = heads_new(eng->bbits);
	eng->ahash = heads_new(eng->abits);
	eng->mhash = heads_new(eng->mbits);
	eng->thash = heads_new(eng->tbits);
	eng->nhash = heads_new(eng->nbits);
	eng->evicted_mask = (uint32_t)(z.nevicted - 1);
	eng->evicted_bufs = calloc(eng->evicted_mask + 1ull, sizeof(uint64_t));
	eng->evicted_atts = calloc(eng->evicted_mask + 1ull, sizeof(uint64_t));
	eng->jev = table_alloc(z.jlen * sizeof(*eng->jev));
	eng->jprev = malloc(z.jlen * sizeof(*eng->jprev));
	eng->hist = calloc(z.hlen + 2, sizeof(*eng->hist));
	eng->hist_pos = calloc(z.hlen + 2, sizeof(*eng->hist_pos));
	if (!eng->bufs || !eng->atts || !eng->maps || !eng->pends || !eng->tasks || !eng->names ||
	    !eng->bhash || !eng->rhash || !eng->ahash || !eng->mhash || !eng->thash ||
	    !eng->nhash || !eng->ops || !eng->ophash || !eng->evicted_bufs || !eng->evicted_atts ||
	    !eng->jev || !eng->jprev || !eng->hist || !eng->hist_pos)
		return -1;

	/* free stacks in index order: slot 0 is used first */
	eng->b_free = eng->a_free = eng->m_free = eng->p_free = NIL;
	for (i = eng->nbufs; i-- > 0;)
		STACK_PUSH(eng->b_free, eng->bufs, lru, i);
	for (i = eng->natts; i-- > 0;)
		STACK_PUSH(eng->a_free, eng->atts, lru, i);
	for (i = eng->nmaps; i-- > 0;)
		STACK_PUSH(eng->m_free, eng->maps, alink, i);
	for (i = eng->npends; i-- > 0;)
		STACK_PUSH(eng->p_free, eng->pends, slink, i);
	eng_dlist_init(&eng->b_dead);
	eng_dlist_init(&eng->a_dead);
	eng_dlist_init(&eng->t_free);
	eng_dlist_init(&eng->t_active);
	for (i = 0; i < eng->ntasks; i++)
		eng_dl_push_tail(TASK_LIST(eng), &eng->t_free, i);
	eng->nnames = 1; /* id 0 = unknown */
	eng->nops = 1; /* id 0 = no ops, no callback */
	eng->next_serial = 1;
	eng->next_scope_id = 1;
	return 0;
}

void eng_state_free(struct da_engine *eng)
{
	free(eng->bufs);
	free(eng->atts);
	free(eng->maps);
	free(eng->pends);
	free(eng->tasks);
	free(eng->names);
	free(eng->ops);
	free(eng->ophash);
	free(eng->bhash);
	free(eng->rhash);
	free(eng->ahash);
	free(eng->mhash);
	free(eng->thash);
	free(eng->nhash);
	free(eng->evicted_bufs);
	free(eng->evicted_atts);
	free(eng->jev);
	free(eng->jprev);
	free(eng->hist);
	free(eng->hist_pos);
}

/* ------------------------------------------------------------------------ */
/* Journal */

/*
 * The journal is a ring larger than the caches, written once per event and
 * read back only for a finding's evidence.  An ordinary store first reads
 * each line of the slot from memory (the ring last passed it long ago);
 * non-temporal stores write the lines without reading them and without
 * evicting what the lookups need.  A slot is 16-byte aligned (table_alloc's
 * alignment, sizeof(struct da_event) a multiple of 16).
 */
static inline void journal_store(struct da_event *slot, const struct da_event *ev)
{
#if defined(__SSE2__)
	_Static_assert(sizeof(*ev) % 16 == 0, "a journal slot is whole 16-byte stores");
	const __m128i *src = (const __m128i *)ev;
	__m128i *dst = (__m128i *)slot;

	for (size_t i = 0; i < sizeof(*ev) / 16; i++)
		_mm_stream_si128(dst + i, _mm_loadu_si128(src + i));
#else
	*slot = *ev;
#endif
}

uint64_t eng_journal_append(struct da_engine *eng, const struct da_event *ev)
{
	uint64_t pos = ++eng->jcount;
	uint64_t slot = (pos - 1) & eng->jmask;

	journal_store(&eng->jev[slot], ev);
	eng->jprev[slot] = 0;
	return pos;
}

void eng_journal_link(struct da_engine *eng, struct ebuf *b, uint64_t jpos)
{
	uint64_t slot = (jpos - 1) & eng->jmask;

	if (b->jlast == jpos)
		return;
	eng->jprev[slot] = b->jlast;
	b->jlast = jpos;
}

/* ------------------------------------------------------------------------ */
/* Names */

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

uint16_t eng_name_intern(struct da_engine *eng, const char *name, size_t maxlen)
{
	size_t len = strnlen(name, maxlen < DA_NAME_LEN - 1 ? maxlen : DA_NAME_LEN - 1);
	uint32_t h, i;

	if (!len)
		return 0;
	h = hash_name(name, len) & ((1u << eng->nbits) - 1);
	for (i = eng->nhash[h]; i != NIL; i = eng->names[i].hnext)
		if (!strncmp(eng->names[i].name, name, len) && !eng->names[i].name[len])
			return (uint16_t)i;
	if (eng->nnames >= DA_ENGINE_MAX_NAMES) {
		eng->notes.names_full++;
		return 0;
	}
	i = eng->nnames++;
	memcpy(eng->names[i].name, name, len);
	eng->names[i].name[len] = '\0';
	if (da_namelist_has(&eng->pol->revoking_exporters, eng->names[i].name))
		eng->names[i].flags |= NF_REVOKING_POLICY;
	chain_push(&eng->nhash[h], &eng->names[i].hnext, i);
	return (uint16_t)i;
}

int eng_ops_intern(struct da_engine *eng, uint64_t importer_ops, uint64_t invalidate_cb)
{
	uint32_t h, i;

	if (!importer_ops && !invalidate_cb)
		return 0;
	h = hash_ptr(importer_ops ^ (invalidate_cb * 31), eng->opbits);
	for (i = eng->ophash[h]; i != NIL; i = eng->ops[i].hnext)
		if (eng->ops[i].importer_ops == importer_ops &&
		    eng->ops[i].invalidate_cb == invalidate_cb)
			return (int)i;
	if (eng->nops >= DA_ENGINE_MAX_OPS) {
		eng->notes.ops_full++;
		return -1;
	}
	i = eng->nops++;
	eng->ops[i].importer_ops = importer_ops;
	eng->ops[i].invalidate_cb = invalidate_cb;
	chain_push(&eng->ophash[h], &eng->ops[i].hnext, i);
	return (int)i;
}

/* ------------------------------------------------------------------------ */
/* Accounting of partial entities (see da_engine_lost) */

/*
 * clean_live[kind] counts live entities, not partial for another reason,
 * born in the current loss epoch: exactly those a loss now turns partial.
 */
void eng_entity_clean_gone(struct da_engine *eng, int kind, uint32_t birth_epoch, bool partial)
{
	if (!partial && birth_epoch == eng->epoch)
		eng->clean_live[kind]--;
}

/* a new entity of kind: clean (its start seen), or partial, late, evicted or seeded */
static void count_born(struct da_engine *eng, int kind, bool partial, bool evicted, bool seeded)
{
	if (!partial) {
		eng->clean_live[kind]++;
		return;
	}
	eng->sum.partial++;
	if (seeded) {
		eng->sum.partial_seeded++;
		eng->notes.seeded[kind]++;
		if (!kind)
			eng->sum.seeded_buffers++;
	} else if (evicted) {
		eng->sum.partial_evicted++;
		eng->notes.evicted_seen[kind]++;
	} else {
		eng->sum.partial_late++;
		eng->notes.late[kind]++;
	}
}

void eng_count_late_seeded(struct da_engine *eng, int kind)
{
	eng->sum.partial_late--;
	eng->notes.late[kind]--;
	eng->sum.partial_seeded++;
	eng->notes.seeded[kind]++;
	if (!kind)
		eng->sum.seeded_buffers++;
}

/* ------------------------------------------------------------------------ */
/* Hash chains */

static void bhash_del(struct da_engine *eng, uint32_t bi)
{
	uint32_t *p = &eng->bhash[hash_ptr(eng->bufs[bi].ptr, eng->bbits)];

	while (*p != bi)
		p = &eng->bufs[*p].hnext;
	*p = eng->bufs[bi].hnext;
}

static void rhash_add(struct da_engine *eng, uint32_t bi)
{
	chain_push(&eng->rhash[hash_ptr(eng->bufs[bi].resv, eng->bbits)], &eng->bufs[bi].rnext, bi);
}

static void rhash_del(struct da_engine *eng, uint32_t bi)
{
	uint32_t *p = &eng->rhash[hash_ptr(eng->bufs[bi].resv, eng->bbits)];

	while (*p != NIL && *p != bi)
		p = &eng->bufs[*p].rnext;
	if (*p == bi)
		*p = eng->bufs[bi].rnext;
	eng->bufs[bi].rnext = NIL;
}

static void ahash_del(struct da_engine *eng, uint32_t ai)
{
	uint32_t *p = &eng->ahash[hash_ptr(eng->atts[ai].ptr, eng->abits)];

	while (*p != ai)
		p = &eng->atts[*p].hnext;
	*p = eng->atts[ai].hnext;
}

void eng_buf_set_resv(struct da_engine *eng, struct ebuf *b, uint64_t resv)
{
	uint32_t bi = (uint32_t)(b - eng->bufs);

	if (b->resv == resv || !resv)
		return;
	if (b->resv && (b->flags & BF_LIVE))
		rhash_del(eng, bi);
	b->resv = resv;
	if (b->flags & BF_LIVE)
		rhash_add(eng, bi);
}

/* ------------------------------------------------------------------------ */
/* Mappings */

static void map_unlink(struct da_engine *eng, struct eatt *a, uint32_t mi)
{
	struct emap *m = &eng->maps[mi];
	uint32_t *p = &eng->mhash[eng_map_bucket(eng, m->sgt)];

	while (*p != mi)
		p = &eng->maps[*p].hnext;
	*p = m->hnext;
	if (m->alink.prev != NIL)
		eng->maps[m->alink.prev].alink.next = m->alink.next;
	else
		a->maps = m->alink.next;
	if (m->alink.next != NIL)
		eng->maps[m->alink.next].alink.prev = m->alink.prev;
	STACK_PUSH(eng->m_free, eng->maps, alink, mi);
}

int eng_map_add(struct da_engine *eng, uint32_t ai, uint64_t sgt)
{
	struct eatt *a = &eng->atts[ai];
	uint32_t h = eng_map_bucket(eng, sgt), mi;
	struct emap *m;

	for (mi = eng->mhash[h]; mi != NIL; mi = eng->maps[mi].hnext) {
		if (eng->maps[mi].att == ai && eng->maps[mi].sgt == sgt) {
			eng->maps[mi].count++;
			return 0;
		}
	}
	mi = STACK_POP(eng->m_free, eng->maps, alink);
	if (mi == NIL)
		return -1;
	m = &eng->maps[mi];
	m->sgt = sgt;
	m->att = ai;
	m->count = 1;
	chain_push(&eng->mhash[h], &m->hnext, mi);
	m->alink.prev = NIL;
	m->alink.next = a->maps;
	if (a->maps != NIL)
		eng->maps[a->maps].alink.prev = mi;
	a->maps = mi;
	return 0;
}

int eng_map_del(struct da_engine *eng, uint32_t ai, uint64_t sgt)
{
	uint32_t mi;

	for (mi = eng->mhash[eng_map_bucket(eng, sgt)]; mi != NIL; mi = eng->maps[mi].hnext) {
		if (eng->maps[mi].att == ai && eng->maps[mi].sgt == sgt) {
			if (--eng->maps[mi].count == 0)
				map_unlink(eng, &eng->atts[ai], mi);
			return 1;
		}
	}
	return 0;
}

void eng_maps_free_all(struct da_engine *eng, struct eatt *a)
{
	while (a->maps != NIL)
		map_unlink(eng, a, a->maps);
}

/* ------------------------------------------------------------------------ */
/* Pending revokes */

uint32_t eng_pend_alloc(struct da_engine *eng)
{
	uint32_t pi = STACK_POP(eng->p_free, eng->pends, slink);

	if (pi != NIL) {
		memset(&eng->pends[pi], 0, sizeof(eng->pends[pi]));
		eng->pends[pi].slink.prev = eng->pends[pi].slink.next = NIL;
	}
	return pi;
}

void eng_pend_release(struct da_engine *eng, uint32_t pi)
{
	struct epend *p = &eng->pends[pi];

	if (p->scope_id) {
		struct etask *t = &eng->tasks[p->scope_task];
		struct escope *s = &t->scopes[p->scope_depth];

		if (t->depth > p->scope_depth && s->id == p->scope_id)
			eng_dl_remove(PEND_LIST(eng), &s->pends, pi);
	}
	if (p->buf != NIL && eng->bufs[p->buf].serial == p->buf_serial &&
	    eng->bufs[p->buf].pend == pi)
		eng->bufs[p->buf].pend = NIL;
	p->scope_id = 0;
	p->flags = 0;
	STACK_PUSH(eng->p_free, eng->pends, slink, pi);
}

/* ------------------------------------------------------------------------ */
/* Entities: death, freeing, eviction, creation */

void eng_att_kill(struct da_engine *eng, uint32_t ai, uint64_t seq)
{
	struct eatt *a = &eng->atts[ai];
	uint32_t bi = att_buf(eng, a);

	if (!(a->flags & AF_LIVE))
		return;
	eng_entity_clean_gone(eng, 1, a->epoch, att_partial(eng, a));
	if (bi != NIL)
		blist_del(eng, &eng->bufs[bi], ai);
	eng_maps_free_all(eng, a);
	if (a->epoch != eng->epoch)
		a->flags |= AF_LOST_PARTIAL;
	a->flags &= ~AF_LIVE;
	a->epoch = eng->epoch;
	a->seq_mark = seq;
	eng->nlive_atts--;
	eng_dl_push_tail(ATT_LIST(eng), &eng->a_dead, ai);
}

void eng_buf_kill(struct da_engine *eng, uint32_t bi, uint64_t seq)
{
	struct ebuf *b = &eng->bufs[bi];

	if (!(b->flags & BF_LIVE))
		return;
	while (b->atts != NIL)
		eng_att_kill(eng, b->atts, seq);
	eng_entity_clean_gone(eng, 0, b->birth_epoch, buf_partial(eng, b));
	if (b->resv)
		rhash_del(eng, bi);
	b->flags &= ~BF_LIVE;
	b->death_epoch = eng->epoch;
	b->seq_mark = seq;
	eng->nlive_bufs--;
	eng_dl_push_tail(BUF_LIST(eng), &eng->b_dead, bi);
}

/* Drop an attachment entity (dead or live) and return its slot. */
void eng_att_free(struct da_engine *eng, uint32_t ai)
{
	struct eatt *a = &eng->atts[ai];

	if (a->flags & AF_LIVE) {
		uint32_t bi = att_buf(eng, a);

		eng_entity_clean_gone(eng, 1, a->epoch, att_partial(eng, a));
		if (bi != NIL)
			blist_del(eng, &eng->bufs[bi], ai);
		eng_maps_free_all(eng, a);
		eng->nlive_atts--;
	} else {
		eng_dl_remove(ATT_LIST(eng), &eng->a_dead, ai);
	}
	ahash_del(eng, ai);
	a->flags = 0;
	STACK_PUSH(eng->a_free, eng->atts, lru, ai);
}

void eng_buf_free(struct da_engine *eng, uint32_t bi)
{
	struct ebuf *b = &eng->bufs[bi];

	if (b->pend != NIL)
		eng_pend_release(eng, b->pend);
	if (b->flags & BF_LIVE) {
		while (b->atts != NIL)
			eng_att_free(eng, b->atts);
		eng_entity_clean_gone(eng, 0, b->birth_epoch, buf_partial(eng, b));
		if (b->resv)
			rhash_del(eng, bi);
		eng->nlive_bufs--;
	} else {
		eng_dl_remove(BUF_LIST(eng), &eng->b_dead, bi);
	}
	bhash_del(eng, bi);
	b->flags = 0;
	b->serial = 0;
	STACK_PUSH(eng->b_free, eng->bufs, lru, bi);
}

/*
 * A pointer evicted recently, by hash: seen again, its entity is partial
 * ("evicted"), not "late".  A collision forgets the older pointer, which is
 * then "late": partial either way.
 */
static uint64_t *evicted_slot(const struct da_engine *eng, uint64_t *table, uint64_t ptr)
{
	return &table[hash_ptr(ptr, 32) & eng->evicted_mask];
}

/* was ptr evicted recently?  It is forgotten: only its next entity is partial for it */
static bool evicted_take(const struct da_engine *eng, uint64_t *table, uint64_t ptr)
{
	uint64_t *slot = evicted_slot(eng, table, ptr);

	if (*slot != ptr)
		return false;
	*slot = 0;
	return true;
}

static void tell_eviction(struct da_engine *eng, int table, const char *what, uint32_t cap,
			  const char *option)
{
	if (eng->notes.evict_told[table])
		return;
	eng->notes.evict_told[table] = true;
	eng_notice(
		eng, DA_NOTICE_EVICTED,
		"%s table full (%u entries) with live entries: evicting the least recently used; an evicted entity seen again is partial%s%s",
		what, cap, option ? ": raise " : "", option ? option : "");
}

/*
 * Released buffers and detached attachments are kept only to recognise a
 * use after release; reusing their slots (oldest first) is routine and is
 * not counted as eviction.  Evicting a live entity loses history that
 * verdicts need: that is counted and announced.  Either way the pointer is
 * remembered, so seeing it again starts a partial ("evicted") entity.
 */
static void att_evict(struct da_engine *eng, uint32_t ai)
{
	struct eatt *a = &eng->atts[ai];

	*evicted_slot(eng, eng->evicted_atts, a->ptr) = a->ptr;
	if (a->flags & AF_LIVE) {
		eng->sum.evicted++;
		eng->notes.evicted[1]++;
		tell_eviction(eng, 1, "attachment", eng->natts, "--max-attachments");
	}
	eng_att_free(eng, ai);
}

static void buf_evict(struct da_engine *eng, uint32_t bi)
{
	struct ebuf *b = &eng->bufs[bi];

	if (b->pend != NIL)
		eng->notes.fence_unjudged_evicted++;
	*evicted_slot(eng, eng->evicted_bufs, b->ptr) = b->ptr;
	if (b->flags & BF_LIVE) {
		/* its attachments cannot be judged without it */
		while (b->atts != NIL)
			att_evict(eng, b->atts);
		eng->sum.evicted++;
		eng->notes.evicted[0]++;
		tell_eviction(eng, 0, "buffer", eng->nbufs, "--max-buffers");
	}
	eng_buf_free(eng, bi);
}

/*
 * CLOCK over the live entities of arr[0..n): the first one the hand finds
 * unused since it last passed (its REF bit clear), clearing the bits it
 * passes.  Called with no free and no dead slot, so every slot is live: one
 * sweep clears every use bit, so a victim is found within two.
 */
#define CLOCK_VICTIM(hand, arr, n, LIVE, REF)                \
	({                                                   \
		uint32_t _i;                                 \
		for (;;) {                                   \
			_i = (hand);                         \
			(hand) = _i + 1 == (n) ? 0 : _i + 1; \
			if (!((arr)[_i].flags & (LIVE)))     \
				continue;                    \
			if (!((arr)[_i].flags & (REF)))      \
				break;                       \
			(arr)[_i].flags &= ~(REF);           \
		}                                            \
		_i;                                          \
	})

static uint32_t buf_clock_victim(struct da_engine *eng)
{
	return CLOCK_VICTIM(eng->b_hand, eng->bufs, eng->nbufs, BF_LIVE, BF_REF);
}

static uint32_t att_clock_victim(struct da_engine *eng)
{
	return CLOCK_VICTIM(eng->a_hand, eng->atts, eng->natts, AF_LIVE, AF_REF);
}

uint16_t eng_buf_partial_reason(struct da_engine *eng, uint64_t ptr)
{
	return evicted_take(eng, eng->evicted_bufs, ptr) ? BF_EVICTED : BF_LATE;
}

uint32_t eng_att_partial_reason(struct da_engine *eng, uint64_t ptr)
{
	return evicted_take(eng, eng->evicted_atts, ptr) ? AF_EVICTED : AF_LATE;
}

/*
 * A new live buffer at ptr.  partial_flag: 0 (export seen), BF_LATE,
 * BF_EVICTED or BF_SEEDED.  The caller has removed any older entity at ptr.
 */
uint32_t eng_buf_new(struct da_engine *eng, uint64_t ptr, uint32_t gen, uint16_t partial_flag)
{
	uint32_t bi = STACK_POP(eng->b_free, eng->bufs, lru);
	struct ebuf *b;

	if (bi == NIL) {
		buf_evict(eng, eng->b_dead.count ? eng->b_dead.head : buf_clock_victim(eng));
		bi = STACK_POP(eng->b_free, eng->bufs, lru);
	}
	b = &eng->bufs[bi];
	memset(b, 0, sizeof(*b));
	b->ptr = ptr;
	b->gen = gen;
	b->serial = eng->next_serial++;
	if (!eng->next_serial)
		eng->next_serial = 1;
	/* no use bit yet: an entity never used again is evicted before one in use */
	b->flags = BF_USED | BF_LIVE | partial_flag;
	b->atts = NIL;
	b->pend = NIL;
	b->rnext = NIL;
	b->birth_epoch = eng->epoch;
	chain_push(&eng->bhash[hash_ptr(ptr, eng->bbits)], &b->hnext, bi);
	eng->nlive_bufs++;
	eng->sum.buffers++;
	count_born(eng, 0, partial_flag, partial_flag == BF_EVICTED, partial_flag == BF_SEEDED);
	return bi;
}

uint32_t eng_att_new(struct da_engine *eng, uint64_t ptr, uint32_t bi, uint32_t gen,
		     uint32_t partial_flag)
{
	uint32_t ai = STACK_POP(eng->a_free, eng->atts, lru);
	struct eatt *a;

	if (ai == NIL) {
		att_evict(eng, eng->a_dead.count ? eng->a_dead.head : att_clock_victim(eng));
		ai = STACK_POP(eng->a_free, eng->atts, lru);
	}
	a = &eng->atts[ai];
	memset(a, 0, sizeof(*a));
	a->ptr = ptr;
	a->gen = gen;
	a->buf = bi;
	a->buf_serial = eng->bufs[bi].serial;
	a->maps = NIL;
	a->flags = AF_USED | AF_LIVE | partial_flag;
	a->epoch = eng->epoch;
	chain_push(&eng->ahash[hash_ptr(ptr, eng->abits)], &a->hnext, ai);
	eng->nlive_atts++;
	blist_add(eng, &eng->bufs[bi], ai);
	eng->sum.attachments++;
	count_born(eng, 1, partial_flag, partial_flag == AF_EVICTED, partial_flag == AF_SEEDED);
	return ai;
}

/* ------------------------------------------------------------------------ */
/* Tasks */

uint32_t eng_task_find(const struct da_engine *eng, uint32_t tid)
{
	uint32_t i = eng->thash[hash_ptr(tid, eng->tbits)];

	while (i != NIL && eng->tasks[i].tid != tid)
		i = eng->tasks[i].hnext;
	return i;
}

static void thash_del(struct da_engine *eng, uint32_t ti)
{
	uint32_t *p = &eng->thash[hash_ptr(eng->tasks[ti].tid, eng->tbits)];

	while (*p != ti)
		p = &eng->tasks[*p].hnext;
	*p = eng->tasks[ti].hnext;
}

uint32_t eng_task_get(struct da_engine *eng, const struct da_event *ev)
{
	uint32_t ti = eng_task_find(eng, ev->tid);
	struct etask *t;

	if (ti != NIL)
		return ti;
	ti = eng_dl_pop_head(TASK_LIST(eng), &eng->t_free);
	if (ti == NIL) {
		/* full: reclaim a task that only holds a stale revocable_check */
		for (uint32_t i = 0; i < eng->ntasks && ti == NIL; i++)
			if (!eng->tasks[i].depth && eng->tasks[i].rc_valid)
				ti = i;
		if (ti == NIL)
			return NIL;
		thash_del(eng, ti);
	}
	t = &eng->tasks[ti];
	memset(t, 0, offsetof(struct etask, scopes));
	t->tid = ev->tid;
	t->pid = ev->pid;
	t->cgroup_id = ev->cgroup_id;
	memcpy(t->comm, ev->comm, sizeof(t->comm));
	t->alink.prev = t->alink.next = NIL;
	chain_push(&eng->thash[hash_ptr(ev->tid, eng->tbits)], &t->hnext, ti);
	return ti;
}

/* Return the task's slot once it holds nothing. */
void eng_task_put(struct da_engine *eng, uint32_t ti)
{
	struct etask *t = &eng->tasks[ti];

	if (t->depth && !t->active) {
		t->active = true;
		eng_dl_push_tail(TASK_LIST(eng), &eng->t_active, ti);
	} else if (!t->depth && t->active) {
		t->active = false;
		eng_dl_remove(TASK_LIST(eng), &eng->t_active, ti);
	}
	if (t->depth || t->rc_valid)
		return;
	thash_del(eng, ti);
	eng_dl_push_tail(TASK_LIST(eng), &eng->t_free, ti);
}

/*
 * A policy reloaded under a running engine (SIGHUP): the engine and the
 * finding stage read most of the policy as they go (rules on/off,
 * thresholds; severities and the allow-list per finding), but the engine
 * classifies names and attachments once, when it first sees them.
 * Classify again what is alive so that the new lists apply to it too; the
 * entities themselves, their history and the counters stay.
 */
void da_engine_policy_reloaded(struct da_engine *eng)
{
	for (uint32_t i = 1; i < eng->nnames; i++) {
		eng->names[i].flags &= ~NF_REVOKING_POLICY;
		if (da_namelist_has(&eng->pol->revoking_exporters, eng->names[i].name))
			eng->names[i].flags |= NF_REVOKING_POLICY;
	}
	for (uint32_t i = 0; i < eng->natts; i++) {
		struct eatt *a = &eng->atts[i];
		const struct eops *ops;

		if (!(a->flags & AF_LIVE) || !(a->flags & AF_KNOWN) || a->ops >= eng->nops)
			continue;
		ops = &eng->ops[a->ops];
		a->flags &= ~(AF_STUB_CB | AF_PINNING);
		if (ops->invalidate_cb &&
		    da_namelist_has(&eng->pol->stub_callbacks,
				    da_symbols_lookup(eng->syms, ops->invalidate_cb)))
			a->flags |= AF_STUB_CB;
		if (ops->importer_ops &&
		    da_namelist_has(&eng->pol->pinning_importers,
				    da_symbols_lookup(eng->syms, ops->importer_ops)))
			a->flags |= AF_PINNING;
	}
}

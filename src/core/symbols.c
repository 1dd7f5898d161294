// SPDX-License-Identifier: GPL-2.0
/*
 * Address -> name table.  Open addressing on the address; a miss asks the
 * resolver once and caches the answer, NULL included, so a live run reads
 * kallsyms once per distinct ops table or callback, not once per event.
 * A second open-addressing index on the name makes interning a hand-written
 * name O(1): a JSON trace with 80k distinct names must not take a scan per
 * name.
 *
 * The stack table (STACK records of a binary trace) is hashed on the stack
 * id and bounded, see symbols.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/symbols.h"

/* Synthetic addresses for names without one (hand-written traces). */
#define SYNTH_BASE 0x5e00000000000000ull

/*
 * The open addressing both tables use (address -> name, stack id -> frames):
 * slots of slot_size bytes that start with struct oa_key, linear probing
 * from a Fibonacci hash of the key, a power-of-two capacity kept at most
 * half full.
 */
struct oa_key {
	uint64_t key;
	bool used;
};

struct oa_table {
	void *slots;
	size_t slot_size;
	size_t cap;		/* power of two */
	size_t used;
};

static int oa_init(struct oa_table *t, size_t slot_size, size_t cap)
{
	t->slots = calloc(cap, slot_size);
	t->slot_size = slot_size;
	t->cap = cap;
	t->used = 0;
	return t->slots ? 0 : -ENOMEM;
}

static struct oa_key *oa_at(const struct oa_table *t, size_t i)
{
	return (struct oa_key *)((char *)t->slots + i * t->slot_size);
}

/* the slot of key, or the empty slot where it would go */
static void *oa_find(const struct oa_table *t, uint64_t key)
{
	/* kernel addresses differ mostly in low bits: the multiply spreads them */
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (t->cap - 1);
	struct oa_key *k;

	while ((k = oa_at(t, i))->used && k->key != key)
		i = (i + 1) & (t->cap - 1);
	return k;
}

/* Room for one more key: doubles the table when it would be over half full. */
static int oa_reserve(struct oa_table *t)
{
	struct oa_table old = *t;

	if ((t->used + 1) * 2 <= t->cap)
		return 0;
	if (oa_init(t, old.slot_size, old.cap * 2)) {
		*t = old;
		return -ENOMEM;
	}
	t->used = old.used;
	for (size_t i = 0; i < old.cap; i++) {
		const struct oa_key *k = oa_at(&old, i);

		if (k->used)
			memcpy(oa_find(t, k->key), k, t->slot_size);
	}
	free(old.slots);
	return 0;
}

/* a slot oa_find returned, taken for key (a new key: the caller has reserved room) */
static void oa_claim(struct oa_table *t, struct oa_key *k, uint64_t key)
{
	if (k->used)
		return;
	k->used = true;
	k->key = key;
	t->used++;
}

struct sym_slot {
	struct oa_key addr;	/* the address is the key; never 0 */
	char *name;		/* NULL = known to have no name */
};

struct da_symbols {
	struct oa_table addrs;	/* of struct sym_slot */
	/*
	 * name -> address: addresses whose slot held that name when indexed.
	 * A renamed address leaves a stale entry, skipped because its slot's
	 * name no longer matches; stale entries count in names_used.
	 */
	uint64_t *names;	/* 0 = empty */
	size_t names_cap;	/* power of two */
	size_t names_used;
	uint64_t next_synth;
	da_sym_resolver_fn resolver;
	void *resolver_ctx;
};

static struct sym_slot *sym_at(const struct da_symbols *syms, size_t i)
{
	return (struct sym_slot *)oa_at(&syms->addrs, i);
}

struct da_symbols *da_symbols_new(void)
{
	struct da_symbols *syms = calloc(1, sizeof(*syms));

	if (!syms)
		return NULL;
	oa_init(&syms->addrs, sizeof(struct sym_slot), 256);
	syms->names_cap = 256;
	syms->names = calloc(syms->names_cap, sizeof(*syms->names));
	syms->next_synth = SYNTH_BASE;
	if (!syms->addrs.slots || !syms->names) {
		da_symbols_free(syms);
		return NULL;
	}
	return syms;
}

void da_symbols_free(struct da_symbols *syms)
{
	if (!syms)
		return;
	for (size_t i = 0; syms->addrs.slots && i < syms->addrs.cap; i++)
		free(sym_at(syms, i)->name);
	free(syms->addrs.slots);
	free(syms->names);
	free(syms);
}

void da_symbols_set_resolver(struct da_symbols *syms, da_sym_resolver_fn fn, void *ctx)
{
	syms->resolver = fn;
	syms->resolver_ctx = ctx;
}

static struct sym_slot *find(const struct da_symbols *syms, uint64_t addr)
{
	return oa_find(&syms->addrs, addr);
}

/* FNV-1a: names are short, and a hash per interned name is all it costs */
static size_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32));
}

/* the index entry for name: its address, or the empty entry where it would go */
static uint64_t *find_name(const struct da_symbols *syms, const char *name)
{
	size_t i = name_hash(name) & (syms->names_cap - 1);

	for (;; i = (i + 1) & (syms->names_cap - 1)) {
		uint64_t addr = syms->names[i];
		const char *have;

		if (!addr)
			return &syms->names[i];
		have = find(syms, addr)->name;
		if (have && !strcmp(have, name))
			return &syms->names[i];
	}
}

static int grow_names(struct da_symbols *syms)
{
	uint64_t *old = syms->names;
	size_t old_cap = syms->names_cap;

	syms->names = calloc(old_cap * 2, sizeof(*syms->names));
	if (!syms->names) {
		syms->names = old;
		return -ENOMEM;
	}
	syms->names_cap = old_cap * 2;
	syms->names_used = 0;
	/* re-index from the slots: stale entries go away */
	for (size_t i = 0; i < syms->addrs.cap; i++) {
		const struct sym_slot *slot = sym_at(syms, i);
		uint64_t *e;

		if (!slot->addr.used || !slot->name)
			continue;
		e = find_name(syms, slot->name);
		if (!*e) {
			*e = slot->addr.key;
			syms->names_used++;
		}
	}
	free(old);
	return 0;
}

/* Insert or replace; name may be NULL (negative cache entry). */
static int put(struct da_symbols *syms, uint64_t addr, const char *name)
{
	struct sym_slot *slot;
	char *copy = NULL;
	uint64_t *entry;

	if (oa_reserve(&syms->addrs))
		return -ENOMEM;
	if (name && (syms->names_used + 1) * 2 > syms->names_cap && grow_names(syms))
		return -ENOMEM;
	if (name && !(copy = strdup(name)))
		return -ENOMEM;
	slot = find(syms, addr);
	oa_claim(&syms->addrs, &slot->addr, addr);
	free(slot->name);
	slot->name = copy;
	if (copy) {
		entry = find_name(syms, copy);
		if (!*entry) {
			*entry = addr;
			syms->names_used++;
		}
	}
	return 0;
}

int da_symbols_add(struct da_symbols *syms, uint64_t addr, const char *name)
{
	if (!addr || !name)
		return -EINVAL;
	return put(syms, addr, name);
}

const char *da_symbols_lookup(struct da_symbols *syms, uint64_t addr)
{
	struct sym_slot *slot;

	if (!syms || !addr)
		return NULL;
	slot = find(syms, addr);
	if (slot->addr.used)
		return slot->name;
	if (!syms->resolver)
		return NULL;
	if (put(syms, addr, syms->resolver(syms->resolver_ctx, addr)))
		return NULL;
	return find(syms, addr)->name;
}

uint64_t da_symbols_intern(struct da_symbols *syms, const char *name)
{
	uint64_t addr = *find_name(syms, name);

	if (addr)
		return addr;
	addr = syms->next_synth;
	syms->next_synth += 0x10;
	if (put(syms, addr, name))
		return 0;
	return addr;
}

void da_symbols_foreach(struct da_symbols *syms,
			void (*fn)(void *ctx, uint64_t addr, const char *name), void *ctx)
{
	for (size_t i = 0; i < syms->addrs.cap; i++) {
		const struct sym_slot *slot = sym_at(syms, i);

		if (slot->addr.used && slot->name)
			fn(ctx, slot->addr.key, slot->name);
	}
}

/* ------------------------------------------------------------------ stacks */

struct stack_slot {
	struct oa_key id;	/* the stack id, as uint32_t, is the key */
	unsigned int n;
	size_t bytes;		/* of the frame strings, for the byte bound */
	char **frames;		/* one block: n pointers, then the strings */
};

struct da_stacks {
	struct oa_table ids;	/* of struct stack_slot */
	size_t bytes;
};

static struct stack_slot *stack_at(const struct da_stacks *t, size_t i)
{
	return (struct stack_slot *)oa_at(&t->ids, i);
}

struct da_stacks *da_stacks_new(void)
{
	struct da_stacks *t = calloc(1, sizeof(*t));

	if (t && oa_init(&t->ids, sizeof(struct stack_slot), 64)) {
		free(t);
		return NULL;
	}
	return t;
}

void da_stacks_free(struct da_stacks *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ids.cap; i++)
		free(stack_at(t, i)->frames);
	free(t->ids.slots);
	free(t);
}

static struct stack_slot *stack_find(const struct da_stacks *t, int32_t id)
{
	return oa_find(&t->ids, (uint32_t)id);
}

/* n frame pointers and the strings they point at, in one allocation */
static char **copy_frames(const char *const *frames, unsigned int n, size_t bytes)
{
	char **copy = malloc(n * sizeof(*copy) + bytes + 1);
	char *text;

	if (!copy)
		return NULL;
	text = (char *)(copy + n);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = strlen(frames[i]) + 1;

		copy[i] = memcpy(text, frames[i], len);
		text += len;
	}
	return copy;
}

int da_stacks_set(struct da_stacks *t, int32_t id, const char *const *frames, unsigned int n)
{
	struct stack_slot *slot = stack_find(t, id);
	size_t bytes = 0;
	char **copy;

	for (unsigned int i = 0; i < n; i++)
		bytes += strlen(frames[i]) + 1;
	if ((!slot->id.used && t->ids.used >= DA_STACKS_MAX) ||
	    t->bytes - (slot->id.used ? slot->bytes : 0) + bytes > DA_STACKS_MAX_BYTES)
		return -ENOSPC;
	if (!slot->id.used) {
		if (oa_reserve(&t->ids))
			return -ENOMEM;
		slot = stack_find(t, id);
	}
	copy = copy_frames(frames, n, bytes);
	if (!copy)
		return -ENOMEM;
	if (slot->id.used) {
		t->bytes -= slot->bytes;
		free(slot->frames);
	}
	oa_claim(&t->ids, &slot->id, (uint32_t)id);
	slot->frames = copy;
	slot->n = n;
	slot->bytes = bytes;
	t->bytes += bytes;
	return 0;
}

unsigned int da_stacks_resolve(void *ctx, int32_t stack_id, const char **frames, unsigned int max)
{
	const struct stack_slot *slot = stack_find(ctx, stack_id);
	unsigned int n;

	if (!slot->id.used)
		return 0;
	n = slot->n < max ? slot->n : max;
	for (unsigned int i = 0; i < n; i++)
		frames[i] = slot->frames[i];
	return n;
}

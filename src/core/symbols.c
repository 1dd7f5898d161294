// SPDX-License-Identifier: GPL-2.0
/*
 * Address -> name table.  Open addressing on the address; a miss asks the
 * resolver once and caches the answer, NULL included, so a live run reads
 * kallsyms once per distinct ops table or callback, not once per event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmabuf_audit/symbols.h"

/* Synthetic addresses for names without one (hand-written traces). */
#define SYNTH_BASE 0x5e00000000000000ull

struct sym_slot {
	uint64_t addr;		/* 0 = empty */
	char *name;		/* NULL = known to have no name */
};

struct da_symbols {
	struct sym_slot *slots;
	size_t cap;		/* power of two */
	size_t used;
	uint64_t next_synth;
	da_sym_resolver_fn resolver;
	void *resolver_ctx;
};

static size_t slot_of(const struct da_symbols *syms, uint64_t addr)
{
	/* Fibonacci hashing: kernel addresses differ mostly in low bits */
	return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 20) & (syms->cap - 1);
}

struct da_symbols *da_symbols_new(void)
{
	struct da_symbols *syms = calloc(1, sizeof(*syms));

	if (!syms)
		return NULL;
	syms->cap = 256;
	syms->slots = calloc(syms->cap, sizeof(*syms->slots));
	if (!syms->slots) {
		free(syms);
		return NULL;
	}
	syms->next_synth = SYNTH_BASE;
	return syms;
}

void da_symbols_free(struct da_symbols *syms)
{
	if (!syms)
		return;
	for (size_t i = 0; i < syms->cap; i++)
		free(syms->slots[i].name);
	free(syms->slots);
	free(syms);
}

void da_symbols_set_resolver(struct da_symbols *syms, da_sym_resolver_fn fn, void *ctx)
{
	syms->resolver = fn;
	syms->resolver_ctx = ctx;
}

static struct sym_slot *find(const struct da_symbols *syms, uint64_t addr)
{
	size_t i = slot_of(syms, addr);

	while (syms->slots[i].addr && syms->slots[i].addr != addr)
		i = (i + 1) & (syms->cap - 1);
	return &syms->slots[i];
}

static int grow(struct da_symbols *syms)
{
	struct sym_slot *old = syms->slots;
	size_t old_cap = syms->cap;

	syms->slots = calloc(old_cap * 2, sizeof(*syms->slots));
	if (!syms->slots) {
		syms->slots = old;
		return -ENOMEM;
	}
	syms->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].addr)
			*find(syms, old[i].addr) = old[i];
	free(old);
	return 0;
}

/* Insert or replace; name may be NULL (negative cache entry). */
static int put(struct da_symbols *syms, uint64_t addr, const char *name)
{
	struct sym_slot *slot;
	char *copy = NULL;

	if ((syms->used + 1) * 2 > syms->cap && grow(syms))
		return -ENOMEM;
	if (name && !(copy = strdup(name)))
		return -ENOMEM;
	slot = find(syms, addr);
	if (!slot->addr) {
		slot->addr = addr;
		syms->used++;
	}
	free(slot->name);
	slot->name = copy;
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
	if (slot->addr)
		return slot->name;
	if (!syms->resolver)
		return NULL;
	if (put(syms, addr, syms->resolver(syms->resolver_ctx, addr)))
		return NULL;
	return find(syms, addr)->name;
}

uint64_t da_symbols_intern(struct da_symbols *syms, const char *name)
{
	uint64_t addr;

	for (size_t i = 0; i < syms->cap; i++)
		if (syms->slots[i].name && !strcmp(syms->slots[i].name, name))
			return syms->slots[i].addr;
	addr = syms->next_synth;
	syms->next_synth += 0x10;
	if (put(syms, addr, name))
		return 0;
	return addr;
}

void da_symbols_foreach(struct da_symbols *syms,
			void (*fn)(void *ctx, uint64_t addr, const char *name), void *ctx)
{
	for (size_t i = 0; i < syms->cap; i++)
		if (syms->slots[i].addr && syms->slots[i].name)
			fn(ctx, syms->slots[i].addr, syms->slots[i].name);
}

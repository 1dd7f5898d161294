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

struct sym_slot {
	uint64_t addr;		/* 0 = empty */
	char *name;		/* NULL = known to have no name */
};

struct da_symbols {
	struct sym_slot *slots;
	size_t cap;		/* power of two */
	size_t used;
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
	syms->names_cap = 256;
	syms->names = calloc(syms->names_cap, sizeof(*syms->names));
	if (!syms->slots || !syms->names) {
		free(syms->slots);
		free(syms->names);
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
	for (size_t i = 0; i < syms->cap; i++) {
		uint64_t *e;

		if (!syms->slots[i].addr || !syms->slots[i].name)
			continue;
		e = find_name(syms, syms->slots[i].name);
		if (!*e) {
			*e = syms->slots[i].addr;
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

	if ((syms->used + 1) * 2 > syms->cap && grow(syms))
		return -ENOMEM;
	if (name && (syms->names_used + 1) * 2 > syms->names_cap && grow_names(syms))
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
	for (size_t i = 0; i < syms->cap; i++)
		if (syms->slots[i].addr && syms->slots[i].name)
			fn(ctx, syms->slots[i].addr, syms->slots[i].name);
}

/* ------------------------------------------------------------------ stacks */

struct stack_slot {
	bool used;
	int32_t id;
	unsigned int n;
	size_t bytes;		/* of the frame strings, for the byte bound */
	char **frames;		/* one block: n pointers, then the strings */
};

struct da_stacks {
	struct stack_slot *slots;
	size_t cap;		/* power of two */
	size_t used;
	size_t bytes;
};

struct da_stacks *da_stacks_new(void)
{
	struct da_stacks *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 64;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void da_stacks_free(struct da_stacks *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].frames);
	free(t->slots);
	free(t);
}

static struct stack_slot *stack_find(const struct da_stacks *t, int32_t id)
{
	size_t i = (size_t)(((uint64_t)(uint32_t)id * 0x9e3779b97f4a7c15ull) >> 32) & (t->cap - 1);

	while (t->slots[i].used && t->slots[i].id != id)
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static int stack_grow(struct da_stacks *t)
{
	struct stack_slot *old = t->slots;
	size_t old_cap = t->cap;

	t->slots = calloc(old_cap * 2, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			*stack_find(t, old[i].id) = old[i];
	free(old);
	return 0;
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
	if ((!slot->used && t->used >= DA_STACKS_MAX) ||
	    t->bytes - (slot->used ? slot->bytes : 0) + bytes > DA_STACKS_MAX_BYTES)
		return -ENOSPC;
	if (!slot->used && (t->used + 1) * 2 > t->cap) {
		if (stack_grow(t))
			return -ENOMEM;
		slot = stack_find(t, id);
	}
	copy = copy_frames(frames, n, bytes);
	if (!copy)
		return -ENOMEM;
	if (slot->used) {
		t->bytes -= slot->bytes;
		free(slot->frames);
	} else {
		slot->used = true;
		slot->id = id;
		t->used++;
	}
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

	if (!slot->used)
		return 0;
	n = slot->n < max ? slot->n : max;
	for (unsigned int i = 0; i < n; i++)
		frames[i] = slot->frames[i];
	return n;
}

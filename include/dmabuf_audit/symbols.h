/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Address -> kernel symbol name, for importer ops and invalidate callbacks.
 *
 * Exact matches only: an ops table or a callback is named by the address of
 * its symbol.  Filled from /proc/kallsyms on a live system (a resolver
 * callback is asked on a miss), from the symbol table of a recorded trace,
 * or from names written in hand-made JSON traces.
 */
#ifndef DMABUF_AUDIT_SYMBOLS_H
#define DMABUF_AUDIT_SYMBOLS_H

#include <stdint.h>

struct da_symbols;

/*
 * Called on a lookup miss; returns a name (copied by the table) or NULL.
 * A NULL answer is cached too, so each address is resolved once.
 */
typedef const char *(*da_sym_resolver_fn)(void *ctx, uint64_t addr);

struct da_symbols *da_symbols_new(void);
void da_symbols_free(struct da_symbols *syms);
void da_symbols_set_resolver(struct da_symbols *syms, da_sym_resolver_fn fn, void *ctx);
/* 0, or -ENOMEM */
int da_symbols_add(struct da_symbols *syms, uint64_t addr, const char *name);
/* the name, or NULL when unknown (address 0 is always NULL) */
const char *da_symbols_lookup(struct da_symbols *syms, uint64_t addr);
/*
 * Address of a name: for hand-written traces that name ops by symbol.  Known
 * names give their address; a new name gets a synthetic address (a fixed
 * high range no kernel pointer uses) that is stable within the run.
 */
uint64_t da_symbols_intern(struct da_symbols *syms, const char *name);

/* visit every known (addr, name) pair, e.g. to write a record's table */
void da_symbols_foreach(struct da_symbols *syms,
			void (*fn)(void *ctx, uint64_t addr, const char *name), void *ctx);

/*
 * Stack id -> frames ("symbol+0xoff", innermost first): the STACK records of
 * a binary trace, for --stacks when replaying it.  Hashed on the id, and
 * bounded so that a damaged or hostile record cannot take all memory: at most
 * DA_STACKS_MAX stacks (a live run's stack map holds 16384) and
 * DA_STACKS_MAX_BYTES of frame text.  Setting an id again replaces its frames.
 */
#define DA_STACKS_MAX 65536
#define DA_STACKS_MAX_BYTES (64u << 20)

struct da_stacks;

struct da_stacks *da_stacks_new(void);
void da_stacks_free(struct da_stacks *stacks);
/* 0; -ENOMEM; -ENOSPC when the table would go past its bounds */
int da_stacks_set(struct da_stacks *stacks, int32_t id, const char *const *frames, unsigned int n);
/* a da_stack_resolver_fn (pipeline.h) over ctx = struct da_stacks * */
unsigned int da_stacks_resolve(void *ctx, int32_t stack_id, const char **frames, unsigned int max);

#endif /* DMABUF_AUDIT_SYMBOLS_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the binary record reader (record.c), and the symbol and
 * stack tables its records fill.  Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which skips the checksum so that
 * mutated records reach the decoding and the domain checks behind it.
 * Every record a reader hands over must be within its domain: a field out
 * of range that got through is a crash here.
 */
#include <errno.h>
#include <string.h>

#include "dmabuf_audit/record.h"
#include "dmabuf_audit/symbols.h"
#include "fuzz_input.h"

static void check_item(const struct da_record_item *item, unsigned int n_scopes)
{
	char why[160];

	if (item->type == DA_REC_EVENT && da_event_check(&item->event, n_scopes, why, sizeof(why)))
		abort();
	if (item->type == DA_REC_LOST &&
	    da_lost_check(item->first_seq, item->count, why, sizeof(why)))
		abort();
	if (item->type == DA_REC_STACK && item->n_frames > DA_RECORD_MAX_FRAMES)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct da_record_item item;
	struct da_trace_info trace;
	char err[768] = "";
	struct da_record_reader *r =
		da_record_reader_open(fuzz_input_path(data, size), err, sizeof(err));
	struct da_symbols *syms = da_symbols_new();
	struct da_stacks *stacks = da_stacks_new();

	if (!r || !syms || !stacks)
		abort();
	if (!da_record_read_header(r, &trace, err, sizeof(err))) {
		while (da_record_next(r, &item, err, sizeof(err)) > 0) {
			check_item(&item, trace.n_scopes);
			if (item.type == DA_REC_SYMBOL &&
			    da_symbols_add(syms, item.addr, item.name))
				abort();
			if (item.type == DA_REC_STACK) {
				int ret = da_stacks_set(stacks, item.stack_id, item.frames,
							item.n_frames);

				if (ret && ret != -ENOSPC)
					abort();
			}
			if (item.type == DA_REC_SCOPE && item.slot >= trace.n_scopes)
				trace.n_scopes = item.slot + 1;
		}
	}
	if (!memchr(err, '\0', sizeof(err)))
		abort();
	da_stacks_free(stacks);
	da_symbols_free(syms);
	da_record_reader_close(r);
	return 0;
}

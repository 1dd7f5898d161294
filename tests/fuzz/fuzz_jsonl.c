// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the trace reader (trace_reader.c) on any input, which in
 * practice is JSON Lines (jsonl.c: events, header, notices) and the format
 * sniffing in front of both readers.  Every event it hands over must be
 * within the domain a record's events are held to.
 */
#include <string.h>

#include "dmabuf_audit/trace_reader.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct da_record_item item;
	struct da_trace_info trace = { .source = "fuzz" };
	char err[768], why[160];
	struct da_symbols *syms = da_symbols_new();
	struct da_trace_reader *r =
		da_trace_reader_open(fuzz_input_path(data, size), err, sizeof(err));

	if (!syms)
		abort();
	if (r && !da_trace_reader_header(r, &trace, syms, err, sizeof(err))) {
		while (da_trace_reader_next(r, &item, err, sizeof(err)) > 0) {
			if (item.type == DA_REC_EVENT &&
			    da_event_check(&item.event, trace.n_scopes, why, sizeof(why)))
				abort();
			if (item.type == DA_REC_LOST &&
			    da_lost_check(item.first_seq, item.count, why, sizeof(why)))
				abort();
		}
	}
	da_trace_reader_close(r);
	da_symbols_free(syms);
	return 0;
}

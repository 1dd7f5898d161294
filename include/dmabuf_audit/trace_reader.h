/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a recorded trace, whatever its format: a binary record (--record,
 * record.h) or JSON Lines (--events --format json, or hand-written).  FILE
 * ("-" = standard input) is plain or gzip; the content decides, not the
 * name.  Both formats come out as the same items (struct da_record_item), so
 * the replay command drives the pipeline the same way for both.  Formats and
 * messages: docs/output.md.
 */
#ifndef DMABUF_AUDIT_TRACE_READER_H
#define DMABUF_AUDIT_TRACE_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "dmabuf_audit/record.h"
#include "dmabuf_audit/symbols.h"
#include "dmabuf_audit/trace.h"

struct da_trace_reader;

/*
 * Open FILE and tell its format from its first bytes.  NULL with err when
 * it cannot be opened or read, is empty, holds only white space, or is
 * neither format.
 */
struct da_trace_reader *da_trace_reader_open(const char *path, char *err, size_t errlen);
/* true for a binary record: the only format that carries kernel stacks */
bool da_trace_reader_is_record(const struct da_trace_reader *r);
/*
 * Read what describes the trace (the record's HEADER, or the JSON header
 * line) into *trace; trace->source is left as the caller set it.  JSON
 * Lines intern their symbol names in syms and add scope slots to trace as
 * events name them (a record's SYMBOL and SCOPE records come out as items
 * instead); trace and syms must live until close.
 * 0, or -1 with err: nothing can be judged (no report).  A bad first JSON
 * line is not an error here: the first da_trace_reader_next returns it,
 * after the report header, as for any later line.
 */
int da_trace_reader_header(struct da_trace_reader *r, struct da_trace_info *trace,
			   struct da_symbols *syms, char *err, size_t errlen);
/*
 * The next item: an EVENT, SYMBOL, LOST, STACK, SCOPE or TICK (JSON Lines
 * give only EVENT and LOST).  1 with *item filled, 0 at the end of the
 * trace, -1 with err naming the byte offset or line and what was wrong.
 */
int da_trace_reader_next(struct da_trace_reader *r, struct da_record_item *item, char *err,
			 size_t errlen);
void da_trace_reader_close(struct da_trace_reader *r);

#endif /* DMABUF_AUDIT_TRACE_READER_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The store of findings kept for a report written at the end (text report,
 * KTAP, JUnit): see finding_store.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finding_store.h"

int da_store_init(struct da_store *st)
{
	memset(st, 0, sizeof(*st));
	st->spill = tmpfile();
	if (!st->spill) {
		/* no writable temporary directory (a bare initramfs): keep it in memory */
		st->spill = open_memstream(&st->mem, &st->memlen);
		if (!st->spill)
			return -1;
	}
	return 0;
}

int da_store_add(struct da_store *st, const struct da_finding *f, const char *text, size_t len)
{
	struct da_store_entry *e;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		void *p = realloc(st->entries, cap * sizeof(*st->entries));

		if (!p) {
			st->error = ENOMEM;
			return -1;
		}
		st->entries = p;
		st->cap = cap;
	}
	if (fseek(st->spill, 0, SEEK_END)) {
		st->error = errno;
		return -1;
	}
	e = &st->entries[st->n];
	e->offset = ftell(st->spill);
	e->len = len;
	e->buf_ptr = f->buffer.ptr;
	e->buf_ino = f->buffer.ino;
	e->buf_size = f->buffer.size;
	if (f->buffer.exporter)
		da_clean_str(e->exporter, sizeof(e->exporter), f->buffer.exporter,
			     sizeof(e->exporter));
	else
		e->exporter[0] = '\0';
	e->rule = (uint8_t)f->rule;
	e->severity = (uint8_t)f->severity;
	e->index = (uint32_t)st->n;
	if (e->offset < 0 || fwrite(text, 1, len, st->spill) != len) {
		st->error = errno ? errno : EIO;
		return -1;
	}
	st->n++;
	return 0;
}

char *da_store_text(struct da_store *st, const struct da_store_entry *e)
{
	char *s = malloc(e->len + 1);

	if (!s)
		return NULL;
	if (fflush(st->spill) || fseek(st->spill, e->offset, SEEK_SET) ||
	    fread(s, 1, e->len, st->spill) != e->len) {
		free(s);
		st->error = errno ? errno : EIO;
		return NULL;
	}
	s[e->len] = '\0';
	return s;
}

/* qsort order of two keys */
static int order(uint64_t x, uint64_t y)
{
	return x < y ? -1 : x > y;
}

/* by rule, then arrival */
static int by_rule(const void *a, const void *b)
{
	const struct da_store_entry *x = a, *y = b;

	return x->rule != y->rule ? order(x->rule, y->rule) : order(x->index, y->index);
}

void da_store_sort_by_rule(struct da_store *st)
{
	if (st->n)
		qsort(st->entries, st->n, sizeof(*st->entries), by_rule);
}

/* by buffer (pointer, then inode), then arrival */
static int by_key(const void *a, const void *b)
{
	const struct da_store_entry *x = a, *y = b;

	if (x->buf_ptr != y->buf_ptr)
		return order(x->buf_ptr, y->buf_ptr);
	return x->buf_ino != y->buf_ino ? order(x->buf_ino, y->buf_ino) : order(x->index, y->index);
}

/* after by_key, group holds the group's first arrival index: by group, then arrival */
static int by_group(const void *a, const void *b)
{
	const struct da_store_entry *x = a, *y = b;

	return x->group != y->group ? order(x->group, y->group) : order(x->index, y->index);
}

void da_store_sort_by_buffer(struct da_store *st)
{
	size_t i, start;

	if (!st->n)
		return;
	qsort(st->entries, st->n, sizeof(*st->entries), by_key);
	/* each group sorted by arrival: its first entry is its first finding */
	for (start = 0, i = 1; i <= st->n; i++) {
		if (i < st->n && st->entries[i].buf_ptr == st->entries[start].buf_ptr &&
		    st->entries[i].buf_ino == st->entries[start].buf_ino)
			continue;
		for (size_t j = start; j < i; j++)
			st->entries[j].group = st->entries[start].index;
		start = i;
	}
	qsort(st->entries, st->n, sizeof(*st->entries), by_group);
}

size_t da_store_rule_end(const struct da_store *st, size_t first, int rule)
{
	size_t end = first;

	while (end < st->n && st->entries[end].rule == rule)
		end++;
	return end;
}

void da_store_fini(struct da_store *st)
{
	if (st->spill)
		fclose(st->spill);
	free(st->mem);
	free(st->entries);
	memset(st, 0, sizeof(*st));
}

/* ---- for the sinks: a failure is left in the sink's error ---- */

int da_sink_store_open(struct da_sink *s, struct da_store *st)
{
	if (!da_store_init(st))
		return 0;
	s->error = errno ? errno : ENOMEM;
	return -1;
}

void da_sink_store_finding(struct da_sink *s, struct da_store *st, const struct da_finding *f,
			   da_sink_render_fn render)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem) {
		s->error = errno ? errno : ENOMEM;
		return;
	}
	render(mem, s, f);
	if (fclose(mem) || da_store_add(st, f, text, len))
		s->error = st->error ? st->error : ENOMEM;
	free(text);
}

char *da_sink_store_text(struct da_sink *s, struct da_store *st, const struct da_store_entry *e)
{
	char *text = da_store_text(st, e);

	if (!text)
		s->error = st->error ? st->error : ENOMEM;
	return text;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/core: the readers' error return, a message written into
 * the caller's buffer and -1, in one statement: return da_errorf(err, len, ...).
 */
#ifndef DMABUF_AUDIT_ERRORF_H
#define DMABUF_AUDIT_ERRORF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline int da_errorf(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline int da_errorf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

#endif /* DMABUF_AUDIT_ERRORF_H */

/* SPDX-License-Identifier: MIT */
/*
 * A small AML encoder (ACPI 6.x, section 20.2) for the DSDT: a growable byte
 * buffer that never grows past a bound, and emitters for the terms gmvm's
 * tables use -- names, integers, strings, EISA IDs, Name, Scope, Device,
 * packages of integers and resource template buffers.
 *
 * Errors are sticky, as with the vmstate writer: the first failure (-EINVAL
 * for a bad argument, -ENOSPC past the bound, -E2BIG for a package longer
 * than a PkgLength can say, -ENOMEM) is kept in b->err, every later call
 * does nothing, and aml_finish() reports it. A builder emits a whole
 * definition block and checks once.
 *
 * Packages nest: aml_scope() and aml_device() open one, aml_close() closes
 * the innermost and writes its PkgLength in front of its body.
 *
 * Resource descriptors (section 6.4) go into a buffer of their own, which
 * aml_resource_template() then emits as a Buffer with the End Tag.
 */
#ifndef GMVM_AML_H
#define GMVM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8		/* open packages at once */
#define AML_PKGLEN_MAX 4	/* bytes of the longest PkgLength */
/* The longest package body a 4-byte PkgLength can describe. */
#define AML_PKG_BODY_MAX (0x0fffffffu - AML_PKGLEN_MAX)

/* Extended Interrupt descriptor flags (ACPI 6.4.3.6). */
#define AML_IRQ_CONSUMER 0x01
#define AML_IRQ_EDGE 0x02		/* else level-triggered */
#define AML_IRQ_ACTIVE_LOW 0x04		/* else active-high */
#define AML_IRQ_SHARED 0x08		/* else exclusive */
#define AML_IRQ_WAKE 0x10

struct aml_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;			/* len never exceeds this */
	int err;			/* first failure (-errno), sticky */
	unsigned int depth;		/* open packages */
	size_t open[AML_MAX_DEPTH];	/* where each one's body starts */
};

/* An empty buffer that refuses to hold more than max bytes. */
void aml_init(struct aml_buf *b, size_t max);
void aml_free(struct aml_buf *b);

/* 0 when everything so far was emitted and closed, else the first error. */
int aml_finish(struct aml_buf *b);

/* Raw bytes. */
void aml_append(struct aml_buf *b, const void *p, size_t n);
void aml_byte(struct aml_buf *b, uint8_t v);

/*
 * The PkgLength for a package body of body bytes: the value counts its own
 * bytes, so the smallest encoding that holds body plus itself is chosen.
 * Returns its size (1 to 4) with out filled, or -E2BIG.
 */
int aml_encode_pkglen(size_t body, uint8_t out[AML_PKGLEN_MAX]);

/* The 32-bit EISA ID of "PNP0501"-style id (3 letters, 4 hex digits). */
int aml_eisaid_value(const char *id, uint32_t *v);

/* Data objects. Integers take the smallest encoding; Ones is 64-bit. */
void aml_integer(struct aml_buf *b, uint64_t v);
void aml_string(struct aml_buf *b, const char *s);
void aml_eisaid(struct aml_buf *b, const char *id);

/*
 * A NameString: an optional root ('\') or parent ('^') prefix, then
 * dot-separated segments of 1 to 4 characters, padded with '_'
 * ("\_SB.COM1", "_HID").
 */
void aml_namestring(struct aml_buf *b, const char *path);

/* Name (path, ...): the object that follows is the value. */
void aml_name(struct aml_buf *b, const char *path);

/* Open Scope (path) or Device (path); aml_close() ends the innermost. */
void aml_scope(struct aml_buf *b, const char *path);
void aml_device(struct aml_buf *b, const char *path);
void aml_close(struct aml_buf *b);

/* Open Method (path, nargs) (not serialized); aml_close() ends it. */
void aml_method(struct aml_buf *b, const char *path, unsigned int nargs);
/* Notify (path, value), as a statement of the open method. */
void aml_notify(struct aml_buf *b, const char *path, uint64_t value);

/*
 * Package () { v[0], ..., v[n - 1] }: n integers (at most 255), each in its
 * smallest encoding, as \_S5's { SLP_TYPa, SLP_TYPb }.
 */
void aml_package(struct aml_buf *b, const uint64_t *v, unsigned int n);

/* Resource descriptors, into a buffer of their own. */
void aml_res_io(struct aml_buf *rt, uint16_t min, uint16_t max,
		uint8_t align, uint8_t len);
void aml_res_irq(struct aml_buf *rt, unsigned int irq);	/* IRQNoFlags */
void aml_res_memory32_fixed(struct aml_buf *rt, uint32_t base, uint32_t len,
			    bool writable);
void aml_res_interrupt(struct aml_buf *rt, uint32_t gsi, unsigned int flags);

/*
 * ResourceTemplate () { rt }: a Buffer holding rt's descriptors and an End
 * Tag whose checksum makes the bytes of the template sum to zero.
 */
void aml_resource_template(struct aml_buf *b, const struct aml_buf *rt);

#endif /* GMVM_AML_H */

// SPDX-License-Identifier: MIT
/* vmstate blobs: writing with libfdt's sequential API, checked reading. */
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vmstate.h"

#define VMSTATE_INITIAL_SIZE (64u << 10)

static int fdt_errno(int fdt_err)
{
	return fdt_err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

/* Run op; on NOSPACE double the buffer and retry (libfdt allows resizing). */
#define VMSTATE_TRY(w, op)                                                     \
	do {                                                                   \
		int r_;                                                        \
		if ((w)->err)                                                  \
			break;                                                 \
		while ((r_ = (op)) == -FDT_ERR_NOSPACE &&                      \
		       vmstate_grow(w) == 0)                                   \
			;                                                      \
		if (r_ < 0 && !(w)->err)                                       \
			(w)->err = fdt_errno(r_);                              \
	} while (0)

static int vmstate_grow(struct vmstate_writer *w)
{
	size_t size = w->size * 2;
	void *buf;

	if (size > VMSTATE_MAX_SIZE || !(buf = malloc(size))) {
		w->err = -ENOMEM;
		return -ENOMEM;
	}
	if (fdt_resize(w->fdt, buf, size) < 0) {
		free(buf);
		w->err = -EINVAL;
		return -EINVAL;
	}
	free(w->fdt);
	w->fdt = buf;
	w->size = size;
	return 0;
}

int vmstate_writer_init(struct vmstate_writer *w)
{
	w->size = VMSTATE_INITIAL_SIZE;
	w->err = 0;
	w->fdt = malloc(w->size);
	if (!w->fdt)
		return -ENOMEM;
	VMSTATE_TRY(w, fdt_create(w->fdt, w->size));
	VMSTATE_TRY(w, fdt_finish_reservemap(w->fdt));
	VMSTATE_TRY(w, fdt_begin_node(w->fdt, ""));
	vmstate_put_u32(w, "checksum", 0);
	vmstate_put_str(w, "magic", VMSTATE_MAGIC);
	vmstate_put_u32(w, "version", VMSTATE_VERSION);
	vmstate_put_u32(w, "revision", VMSTATE_REVISION);
	return w->err;
}

void vmstate_writer_free(struct vmstate_writer *w)
{
	free(w->fdt);
	w->fdt = NULL;
}

void vmstate_begin(struct vmstate_writer *w, const char *name)
{
	VMSTATE_TRY(w, fdt_begin_node(w->fdt, name));
}

void vmstate_end(struct vmstate_writer *w)
{
	VMSTATE_TRY(w, fdt_end_node(w->fdt));
}

void vmstate_put_u32(struct vmstate_writer *w, const char *name, uint32_t v)
{
	VMSTATE_TRY(w, fdt_property_u32(w->fdt, name, v));
}

void vmstate_put_u64(struct vmstate_writer *w, const char *name, uint64_t v)
{
	VMSTATE_TRY(w, fdt_property_u64(w->fdt, name, v));
}

void vmstate_put_str(struct vmstate_writer *w, const char *name,
		     const char *v)
{
	VMSTATE_TRY(w, fdt_property_string(w->fdt, name, v));
}

void vmstate_put_blob(struct vmstate_writer *w, const char *name,
		      const void *data, size_t len)
{
	if (len > VMSTATE_MAX_SIZE) {
		w->err = w->err ? w->err : -E2BIG;
		return;
	}
	VMSTATE_TRY(w, fdt_property(w->fdt, name, data, len));
}

static uint32_t vmstate_checksum(const void *fdt, size_t len)
{
	return crc32c(0, fdt, len);
}

int vmstate_finish(struct vmstate_writer *w, const void **blob, size_t *len)
{
	VMSTATE_TRY(w, fdt_end_node(w->fdt));
	VMSTATE_TRY(w, fdt_finish(w->fdt));
	if (w->err)
		return w->err;
	*len = fdt_totalsize(w->fdt);
	if (fdt_setprop_inplace_u32(w->fdt, 0, "checksum",
				    vmstate_checksum(w->fdt, *len)) < 0)
		return -EINVAL;
	*blob = w->fdt;
	return 0;
}

static int vmstate_check_checksum(const void *fdt, size_t len, struct err *e)
{
	const fdt32_t *prop;
	uint32_t want, got;
	void *copy;
	int plen;

	prop = fdt_getprop(fdt, 0, "checksum", &plen);
	if (!prop || plen != 4)
		return err_set(e, EINVAL, "no checksum");
	want = fdt32_to_cpu(*prop);
	copy = malloc(len);
	if (!copy)
		return err_set(e, ENOMEM, "out of memory");
	memcpy(copy, fdt, len);
	fdt_setprop_inplace_u32(copy, 0, "checksum", 0);
	got = vmstate_checksum(copy, len);
	free(copy);
	if (got != want)
		return err_set(e, EINVAL, "checksum mismatch (stored %#x, computed %#x): the file is damaged",
			       want, got);
	return 0;
}

int vmstate_open(struct vmstate *vs, const void *buf, size_t len,
		 struct err *e)
{
	const char *magic;
	int mlen, r;
	uint32_t version;

	if (len < sizeof(struct fdt_header) || len > VMSTATE_MAX_SIZE)
		return err_set(e, EINVAL, "size %zu is not that of a vmstate", len);
	/*
	 * gmvm writes version 17 trees only. libfdt 1.6's fdt_check_full()
	 * dereferences NULL on some trees of the old versions (< 16, names
	 * inline in the structure block): never hand it one.
	 */
	r = fdt_check_header(buf);
	if (r < 0)
		return err_set(e, EINVAL, "not a valid device tree: %s", fdt_strerror(r));
	if (fdt_version(buf) != 17 || fdt_last_comp_version(buf) != 16)
		return err_set(e, EINVAL, "device tree version %u (compatible with %u), not 17 (16) as gmvm writes",
			       fdt_version(buf), fdt_last_comp_version(buf));
	r = fdt_check_full(buf, len);
	if (r < 0)
		return err_set(e, EINVAL, "not a valid device tree: %s", fdt_strerror(r));
	if (fdt_totalsize(buf) != len)
		return err_set(e, EINVAL, "device tree of %u bytes in a file of %zu",
			       fdt_totalsize(buf), len);
	magic = fdt_getprop(buf, 0, "magic", &mlen);
	if (!magic || mlen != sizeof(VMSTATE_MAGIC) ||
	    memcmp(magic, VMSTATE_MAGIC, mlen))
		return err_set(e, EINVAL, "not a gmvm vmstate (no \"%s\" magic)",
			       VMSTATE_MAGIC);
	vs->fdt = buf;
	if (vmstate_get_u32(vs, 0, "version", &version, e))
		return -EINVAL;
	if (version != VMSTATE_VERSION)
		return err_set(e, EINVAL, "format version %u, this gmvm reads version %u",
			       version, VMSTATE_VERSION);
	vs->revision = 0;
	if (vmstate_has(vs, 0, "revision") &&
	    vmstate_get_u32(vs, 0, "revision", &vs->revision, e))
		return -EINVAL;
	if (vs->revision > VMSTATE_REVISION)
		return err_set(e, EINVAL, "format %u revision %u, written by a newer gmvm: this one reads revisions up to %u and would drop what it does not know",
			       version, vs->revision, VMSTATE_REVISION);
	return vmstate_check_checksum(buf, len, e);
}

int vmstate_node(const struct vmstate *vs, int parent, const char *name)
{
	int off = fdt_subnode_offset(vs->fdt, parent, name);

	return off < 0 ? -ENOENT : off;
}

int vmstate_first_child(const struct vmstate *vs, int parent)
{
	return fdt_first_subnode(vs->fdt, parent);
}

int vmstate_next_child(const struct vmstate *vs, int node)
{
	return fdt_next_subnode(vs->fdt, node);
}

const char *vmstate_node_name(const struct vmstate *vs, int node)
{
	const char *name = fdt_get_name(vs->fdt, node, NULL);

	return name && *name ? name : "/";
}

bool vmstate_has(const struct vmstate *vs, int node, const char *name)
{
	return fdt_getprop(vs->fdt, node, name, NULL) != NULL;
}

static const void *vmstate_prop(const struct vmstate *vs, int node,
				const char *name, int *len, struct err *e)
{
	const void *p = fdt_getprop(vs->fdt, node, name, len);

	if (!p)
		err_set(e, EINVAL, "node %s has no property \"%s\"",
			vmstate_node_name(vs, node), name);
	return p;
}

int vmstate_get_u32(const struct vmstate *vs, int node, const char *name,
		    uint32_t *v, struct err *e)
{
	fdt32_t raw;

	if (vmstate_get_blob(vs, node, name, &raw, sizeof(raw), e))
		return -EINVAL;
	*v = fdt32_to_cpu(raw);
	return 0;
}

int vmstate_get_u64(const struct vmstate *vs, int node, const char *name,
		    uint64_t *v, struct err *e)
{
	fdt64_t raw;

	if (vmstate_get_blob(vs, node, name, &raw, sizeof(raw), e))
		return -EINVAL;
	*v = fdt64_to_cpu(raw);
	return 0;
}

int vmstate_get_blob(const struct vmstate *vs, int node, const char *name,
		     void *buf, size_t len, struct err *e)
{
	int plen;
	const void *p = vmstate_prop(vs, node, name, &plen, e);

	if (!p)
		return -EINVAL;
	if ((size_t)plen != len)
		return err_set(e, EINVAL, "node %s: property \"%s\" has %d bytes, expected %zu",
			       vmstate_node_name(vs, node), name, plen, len);
	memcpy(buf, p, len);
	return 0;
}

int vmstate_get_blob_ptr(const struct vmstate *vs, int node, const char *name,
			 const void **data, size_t *len, size_t max,
			 struct err *e)
{
	int plen;
	const void *p = vmstate_prop(vs, node, name, &plen, e);

	if (!p)
		return -EINVAL;
	if ((size_t)plen > max)
		return err_set(e, EINVAL, "node %s: property \"%s\" has %d bytes, at most %zu allowed",
			       vmstate_node_name(vs, node), name, plen, max);
	*data = p;
	*len = plen;
	return 0;
}

int vmstate_get_str(const struct vmstate *vs, int node, const char *name,
		    const char **v, size_t max, struct err *e)
{
	const void *p;
	size_t len;

	if (vmstate_get_blob_ptr(vs, node, name, &p, &len, max, e))
		return -EINVAL;
	if (!len || ((const char *)p)[len - 1] || strlen(p) != len - 1)
		return err_set(e, EINVAL, "node %s: property \"%s\" is not a string",
			       vmstate_node_name(vs, node), name);
	*v = p;
	return 0;
}

int vmstate_get_flag(const struct vmstate *vs, int node, const char *name,
		     bool *v, struct err *e)
{
	uint32_t raw;

	if (vmstate_get_u32(vs, node, name, &raw, e))
		return -EINVAL;
	if (raw > 1)
		return err_set(e, EINVAL, "%s: %s is %u, not 0 or 1",
			       vmstate_node_name(vs, node), name, raw);
	*v = raw;
	return 0;
}

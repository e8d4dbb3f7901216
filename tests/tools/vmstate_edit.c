// SPDX-License-Identifier: MIT
/*
 * vmstate_edit FILE OP NODE PROP [VALUE]: change one property of a snapshot's
 * vmstate in place and make its checksum match again, as someone tampering
 * with a snapshot (or an older or newer gmvm) would.
 *
 *   del NODE PROP            remove PROP (absent: an error)
 *   set-u32 NODE PROP N      PROP becomes the 32-bit value N
 *   set-u64 NODE PROP N      PROP becomes the 64-bit value N
 *   set-str NODE PROP TEXT   PROP becomes the string TEXT
 *
 * NODE is a path in the tree: "/", "/config", "/memory/region@0".
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define EDIT_SLACK (64 * 1024)	/* room for a longer value */

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "vmstate_edit: %s%s\n", what, arg);
	exit(1);
}

static void *read_all(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open ", path);
	buf = malloc(st.st_size);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		die("cannot read ", path);
	close(fd);
	*len = st.st_size;
	return buf;
}

int main(int argc, char **argv)
{
	const char *path, *op, *prop;
	size_t len, size;
	void *in, *fdt;
	int node, r, fd;

	if (argc < 5)
		die("usage: vmstate_edit FILE del|set-u32|set-u64|set-str NODE PROP [VALUE]", "");
	path = argv[1];
	op = argv[2];
	prop = argv[4];
	in = read_all(path, &len);
	size = len + EDIT_SLACK;
	fdt = malloc(size);
	if (!fdt || fdt_open_into(in, fdt, size) < 0)
		die("not a device tree: ", path);
	node = fdt_path_offset(fdt, argv[3]);
	if (node < 0)
		die("no node ", argv[3]);
	if (!strcmp(op, "del"))
		r = fdt_delprop(fdt, node, prop);
	else if (!strcmp(op, "set-u32") && argc == 6)
		r = fdt_setprop_u32(fdt, node, prop, strtoul(argv[5], NULL, 0));
	else if (!strcmp(op, "set-u64") && argc == 6)
		r = fdt_setprop_u64(fdt, node, prop, strtoull(argv[5], NULL, 0));
	else if (!strcmp(op, "set-str") && argc == 6)
		r = fdt_setprop_string(fdt, node, prop, argv[5]);
	else
		die("unknown operation, or its value is missing: ", op);
	if (r < 0)
		die("cannot change the property: ", fdt_strerror(r));
	/* Back to the size of its content, the checksum over all of it. */
	if (fdt_pack(fdt) < 0 || fdt_setprop_inplace_u32(fdt, 0, "checksum", 0) < 0)
		die("no checksum property in ", path);
	fdt_setprop_inplace_u32(fdt, 0, "checksum", crc32c(0, fdt, fdt_totalsize(fdt)));
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, fdt, fdt_totalsize(fdt)) != (ssize_t)fdt_totalsize(fdt) ||
	    close(fd) < 0)
		die("cannot write ", path);
	free(fdt);
	free(in);
	return 0;
}

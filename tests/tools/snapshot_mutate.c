// SPDX-License-Identifier: MIT
/*
 * snapshot_mutate IN OUT SEED: copy the snapshot directory IN to OUT (which
 * must not exist) with one damage chosen by SEED, and print what it was.
 *
 * Most damage keeps the vmstate's checksum valid, so that what gmvm's
 * structural and semantic checks do is what gets tested, not only the
 * CRC: a property's bytes rewritten, resized or deleted, a node deleted, the
 * tree's own bytes flipped. The rest damages the files themselves: stale
 * checksum, truncation, a memory file of the wrong size, missing files.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static uint64_t rng_state;

/* splitmix64: a fixed sequence per seed, so a failure can be replayed. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "snapshot_mutate: %s %s: %s\n", what, path,
		strerror(errno));
	exit(1);
}

static void *read_file(const char *path, size_t *len, size_t extra)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open", path);
	buf = calloc(1, st.st_size + extra);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		die("cannot read", path);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) < 0)
		die("cannot write", path);
}

/* The memory file is sparse and large: copy its data, keep its holes. */
static void copy_memory(const char *in, const char *out)
{
	char buf[1 << 16];
	int ifd = open(in, O_RDONLY), ofd;
	off_t off = 0, data, hole;
	struct stat st;

	if (ifd < 0 || fstat(ifd, &st) < 0)
		die("cannot open", in);
	ofd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (ofd < 0 || ftruncate(ofd, st.st_size) < 0)
		die("cannot create", out);
	while ((data = lseek(ifd, off, SEEK_DATA)) >= 0) {
		hole = lseek(ifd, data, SEEK_HOLE);
		for (off = data; off < hole;) {
			size_t n = MIN((off_t)sizeof(buf), hole - off);

			if (pread(ifd, buf, n, off) != (ssize_t)n ||
			    pwrite(ofd, buf, n, off) != (ssize_t)n)
				die("cannot copy", in);
			off += n;
		}
	}
	close(ifd);
	if (close(ofd) < 0)
		die("cannot write", out);
}

/*
 * Make the checksum match the damage, over the first cap bytes at most: a
 * flipped bit in the header's totalsize must not make us read past the
 * buffer (gmvm refuses such a tree before it sums anything).
 */
static void fix_checksum(void *fdt, size_t cap)
{
	if (fdt_totalsize(fdt) > cap)
		return;
	fdt_setprop_inplace_u32(fdt, 0, "checksum", 0);
	fdt_setprop_inplace_u32(fdt, 0, "checksum",
				crc32c(0, fdt, fdt_totalsize(fdt)));
}

/* Every property in the tree, as (node, property offset) pairs. */
struct prop_ref {
	int node, prop;
};

static unsigned int list_props(const void *fdt, struct prop_ref *refs,
			       unsigned int max, int *nodes, unsigned int *nr_nodes)
{
	unsigned int n = 0, nn = 0;
	int node, prop;

	for (node = 0; node >= 0; node = fdt_next_node(fdt, node, NULL)) {
		if (nn < max)
			nodes[nn++] = node;
		fdt_for_each_property_offset(prop, fdt, node)
			if (n < max)
				refs[n++] = (struct prop_ref){ node, prop };
	}
	*nr_nodes = nn;
	return n;
}

/* A value a parser might trip on, len bytes of it. */
static void interesting_value(uint8_t *v, size_t len)
{
	static const uint64_t values[] = {
		0, 1, 2, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x1000,
		0xfffff000, 0x100000000ull, 0x8000000000000000ull, ~0ull,
		0xfffffffffffff000ull, 0x40000000, 4095, 4097, 256, 65535,
	};
	uint64_t x = values[rnd_below(ARRAY_SIZE(values))];
	size_t i;

	for (i = 0; i < len; i++)
		v[i] = (uint8_t)(x >> (8 * ((len - 1 - i) % 8)));
}

/* Names point into the tree, which a change may move: work on a copy. */
static const char *prop_name(const void *fdt, int prop, char *buf, size_t size)
{
	const char *name = "";

	fdt_getprop_by_offset(fdt, prop, &name, NULL);
	snprintf(buf, size, "%s", name ? name : "");
	return buf;
}

/* Rewrite a property: random or tricky bytes, same or another length. */
static void mutate_property(void *fdt, const struct prop_ref *r)
{
	char name[256];
	int len, new_len;
	uint8_t *v;

	prop_name(fdt, r->prop, name, sizeof(name));
	fdt_getprop_by_offset(fdt, r->prop, NULL, &len);
	new_len = rnd_below(3) ? len : (int)rnd_below(len * 2 + 9);
	v = malloc(new_len + 1);
	if (!v)
		exit(1);
	if (rnd_below(2))
		interesting_value(v, new_len);
	else
		for (int i = 0; i < new_len; i++)
			v[i] = (uint8_t)rnd();
	printf("property %s of node %s: %d -> %d bytes\n", name,
	       fdt_get_name(fdt, r->node, NULL), len, new_len);
	fdt_setprop(fdt, r->node, name, v, new_len);
	free(v);
}

static void damage_tree(void *fdt)
{
	static struct prop_ref refs[8192];
	static int nodes[8192];
	unsigned int nr, nr_nodes;
	struct prop_ref r;
	char name[256];
	int node;

	nr = list_props(fdt, refs, ARRAY_SIZE(refs), nodes, &nr_nodes);
	switch (rnd_below(6)) {
	case 0:
		r = refs[rnd_below(nr)];
		prop_name(fdt, r.prop, name, sizeof(name));
		printf("property %s of node %s deleted\n", name,
		       fdt_get_name(fdt, r.node, NULL));
		fdt_delprop(fdt, r.node, name);
		break;
	case 1:
		node = nodes[1 + rnd_below(nr_nodes - 1)];
		printf("node %s deleted\n", fdt_get_name(fdt, node, NULL));
		fdt_del_node(fdt, node);
		break;
	default:
		r = refs[rnd_below(nr)];
		mutate_property(fdt, &r);
		break;
	}
	fdt_pack(fdt);
	fix_checksum(fdt, fdt_totalsize(fdt));
}

static void flip_bits(uint8_t *buf, size_t len)
{
	unsigned int n = 1 + rnd_below(8);

	printf("%u bit(s) flipped at", n);
	while (n--) {
		size_t at = rnd_below(len);

		buf[at] ^= 1u << rnd_below(8);
		printf(" %zu", at);
	}
	printf("\n");
}

static void path_join(char *out, size_t size, const char *dir,
		      const char *name)
{
	if ((size_t)snprintf(out, size, "%s/%s", dir, name) >= size) {
		fprintf(stderr, "snapshot_mutate: path too long: %s\n", dir);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char in_vs[4096], in_mem[4096], out_vs[4096], out_mem[4096];
	size_t len, slack = 1 << 16;
	uint8_t *vs;
	struct stat st;
	int kind;

	if (argc != 4) {
		fprintf(stderr, "usage: snapshot_mutate IN OUT SEED\n");
		return 2;
	}
	rng_state = strtoull(argv[3], NULL, 0);
	path_join(in_vs, sizeof(in_vs), argv[1], "vmstate");
	path_join(in_mem, sizeof(in_mem), argv[1], "memory");
	path_join(out_vs, sizeof(out_vs), argv[2], "vmstate");
	path_join(out_mem, sizeof(out_mem), argv[2], "memory");
	if (mkdir(argv[2], 0700) < 0)
		die("cannot create", argv[2]);
	vs = read_file(in_vs, &len, slack);
	kind = (int)rnd_below(20);
	if (kind < 12) {
		if (fdt_open_into(vs, vs, len + slack) < 0) {
			fprintf(stderr, "snapshot_mutate: %s is not a device tree\n",
				in_vs);
			return 1;
		}
		damage_tree(vs);
		len = fdt_totalsize(vs);
	} else if (kind < 14) {
		flip_bits(vs, len);	/* stale checksum: must be caught */
	} else if (kind < 16) {
		flip_bits(vs, len);
		fix_checksum(vs, len);
	} else if (kind == 16) {
		len = rnd_below(len);
		printf("vmstate truncated to %zu bytes\n", len);
	}
	write_file(out_vs, vs, len);
	free(vs);
	copy_memory(in_mem, out_mem);
	if (kind == 17 || kind == 18) {
		if (stat(out_mem, &st) < 0)
			die("cannot stat", out_mem);
		off_t size = kind == 17 ? (off_t)rnd_below(st.st_size)
					: st.st_size + 4096 * (off_t)(1 + rnd_below(64));
		printf("memory resized from %lld to %lld bytes\n",
		       (long long)st.st_size, (long long)size);
		if (truncate(out_mem, size) < 0)
			die("cannot resize", out_mem);
	} else if (kind == 19) {
		const char *gone = rnd_below(2) ? out_mem : out_vs;

		printf("%s removed\n", gone);
		unlink(gone);
	}
	return 0;
}

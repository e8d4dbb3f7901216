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
 *
 * snapshot_mutate --workingset IN OUT SEED: the same copy (with IN's
 * workingset, which must exist) where only the workingset is damaged:
 * random bytes, truncated, counts and page indexes past RAM, duplicates,
 * shuffled, trailing bytes, another magic or page size. The line printed
 * ends in ": still valid" (gmvm must accept it) or ": invalid".
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdbool.h>
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
	buf = calloc(1, st.st_size + extra + 1);	/* never calloc(0) */
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

/* The whole of a small file (vmstate, workingset), copied. */
static void copy_file(const char *in, const char *out)
{
	size_t len;
	void *buf = read_file(in, &len, 0);

	write_file(out, buf, len);
	free(buf);
}

/* --- Working set damage (memory/workingset.c has the format) --- */

#define WS_HEADER 24	/* "GMVMWS01", page size, page count: u64 LE */

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The guest's RAM in pages, from the vmstate's config. */
static uint64_t guest_pages(const char *vmstate)
{
	size_t len;
	void *fdt = read_file(vmstate, &len, 0);
	int node = fdt_path_offset(fdt, "/config"), plen;
	const void *p = node < 0 ? NULL : fdt_getprop(fdt, node, "memory-size", &plen);
	fdt64_t size;

	if (!p || plen != 8) {
		fprintf(stderr, "snapshot_mutate: %s has no config/memory-size\n", vmstate);
		exit(1);
	}
	memcpy(&size, p, sizeof(size));	/* properties are 4-byte aligned */
	free(fdt);
	return fdt64_to_cpu(size) / 4096;
}

/*
 * One damage to the working set buf (len bytes, room for cap): returns the
 * new length. Some damage leaves a file gmvm must accept (duplicates, any
 * order, every page, none): *valid says so; the rest it must refuse.
 */
static size_t damage_workingset(uint8_t *buf, size_t len, size_t cap,
				uint64_t nr_pages, bool *valid)
{
	static const uint64_t huge[] = {
		0, 1, 4095, 4097, 8192, 2 << 20, 0x7fffffffffffffffull,
		0x8000000000000000ull, ~0ull, 1ull << 61, 1ull << 32,
	};
	uint64_t n = len > WS_HEADER ? (len - WS_HEADER) / 8 : 0;
	uint64_t v;
	size_t at;

	switch (rnd_below(13)) {
	case 0:
		len = rnd_below(MIN(cap, len * 2 + 64));
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
		printf("workingset: %zu random bytes", len);
		break;
	case 1:
		len = rnd_below(len);
		printf("workingset truncated to %zu bytes", len);
		break;
	case 2:	/* a count past RAM; 2^61 + 1 wraps to 8 bytes of entries */
		v = huge[rnd_below(ARRAY_SIZE(huge))];
		v = v > nr_pages ? v : nr_pages + 1 + rnd_below(4);
		if (rnd_below(3) == 0) {
			v = (1ull << 61) + 1;
			len = WS_HEADER + 8;
		} else if (rnd_below(2)) {
			len = WS_HEADER;	/* nothing after the header */
		}
		put_le64(buf + 16, v);
		printf("workingset: count %llu in %zu bytes", (unsigned long long)v, len);
		break;
	case 3:	/* a count off by a few from the entries there */
		at = 1 + rnd_below(8);
		v = rnd_below(2) || n < at ? n + at : n - at;
		put_le64(buf + 16, v);
		printf("workingset: count %llu for %llu entries", (unsigned long long)v,
		       (unsigned long long)n);
		break;
	case 4:	/* a page index past RAM */
		if (!n) {
			*valid = true;
			break;
		}
		at = rnd_below(n);
		v = rnd_below(2) ? nr_pages + rnd_below(3) : huge[rnd_below(ARRAY_SIZE(huge))] | nr_pages;
		put_le64(buf + WS_HEADER + at * 8, v);
		printf("workingset: entry %zu is page %llu of %llu", at,
		       (unsigned long long)v, (unsigned long long)nr_pages);
		break;
	case 5:	/* duplicates: accepted, the page is filled once */
		*valid = true;
		if (!n)
			break;
		v = get_le64(buf + WS_HEADER + rnd_below(n) * 8);
		for (uint64_t i = 0; i < n; i++)
			if (rnd_below(2))
				put_le64(buf + WS_HEADER + i * 8, v);
		printf("workingset: about half the entries are page %llu",
		       (unsigned long long)v);
		break;
	case 6:	/* any order: accepted */
		*valid = true;
		for (uint64_t i = n; i > 1; i--) {
			uint64_t j = rnd_below(i);

			v = get_le64(buf + WS_HEADER + j * 8);
			put_le64(buf + WS_HEADER + j * 8, get_le64(buf + WS_HEADER + (i - 1) * 8));
			put_le64(buf + WS_HEADER + (i - 1) * 8, v);
		}
		printf("workingset: %llu entries shuffled", (unsigned long long)n);
		break;
	case 7:
		v = 1 + rnd_below(MIN(64, cap - len));
		for (uint64_t i = 0; i < v; i++)
			buf[len++] = (uint8_t)rnd();
		printf("workingset: %llu bytes of trailing garbage", (unsigned long long)v);
		break;
	case 8:
		buf[rnd_below(8)] ^= 1u << rnd_below(8);
		printf("workingset: magic damaged");
		break;
	case 9:
		v = huge[rnd_below(ARRAY_SIZE(huge))];
		put_le64(buf + 8, v);
		printf("workingset: page size %llu", (unsigned long long)v);
		break;
	case 10:	/* every page of RAM, in either order: the largest file allowed */
		*valid = true;
		v = rnd_below(2);
		for (uint64_t i = 0; i < nr_pages; i++)
			put_le64(buf + WS_HEADER + i * 8, v ? nr_pages - 1 - i : i);
		put_le64(buf + 16, nr_pages);
		len = WS_HEADER + nr_pages * 8;
		printf("workingset: every page, %s", v ? "last first" : "in order");
		break;
	case 11:	/* one entry more than RAM has pages, consistently counted */
		for (uint64_t i = 0; i <= nr_pages; i++)
			put_le64(buf + WS_HEADER + i * 8, i % nr_pages);
		put_le64(buf + 16, nr_pages + 1);
		len = WS_HEADER + (nr_pages + 1) * 8;
		printf("workingset: %llu entries for %llu pages",
		       (unsigned long long)nr_pages + 1, (unsigned long long)nr_pages);
		break;
	default:	/* no pages, or only RAM's first and last */
		*valid = true;
		v = rnd_below(2) ? 2 : 0;
		put_le64(buf + WS_HEADER, 0);
		put_le64(buf + WS_HEADER + 8, nr_pages - 1);
		put_le64(buf + 16, v);
		len = WS_HEADER + v * 8;
		printf("workingset: %llu pages (first and last of RAM)", (unsigned long long)v);
		break;
	}
	return len;
}

static int mutate_workingset(const char *in, const char *out, const char *seed)
{
	char in_vs[4096], in_mem[4096], in_ws[4096], out_vs[4096], out_mem[4096],
	     out_ws[4096];
	uint64_t nr_pages;
	bool valid = false;
	size_t len, cap;
	uint8_t *ws;

	rng_state = strtoull(seed, NULL, 0);
	path_join(in_vs, sizeof(in_vs), in, "vmstate");
	path_join(in_mem, sizeof(in_mem), in, "memory");
	path_join(in_ws, sizeof(in_ws), in, "workingset");
	path_join(out_vs, sizeof(out_vs), out, "vmstate");
	path_join(out_mem, sizeof(out_mem), out, "memory");
	path_join(out_ws, sizeof(out_ws), out, "workingset");
	if (mkdir(out, 0700) < 0)
		die("cannot create", out);
	nr_pages = guest_pages(in_vs);
	/* Room for every page of RAM and one more (cases 10 and 11). */
	cap = WS_HEADER + (nr_pages + 1) * 8 + 64;
	ws = read_file(in_ws, &len, cap);
	cap += len;
	len = damage_workingset(ws, len, cap, nr_pages, &valid);
	/* snapshot-fuzz.sh reads the verdict from this word. */
	printf(": %s\n", valid ? "still valid" : "invalid");
	copy_file(in_vs, out_vs);
	copy_memory(in_mem, out_mem);
	write_file(out_ws, ws, len);
	free(ws);
	return 0;
}

int main(int argc, char **argv)
{
	char in_vs[4096], in_mem[4096], out_vs[4096], out_mem[4096];
	size_t len, slack = 1 << 16;
	uint8_t *vs;
	struct stat st;
	int kind;

	if (argc == 5 && !strcmp(argv[1], "--workingset"))
		return mutate_workingset(argv[2], argv[3], argv[4]);
	if (argc != 4) {
		fprintf(stderr, "usage: snapshot_mutate IN OUT SEED\n"
			"       snapshot_mutate --workingset IN OUT SEED\n");
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

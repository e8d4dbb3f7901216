// SPDX-License-Identifier: MIT
/* `gmvm inspect DIR`: check a snapshot the way restore does, print it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "guest_mem.h"
#include "log.h"
#include "snapshot.h"
#include "uffd.h"
#include "util.h"

static const char inspect_usage[] =
	"Usage: gmvm inspect [--verify] DIR\n"
	"Check the snapshot in DIR as `gmvm restore` would (structure, format\n"
	"version, checksum, configuration, memory regions, vCPU state, memory\n"
	"file size, working set) and print what it holds. Exit status 0 when it\n"
	"is sound, 2 when it is not (the message says why).\n"
	"\n"
	"      --verify   also read the memory file's data and check each memory\n"
	"                 region's checksum (format revision 1 and later)\n";

/* Bytes of data (not holes) in the memory file. */
static uint64_t memfile_data_bytes(int fd, uint64_t size)
{
	off_t pos = 0;
	uint64_t total = 0;

	while ((uint64_t)pos < size) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		/* Data past RAM's end (the file may be longer) is not RAM's. */
		if (data < 0 || (uint64_t)data >= size)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			break;
		total += MIN((uint64_t)hole, size) - data;
		pos = hole;
	}
	return total;
}

/*
 * The host files and taps the snapshot names: hostile input like the rest,
 * so shown (escaped, by their kinds), and opened only when a restore asks
 * (--recorded-resources).
 */
static void inspect_host_resources(const struct snapshot *s)
{
	char *lines = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&lines, &len);

	if (!f)
		return;
	dev_config_describe(&s->dev, f);
	fclose(f);
	if (len)
		printf("  host resources recorded (a restore opens them only with --recorded-resources):\n%s",
		       lines);
	free(lines);
}

static void inspect_cpus(const struct snapshot *s)
{
	int node = vmstate_node(&s->vs, 0, "cpus");
	struct err e = { 0 };
	char name[32];

	for (unsigned int i = 0; i < s->nr_vcpus; i++) {
		uint64_t rip = 0;

		snprintf(name, sizeof(name), "cpu@%u", i);
		if (!vcpu_state_rip(&s->vs, vmstate_node(&s->vs, node, name), &rip, &e))
			printf("  vCPU %u: rip %#llx\n", i, (unsigned long long)rip);
	}
}

static void inspect_devices(const struct snapshot *s)
{
	int node = vmstate_node(&s->vs, 0, "devices");

	printf("  devices with state:");
	char name[256];

	for (int c = vmstate_first_child(&s->vs, node); c >= 0;
	     c = vmstate_next_child(&s->vs, c))
		printf(" %s", str_escape(name, sizeof(name), vmstate_node_name(&s->vs, c)));
	printf("\n");
	/* What a kind says of its state, for the nodes named after it. */
	for (unsigned int i = 0; i < device_table_len; i++) {
		int c = vmstate_node(&s->vs, node, device_table[i]->name);

		if (c >= 0 && device_table[i]->describe_state)
			device_table[i]->describe_state(&s->vs, c, stdout);
	}
}

/* The working set is optional (-1 pages: none); when present it must be sound. */
static int inspect_workingset(const struct snapshot *s, long long *nr_pages,
			      struct err *e)
{
	char path[PATH_MAX];
	uint64_t *pages;
	size_t n;

	*nr_pages = -1;
	if (snapshot_path(path, sizeof(path), s->dir, SNAPSHOT_WORKINGSET) ||
	    faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;	/* none; a link, even dangling, is refused below */
	if (workingset_read(path, s->mem_size / PAGE_SIZE, &pages, &n, e))
		return -EINVAL;
	free(pages);
	*nr_pages = n;
	return 0;
}

/* --verify: the memory file against the region checksums. */
static int inspect_verify(const struct snapshot *s, char *line, size_t size,
			  struct err *e)
{
	uint64_t t0 = time_now_ns();
	struct guest_mem layout;
	long long bytes;

	if (snapshot_verify_memory(s, NULL, &bytes, e))
		return -EINVAL;
	guest_mem_layout(&layout, s->mem_size);
	snprintf(line, size, "  memory checksums good: %u region(s), %lld MiB of data read in %llu ms\n",
		 layout.nr_regions, bytes >> 20,
		 (unsigned long long)((time_now_ns() - t0) / 1000000));
	return 0;
}

static void inspect_print(const struct snapshot *s, long long workingset)
{
	char kinds[256];

	printf("snapshot %s: format %u revision %u, checksum good\n", s->dir,
	       VMSTATE_VERSION, s->vs.revision);
	dev_config_kinds(&s->dev, kinds, sizeof(kinds));
	printf("  %u vCPU(s), %llu MiB of RAM on %s\n", s->nr_vcpus,
	       (unsigned long long)(s->mem_size / MIB), s->backend->name);
	printf("  devices asked for: %s\n", kinds[0] ? kinds : "none beyond the fixed ones");
	printf("  virtio devices found by the guest through %s\n",
	       s->dev.discovery == DISCOVERY_CMDLINE ? "its command line (no ACPI tables)" :
	       s->dev.discovery == DISCOVERY_ACPI ? "ACPI" : "its command line and ACPI");
	printf("  memory file: %llu bytes, %llu MiB of data%s\n",
	       (unsigned long long)s->mem_file_size,
	       (unsigned long long)(memfile_data_bytes(s->mem_fd, s->mem_size) / MIB),
	       s->has_region_crcs ? ", a checksum per region" : ", no checksums");
	inspect_cpus(s);
	inspect_devices(s);
	inspect_host_resources(s);
	if (s->has_fuzz)
		printf("  taken for gmvm fuzz: input buffer of %llu bytes at %#llx, %s%u-byte coverage map\n",
		       (unsigned long long)s->fuzz.input_size,
		       (unsigned long long)s->fuzz.input_gpa,
		       s->fuzz.coverage_size ? "" : "no ", s->fuzz.coverage_size);
	if (workingset >= 0)
		printf("  working set: %lld pages (%lld KiB)\n", workingset, workingset * 4);
}

int cmd_inspect(int argc, char **argv, struct err *e)
{
	char verified[128] = "";
	struct snapshot s;
	long long workingset;
	bool verify = false;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(inspect_usage, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--verify")) {
		verify = true;
		argc--, argv++;
	}
	if (argc >= 2 && argv[1][0] == '-')
		ret = err_set(e, EINVAL, "unknown option %s", argv[1]);
	else if (argc != 2)
		ret = err_set(e, EINVAL, "%s", argc < 2 ? "the snapshot directory is required" :
			      "takes exactly one snapshot directory");
	else
		ret = 0;
	if (ret)
		return err_mark(e, ERR_USAGE);
	if (snapshot_open(&s, argv[1], e))
		return -e->errnum;
	/* Everything checked before anything is printed. */
	ret = inspect_workingset(&s, &workingset, e);
	if (ret) {
		err_prefix(e, "snapshot %s", s.dir);
		err_mark_input(e);
	}
	if (!ret && verify)
		ret = inspect_verify(&s, verified, sizeof(verified), e);
	if (!ret) {
		inspect_print(&s, workingset);
		fputs(verified, stdout);
	}
	snapshot_close(&s);
	return ret;
}

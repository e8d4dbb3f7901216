// SPDX-License-Identifier: MIT
/*
 * Statistics of a running VM, as one JSON object: state, restore latency and
 * strategy, the uffd handler's counters and fault latencies, and what each
 * device counts (device_ops.stats). Served by the control socket's
 * "stats" and written by --stats FILE at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uffd.h"
#include "vm.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static json_object *uffd_stats_json(struct uffd_handler *h)
{
	json_object *o = json_object_new_object();
	struct uffd_stats st;

	uffd_handler_stats(h, &st);
	add_u64(o, "faults", st.faults);
	add_u64(o, "faults_minor", st.faults_minor);
	add_u64(o, "faults_on_present_pages", st.faults_on_present);
	add_u64(o, "pages_copied", st.pages_copied);
	add_u64(o, "pages_zeroed", st.pages_zeroed);
	add_u64(o, "pages_continued", st.pages_continued);
	add_u64(o, "bytes_copied", st.bytes_copied);
	add_u64(o, "pages_background", st.pages_background);
	add_u64(o, "pages_prefetched", st.pages_prefetched);
	add_u64(o, "prefetch_misses", st.prefetch_misses);
	add_u64(o, "pages_removed", st.removed_pages);
	add_u64(o, "eexist_races", st.eexist);
	add_u64(o, "pages_missing", st.pages_missing);
	add_u64(o, "fault_latency_p50_ns", st.latency_p50_ns);
	add_u64(o, "fault_latency_p99_ns", st.latency_p99_ns);
	add_u64(o, "fault_latency_max_ns", st.latency_max_ns);
	return o;
}

static json_object *restore_json(struct vm *vm)
{
	json_object *o = json_object_new_object();
	uint64_t first = atomic_load(&vm->first_run_ns);

	json_object_object_add(o, "snapshot", json_object_new_string(vm->origin.snapshot));
	json_object_object_add(o, "strategy", json_object_new_string(vm->origin.strategy));
	json_object_object_add(o, "reason", json_object_new_string(vm->origin.reason));
	add_u64(o, "snapshot_age_ms", vm->origin.snapshot_age_ns / 1000000);
	if (first)
		add_u64(o, "latency_us", (first - vm->start_ns) / 1000);
	if (vm->mem.backend == &guest_mem_backend_snapshot_file)
		add_u64(o, "pages_read_ahead", vm->origin.pages_read_ahead);
	return o;
}

json_object *vm_stats_object(struct vm *vm)
{
	json_object *root = json_object_new_object();

	json_object_object_add(root, "state", json_object_new_string(
		atomic_load(&vm->exit.requested) ? "stopping" :
		vm_is_paused(vm) ? "paused" : "running"));
	add_u64(root, "vcpus", vm->nr_vcpus);
	add_u64(root, "memory_bytes", vm->mem.size);
	json_object_object_add(root, "memory_backend",
			       json_object_new_string(vm->mem.backend ? vm->mem.backend->name : "none"));
	json_object_object_add(root, "memory_backend_reason",
			       json_object_new_string(vm->origin.backend_reason));
	add_u64(root, "uptime_ms", (time_now_ns() - vm->start_ns) / 1000000);
	if (vm->origin.snapshot)
		json_object_object_add(root, "restore", restore_json(vm));
	if (vm->faults.uffd)
		json_object_object_add(root, "uffd", uffd_stats_json(vm->faults.uffd));
	/* Each device adds its own counters. */
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i]->ops->stats)
			vm->devices[i]->ops->stats(vm->devices[i], root);
	return root;
}

char *vm_stats_json(struct vm *vm)
{
	json_object *root = vm_stats_object(vm);
	char *text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(root);
	return text;
}

int vm_stats_open(const char *path, struct err *e)
{
	struct stat st;
	int fd = open_regular_output(path, &st);

	if (fd < 0) {
		err_set(e, -fd, "--stats %s: %s", path, open_regular_error(fd, &st));
		return err_mark_input(e);
	}
	return fd;
}

int vm_stats_write(struct vm *vm, int fd, const char *path, struct err *e)
{
	char *text = vm_stats_json(vm);
	int ret;

	if (!text)
		return err_set(e, ENOMEM, "out of memory");
	ret = write_full(fd, text, strlen(text));
	if (!ret)
		ret = write_full(fd, "\n", 1);
	free(text);
	return ret ? err_set(e, -ret, "--stats %s: %s", path, strerror(-ret)) : 0;
}

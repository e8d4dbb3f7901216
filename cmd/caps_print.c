// SPDX-License-Identifier: MIT
/* `gmvm caps` output, for people (text) and programs (JSON). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "cli.h"

static const char *const kind_names[CAPS_NR_KINDS] = {
	[GUEST_MEM_GMEM] = "gmem",
	[GUEST_MEM_MEMFD] = "memfd",
	[GUEST_MEM_ANON] = "anon",
};

static void print_mode(const char *label, const struct caps_uffd_mode *m)
{
	char buf[48];

	if (m->ok)
		snprintf(buf, sizeof(buf), "yes");
	else
		snprintf(buf, sizeof(buf), "no (%s)", strerrorname_np(m->err) ?
			 strerrorname_np(m->err) : "?");
	printf("  %-6s %-14s", label, buf);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* The matrix the tests follow: what each backend can be used for here. */
static void print_offers(const struct host_caps *caps)
{
	printf("what each backend offers here:\n");
	printf("%-6s %-5s %-12s %-14s %-13s %s\n", "", "boot", "--lazy-load",
	       "restore eager", "lazy-missing", "lazy-minor");
	for (unsigned int k = 0; k < CAPS_NR_KINDS; k++) {
		struct caps_offers o = caps_backend_offers(caps, k);

		printf("%-6s %-5s %-12s %-14s %-13s %s\n", kind_names[k],
		       yes_no(o.boot), yes_no(o.lazy_load), yes_no(o.boot),
		       yes_no(o.lazy_missing), yes_no(o.lazy_minor));
	}
}

/* How gmvm fuzz would find the pages a run wrote, per backend, and why not. */
static void print_dirty(const struct host_caps *caps)
{
	printf("dirty page tracking (gmvm fuzz resets only what a run wrote):\n");
	for (unsigned int k = 0; k < CAPS_NR_KINDS; k++) {
		const struct caps_dirty *d = &caps->backend[k].dirty;

		printf("%-6s %s", kind_names[k],
		       dirty_tracking_name(caps_dirty_tracking(caps, k)));
		if (!caps->backend[k].usable) {
			printf(" (backend unavailable)\n");
			continue;
		}
		printf("  (kvm-dirty-log: %s; uffd-wp-async: %s)\n",
		       d->kvm_log ? "yes" : d->kvm_log_why,
		       d->uffd_wp_async ? "yes" : d->uffd_wp_async_why);
	}
	/* Its default: memfd, guest_memfd offering neither. */
	if (caps_dirty_tracking(caps, GUEST_MEM_MEMFD) == DIRTY_NONE)
		printf("gmvm fuzz: not possible here (no way to track memfd memory's writes)\n");
	else
		printf("gmvm fuzz: memfd memory, %s\n",
		       dirty_tracking_name(caps_dirty_tracking(caps, GUEST_MEM_MEMFD)));
}

void caps_print_text(const struct host_caps *caps)
{
	enum guest_mem_kind def;
	char why[320];

	if (caps->kvm_ok) {
		printf("KVM: /dev/kvm, API version %d, %u-bit guest physical addresses\n",
		       caps->api_version, caps->phys_bits);
		for (unsigned int i = 0; i < caps->nr_kvm_caps; i++)
			printf("  %-28s %d\n", caps->kvm_caps[i].name,
			       caps->kvm_caps[i].value);
	} else {
		printf("KVM: unavailable: %s\n", caps->kvm_why);
	}
	if (caps->uffd_ok)
		printf("userfaultfd: features %#llx\n",
		       (unsigned long long)caps->uffd_features);
	else
		printf("userfaultfd: unavailable: %s\n", caps->uffd_why);
	printf("memory backends (uffd registration tried on a mapping of each):\n");
	for (unsigned int k = 0; k < CAPS_NR_KINDS; k++) {
		const struct caps_backend *b = &caps->backend[k];

		printf("%-6s", kind_names[k]);
		if (!b->usable) {
			printf(" unavailable: %s\n", b->why);
			continue;
		}
		print_mode("MISSING", &b->missing);
		print_mode("MINOR", &b->minor);
		print_mode("WP", &b->wp);
		printf("  restore: %s",
		       restore_strategy_name(caps_restore_strategy(caps, k)));
		if (caps_restore_auto(caps, k) != caps_restore_strategy(caps, k))
			printf(" (%s with no --memory-backend)",
			       restore_strategy_name(caps_restore_auto(caps, k)));
		printf("\n");
	}
	print_offers(caps);
	if (caps->file_ok)
		printf("restore file: yes (a private mapping of the memory file under a read lease; tried in %s); auto takes it where no lazy restore is possible and no backend is named\n",
		       caps->file_dir);
	else
		printf("restore file: no: %s\n", caps->file_why);
	print_dirty(caps);
	def = caps_default_backend(caps, why, sizeof(why));
	printf("default backend: %s (%s)\n", kind_names[def], why);
}

static json_object *mode_json(const struct caps_uffd_mode *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "registered", json_object_new_boolean(m->ok));
	if (!m->ok)
		json_object_object_add(o, "error",
				       json_object_new_string(strerrorname_np(m->err) ?
							      strerrorname_np(m->err) : "?"));
	else
		json_object_object_add(o, "ioctls",
				       json_object_new_uint64(m->ioctls));
	return o;
}

static json_object *offers_json(const struct host_caps *caps,
				enum guest_mem_kind k)
{
	struct caps_offers of = caps_backend_offers(caps, k);
	json_object *o = json_object_new_object();
	json_object *modes = json_object_new_array();

	json_object_object_add(o, "boot", json_object_new_boolean(of.boot));
	json_object_object_add(o, "snapshot", json_object_new_boolean(of.boot));
	json_object_object_add(o, "lazy_load", json_object_new_boolean(of.lazy_load));
	if (of.boot)
		json_object_array_add(modes, json_object_new_string("eager"));
	if (of.lazy_missing)
		json_object_array_add(modes, json_object_new_string("lazy-missing"));
	if (of.lazy_minor)
		json_object_array_add(modes, json_object_new_string("lazy-minor"));
	json_object_object_add(o, "restore", modes);
	return o;
}

static json_object *backend_json(const struct host_caps *caps,
				 enum guest_mem_kind k)
{
	const struct caps_backend *b = &caps->backend[k];
	json_object *o = json_object_new_object();
	json_object *uffd, *list;

	json_object_object_add(o, "usable", json_object_new_boolean(b->usable));
	if (!b->usable) {
		json_object_object_add(o, "reason", json_object_new_string(b->why));
	} else {
		uffd = json_object_new_object();
		json_object_object_add(uffd, "missing", mode_json(&b->missing));
		json_object_object_add(uffd, "minor", mode_json(&b->minor));
		json_object_object_add(uffd, "wp", mode_json(&b->wp));
		json_object_object_add(o, "uffd", uffd);
	}
	json_object_object_add(o, "restore",
			       json_object_new_string(restore_strategy_name(
				       caps_restore_strategy(caps, k))));
	/* With no --memory-backend named (a file mapping may then do). */
	json_object_object_add(o, "restore_auto",
			       json_object_new_string(restore_strategy_name(
				       caps_restore_auto(caps, k))));
	json_object_object_add(o, "offers", offers_json(caps, k));
	json_object_object_add(o, "dirty_tracking", json_object_new_string(
		dirty_tracking_name(caps_dirty_tracking(caps, k))));
	/* Every way that works (gmvm fuzz --dirty-tracking takes each). */
	list = json_object_new_array();
	if (b->dirty.kvm_log)
		json_object_array_add(list, json_object_new_string(dirty_tracking_name(DIRTY_KVM_LOG)));
	if (b->dirty.uffd_wp_async)
		json_object_array_add(list, json_object_new_string(dirty_tracking_name(DIRTY_UFFD_WP_ASYNC)));
	json_object_object_add(o, "dirty_tracking_offered", list);
	return o;
}

static json_object *kvm_json(const struct host_caps *caps)
{
	json_object *o = json_object_new_object();
	json_object *list;

	json_object_object_add(o, "available", json_object_new_boolean(caps->kvm_ok));
	if (!caps->kvm_ok) {
		json_object_object_add(o, "reason", json_object_new_string(caps->kvm_why));
		return o;
	}
	json_object_object_add(o, "api_version", json_object_new_int(caps->api_version));
	json_object_object_add(o, "phys_bits", json_object_new_int(caps->phys_bits));
	list = json_object_new_object();
	for (unsigned int i = 0; i < caps->nr_kvm_caps; i++)
		json_object_object_add(list, caps->kvm_caps[i].name,
				       json_object_new_int(caps->kvm_caps[i].value));
	json_object_object_add(o, "capabilities", list);
	return o;
}

int caps_print_json(const struct host_caps *caps)
{
	json_object *root = json_object_new_object();
	json_object *uffd = json_object_new_object();
	json_object *backends = json_object_new_object();
	json_object *fuzz;
	enum guest_mem_kind def;
	char why[320];
	int ret = 0;

	json_object_object_add(root, "kvm", kvm_json(caps));
	json_object_object_add(uffd, "available", json_object_new_boolean(caps->uffd_ok));
	if (caps->uffd_ok)
		json_object_object_add(uffd, "features",
				       json_object_new_uint64(caps->uffd_features));
	else
		json_object_object_add(uffd, "reason", json_object_new_string(caps->uffd_why));
	json_object_object_add(root, "userfaultfd", uffd);
	for (unsigned int k = 0; k < CAPS_NR_KINDS; k++)
		json_object_object_add(backends, kind_names[k], backend_json(caps, k));
	json_object_object_add(root, "backends", backends);
	def = caps_default_backend(caps, why, sizeof(why));
	fuzz = json_object_new_object();
	json_object_object_add(fuzz, "backend", json_object_new_string("memfd"));
	json_object_object_add(fuzz, "dirty_tracking", json_object_new_string(
		dirty_tracking_name(caps_dirty_tracking(caps, GUEST_MEM_MEMFD))));
	json_object_object_add(root, "fuzz", fuzz);
	fuzz = json_object_new_object();
	json_object_object_add(fuzz, "available", json_object_new_boolean(caps->file_ok));
	json_object_object_add(fuzz, "tried_in", json_object_new_string(caps->file_dir));
	if (!caps->file_ok)
		json_object_object_add(fuzz, "reason", json_object_new_string(caps->file_why));
	json_object_object_add(root, "restore_file", fuzz);
	json_object_object_add(root, "default_backend",
			       json_object_new_string(kind_names[def]));
	json_object_object_add(root, "default_backend_reason",
			       json_object_new_string(why));
	if (puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		ret = -EIO;
	json_object_put(root);
	return ret;
}

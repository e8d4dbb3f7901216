// SPDX-License-Identifier: MIT
/*
 * VM Generation ID (--vmgenid): 16 random bytes in guest memory that change
 * whenever the VM may have been copied, so that a guest (Linux's vmgenid
 * driver) reseeds its random number generator rather than hand clones of
 * one snapshot the same keys. ACPI describes it (VGEN, with a Generic Event
 * Device whose interrupt makes the guest look again: boot/acpi.c); it lives
 * at LAYOUT_VMGENID_ADDR, reserved memory below the ACPI tables.
 *
 * A new identifier at boot and at every restore; the snapshot keeps the one
 * its guest had (gmvm inspect shows it). After a restore the event's
 * interrupt is raised before any vCPU runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "arch_layout.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "util.h"
#include "vmstate.h"

#define VMGENID_LEN 16

struct vmgenid {
	struct device dev;		/* first: the device is the generation ID */
	struct device_ops ops;
	uint8_t id[VMGENID_LEN];
	bool changed;			/* restored with a new one: tell the guest */
};

extern const struct device_desc vmgenid_device;

/* A new identifier, into the device and (with ram) guest memory. */
static int vmgenid_new(struct vmgenid *g, bool ram, struct err *e)
{
	uint8_t *p = guest_mem_ptr(g->dev.host->mem, LAYOUT_VMGENID_ADDR, VMGENID_LEN);
	size_t done = 0;
	ssize_t n;

	if (!p)
		return err_set(e, EINVAL, "--vmgenid: no RAM at %#llx for the VM Generation ID",
			       LAYOUT_VMGENID_ADDR);
	while (done < VMGENID_LEN) {
		n = getrandom(g->id + done, VMGENID_LEN - done, 0);
		if (n < 0 && errno != EINTR)
			return err_set(e, errno, "--vmgenid: getrandom: %s", strerror(errno));
		done += n > 0 ? (size_t)n : 0;
	}
	/* The guest reads it through its own mapping: a plain copy will do. */
	if (ram)
		memcpy(p, g->id, VMGENID_LEN);
	return 0;
}

static void vmgenid_save(struct device *dev, struct vmstate_writer *w)
{
	vmstate_put_blob(w, "id", ((struct vmgenid *)dev)->id, VMGENID_LEN);
}

/*
 * The snapshot's identifier is checked, then replaced: a restored VM is a
 * copy, and the guest must see a new one.
 */
static int vmgenid_restore(struct device *dev, const struct vmstate *vs,
			   int node, struct err *e)
{
	struct vmgenid *g = (struct vmgenid *)dev;
	uint8_t saved[VMGENID_LEN];

	if (vmstate_get_blob(vs, node, "id", saved, VMGENID_LEN, e))
		return -EINVAL;
	if (vmgenid_new(g, true, e))
		return -e->errnum;
	g->changed = true;
	return 0;
}

/* A pulse: the GED's line is edge-triggered (boot/acpi.c). */
static void vmgenid_restored(struct device *dev)
{
	struct vmgenid *g = (struct vmgenid *)dev;

	if (!g->changed)
		return;
	g->changed = false;
	host_set_irq(dev->host, LAYOUT_VMGENID_GSI, true);
	host_set_irq(dev->host, LAYOUT_VMGENID_GSI, false);
}

static void vmgenid_destroy(struct device *dev)
{
	free(dev);
}

static int vmgenid_setup(struct dev_host *host, const struct dev_config *cfg,
			 struct err *e)
{
	struct vmgenid *g;
	int ret;

	if (!device_flag_on(cfg, &vmgenid_device))
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g || host_add_device(host, &g->dev)) {
		free(g);
		return err_set(e, ENOMEM, "out of memory for the vmgenid device");
	}
	g->ops = (struct device_ops){
		.name = "vmgenid",
		.save = vmgenid_save,
		.restore = vmgenid_restore,
		.restored = vmgenid_restored,
		.destroy = vmgenid_destroy,
	};
	device_init(&g->dev, &g->ops, host);
	/* RAM gets it with the ACPI tables at boot, from the restore after one. */
	ret = vmgenid_new(g, false, e);
	if (!ret)
		ret = host_add_vmgenid(host, LAYOUT_VMGENID_ADDR, LAYOUT_VMGENID_GSI, g->id, e);
	return ret ? -e->errnum : 0;
}

static void vmgenid_describe_state(const struct vmstate *vs, int node, FILE *out)
{
	uint8_t id[VMGENID_LEN];
	struct err e = { 0 };

	if (vmstate_get_blob(vs, node, "id", id, VMGENID_LEN, &e))
		return;
	fprintf(out, "  VM Generation ID: ");
	for (unsigned int i = 0; i < VMGENID_LEN; i++)
		fprintf(out, "%02x", id[i]);
	fprintf(out, " (a restore gives the guest a new one)\n");
}

static const struct device_option vmgenid_options[] = {
	{
		.name = "vmgenid",
		.help = "a VM Generation ID (ACPI: needs --discovery acpi\nor both): a new one at every restore",
		.man = ".B \\-\\-vmgenid\n"
		       "A VM Generation ID: 16 random bytes the guest finds through ACPI\n"
		       "(needs\n"
		       ".B \\-\\-discovery acpi\n"
		       "or\n"
		       ".BR both ),\n"
		       "replaced on every restore with the guest told (an ACPI event), so that a\n"
		       "Linux guest reseeds its random number generator. The snapshot keeps the\n"
		       "guest's;\n"
		       ".B gmvm inspect\n"
		       "shows it.\n",
	},
	{ .name = NULL },
};

const struct device_desc vmgenid_device = {
	.name = "vmgenid",
	.config_size = sizeof(struct device_flag),
	.options = vmgenid_options,
	.parse = device_flag_parse,
	.setup = vmgenid_setup,
	.save_config = device_flag_save_config,
	.load_config = device_flag_load_config,
	.configured = device_flag_configured,
	.since_revision = 2,
	.describe_state = vmgenid_describe_state,
};

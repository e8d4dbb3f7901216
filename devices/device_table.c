// SPDX-License-Identifier: MIT
/* Every kind of device gmvm can create, in set-up order. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "device.h"
#include "util.h"
#include "vmstate.h"

/* One line per kind of device, in set-up order: its NAME_device. */
#define DEVICE_KINDS(X)	\
	X(serial)	\
	X(i8042)	\
	X(debug_exit)	\
	X(boot_timer)	\
	X(snapshot_port) \
	X(acpi_sleep)	\
	X(virtio_blk)	\
	X(virtio_rng)	\
	X(virtio_console) \
	X(virtio_balloon) \
	X(virtio_net)	\
	X(virtio_vsock)	\
	X(vmgenid)

#define DEVICE_DECLARE(kind) extern const struct device_desc kind##_device;
#define DEVICE_ENTRY(kind) &kind##_device,

DEVICE_KINDS(DEVICE_DECLARE)

const struct device_desc *const device_table[] = { DEVICE_KINDS(DEVICE_ENTRY) };

const unsigned int device_table_len = ARRAY_SIZE(device_table);

_Static_assert(ARRAY_SIZE(device_table) <= DEVICE_KINDS_MAX,
	       "more kinds of device than struct dev_config has room for");

void dev_config_save(const struct dev_config *cfg, struct vmstate_writer *w)
{
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->save_config)
			device_table[i]->save_config(device_table[i], cfg, w);
}

int dev_config_load(struct dev_config *cfg, const struct vmstate *vs, int node,
		    struct err *e)
{
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->load_config &&
		    device_table[i]->load_config(device_table[i], cfg, vs, node, e))
			return -EINVAL;
	return 0;
}

void *device_config(const struct dev_config *cfg, const struct device_desc *kind)
{
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i] == kind)
			return (void *)cfg->kinds[i];
	return NULL;
}

static bool option_here(const struct device_option *o, bool restore)
{
	return !restore || o->restore_help;
}

int dev_config_option(struct dev_config *cfg, const char *name, char *arg,
		      bool restore, struct err *e)
{
	for (unsigned int i = 0; i < device_table_len; i++) {
		const struct device_desc *kind = device_table[i];

		for (const struct device_option *o = kind->options; o && o->name; o++)
			if (!strcmp(o->name, name) && option_here(o, restore))
				return kind->parse(cfg->kinds[i], name, arg, restore, e);
	}
	return 1;
}

/* The i-th option of them all (restore: of restore's), or NULL. */
static const struct device_option *dev_option_at(unsigned int i, bool restore)
{
	for (unsigned int k = 0; k < device_table_len; k++)
		for (const struct device_option *o = device_table[k]->options; o && o->name; o++)
			if (option_here(o, restore) && !i--)
				return o;
	return NULL;
}

unsigned int dev_options_getopt(struct option *out, unsigned int max, int base,
				bool restore)
{
	const struct device_option *o;
	unsigned int n = 0;

	while (n < max && (o = dev_option_at(n, restore))) {
		out[n] = (struct option){ o->name, o->arg ? required_argument : no_argument,
					  NULL, base + (int)n };
		n++;
	}
	return n;
}

const char *dev_option_name(unsigned int i, bool restore)
{
	const struct device_option *o = dev_option_at(i, restore);

	return o ? o->name : NULL;
}

/* "      --disk PATH[,ro]       help", the help's further lines beneath it. */
void dev_options_help(FILE *out, bool restore)
{
	const struct device_option *o;

	for (unsigned int i = 0; (o = dev_option_at(i, restore)); i++) {
		const char *help = restore ? o->restore_help : o->help;
		const char *arg = restore && o->restore_arg ? o->restore_arg : o->arg;
		char head[64];
		int n = snprintf(head, sizeof(head), "      --%s%s%s", o->name,
				 arg ? " " : "", arg ? arg : "");

		/* Too long for its column: the help starts on the next line. */
		fprintf(out, "%s%s", head, n > 28 ? "\n" : "");
		for (int col = n > 28 ? 0 : n; *help; col = 0) {
			const char *nl = strchrnul(help, '\n');

			fprintf(out, "%*s%.*s\n", 29 - col, "", (int)(nl - help), help);
			help = *nl ? nl + 1 : nl;
		}
	}
}

void dev_options_man(FILE *out, bool restore)
{
	const struct device_option *o;

	for (unsigned int i = 0; (o = dev_option_at(i, restore)); i++)
		fprintf(out, ".TP\n%s", restore ? o->restore_man : o->man);
}

int dev_config_take_resources(struct dev_config *cfg, const struct dev_config *given,
			      bool recorded, struct err *e)
{
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->take_resources &&
		    device_table[i]->take_resources(cfg->kinds[i], given->kinds[i],
						    recorded, e))
			return -EINVAL;
	return 0;
}

void dev_config_describe(const struct dev_config *cfg, FILE *out)
{
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->describe)
			device_table[i]->describe(cfg->kinds[i], out);
}

void dev_config_kinds(const struct dev_config *cfg, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < device_table_len && n < size; i++)
		if (device_table[i]->configured &&
		    device_table[i]->configured(cfg->kinds[i]))
			n += snprintf(out + n, size - n, "%s%s", n ? " " : "",
				      device_table[i]->name);
}

int device_flag_parse(void *config, const char *name, char *arg, bool restore,
		      struct err *e)
{
	(void)name;
	(void)arg;
	(void)restore;
	(void)e;
	((struct device_flag *)config)->on = true;
	return 0;
}

bool device_flag_configured(const void *config)
{
	return ((const struct device_flag *)config)->on;
}

bool device_flag_on(const struct dev_config *cfg, const struct device_desc *kind)
{
	return device_flag_configured(device_config(cfg, kind));
}

void device_flag_save_config(const struct device_desc *kind,
			     const struct dev_config *cfg, struct vmstate_writer *w)
{
	vmstate_put_u32(w, kind->options[0].name, device_flag_on(cfg, kind));
}

int device_flag_load_config(const struct device_desc *kind, struct dev_config *cfg,
			    const struct vmstate *vs, int node, struct err *e)
{
	struct device_flag *f = device_config(cfg, kind);

	/* A kind newer than the snapshot: it had none. */
	if (vs->revision < kind->since_revision &&
	    !vmstate_has(vs, node, kind->options[0].name)) {
		f->on = false;
		return 0;
	}
	return vmstate_get_flag(vs, node, kind->options[0].name, &f->on, e);
}

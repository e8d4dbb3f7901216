/* SPDX-License-Identifier: MIT */
/*
 * Devices and the buses that route guest port and MMIO accesses to them.
 *
 * A device is a struct device embedded in the device's own state, with an ops
 * table. The vCPU loop never knows which device handled an exit: it hands the
 * access to a bus, which finds the device by address and calls its ops with
 * the device's lock held. A device kind plugs in through a struct device_desc
 * listed once in device_table (devices/device_table.c).
 */
#ifndef GMVM_DEVICE_H
#define GMVM_DEVICE_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "err.h"

struct device;
struct dev_host;
struct json_object;
struct option;
struct vmstate;
struct vmstate_writer;

#define VM_MAX_DISKS 8
#define VM_MAX_NETS 4
#define DEVICE_KINDS_MAX 16
#define DEVICE_CONFIG_MAX 256	/* bytes of one kind's own configuration */

/*
 * The host resources of virtio-blk (--disk PATH[,ro]) and virtio-net (--net
 * tap=NAME[,mac=MAC]), their specs and their kinds' configuration: public,
 * for their tests and the fuzz harness. Other kinds keep theirs to
 * themselves.
 */
struct disk_config {
	const char *path;
	bool readonly;
};

/* "PATH[,ro]" (a trailing ",rw" is allowed too). Returns 0 or -EINVAL. */
int parse_disk_spec(char *s, struct disk_config *d, struct err *e);

/* virtio-blk's own configuration: the disks, in the guest's order. */
struct disks_config {
	struct disk_config disks[VM_MAX_DISKS];
	unsigned int nr;
};

extern const struct device_desc virtio_blk_device;

struct net_config {
	char tap[16];			/* IFNAMSIZ */
	uint8_t mac[6];
	bool mac_set;			/* else one is made up */
};

/* "tap=NAME[,mac=XX:XX:XX:XX:XX:XX]". Returns 0 or -EINVAL. */
int parse_net_spec(const char *s, struct net_config *n, struct err *e);

/* virtio-net's own configuration: the taps, in the guest's order. */
struct nets_config {
	struct net_config nets[VM_MAX_NETS];
	unsigned int nr;
};

extern const struct device_desc virtio_net_device;

/* How the guest finds virtio-mmio devices (--discovery). */
enum vm_discovery {
	DISCOVERY_CMDLINE,	/* virtio_mmio.device= on the command line */
	DISCOVERY_ACPI,		/* LNRO0005 devices in the DSDT */
	DISCOVERY_BOTH,
};

/*
 * The devices a VM is to have (gmvm run's options; a restore's come from
 * the snapshot): what they attach to, and each kind's own configuration,
 * which only the kind reads (device_config()).
 */
struct dev_config {
	enum console_mode console;	/* --console */
	enum vm_discovery discovery;	/* --discovery */
	bool snapshot_port;		/* --snapshot-on-request */
	bool virtio_console;		/* a virtio-console device exists */
	_Alignas(max_align_t) unsigned char kinds[DEVICE_KINDS_MAX][DEVICE_CONFIG_MAX];
};

/*
 * A command-line option a kind of device owns: gmvm run's, and gmvm
 * restore's too when restore_help is set (a host resource for a restored
 * device, in place of the one the snapshot recorded).
 */
struct device_option {
	const char *name;		/* without "--" */
	const char *arg;		/* its value's form ("PATH[,ro]"); NULL: none */
	const char *help;		/* gmvm run --help's lines, '\n' between */
	const char *restore_help;
	const char *restore_arg;	/* restore's form, when not arg's */
	/* The man page's entries (roff, after .TP): run's and restore's. */
	const char *man;
	const char *restore_man;
};

/* A system call a device makes on the main thread, on its own fd (-1: any). */
struct device_syscall {
	int nr;
	int fd;
};

struct device_ops {
	const char *name;
	/*
	 * Guest access of len bytes (1, 2, 4 or 8) at offset inside the range
	 * the device registered. Reads fill data[0..len). Called with
	 * dev->lock held, from a vCPU thread.
	 */
	void (*read)(struct device *dev, uint64_t offset, uint8_t *data,
		     uint32_t len);
	void (*write)(struct device *dev, uint64_t offset, const uint8_t *data,
		      uint32_t len);
	/* Back to power-on state. Called with dev->lock held. May be NULL. */
	void (*reset)(struct device *dev);
	/*
	 * Write the device's state as properties of the current vmstate node
	 * (failures are sticky in w). Called with the VM paused and dev->lock
	 * held. NULL: the device has no state.
	 */
	void (*save)(struct device *dev, struct vmstate_writer *w);
	/*
	 * Take the state back from node of vs, validating every value: the
	 * snapshot is untrusted. Called before any vCPU runs. Returns 0 or
	 * -EINVAL with e set. NULL: the device has no state.
	 */
	int (*restore)(struct device *dev, const struct vmstate *vs, int node,
		       struct err *e);
	/*
	 * A restore has given back all of the VM's state (devices, interrupt
	 * controllers, vCPUs); nothing has run yet: what the guest must see
	 * first (an interrupt) is raised now, where KVM keeps it. Main
	 * thread. May be NULL.
	 */
	void (*restored)(struct device *dev);
	/*
	 * The VM pauses (true) or resumes (false): stop or restart work the
	 * device does on its own (queues, host I/O). Main thread. May be NULL.
	 */
	void (*pause)(struct device *dev, bool paused);
	/*
	 * Its own counters, added to root, the --stats and control "stats"
	 * object, under a key of its own. Main thread. May be NULL.
	 */
	void (*stats)(struct device *dev, struct json_object *root);
	/*
	 * A control request ({"cmd": cmd, ...}) this device may serve: 1 when
	 * cmd is not its, else 0 with what it answers added to reply, or
	 * -errno with e set. Main thread. May be NULL.
	 */
	int (*control)(struct device *dev, const char *cmd, struct json_object *req,
		       struct json_object *reply, struct err *e);
	/*
	 * The system calls it makes on the main thread once the guest runs,
	 * beyond every thread's (vmm/seccomp.c), each bound to its own fd
	 * where it has one: up to max into calls; returns how many. May be
	 * NULL.
	 */
	unsigned int (*syscalls)(struct device *dev, struct device_syscall *calls,
				 unsigned int max);
	/* Free the device; it is already off every bus. May be NULL. */
	void (*destroy)(struct device *dev);
};

struct device {
	const struct device_ops *ops;
	struct dev_host *host;	/* the VM it is part of (host.h) */
	char id[32];		/* unique; its vmstate node name */
	pthread_mutex_t lock;
};

/* A kind of device. */
struct device_desc {
	const char *name;
	/* Bytes of its own configuration, at most DEVICE_CONFIG_MAX. */
	size_t config_size;
	/* Its options (ending with a NULL name), and each into config. */
	const struct device_option *options;
	int (*parse)(void *config, const char *name, char *arg, bool restore,
		     struct err *e);
	/*
	 * Create the devices of this kind that cfg asks for (possibly none)
	 * and add them to host's VM and buses (host.h). Returns 0 or -errno
	 * with e filled.
	 */
	int (*setup)(struct dev_host *host, const struct dev_config *cfg,
		     struct err *e);
	/*
	 * Its part of a snapshot's "config" node: what a restore needs to
	 * make these devices again, written, then read back and checked (the
	 * snapshot is untrusted) into cfg. NULL: nothing to keep.
	 */
	void (*save_config)(const struct device_desc *kind,
			    const struct dev_config *cfg, struct vmstate_writer *w);
	int (*load_config)(const struct device_desc *kind, struct dev_config *cfg,
			   const struct vmstate *vs, int node, struct err *e);
	/*
	 * The control request its devices serve (device_ops.control), and
	 * what to say when the VM has none of them. NULL: none.
	 */
	const char *control_cmd;
	const char *control_missing;
	/*
	 * A restore's host resources: config (the snapshot's) keeps the ones
	 * it recorded when recorded, else takes given's (restore's options)
	 * in their place, which must fit the devices. NULL: none.
	 */
	int (*take_resources)(void *config, const void *given, bool recorded,
			      struct err *e);
	/*
	 * The vmstate revision its configuration came with (lib/vmstate.h):
	 * a snapshot of an earlier one that says nothing of the kind has
	 * none of its devices. 0: there from the start, always said.
	 */
	uint32_t since_revision;
	/* The host resources config names, for gmvm inspect. NULL: none. */
	void (*describe)(const void *config, FILE *out);
	/*
	 * What gmvm inspect says of a device's saved state (node, named by
	 * the kind's name): one line, or nothing. NULL: nothing.
	 */
	void (*describe_state)(const struct vmstate *vs, int node, FILE *out);
	/* Whether config asks for any device of this kind. NULL: no config. */
	bool (*configured)(const void *config);
};

extern const struct device_desc *const device_table[];
extern const unsigned int device_table_len;

/* kind's own part of cfg (device_desc.config_size bytes, zero at first). */
void *device_config(const struct dev_config *cfg, const struct device_desc *kind);

/*
 * A kind whose configuration is one flag, set by its first option (which
 * takes no value: --rng) and kept in snapshots under that name: these are
 * its parse, configured, save_config and load_config, and whether cfg
 * asks for one.
 */
struct device_flag {
	bool on;
};

int device_flag_parse(void *config, const char *name, char *arg, bool restore,
		      struct err *e);
bool device_flag_configured(const void *config);
void device_flag_save_config(const struct device_desc *kind,
			     const struct dev_config *cfg, struct vmstate_writer *w);
int device_flag_load_config(const struct device_desc *kind, struct dev_config *cfg,
			    const struct vmstate *vs, int node, struct err *e);
bool device_flag_on(const struct dev_config *cfg, const struct device_desc *kind);

/*
 * Every kind at once (devices/device_table.c): its save_config and
 * load_config; the option --name ARG into the kind that owns it (1: no kind
 * does); the options as getopt's long options, with val base + i for the
 * i-th (restore: restore's only), and the name of the i-th; their help, as
 * --help prints it; take_resources; describe.
 */
void dev_config_save(const struct dev_config *cfg, struct vmstate_writer *w);
int dev_config_load(struct dev_config *cfg, const struct vmstate *vs, int node,
		    struct err *e);
int dev_config_option(struct dev_config *cfg, const char *name, char *arg,
		      bool restore, struct err *e);
unsigned int dev_options_getopt(struct option *out, unsigned int max, int base,
				bool restore);
const char *dev_option_name(unsigned int i, bool restore);
void dev_options_help(FILE *out, bool restore);
void dev_options_man(FILE *out, bool restore);
int dev_config_take_resources(struct dev_config *cfg, const struct dev_config *given,
			      bool recorded, struct err *e);
void dev_config_describe(const struct dev_config *cfg, FILE *out);
/* The names of the kinds cfg asks for, " "-separated, into out. */
void dev_config_kinds(const struct dev_config *cfg, char *out, size_t size);

/* Initialise the generic part of a device; its id is its ops' name. */
void device_init(struct device *dev, const struct device_ops *ops,
		 struct dev_host *host);

/*
 * A device of one window that only listens (devices/simple_device.c): reads
 * are zeros, writes go to desc->write. It is added to the VM and registered on
 * the port or MMIO bus; size (at least that of struct simple_device) lets
 * the kind keep its own state after it. Returns the device, or NULL with e
 * set.
 */
struct simple_device {
	struct device dev;
	struct device_ops ops;
};

struct simple_device_desc {
	const char *name;
	bool mmio;
	uint64_t base, len;
	void (*write)(struct device *dev, uint64_t offset, const uint8_t *data,
		      uint32_t len);
};

struct device *simple_device_add(struct dev_host *host,
				 const struct simple_device_desc *desc,
				 size_t size, struct err *e);

struct bus_range {
	uint64_t base;
	uint64_t len;
	struct device *dev;
};

/* Ranges are registered before any vCPU runs and never change after. */
struct bus {
	const char *name;	/* "port" or "MMIO", for messages */
	struct bus_range *ranges;	/* sorted by base, disjoint */
	unsigned int nr;
};

/*
 * Route [base, base + len) to dev. Returns 0, -EBUSY when the range overlaps
 * one already registered, -EINVAL when it is empty or wraps, -ENOMEM.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 struct device *dev);

/*
 * Perform a guest access on the device covering [addr, addr + len). Returns
 * false, touching nothing, when no single device covers it.
 */
bool bus_access(const struct bus *bus, uint64_t addr, uint8_t *data,
		uint32_t len, bool is_write);

void bus_free(struct bus *bus);

#endif /* GMVM_DEVICE_H */

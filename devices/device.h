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
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct vm;
struct vm_config;
struct device;
struct vmstate;
struct vmstate_writer;

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
	 * The VM pauses (true) or resumes (false): stop or restart work the
	 * device does on its own (queues, host I/O). Main thread. May be NULL.
	 */
	void (*pause)(struct device *dev, bool paused);
	/* Free the device; it is already off every bus. May be NULL. */
	void (*destroy)(struct device *dev);
};

struct device {
	const struct device_ops *ops;
	struct vm *vm;
	char id[32];		/* unique; its vmstate node name */
	pthread_mutex_t lock;
};

/* A kind of device. */
struct device_desc {
	const char *name;
	/*
	 * Create the devices of this kind that cfg asks for (possibly none)
	 * and register them with vm_add_device() and the buses. Returns 0 or
	 * -errno with e filled.
	 */
	int (*setup)(struct vm *vm, const struct vm_config *cfg, struct err *e);
};

extern const struct device_desc *const device_table[];
extern const unsigned int device_table_len;

/* Initialise the generic part of a device; its id is its ops' name. */
void device_init(struct device *dev, const struct device_ops *ops,
		 struct vm *vm);

/*
 * A device of one window that only listens (devices/simple_device.c): reads
 * are zeros, writes go to desc->write. It is added to vm and registered on
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

struct device *simple_device_add(struct vm *vm, const struct simple_device_desc *desc,
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

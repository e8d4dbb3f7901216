/* SPDX-License-Identifier: MIT */
/*
 * What a device sees of the VM it is part of: guest RAM, the main thread's
 * event loop, the console, and a few requests (a window on a bus, an
 * interrupt, an exit). The VM core implements it (vmm/vm.c), the fuzz
 * harness its own; no device sees struct vm.
 */
#ifndef GMVM_DEVICE_HOST_H
#define GMVM_DEVICE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct console;
struct device;
struct event_loop;
struct guest_mem;
struct virtio_dev;

struct dev_host_ops {
	/* Take dev into the VM: destroyed with it, saved in its snapshots. */
	int (*add_device)(void *vm, struct device *dev);
	/* Route guest accesses to [base, base + len) to dev. */
	int (*add_pio)(void *vm, uint16_t base, uint16_t len, struct device *dev,
		       struct err *e);
	int (*add_mmio)(void *vm, uint64_t base, uint64_t len, struct device *dev,
			struct err *e);
	/*
	 * A virtio-mmio device for the guest to find (command line, ACPI):
	 * returns its slot (0 to LAYOUT_VIRTIO_MAX - 1), from which its window
	 * and interrupt follow, or -ENOSPC with e set.
	 */
	int (*add_virtio)(void *vm, struct virtio_dev *vd, struct err *e);
	/* Interrupt line gsi raised while fd is signalled (KVM irqfd). */
	int (*add_irqfd)(void *vm, int fd, uint32_t gsi, struct err *e);
	/* fd signalled on a guest write of len bytes of datamatch at addr. */
	int (*add_ioeventfd)(void *vm, int fd, uint64_t addr, uint32_t len,
			     uint64_t datamatch, struct err *e);
	/* Drive interrupt line gsi of the in-kernel irqchip. */
	void (*set_irq)(void *vm, unsigned int gsi, bool level);
	/* End the VM with this exit status (the first request wins). */
	void (*request_exit)(void *vm, int status);
	/* Take a snapshot now (--snapshot-on-request). */
	void (*request_snapshot)(void *vm);
	/*
	 * Describe a VM Generation ID to the guest's firmware tables: its 16
	 * bytes at gpa (RAM the guest does not use), its change announced
	 * by raising gsi. A boot copies id (which must last) there with the
	 * tables; a restore leaves RAM to the device, whose pages may not be
	 * served yet at set-up.
	 */
	int (*add_vmgenid)(void *vm, uint64_t gpa, uint32_t gsi, const uint8_t *id,
			   struct err *e);
	/* The tap called name, as tap_open() (lib/tuntap.h) opens it. */
	int (*open_tap)(void *vm, const char *name, int vnet_hdr_len, struct err *e);
};

struct dev_host {
	const struct dev_host_ops *ops;
	void *vm;			/* the implementation's, opaque here */
	struct guest_mem *mem;		/* guest RAM */
	struct event_loop *loop;	/* the main thread's */
	struct console *console;	/* the VM's standard input and output */
	uint64_t start_ns;		/* when gmvm started (time_now_ns) */
};

/* 0, or -ENOMEM. */
static inline int host_add_device(struct dev_host *h, struct device *dev)
{
	return h->ops->add_device(h->vm, dev);
}

static inline int host_add_pio(struct dev_host *h, uint16_t base, uint16_t len,
			       struct device *dev, struct err *e)
{
	return h->ops->add_pio(h->vm, base, len, dev, e);
}

static inline int host_add_mmio(struct dev_host *h, uint64_t base, uint64_t len,
				struct device *dev, struct err *e)
{
	return h->ops->add_mmio(h->vm, base, len, dev, e);
}

static inline int host_add_virtio(struct dev_host *h, struct virtio_dev *vd,
				  struct err *e)
{
	return h->ops->add_virtio(h->vm, vd, e);
}

static inline int host_add_irqfd(struct dev_host *h, int fd, uint32_t gsi,
				 struct err *e)
{
	return h->ops->add_irqfd(h->vm, fd, gsi, e);
}

static inline int host_add_ioeventfd(struct dev_host *h, int fd, uint64_t addr,
				     uint32_t len, uint64_t datamatch,
				     struct err *e)
{
	return h->ops->add_ioeventfd(h->vm, fd, addr, len, datamatch, e);
}

static inline void host_set_irq(struct dev_host *h, unsigned int gsi, bool level)
{
	h->ops->set_irq(h->vm, gsi, level);
}

static inline void host_request_exit(struct dev_host *h, int status)
{
	h->ops->request_exit(h->vm, status);
}

static inline void host_request_snapshot(struct dev_host *h)
{
	h->ops->request_snapshot(h->vm);
}

static inline int host_add_vmgenid(struct dev_host *h, uint64_t gpa, uint32_t gsi,
				   const uint8_t *id, struct err *e)
{
	return h->ops->add_vmgenid(h->vm, gpa, gsi, id, e);
}

static inline int host_open_tap(struct dev_host *h, const char *name,
				int vnet_hdr_len, struct err *e)
{
	return h->ops->open_tap(h->vm, name, vnet_hdr_len, e);
}

#endif /* GMVM_DEVICE_HOST_H */

/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share: a cursor over the fuzzer's input, guest RAM
 * over a heap buffer (so AddressSanitizer sees any access past it), and a
 * VM as far as devices need one, without KVM.
 *
 * The fake VM is made like vm_create() makes a real one, less the KVM parts,
 * and its devices by the real vm_setup_devices(). The few KVM calls devices
 * make through their host (devices/host.h) are the harness's: an irqfd or
 * an ioeventfd is only recorded, and a guest MMIO write that matches an
 * ioeventfd signals it, as KVM would, instead of reaching the bus. Events
 * are then served the way the main thread's loop serves them.
 */
#ifndef GMVM_FUZZ_HARNESS_H
#define GMVM_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "guest_mem.h"
#include "virtio.h"
#include "vm.h"

/* libFuzzer's entry points. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Fail loudly: the fuzzer reports an abort as a crash, with the input. */
#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);     \
	} while (0)

void fuzz_fail(const char *file, int line, const char *cond,
	       const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Quiet logs, stdout kept clean: harness.c's LLVMFuzzerInitialize() calls
 * it for every target.
 * With FUZZ_VERBOSE set in the environment (to see what an input does),
 * gmvm's own messages are shown, and fuzz_note()'s.
 */
void fuzz_init(void);
extern bool fuzz_verbose;
void fuzz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something refused input: e must say why (shown with FUZZ_VERBOSE). */
void fuzz_refused(const struct err *e, const char *what);

/* --- The input, read front to back; zeros once it runs out. ----------- */

struct fuzz_input {
	const uint8_t *data;
	size_t len;
	size_t pos;
	/*
	 * Snapshot round trips made: each costs as much as a hundred other
	 * operations (libfdt looks properties up by name), so an input gets
	 * FUZZ_MAX_ROUNDTRIPS of them.
	 */
	unsigned int roundtrips;
};

#define FUZZ_MAX_ROUNDTRIPS 1

static inline bool fin_done(const struct fuzz_input *in)
{
	return in->pos >= in->len;
}

uint8_t fin_u8(struct fuzz_input *in);
uint16_t fin_u16(struct fuzz_input *in);
uint32_t fin_u32(struct fuzz_input *in);
uint64_t fin_u64(struct fuzz_input *in);
/* Up to want bytes: *p points at them; returns how many there are. */
size_t fin_bytes(struct fuzz_input *in, size_t want, const uint8_t **p);

/* --- Guest RAM ---------------------------------------------------------- */

/*
 * size bytes of zeroed RAM (a multiple of 4 KiB, below the MMIO gap) laid
 * out by guest_mem_layout(), backed by one heap buffer: "anonymous memory".
 */
int fuzz_mem_init(struct guest_mem *mem, uint64_t size);
void fuzz_mem_free(struct guest_mem *mem);
/* Copy len bytes to gpa, cut at the end of RAM (gpa wraps around RAM). */
void fuzz_mem_write(struct guest_mem *mem, uint64_t gpa, const uint8_t *src,
		    size_t len);

/* --- A VM without KVM ---------------------------------------------------- */

/*
 * A disk image for virtio-blk: a memfd, 64 KiB of zeros at the start of
 * every input (fuzz_disks_reset()), opened by path like any disk.
 */
#define FUZZ_DISK_SIZE (64 * 1024)
const char *fuzz_disk_path(unsigned int i);
void fuzz_disks_reset(void);

/*
 * Make vm for cfg over mem (which stays the caller's) and create its
 * devices with vm_setup_devices(). Returns 0 or -errno with e set; on
 * failure vm is destroyed already.
 */
int fuzz_vm_create(struct vm *vm, const struct vm_config *cfg,
		   const struct guest_mem *mem, struct err *e);
void fuzz_vm_destroy(struct vm *vm);

/* A guest access, as a vCPU thread makes it (ioeventfds as KVM would). */
void fuzz_vm_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len,
		  bool is_write);
void fuzz_vm_pio(struct vm *vm, uint16_t port, uint8_t *data, uint32_t len,
		 bool is_write);
uint32_t fuzz_mmio_read32(struct vm *vm, uint64_t addr);
void fuzz_mmio_write32(struct vm *vm, uint64_t addr, uint32_t v);

/*
 * Make head the next available entry of a queue of size entries whose
 * available ring is at avail (gpa in mem), as a driver does, and notify
 * queue q of vd.
 */
void fuzz_avail_notify(struct vm *vm, struct guest_mem *mem, const struct virtio_dev *vd,
		       unsigned int q, uint64_t avail, uint16_t size, uint16_t head);

/* Serve what the main thread's loop would now: queue notifications. */
void fuzz_vm_poll(struct vm *vm);

/* A queue's size and rings, for fuzz_virtio_setup(). */
struct fuzz_queue {
	uint16_t size;
	uint64_t desc, avail, used;
};

/*
 * Bring vd up through its registers as a driver does: reset, ACKNOWLEDGE
 * and DRIVER, accept what is offered of features, FEATURES_OK, queues
 * 0..nr-1 as q[] says, QUEUE_READY, DRIVER_OK.
 */
void fuzz_virtio_setup(struct vm *vm, const struct virtio_dev *vd,
		       uint64_t features, unsigned int nr,
		       const struct fuzz_queue *q);

/*
 * Snapshot the devices of *vm with the real writer, check the blob with
 * vmstate_open(), make a VM of the same configuration, restore them into
 * it, and check that it saves the very same blob. Then *vm is the new VM.
 * A device state the guest could reach must survive this: any failure is
 * reported as a crash. Does nothing once in has had its round trips.
 */
void fuzz_vm_roundtrip(struct vm *vm, const struct vm_config *cfg,
		       struct fuzz_input *in);

/*
 * A whole input as a sequence of ops on the legacy ports [base, base +
 * span) of a fresh one-vCPU VM with the given console (see fuzz_serial.c);
 * every target on legacy ports is this call.
 */
int fuzz_pio_run(const uint8_t *data, size_t size, enum console_mode console,
		 uint16_t base, uint16_t span);

/*
 * Load a kernel into a fake VM with vm_load_kernel(), as `gmvm run` does,
 * and set up the boot vCPU's registers; prepare() may patch the kernel
 * bytes first (fuzz_elf.c, fuzz_bzimage.c). Input:
 *   u8 RAM (2 MiB << n % 4), u8 vCPUs (1 + n % 64), u8 flags, u16 command
 *   line length, u32 initrd length, the command line, the kernel (the rest)
 * Flags: bits 0-1 discovery (cmdline, acpi, both), bit 2 virtio-rng, 3
 * virtio-balloon, 4 virtio-console, 5 a disk, 6 RAM not fresh. The initrd
 * is the kernel's first bytes, or zeros when it is longer.
 */
void fuzz_boot_run(const uint8_t *data, size_t size,
		   void (*prepare)(uint8_t *kernel, size_t len));

/*
 * The devices' option --name [ARG] into cfg, as gmvm run's command line
 * gives it (a setup failure when refused); a disk of the harness's (i) in
 * virtio-blk's configuration.
 */
void fuzz_dev_option(struct dev_config *cfg, const char *name, const char *arg);

/* What opens a tap for virtio-net (the harness has none by default). */
void fuzz_tap_opener(int (*open_tap)(const char *name, struct err *e));
void fuzz_add_disk(struct dev_config *cfg, unsigned int i, bool readonly);

/*
 * A control request to the VM's devices, as the control socket would pass
 * it on ({"cmd": cmd, "pages": pages}); the answer is dropped.
 */
void fuzz_vm_control(struct vm *vm, const char *cmd, int64_t pages);

#endif /* GMVM_FUZZ_HARNESS_H */

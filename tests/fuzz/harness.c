// SPDX-License-Identifier: MIT
/*
 * The fuzz targets' harness: input cursor, guest RAM, and a VM without KVM
 * (see harness.h). Nothing here parses guest input: that is left to the
 * real code, which the targets call.
 */
#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch_layout.h"
#include "harness.h"
#include "log.h"
#include "snapshot.h"
#include "vmstate.h"

static int devnull = -1;

void fuzz_fail(const char *file, int line, const char *cond,
	       const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: check failed: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

bool fuzz_verbose;

void fuzz_note(const char *fmt, ...)
{
	va_list ap;

	if (!fuzz_verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fuzz_refused(const struct err *e, const char *what)
{
	FUZZ_CHECK(e->errnum > 0 && e->msg[0], "%s refused without a reason", what);
	fuzz_note("%s: %s", what, e->msg);
}

void fuzz_init(void)
{
	/* Guests that break the rules are the point: no warning floods. */
	fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
	log_set_level(fuzz_verbose ? LOG_DEBUG : LOG_ERROR);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0) {
		perror("/dev/null");
		exit(1);
	}
}

/* Every target's: libFuzzer calls it once, before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

/* --- Input ---------------------------------------------------------------- */

uint8_t fin_u8(struct fuzz_input *in)
{
	return in->pos < in->len ? in->data[in->pos++] : 0;
}

uint16_t fin_u16(struct fuzz_input *in)
{
	uint16_t lo = fin_u8(in);

	return lo | (uint16_t)fin_u8(in) << 8;
}

uint32_t fin_u32(struct fuzz_input *in)
{
	uint32_t lo = fin_u16(in);

	return lo | (uint32_t)fin_u16(in) << 16;
}

uint64_t fin_u64(struct fuzz_input *in)
{
	uint64_t lo = fin_u32(in);

	return lo | (uint64_t)fin_u32(in) << 32;
}

size_t fin_bytes(struct fuzz_input *in, size_t want, const uint8_t **p)
{
	size_t n = fin_done(in) ? 0 : MIN(want, in->len - in->pos);

	*p = in->data + in->pos;
	in->pos += n;
	return n;
}

/* --- Guest RAM ------------------------------------------------------------ */

/*
 * Anonymous memory, as the anon backend maps it, between two PROT_NONE
 * pages: a stray access just outside RAM faults at once. Page aligned, so
 * that the balloon's MADV_DONTNEED works as it does on real RAM.
 */
int fuzz_mem_init(struct guest_mem *mem, uint64_t size)
{
	uint8_t *p;

	if (size > GUEST_MMIO_GAP_START || guest_mem_layout(mem, size))
		return -EINVAL;
	p = mmap(NULL, size + 2 * PAGE_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mprotect(p + PAGE_SIZE, size, PROT_READ | PROT_WRITE) < 0) {
		munmap(p, size + 2 * PAGE_SIZE);
		return -errno;
	}
	mem->backend = &guest_mem_backend_anon;
	mem->base = p + PAGE_SIZE;
	mem->fresh = true;
	return 0;
}

void fuzz_mem_free(struct guest_mem *mem)
{
	if (mem->base)
		munmap(mem->base - PAGE_SIZE, mem->size + 2 * PAGE_SIZE);
	mem->base = NULL;
}

void fuzz_mem_write(struct guest_mem *mem, uint64_t gpa, const uint8_t *src,
		    size_t len)
{
	gpa %= mem->size;
	memcpy(mem->base + gpa, src, MIN((uint64_t)len, mem->size - gpa));
}

/* --- Disks ---------------------------------------------------------------- */

static int disk_fd[VM_MAX_DISKS] = { -1, -1, -1, -1, -1, -1, -1, -1 };
static char disk_path[VM_MAX_DISKS][32];

const char *fuzz_disk_path(unsigned int i)
{
	if (disk_fd[i] < 0) {
		disk_fd[i] = memfd_create("fuzz-disk", MFD_CLOEXEC);
		if (disk_fd[i] < 0 || ftruncate(disk_fd[i], FUZZ_DISK_SIZE) < 0) {
			perror("fuzz disk");
			exit(1);
		}
		snprintf(disk_path[i], sizeof(disk_path[i]), "/proc/self/fd/%d",
			 disk_fd[i]);
	}
	return disk_path[i];
}

void fuzz_disks_reset(void)
{
	for (unsigned int i = 0; i < VM_MAX_DISKS; i++)
		if (disk_fd[i] >= 0 &&
		    (ftruncate(disk_fd[i], 0) < 0 ||
		     ftruncate(disk_fd[i], FUZZ_DISK_SIZE) < 0))
			abort();
}

/* --- KVM, as far as devices use it ---------------------------------------- */

/*
 * The devices' host (devices/host.h) is the real VM's, less the calls that
 * would reach KVM or the network: an irqfd or an ioeventfd is only recorded,
 * an interrupt line only checked, and a tap is what the target gives.
 */
struct fake_ioeventfd {
	const void *vm;
	int fd;
	uint64_t addr;
	uint32_t len;
	uint64_t datamatch;
};

static struct fake_ioeventfd ioeventfds[2 * LAYOUT_VIRTIO_MAX * VIRTIO_MAX_QUEUES];
static unsigned int nr_ioeventfds;

static int fake_add_irqfd(void *vm, int fd, uint32_t gsi, struct err *e)
{
	(void)vm;
	if (fd < 0 || gsi >= 24)
		return err_set(e, EINVAL, "KVM_IRQFD for GSI %u: fd %d", gsi, fd);
	return 0;
}

static int fake_add_ioeventfd(void *vm, int fd, uint64_t addr, uint32_t len,
			      uint64_t datamatch, struct err *e)
{
	if (nr_ioeventfds == ARRAY_SIZE(ioeventfds))
		return err_set(e, ENOSPC, "KVM_IOEVENTFD at %#llx: too many",
			       (unsigned long long)addr);
	ioeventfds[nr_ioeventfds++] = (struct fake_ioeventfd){
		vm, fd, addr, len, datamatch };
	return 0;
}

static void fake_set_irq(void *vm, unsigned int gsi, bool level)
{
	(void)vm;
	(void)level;
	FUZZ_CHECK(gsi < 24, "interrupt line %u", gsi);
}

static int (*fake_tap_opener)(const char *name, struct err *e);

/* No tap here unless a target brings its own (fuzz_virtio_net). */
static int fake_open_tap(void *vm, const char *name, int vnet_hdr_len, struct err *e)
{
	(void)vm;
	(void)vnet_hdr_len;
	if (!fake_tap_opener)
		return err_set(e, ENODEV, "no tap %s in the fuzz harness", name);
	return fake_tap_opener(name, e);
}

void fuzz_tap_opener(int (*open_tap)(const char *name, struct err *e))
{
	fake_tap_opener = open_tap;
}

static struct dev_host_ops fake_host_ops;

/* The real VM's host calls, with KVM's three replaced. */
static void fake_host(struct vm *vm)
{
	if (!fake_host_ops.add_device) {
		fake_host_ops = *vm->host.ops;
		fake_host_ops.add_irqfd = fake_add_irqfd;
		fake_host_ops.add_ioeventfd = fake_add_ioeventfd;
		fake_host_ops.set_irq = fake_set_irq;
		fake_host_ops.open_tap = fake_open_tap;
	}
	vm->host.ops = &fake_host_ops;
}

static void ioeventfds_forget(const struct vm *vm)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < nr_ioeventfds; i++)
		if (ioeventfds[i].vm != vm)
			ioeventfds[kept++] = ioeventfds[i];
	nr_ioeventfds = kept;
}

/* KVM's side of an MMIO write: true when an ioeventfd took it. */
static bool ioeventfd_signal(const struct vm *vm, uint64_t addr,
			     const uint8_t *data, uint32_t len)
{
	uint64_t v = 0, one = 1;

	memcpy(&v, data, MIN(len, (uint32_t)sizeof(v)));
	for (unsigned int i = 0; i < nr_ioeventfds; i++) {
		const struct fake_ioeventfd *io = &ioeventfds[i];

		if (io->vm == vm && io->addr == addr && io->len == len &&
		    io->datamatch == v) {
			FUZZ_CHECK(write(io->fd, &one, sizeof(one)) == sizeof(one),
				   "ioeventfd %d", io->fd);
			return true;
		}
	}
	return false;
}

/* --- The VM ---------------------------------------------------------------- */

/* KVM_GET_SUPPORTED_CPUID as far as the boot code asks: leaf 1. */
static struct kvm_cpuid2 *fake_cpuid(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = 1;
	c->entries[0] = (struct kvm_cpuid_entry2){
		.function = 1, .eax = 0x000806f8, .edx = 0x178bfbff };
	return c;
}

/* What vm_create() does, less KVM. */
static int fake_vm_init(struct vm *vm, const struct vm_config *cfg,
			const struct guest_mem *mem, struct err *e)
{
	vm_init(vm);
	fake_host(vm);
	vm_take_config(vm, cfg);
	/* Guest output goes nowhere, but through the same code. */
	vm->console.out_fd = devnull;
	vm->mem = *mem;
	vm->kvm.cpuid = fake_cpuid();
	if (!vm->kvm.cpuid)
		return err_set(e, ENOMEM, "out of memory");
	if (event_loop_init(&vm->loop))
		return err_set(e, errno, "epoll_create1: %s", strerror(errno));
	vm->exit.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit.efd < 0)
		return err_set(e, errno, "eventfd: %s", strerror(errno));
	return 0;
}

int fuzz_vm_create(struct vm *vm, const struct vm_config *cfg,
		   const struct guest_mem *mem, struct err *e)
{
	int ret = fake_vm_init(vm, cfg, mem, e);

	if (!ret)
		ret = vm_setup_devices(vm, cfg, e);
	if (ret)
		fuzz_vm_destroy(vm);
	return ret;
}

void fuzz_vm_destroy(struct vm *vm)
{
	ioeventfds_forget(vm);
	/* RAM is the caller's: vm_destroy() must not unmap it. */
	vm->mem.base = NULL;
	vm->mem.fd = -1;
	vm_destroy(vm);
}

void fuzz_vm_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len,
		  bool is_write)
{
	if (is_write && ioeventfd_signal(vm, addr, data, len))
		return;
	/* As vcpu_handle_mmio(): nothing there reads as all ones. */
	if (!bus_access(&vm->mmio_bus, addr, data, len, is_write) && !is_write)
		memset(data, 0xff, len);
}

void fuzz_vm_pio(struct vm *vm, uint16_t port, uint8_t *data, uint32_t len,
		 bool is_write)
{
	if (!bus_access(&vm->pio_bus, port, data, len, is_write) && !is_write)
		memset(data, 0xff, len);
}

uint32_t fuzz_mmio_read32(struct vm *vm, uint64_t addr)
{
	uint32_t v;

	fuzz_vm_mmio(vm, addr, (uint8_t *)&v, 4, false);
	return v;
}

void fuzz_mmio_write32(struct vm *vm, uint64_t addr, uint32_t v)
{
	fuzz_vm_mmio(vm, addr, (uint8_t *)&v, 4, true);
}

void fuzz_avail_notify(struct vm *vm, struct guest_mem *mem, const struct virtio_dev *vd,
		       unsigned int q, uint64_t avail, uint16_t size, uint16_t head)
{
	uint16_t idx;

	memcpy(&idx, mem->base + avail + 2, 2);
	fuzz_mem_write(mem, avail + 4 + 2ull * (idx % size), (const uint8_t *)&head, 2);
	idx++;
	fuzz_mem_write(mem, avail + 2, (const uint8_t *)&idx, 2);
	fuzz_mmio_write32(vm, vd->base + VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

void fuzz_vm_poll(struct vm *vm)
{
	struct epoll_event evs[16];

	/* Bounded: a source that never stops firing is a hang to report. */
	for (int round = 0; round < 64; round++) {
		int n = epoll_wait(vm->loop.epoll_fd, evs, ARRAY_SIZE(evs), 0);

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct event_source *src = evs[i].data.ptr;

			src->handler(src, evs[i].events);
		}
	}
	FUZZ_CHECK(false, "events still pending after 64 rounds");
}

/* --- Drivers and snapshots ------------------------------------------------- */

void fuzz_virtio_setup(struct vm *vm, const struct virtio_dev *vd,
		       uint64_t features, unsigned int nr,
		       const struct fuzz_queue *q)
{
	uint64_t base = vd->base, offered;
	uint32_t status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	fuzz_mmio_write32(vm, base + VIRTIO_MMIO_STATUS, 0);
	fuzz_mmio_write32(vm, base + VIRTIO_MMIO_STATUS, status);
	fuzz_mmio_write32(vm, base + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = (uint64_t)fuzz_mmio_read32(vm, base + VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	fuzz_mmio_write32(vm, base + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered |= fuzz_mmio_read32(vm, base + VIRTIO_MMIO_DEVICE_FEATURES);
	features = (features & offered) | (1ull << VIRTIO_F_VERSION_1);
	for (uint32_t sel = 0; sel < 2; sel++) {
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_DRIVER_FEATURES,
				  (uint32_t)(features >> (32 * sel)));
	}
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	fuzz_mmio_write32(vm, base + VIRTIO_MMIO_STATUS, status);
	for (unsigned int i = 0; i < nr; i++) {
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_SEL, i);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_NUM, q[i].size);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q[i].desc);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_DESC_HIGH, q[i].desc >> 32);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q[i].avail);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_AVAIL_HIGH, q[i].avail >> 32);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q[i].used);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_USED_HIGH, q[i].used >> 32);
		fuzz_mmio_write32(vm, base + VIRTIO_MMIO_QUEUE_READY, 1);
	}
	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	fuzz_mmio_write32(vm, base + VIRTIO_MMIO_STATUS, status);
	fuzz_vm_poll(vm);
}

/* The devices' state, as a checked blob the caller frees. */
static void *save_devices(struct vm *vm, size_t *len)
{
	struct vmstate_writer w;
	const void *blob;
	void *copy;

	FUZZ_CHECK(!vmstate_writer_init(&w), "vmstate writer: %d", w.err);
	snapshot_write_devices(vm, &w);
	FUZZ_CHECK(!vmstate_finish(&w, &blob, len), "vmstate_finish: %d", w.err);
	copy = malloc(*len);
	FUZZ_CHECK(copy, "out of memory");
	memcpy(copy, blob, *len);
	vmstate_writer_free(&w);
	return copy;
}

void fuzz_vm_roundtrip(struct vm *vm, const struct vm_config *cfg,
		       struct fuzz_input *in)
{
	struct guest_mem mem = vm->mem;
	struct vmstate vs;
	struct err e = { 0 };
	size_t len, len2;
	void *blob, *blob2;

	if (in && in->roundtrips++ >= FUZZ_MAX_ROUNDTRIPS)
		return;
	/* As vm_snapshot(): devices stop their own work first. */
	vm_pause(vm);
	blob = save_devices(vm, &len);
	FUZZ_CHECK(!vmstate_open(&vs, blob, len, &e), "a fresh snapshot: %s", e.msg);
	/* The disks are locked: the old VM goes first, as gmvm would. */
	fuzz_vm_destroy(vm);
	FUZZ_CHECK(!fuzz_vm_create(vm, cfg, &mem, &e), "a VM to restore into: %s",
		   e.msg);
	FUZZ_CHECK(!snapshot_restore_devices(vm, &vs, &e),
		   "restore of a state the guest reached: %s", e.msg);
	blob2 = save_devices(vm, &len2);
	FUZZ_CHECK(len == len2 && !memcmp(blob, blob2, len),
		   "restored devices save a different state (%zu, %zu bytes)",
		   len, len2);
	free(blob);
	free(blob2);
	/* Requests made available before the snapshot are served now. */
	fuzz_vm_poll(vm);
}

/*
 * One op on legacy ports [base, base + span), the fuzzer choosing which:
 * an access of 1, 2 or 4 bytes near the range (ports just outside it too),
 * console input, a pause and resume, or a snapshot round trip.
 */
static void fuzz_pio_op(struct vm *vm, struct fuzz_input *in, uint16_t base,
			uint16_t span)
{
	uint8_t op = fin_u8(in), data[4];
	uint16_t port;
	uint32_t len, v;
	const uint8_t *bytes;
	size_t n;

	switch (op % 8) {
	default:
		port = base - 1 + fin_u8(in) % (span + 2);
		len = 1u << (fin_u8(in) % 3);
		v = fin_u32(in);
		memcpy(data, &v, sizeof(data));
		fuzz_vm_pio(vm, port, data, len, op & 0x80);
		break;
	case 5:
		n = fin_bytes(in, fin_u8(in), &bytes);
		if (vm->console.sink.input)
			vm->console.sink.input(vm->console.sink.opaque, bytes, n);
		break;
	case 6:
		vm_pause(vm);
		vm_resume(vm);
		break;
	case 7:
		fuzz_vm_roundtrip(vm, vm->cfg, in);
		break;
	}
}

int fuzz_pio_run(const uint8_t *data, size_t size, enum console_mode console,
		 uint16_t base, uint16_t span)
{
	struct fuzz_input in = { .data = data, .len = size };
	/* Static: vm_create() keeps a pointer to its config. */
	static struct vm_config cfg = { .boot.cmdline = "", .machine.nr_vcpus = 1 };
	static struct vm vm;
	struct guest_mem mem;
	struct err e = { 0 };

	cfg.dev.console = console;
	if (fuzz_mem_init(&mem, 4096) || fuzz_vm_create(&vm, &cfg, &mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	while (!fin_done(&in))
		fuzz_pio_op(&vm, &in, base, span);
	fuzz_vm_destroy(&vm);
	fuzz_mem_free(&mem);
	return 0;
}

/* --- Kernel loading --------------------------------------------------------- */

/* Initrd bytes where the input has none: an initrd may exceed RAM. */
static uint8_t initrd_zeros[32 << 20];

/*
 * vm_load_kernel() on a fake VM, as `gmvm run` calls it: ACPI tables, the
 * kernel parsed and placed, the initrd, the command line with the virtio
 * devices on it, the boot structures; then the boot vCPU's registers.
 */
void fuzz_boot_run(const uint8_t *data, size_t size,
		   void (*prepare)(uint8_t *kernel, size_t len))
{
	static const enum vm_discovery discovery[] = {
		DISCOVERY_CMDLINE, DISCOVERY_ACPI, DISCOVERY_BOTH, DISCOVERY_CMDLINE };
	struct fuzz_input in = { .data = data, .len = size };
	uint64_t ram = 2 * MIB << (fin_u8(&in) % 4);
	unsigned int cpus = 1 + fin_u8(&in) % VM_MAX_VCPUS;
	uint8_t flags = fin_u8(&in);
	size_t cmdline_len = fin_u16(&in), initrd_len = fin_u32(&in) % sizeof(initrd_zeros);
	struct vm_config cfg = {
		.machine.nr_vcpus = cpus, .machine.mem_size = ram, .dev.console = CONSOLE_SERIAL,
		.dev.discovery = discovery[flags & 3], .dev.virtio_console = flags & 16,
		.boot.kernel_path = "kernel", .boot.initrd_path = "initrd",
	};
	static struct vm vm;
	struct boot_image img;
	struct boot_cpu_state st = { 0 };
	struct guest_mem mem;
	struct err e = { 0 };
	const uint8_t *bytes;
	uint8_t *kernel;
	char *cmdline;

	cmdline_len = fin_bytes(&in, cmdline_len, &bytes);
	cmdline = calloc(1, cmdline_len + 1);
	kernel = malloc(in.len - in.pos + 1);
	FUZZ_CHECK(cmdline && kernel, "out of memory");
	memcpy(cmdline, bytes, cmdline_len);
	cfg.boot.cmdline = cmdline;
	cfg.boot.kernel_len = fin_bytes(&in, SIZE_MAX, &bytes);
	memcpy(kernel, bytes, cfg.boot.kernel_len);
	prepare(kernel, cfg.boot.kernel_len);
	cfg.boot.kernel = kernel;
	if (initrd_len) {
		cfg.boot.initrd = initrd_len <= cfg.boot.kernel_len ? kernel : initrd_zeros;
		cfg.boot.initrd_len = initrd_len;
	}
	if (flags & 4)
		fuzz_dev_option(&cfg.dev, "rng", NULL);
	if (flags & 8)
		fuzz_dev_option(&cfg.dev, "balloon", NULL);
	if (flags & 32)
		fuzz_add_disk(&cfg.dev, 0, false);
	fuzz_disks_reset();
	if (fuzz_mem_init(&mem, ram) || fuzz_vm_create(&vm, &cfg, &mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	/* RAM that held something before: the loaders must clear behind them. */
	vm.mem.fresh = !(flags & 64);
	if (!vm_load_kernel(&vm, &cfg, &img, &e)) {
		FUZZ_CHECK(img.end > img.start &&
			   guest_mem_ptr(&vm.mem, img.start, img.end - img.start),
			   "kernel [%#llx, %#llx) outside RAM",
			   (unsigned long long)img.start, (unsigned long long)img.end);
		boot_cpu_state(&img, &st);
	} else {
		fuzz_refused(&e, "vm_load_kernel");
	}
	fuzz_vm_destroy(&vm);
	fuzz_mem_free(&mem);
	free(kernel);
	free(cmdline);
}

void fuzz_vm_control(struct vm *vm, const char *cmd, int64_t pages)
{
	json_object *req = json_object_new_object(), *reply = json_object_new_object();
	struct err e = { 0 };

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "pages", json_object_new_int64(pages));
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i]->ops->control &&
		    vm->devices[i]->ops->control(vm->devices[i], cmd, req, reply, &e) <= 0)
			break;
	json_object_put(req);
	json_object_put(reply);
}

void fuzz_dev_option(struct dev_config *cfg, const char *name, const char *arg)
{
	/* Options that keep no pointer into their value (not --disk). */
	static char copy[256];
	struct err e = { 0 };

	snprintf(copy, sizeof(copy), "%s", arg ? arg : "");
	FUZZ_CHECK(dev_config_option(cfg, name, arg ? copy : NULL, false, &e) == 0,
		   "--%s %s: %s", name, copy, e.msg);
}

void fuzz_add_disk(struct dev_config *cfg, unsigned int i, bool readonly)
{
	struct disks_config *d = device_config(cfg, &virtio_blk_device);

	d->disks[d->nr++] = (struct disk_config){ fuzz_disk_path(i), readonly };
}

// SPDX-License-Identifier: MIT
/*
 * Helpers of the benchmark workloads (blkbench.c, netbench.c).
 *
 * Time is the TSC, read at CPL3 (natively: cheap, and no exit), with its
 * frequency from kvmclock: KVM writes tsc_to_system_mul and tsc_shift, the
 * factors that turn this vCPU's TSC ticks into nanoseconds, whatever the
 * monitor (gmvm and QEMU both leave kvmclock to KVM). No PIT, RTC or HPET
 * is needed, which QEMU's microvm may not have, and no timer interrupt.
 */
#include "bench.h"

uint64_t bench_tsc_hz(void)
{
	const volatile struct kvmclock_info *c;
	uint32_t version, mul;
	int8_t shift;
	uint64_t hz;

	c = (const volatile struct kvmclock_info *)syscall0(SYS_KVMCLOCK);
	if (!c) {
		printf("bench: no kvmclock (CPUID 0x40000001 at CPL0), no clock\n");
		return 0;
	}
	do {
		version = c->version;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		mul = c->tsc_to_system_mul;
		shift = c->tsc_shift;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((version & 1) || version != c->version);
	if (!mul || shift < -31 || shift > 31) {
		printf("bench: kvmclock gives mul %u shift %d, no clock\n", mul, shift);
		return 0;
	}
	/* ns = ticks * 2^shift * mul / 2^32, so Hz = 1e9 * 2^32 / mul / 2^shift. */
	hz = (1000000000ull << 32) / mul;
	return shift >= 0 ? hz >> shift : hz << -shift;
}

uint64_t bench_us(uint64_t ticks, uint64_t hz)
{
	/* Split so that neither product overflows for hours of ticks. */
	return ticks / hz * 1000000 + ticks % hz * 1000000 / hz;
}

uint64_t bench_seconds(const char *who, const char *s, size_t len)
{
	uint64_t v;

	if (!parse_u64(s, len, &v) || !v || v > BENCH_MAX_SECONDS) {
		printf("%s: SECONDS must be 1 to %u\n", who, BENCH_MAX_SECONDS);
		guest_exit(EXIT_BAD_CMDLINE);
	}
	return v;
}

void *bench_arena(uint64_t size)
{
	uint64_t start = ((uint64_t)_end + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	uint64_t end = start + size;
	uint64_t ird = boot_info.initrd_addr, ird_end = ird + boot_info.initrd_size;

	if (boot_info.initrd_size && ird < end && ird_end > start) {
		start = (ird_end + (2ull << 20) - 1) & ~((2ull << 20) - 1);
		end = start + size;
	}
	for (unsigned int i = 0; i < boot_info.nr_ram; i++)
		if (start >= boot_info.ram[i].start && end <= boot_info.ram[i].end)
			return (void *)start;
	printf("bench: no %lu MiB of RAM at %#lx for buffers: give the guest more\n",
	       size >> 20, start);
	return NULL;
}

void bench_queue(struct vdev *d, unsigned int q, uint16_t head)
{
	struct vq *vq = &d->vq[q];

	vq->avail->ring[vq->next_avail++ % vq->size] = head;
}

void bench_kick(struct vdev *d, unsigned int q, uint16_t old)
{
	struct vq *vq = &d->vq[q];
	uint16_t now = vq->next_avail, event;

	if (now == old)
		return;
	__atomic_store_n(&vq->avail->idx, now, __ATOMIC_RELEASE);
	if (!(d->features & 1ull << VIRTIO_RING_F_EVENT_IDX)) {
		vdev_write(d, VM_QUEUE_NOTIFY, q);
		return;
	}
	/* Order the index store before reading what the device asked for. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(&vq->used->avail_event, __ATOMIC_ACQUIRE);
	if ((uint16_t)(now - event - 1) < (uint16_t)(now - old))
		vdev_write(d, VM_QUEUE_NOTIFY, q);
}

bool bench_used(struct vdev *d, unsigned int q, struct vring_used_elem *el)
{
	struct vq *vq = &d->vq[q];

	if (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) == vq->last_used)
		return false;
	*el = vq->used->ring[vq->last_used++ % vq->size];
	return true;
}

// SPDX-License-Identifier: MIT
/*
 * smp[=N]: start every CPU the MP table lists and have each report its APIC
 * ID, as read from its local APIC at CPL0 and CPL3 and from CPUID at CPL0
 * (where KVM answers it). Fails unless every listed CPU reports, with IDs
 * that agree, within a few seconds -- and, with =N, unless there are N.
 */
#include "guest.h"

#define LAPIC_ID_REG 0x20
#define SMP_TIMEOUT_CYCLES 20000000000ull

static uint32_t lapic_id_user(void)
{
	return mmio_read32(LAPIC_ADDR + LAPIC_ID_REG) >> 24;
}

void ap_user_main(unsigned int idx)
{
	cpu_reports[idx].lapic_id_user = lapic_id_user();
	__atomic_store_n(&cpu_reports[idx].done, 1, __ATOMIC_RELEASE);
	syscall0(SYS_HALT);
	for (;;)
		cpu_relax();
}

static unsigned int smp_wait(unsigned int n)
{
	uint64_t start = rdtsc();
	unsigned int done;

	do {
		done = 0;
		for (unsigned int i = 0; i < n; i++)
			done += __atomic_load_n(&cpu_reports[i].done, __ATOMIC_ACQUIRE);
		if (done == n)
			break;
		cpu_relax();
	} while (rdtsc() - start < SMP_TIMEOUT_CYCLES);
	return done;
}

static bool smp_check_cpu(unsigned int i, const uint8_t *ids, unsigned int n,
			  uint32_t *seen)
{
	const struct cpu_report *r = &cpu_reports[i];
	bool listed = false;

	printf("smp: cpu %u: apic id %u (cpl3 %u, cpuid %u, x2apic %d)\n", i,
	       r->lapic_id, r->lapic_id_user, r->cpuid_apic_id,
	       (int)r->cpuid_x2apic_id);
	if (!r->done)
		return false;
	for (unsigned int j = 0; j < n; j++)
		listed |= ids[j] == r->lapic_id;
	if (!listed || (*seen >> (r->lapic_id & 31) & 1) || r->lapic_id > 31) {
		printf("smp: cpu %u: apic id %u is not listed once in the MP table\n",
		       i, r->lapic_id);
		return false;
	}
	*seen |= 1u << r->lapic_id;
	if (r->lapic_id_user != r->lapic_id || r->cpuid_apic_id != r->lapic_id ||
	    (r->cpuid_x2apic_id != ~0u && r->cpuid_x2apic_id != r->lapic_id)) {
		printf("smp: cpu %u: APIC IDs disagree\n", i);
		return false;
	}
	return true;
}

int workload_smp(const char *arg, size_t len)
{
	uint8_t ids[GUEST_MAX_CPUS];
	unsigned int n = mptable_apic_ids(ids, GUEST_MAX_CPUS);
	unsigned int got;
	uint64_t want;
	uint32_t seen = 0;
	bool ok = true;

	if (!n || n > 32) {
		printf("smp: no usable MP table (%u CPUs)\n", n);
		return -1;
	}
	if (arg && (!parse_u64(arg, len, &want) || want != n)) {
		printf("smp: the MP table lists %u CPUs, expected %.*s\n", n,
		       (int)len, arg);
		return -1;
	}
	cpu_reports[0].lapic_id_user = lapic_id_user();
	__atomic_store_n(&cpu_reports[0].done, 1, __ATOMIC_RELEASE);
	if (n > 1)
		syscall0(SYS_START_APS);
	got = smp_wait(n);
	if (got != n)
		printf("smp: only %u of %u CPUs reported\n", got, n);
	for (unsigned int i = 0; i < n; i++)
		ok &= smp_check_cpu(i, ids, n, &seen);
	if (__atomic_load_n(&ap_counter, __ATOMIC_ACQUIRE) + 1 != n) {
		printf("smp: %u CPUs started, the MP table lists %u\n",
		       ap_counter + 1, n);
		ok = false;
	}
	printf("smp: %u CPUs %s\n", n, ok ? "reported" : "FAILED");
	return ok ? 0 : -1;
}

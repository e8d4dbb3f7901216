#!/bin/sh
# gmvm's ACPI tables as ACPICA sees them (TAP). tests/tools/acpi_dump writes
# the tables for a few CPU and virtio-window counts; iasl -d disassembles
# each one and must say nothing of errors, warnings or bad checksums; the
# disassembled DSDT must recompile cleanly and name COM1, every
# virtio-mmio window with its memory range and interrupt, and \_S5; the
# FADT must point at the sleep registers; acpiexec (same package) must load
# the tables into a namespace without complaint and evaluate \_S5.
#
# Needs iasl, from the Debian package acpica-tools (scripts/install-deps);
# without it the test fails, saying so.
set -u

if ! command -v iasl >/dev/null 2>&1; then
	echo "Bail out! iasl is not installed: run scripts/install-deps (Debian package acpica-tools)"
	exit 99
fi
dump=${TOOLS:-tests/tools}/acpi_dump
if [ ! -x "$dump" ]; then
	echo "Bail out! $dump is missing: build it with make check"
	exit 1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
result() {	# result STATUS DESCRIPTION [DETAIL FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ $# -ge 3 ] && [ -f "$3" ] && sed 's/^/#   /' "$3"
	fi
}

# What iasl and acpiexec say when a table is broken, in output or .dsl.
complaint='error|warning|incorrect|invalid|mismatch|\*\*\*\*|unknown'

# Disassemble $1 in its directory; fail on any complaint or a missing .dsl.
disassemble() {
	dat=$1
	dsl=${dat%.dat}.dsl
	out=${dat%.dat}.out
	(cd "$(dirname "$dat")" && iasl -d "$(basename "$dat")") >"$out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ -s "$dsl" ] &&
		! grep -E -i -q "$complaint" "$out" &&
		! grep -E -i -q "$complaint" "$dsl"
}

# The RSDP: signature and both checksums (20 and 36 bytes sum to 0).
rsdp_ok() {
	[ "$(head -c 8 "$1")" = "RSD PTR " ] || return 1
	od -An -v -tu1 "$1" | tr -s ' ' '\n' | grep -v '^$' | awk '
		{ sum += $1; if (NR == 20) v1 = sum % 256 }
		END { exit !(NR == 36 && v1 == 0 && sum % 256 == 0) }'
}

# The block of Device ($2) in $1, comments dropped, on one line.
device_block() {
	sed -e 's://.*$::' -e 's:/\*[^*]*\*/::g' "$1" | awk -v dev="Device ($2)" '
		index($0, dev) { on = 1 }
		on { print; depth += gsub(/{/, "{"); depth -= gsub(/}/, "}")
		     if (seen && depth == 0) exit; if (depth) seen = 1 }' |
		tr -s ' \t\n' '   '
}

# The Generic Address Structure called $2 in $1 (iasl -d's FADT), on one line.
gas_block() {
	awk -v gas="$2" 'index($0, gas) { on = 1 } on && /^$/ { exit } on' "$1" |
		sed 's/^\[[^]]*\] *//' | tr -s ' \t\n' '   '
}

has() {	# has TEXT FIXED-STRING
	case $1 in *"$2"*) return 0 ;; esac
	return 1
}

check_tables() {	# check_tables CPUS WINDOWS [vmgenid]
	cpus=$1
	windows=$2
	dir=$tmp/c$cpus-w$windows${3:+-$3}
	what="$cpus CPUs, $windows virtio windows${3:+, a VM Generation ID}"
	mkdir -p "$dir"
	"$dump" "$cpus" "$windows" "$dir" ${3:+"$3"} >"$dir/windows" 2>"$dir/dump.err"
	result $? "$what: acpi_dump writes the tables" "$dir/dump.err"

	for t in facp apic xsdt dsdt; do
		disassemble "$dir/$t.dat"
		result $? "$what: iasl -d $t.dat: no errors, warnings or bad checksums" \
			"$dir/$t.out"
	done
	if disassemble "$dir/rsdp.dat"; then
		result 0 "$what: iasl -d rsdp.dat: no errors or warnings"
	else
		# This iasl wants a table header to disassemble: check it here.
		rsdp_ok "$dir/rsdp.dat"
		result $? "$what: rsdp.dat: 'RSD PTR ', both checksums (iasl cannot disassemble a bare RSDP)"
	fi

	(cd "$dir" && iasl -p recompiled dsdt.dsl) >"$dir/recompile.out" 2>&1 &&
		grep -q '0 Errors, 0 Warnings' "$dir/recompile.out"
	result $? "$what: the disassembled DSDT recompiles without errors or warnings" \
		"$dir/recompile.out"

	if command -v acpiexec >/dev/null 2>&1; then
		(cd "$dir" && acpiexec -b Namespace dsdt.dat facp.dat apic.dat xsdt.dat) \
			>"$dir/acpiexec.out" 2>&1 &&
			grep -q 'successfully acquired and loaded' "$dir/acpiexec.out" &&
			! grep -E -i -q "$complaint" "$dir/acpiexec.out"
		result $? "$what: acpiexec loads the tables without complaint" \
			"$dir/acpiexec.out"
	else
		n=$((n + 1))
		echo "ok $n # SKIP acpiexec is not installed"
	fi

	check_fadt "$dir"
	check_madt "$dir"
	check_dsdt "$dir"
}

check_fadt() {
	grep -q 'Hardware Reduced (V5) : 1' "$1/facp.dsl" &&
		grep -q 'Reset Register Supported (V2) : 1' "$1/facp.dsl" &&
		grep -q 'Address : 0000000000000064' "$1/facp.dsl" &&
		grep -q 'Value to cause reset : FE' "$1/facp.dsl"
	result $? "$what: FADT: hardware-reduced, reset by 0xfe to port 0x64"

	for reg in 'Sleep Control Register:600' 'Sleep Status Register:601'; do
		gas=$(gas_block "$1/facp.dsl" "${reg%:*}")
		has "$gas" 'Space ID : 01 [SystemIO]' &&
			has "$gas" 'Bit Width : 08' &&
			has "$gas" 'Address : 0000000000000'"${reg#*:}"
		result $? "$what: FADT: ${reg%:*} is the 8-bit port 0x${reg#*:}"
	done
}

check_madt() {
	cpus_seen=$(grep -c -E 'Subtable Type : (00 \[Processor Local APIC\]|09 \[Processor Local x2APIC\])' "$1/apic.dsl")
	[ "$cpus_seen" -eq "$cpus" ] &&
		[ "$(grep -c 'Subtable Type : 01 \[I/O APIC\]' "$1/apic.dsl")" -eq 1 ] &&
		grep -q 'Address : FEC00000' "$1/apic.dsl" &&
		grep -q 'Interrupt Input LINT : 01' "$1/apic.dsl"
	result $? "$what: MADT: $cpus processors (saw $cpus_seen), the IOAPIC, NMI on LINT1"
}

check_dsdt() {
	dsl=$1/dsdt.dsl
	com1=$(device_block "$dsl" COM1)
	has "$com1" 'Name (_HID, EisaId ("PNP0501") )' &&
		has "$com1" 'IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08, )' &&
		has "$com1" 'IRQNoFlags () {4}'
	result $? "$what: DSDT: COM1 is PNP0501 at 0x3f8-0x3ff, IRQ 4"

	# What Linux's poweroff needs: SLP_TYPa 5, for the acpi-sleep device.
	s5=$(sed 's://.*$::' "$dsl" | tr -s ' \t\n' '   ')
	has "$s5" 'Name (_S5, Package (0x02) { 0x05, Zero })'
	result $? "$what: DSDT: _S5 is Package { 5, 0 }"
	if command -v acpiexec >/dev/null 2>&1; then
		(cd "$1" && acpiexec -b 'Evaluate \_S5' dsdt.dat) \
			>"$1/s5.out" 2>&1
		has "$(tr -s ' \t\n' '   ' <"$1/s5.out")" \
			'[Package] Contains 2 Elements: [Integer] = 0000000000000005 [Integer] = 0000000000000000'
		result $? "$what: acpiexec evaluates \\_S5 to { 5, 0 }" \
			"$1/s5.out"
	else
		n=$((n + 1))
		echo "ok $n # SKIP acpiexec is not installed"
	fi

	grep '^virtio ' "$1/windows" >"$1/virtio"
	[ "$(grep -c '"LNRO0005"' "$dsl")" -eq "$windows" ]
	result $? "$what: DSDT: $windows LNRO0005 devices"
	while read -r _word i base size gsi; do
		name=$(printf 'VR%02d' "$i")
		dev=$(device_block "$dsl" "$name")
		mem=$(printf 'Memory32Fixed (ReadWrite, 0x%08X, 0x%08X, )' \
			$((base)) $((size)))
		irq=$(printf 'Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x%08X, }' \
			"$gsi")
		has "$dev" 'Name (_HID, "LNRO0005")' && has "$dev" "$mem" &&
			has "$dev" "$irq"
		result $? "$what: DSDT: $name is LNRO0005 at $base+$size, GSI $gsi edge"
	done <"$1/virtio"
	if grep -q '^vmgenid ' "$1/windows"; then
		check_vmgenid "$1"
	fi
}

# VGEN as Linux's vmgenid driver finds it, and the GED whose event notifies it.
check_vmgenid() {
	dsl=$1/dsdt.dsl
	read -r _word addr gsi <<EOF
$(grep '^vmgenid ' "$1/windows")
EOF
	vgen=$(device_block "$dsl" VGEN)
	has "$vgen" 'Name (_HID, "GMVM0001")' && has "$vgen" 'Name (_CID, "VM_GEN_COUNTER")' &&
		has "$vgen" "$(printf 'Name (ADDR, Package (0x02) { 0x%08X, Zero })' $((addr)))"
	result $? "$what: DSDT: VGEN is GMVM0001, VM_GEN_COUNTER, ADDR { $addr, 0 }"
	ged=$(device_block "$dsl" GED0)
	has "$ged" 'Name (_HID, "ACPI0013"' &&
		has "$ged" "$(printf 'Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x%08X, }' "$gsi")" &&
		has "$ged" 'Method (_EVT, 1, NotSerialized) { Notify (\_SB.VGEN, 0x80)'
	result $? "$what: DSDT: GED0 is ACPI0013 on GSI $gsi, its _EVT notifies VGEN"
	if command -v acpiexec >/dev/null 2>&1; then
		(cd "$1" && acpiexec -b 'Evaluate \_SB.VGEN.ADDR' dsdt.dat) >"$1/addr.out" 2>&1
		has "$(tr -s ' \t\n' '   ' <"$1/addr.out")" \
			"$(printf '[Package] Contains 2 Elements: [Integer] = %016X [Integer] = 0000000000000000' $((addr)))"
		result $? "$what: acpiexec evaluates \\_SB.VGEN.ADDR to { $addr, 0 }" "$1/addr.out"
	fi
}

check_tables 1 0
check_tables 2 3
check_tables 2 3 vmgenid
check_tables 256 19

echo "1..$n"
[ "$failed" -eq 0 ]

# qemu-tests.mk: tests that boot the real image under QEMU.
QEMU_TESTS += qemu-tests/boot_status.sh
BENCHES += qemu-tests/bench_boot.sh

.PHONY: bench-boot
bench-boot: image
	@qemu-tests/bench_boot.sh
QEMU_TESTS += qemu-tests/mariadb_node.sh
QEMU_TESTS += qemu-tests/cluster_attack.sh

# qemu-tests.mk: tests that boot the real image under QEMU.
QEMU_TESTS += qemu-tests/boot_status.sh

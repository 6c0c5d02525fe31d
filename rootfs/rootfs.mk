# rootfs.mk: the kernel and the initramfs, i.e. the boot files of the image.
#
# IMAGE_FILES are the project files that go into the image; components add
# theirs with `IMAGE_FILES += build/bin/x` in their own .mk.
IMAGE_FILES += $(BUILD)/bin/qagent
IMAGES := $(BUILD)/images
KERNEL_FRAGMENTS := $(wildcard kernel-config/*.config)

.PHONY: kernel initramfs
image: $(IMAGES)/qserv-node.vmlinuz $(IMAGES)/qserv-node.initramfs
kernel: $(IMAGES)/qserv-node.vmlinuz
initramfs: $(IMAGES)/qserv-node.initramfs

$(IMAGES)/qserv-node.vmlinuz: $(KERNEL_FRAGMENTS) kernel-config/build-kernel.sh
	kernel-config/build-kernel.sh $(BUILD) $@

$(IMAGES)/qserv-node.initramfs: $(IMAGE_FILES) rootfs/build-rootfs.sh rootfs/packages.txt $(shell find rootfs/skel -type f)
	rootfs/build-rootfs.sh $(BUILD) $@ $(IMAGE_FILES)
	echo $(abspath $(IMAGE_FILES)) > $(IMAGES)/image-files.txt

INTEG_TESTS += rootfs/tests/image_test.sh

# The main job until `make cluster` exists: boot one node and show its status.
.PHONY: demo
demo: deps
	@$(MAKE) --no-print-directory image
	@tools/demo-node.sh

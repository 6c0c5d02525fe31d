# rootfs.mk: the kernel and the initramfs, i.e. the boot files of the image.
#
# IMAGE_FILES are the project files that go into the image: the node's
# programs that exist in this tree, the scisql UDF plugin and its install SQL
# (applied by mariadb-run on a new data directory).  Expanded late
# (.SECONDEXPANSION), so every component's .mk has been read by then.
IMAGE_PROGRAMS := qagent qstorage qservctl qserv-worker qserv-czar qserv-controller qserv-mobu
IMAGE_FILES = $(filter $(addprefix $(BUILD)/bin/,$(IMAGE_PROGRAMS)),$(BINS)) \
	$(filter %/qserv_scisql.so,$(LIBS_BUILT)) $(wildcard qserv/scisql/install.sql)
IMAGES := $(BUILD)/images
KERNEL_FRAGMENTS := $(wildcard kernel-config/*.config)

.PHONY: kernel initramfs
image: $(IMAGES)/qserv-node.vmlinuz $(IMAGES)/qserv-node.initramfs
kernel: $(IMAGES)/qserv-node.vmlinuz
initramfs: $(IMAGES)/qserv-node.initramfs

$(IMAGES)/qserv-node.vmlinuz: $(KERNEL_FRAGMENTS) kernel-config/build-kernel.sh
	kernel-config/build-kernel.sh $(BUILD) $@

.SECONDEXPANSION:
$(IMAGES)/qserv-node.initramfs: $$(IMAGE_FILES) rootfs/build-rootfs.sh rootfs/packages.txt $(shell find rootfs/skel -type f)
	rootfs/build-rootfs.sh $(BUILD) $@ $(IMAGE_FILES)
	echo $(abspath $(IMAGE_FILES)) > $(IMAGES)/image-files.txt

IMAGE_TESTS += rootfs/tests/image_test.sh

# make demo: boot one node of the image, show its status, power it off
# (a smaller look than the main job, `make cluster`).
.PHONY: demo
demo: deps
	@$(MAKE) --no-print-directory image
	@tools/demo-node.sh

# images.mk: the boot media built from the kernel and the initramfs:
#   build/images/qserv-node.img   USB stick / disk image, UEFI + legacy BIOS (docs/usb.md)
#   build/images/pxe/             vmlinuz, initramfs, boot.ipxe template (docs/pxe.md)
# and their QEMU tests.  (rootfs.mk, included later, owns the kernel and
# initramfs rules; names here are spelled out, not taken from its variables.)
IMAGES_OUT := $(BUILD)/images
IMAGES_BOOTFILES := $(IMAGES_OUT)/qserv-node.vmlinuz $(IMAGES_OUT)/qserv-node.initramfs

.PHONY: usb-image pxe
image: $(IMAGES_OUT)/qserv-node.img pxe
usb-image: $(IMAGES_OUT)/qserv-node.img
pxe: $(IMAGES_OUT)/pxe/vmlinuz $(IMAGES_OUT)/pxe/initramfs $(IMAGES_OUT)/pxe/boot.ipxe

$(IMAGES_OUT)/qserv-node.img: $(IMAGES_BOOTFILES) images/build-usb.sh images/qserv.conf
	images/build-usb.sh $(IMAGES_BOOTFILES) images/qserv.conf $@

$(IMAGES_OUT)/pxe/vmlinuz: $(IMAGES_OUT)/qserv-node.vmlinuz
	@mkdir -p $(@D)
	cp $< $@
$(IMAGES_OUT)/pxe/initramfs: $(IMAGES_OUT)/qserv-node.initramfs
	@mkdir -p $(@D)
	cp $< $@
$(IMAGES_OUT)/pxe/boot.ipxe: images/boot.ipxe
	@mkdir -p $(@D)
	cp $< $@

QEMU_TESTS += qemu-tests/usb_image.sh qemu-tests/usb_uefi.sh qemu-tests/usb_bios.sh qemu-tests/usb_install.sh \
	qemu-tests/pxe_boot.sh

#!/bin/sh
# usb_uefi.sh: qserv-node.img boots as a USB stick under UEFI (OVMF); see usb_common.sh.
USB_FIRMWARE=uefi
. "$(dirname "$0")/usb_common.sh"

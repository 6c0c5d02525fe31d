#!/bin/sh
# usb_bios.sh: qserv-node.img boots as a USB stick under legacy BIOS (SeaBIOS); see usb_common.sh.
USB_FIRMWARE=bios
. "$(dirname "$0")/usb_common.sh"

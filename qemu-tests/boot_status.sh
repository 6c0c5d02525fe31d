#!/bin/sh
# boot_status.sh: the image boots under QEMU, /status and /metrics answer
# with the node's identity, addresses and disks (NVMe SSD, SCSI HDD, SCSI SSD
# with the right rotational flag and transport), and system_powerdown on
# the monitor stops the agent in order and powers the VM off.
. "$(dirname "$0")/lib.sh"
. "$REPO/tools/tap.sh"
trap vm_kill_all EXIT INT TERM
tap_plan 12

nvme=$(disk_file nvme.img 1G)
hdd=$(disk_file hdd.img 2G)
ssd=$(disk_file ssd.img 1G)
vm_append node "qserv.role=worker"
vm_start node -uuid 5e1f0c2a-6d7b-4c1e-9a57-2f3d4c5b6a71 \
	-drive "file=$nvme,if=none,id=dnvme,format=raw" -device nvme,drive=dnvme,serial=NVME0001 \
	-device virtio-scsi-pci,id=scsi0 \
	-drive "file=$hdd,if=none,id=dhdd,format=raw" -device scsi-hd,drive=dhdd,bus=scsi0.0,rotation_rate=7200,serial=HDD0001 \
	-drive "file=$ssd,if=none,id=dssd,format=raw" -device scsi-hd,drive=dssd,bus=scsi0.0,rotation_rate=1,serial=SSD0001

if vm_wait_status node 90; then tap_pass "/status answers"; else tap_fail "/status answers"; fi
st=$(vm_status node || echo '{}')
tap_is "$(echo "$st" | json .uuid)" "5e1f0c2a-6d7b-4c1e-9a57-2f3d4c5b6a71" "uuid is the SMBIOS product UUID"
tap_is "$(echo "$st" | json .role)" "worker" "role from the kernel command line"
tap_is "$(echo "$st" | json '.hostname | length > 0')" "true" "hostname present"
tap_is "$(echo "$st" | json '.uptime_s | type')" "number" "uptime_s is a number"
# the DHCP lease may take a moment after the agent is up
has_address() { [ "$(vm_status node | json '.addresses | length')" != 0 ]; }
wait_until 60 has_address
tap_is "$(vm_status node | json '.addresses[0]')" "10.0.2.15/24" "DHCP address in addresses"
disk() { vm_status node | json ".disks[] | select(.serial == \"$1\") | \"\(.rotational) \(.transport) \(.size_bytes)\""; }
tap_is "$(disk NVME0001)" "false nvme 1073741824" "NVMe disk: non-rotational, nvme, 1 GiB"
tap_is "$(disk HDD0001)" "true scsi 2147483648" "SCSI HDD: rotational, 2 GiB"
tap_is "$(disk SSD0001)" "false scsi 1073741824" "SCSI SSD (rotation_rate=1): non-rotational"
if vm_metrics node | grep -q '^qserv_node_info{role="worker"'; then tap_pass "/metrics has qserv_node_info"; else tap_fail "/metrics has qserv_node_info"; fi

vm_monitor node system_powerdown
tap_ok "system_powerdown powers the VM off" vm_wait_exit node 60
tap_ok "agent stopped its processes before power-off" console_has node "qagent: info: stopped"
tap_done

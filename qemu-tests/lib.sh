# lib.sh: helpers for QEMU tests (sourced by qemu-tests/*.sh, POSIX sh).
#
#   vm_start NAME [QEMU ARGS...]   boots the image (kernel + initramfs) in
#                                  the background; console -> $VM_DIR/NAME/console.log,
#                                  HMP monitor on $VM_DIR/NAME/monitor.sock,
#                                  guest port 9400 forwarded to $(vm_port NAME)
#   vm_append NAME "ARGS"          kernel command line additions (before vm_start)
#   vm_status NAME                 GET /status (prints JSON, fails if no answer)
#   vm_wait_status NAME SECONDS    waits until /status answers (wall clock; gives
#                                  up at once if the VM exits or panics)
#   vm_monitor NAME "COMMAND"      one HMP command (system_powerdown, device_add ...)
#   vm_wait_exit NAME SECONDS      waits until the QEMU process is gone
#   vm_wait_console NAME REGEX SECONDS   waits for a console line
#   vm_kill_all                    kills every VM this script started (use in trap)
#   disk_file NAME SIZE            creates a sparse raw disk file under $VM_DIR
#
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check can fail and panic ("IO-APIC + timer doesn't work"); the check is
# meaningless in a VM.  panic=-1: a panicking guest reboots, which -no-reboot
# turns into QEMU exiting, so waits end at once instead of timing out.
# Functions keep their variables local (dash and bash both have `local`).
# Every VM runs with -accel ${QEMU_ACCEL:-tcg}, -nographic, -no-reboot and
# user-mode networking restricted to the forwarded port.
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$REPO/build}
KERNEL=${KERNEL:-$BUILD/images/qserv-node.vmlinuz}
INITRD=${INITRD:-$BUILD/images/qserv-node.initramfs}
VM_DIR=${VM_DIR:-$BUILD/qemu/$(basename "$0" .sh).$$}
VM_PIDS=
mkdir -p "$VM_DIR"

# A free TCP port on 127.0.0.1 (the kernel picks it; racy only in theory).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

vm_port() { cat "$VM_DIR/$1/port"; }

vm_append() { mkdir -p "$VM_DIR/$1"; echo "$2" >> "$VM_DIR/$1/append"; }

vm_start() {
	local name d port append
	name=$1; shift
	d=$VM_DIR/$name
	mkdir -p "$d"
	port=$(free_port)
	echo "$port" > "$d/port"
	append="console=ttyS0 no_timer_check panic=-1 $(cat "$d/append" 2>/dev/null | tr '\n' ' ')"
	qemu-system-x86_64 -accel "${QEMU_ACCEL:-tcg}" -m "${VM_MEM:-2048}" -smp "${VM_CPUS:-1}" \
		-nographic -no-reboot -serial "file:$d/console.log" -monitor "unix:$d/monitor.sock,server,nowait" \
		-kernel "${VM_KERNEL:-$KERNEL}" -initrd "${VM_INITRD:-$INITRD}" -append "$append" \
		-nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$port-:9400" \
		-device virtio-rng-pci \
		"$@" > "$d/qemu.log" 2>&1 &
	echo $! > "$d/pid"
	VM_PIDS="$VM_PIDS $!"
}

vm_status() {
	curl -sf -m 5 "http://127.0.0.1:$(vm_port "$1")/status"
}

vm_metrics() {
	curl -sf -m 5 "http://127.0.0.1:$(vm_port "$1")/metrics"
}

# Gives up at once when the VM is gone or its kernel panicked.
vm_wait_status() {
	local end
	end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt "$end" ]; do
		vm_status "$1" > /dev/null 2>&1 && return 0
		kill -0 "$(cat "$VM_DIR/$1/pid")" 2>/dev/null || return 1
		grep -q "Kernel panic" "$VM_DIR/$1/console.log" 2>/dev/null && return 1
		sleep 0.5
	done
	return 1
}

vm_monitor() {
	printf '%s\n' "$2" | socat - "UNIX-CONNECT:$VM_DIR/$1/monitor.sock" > /dev/null 2>&1
}

vm_gone() { ! kill -0 "$(cat "$VM_DIR/$1/pid" 2>/dev/null)" 2>/dev/null; }
vm_wait_exit() { wait_until "$2" vm_gone "$1"; }

console_has() { grep -Eq "$2" "$VM_DIR/$1/console.log" 2>/dev/null; }
vm_wait_console() { wait_until "$3" console_has "$1" "$2"; }

vm_kill_all() {
	local p
	for p in $VM_PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in $VM_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	VM_PIDS=
}

disk_file() {
	truncate -s "$2" "$VM_DIR/$1"
	echo "$VM_DIR/$1"
}

# json FILTER: jq over stdin, raw output.
json() { jq -r "$1"; }

# ---- boot media (images/images.mk, qemu-tests/usb_*.sh, pxe_*.sh) --------
#   vm_boot NAME [QEMU ARGS...]    like vm_start, but the firmware boots what
#                                  the args give (USB stick, disk, NIC ROM):
#                                  no -kernel/-initrd/-append.  VM_NIC
#                                  replaces the user-mode NIC with forwarded
#                                  port ("none": no NIC); VM_WRAP prefixes
#                                  the command (ip netns exec NS)
#   ovmf_args NAME                 pflash arguments for OVMF, with a private
#                                  copy of the variable store in $VM_DIR/NAME
#   tap_booted NAME DESCRIPTION    TAP line: NAME's /status answers within 300 s
#   img_part_offset IMG LABEL      byte offset of the GPT partition named LABEL
vm_boot() {
	name=$1; shift
	d=$VM_DIR/$name
	mkdir -p "$d"
	port=$(free_port)
	echo "$port" > "$d/port"
	nic=${VM_NIC:-user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$port-:9400}
	date +%s.%N > "$d/start"
	${VM_WRAP:-} qemu-system-x86_64 -accel "${QEMU_ACCEL:-tcg}" -m "${VM_MEM:-2048}" -smp "${VM_CPUS:-1}" \
		-nographic -no-reboot -serial "file:$d/console.log" -monitor "unix:$d/monitor.sock,server,nowait" \
		-nic "$nic" "$@" > "$d/qemu.log" 2>&1 &
	echo $! > "$d/pid"
	VM_PIDS="$VM_PIDS $!"
}

# tap_booted NAME DESCRIPTION: a TAP line for "NAME answers /status within
# 300 s" (with its power-on time as a diagnostic, or where to look).
tap_booted() {
	if vm_wait_status "$1" 300; then
		tap_pass "$2"
		tap_diag "$1: power-on to /status in $(vm_elapsed "$1") s"
	else
		tap_fail "$2" "see $VM_DIR/$1/console.log"
	fi
}

# Seconds since vm_boot started NAME (for diagnostics, never asserted).
vm_elapsed() {
	python3 -c 'import sys,time; print("%.1f" % (time.time() - float(open(sys.argv[1]).read())))' \
		"$VM_DIR/$1/start"
}

ovmf_args() {
	code=/usr/share/OVMF/OVMF_CODE_4M.fd
	vars=/usr/share/OVMF/OVMF_VARS_4M.fd
	mkdir -p "$VM_DIR/$1"
	cp "$vars" "$VM_DIR/$1/ovmf_vars.fd"
	echo "-drive if=pflash,format=raw,unit=0,readonly=on,file=$code" \
		"-drive if=pflash,format=raw,unit=1,file=$VM_DIR/$1/ovmf_vars.fd"
}

img_part_offset() { "$REPO/images/stick.sh" "$1" offset "$2"; }

# wait_until SECONDS COMMAND...: retries COMMAND every 0.2 s until it
# succeeds or SECONDS of wall-clock time have passed (a hung VM whose every
# probe takes a curl timeout still ends the wait on time).
wait_until() {
	local end
	end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
	return 0
}

#   img_append_cmdline IMG WORDS   appends WORDS to the kernel command line of
#                                  every boot entry on IMG (images/stick.sh)
#                                  (tests use it for TCG-only workarounds)
#   TCG_CMDLINE                    such words: no_timer_check, since a loaded
#                                  TCG host can fail the kernel's IO-APIC
#                                  timer check ("IO-APIC + timer doesn't work")
TCG_CMDLINE=${TCG_CMDLINE-no_timer_check}
img_append_cmdline() { "$REPO/images/stick.sh" "$1" append "$2"; }


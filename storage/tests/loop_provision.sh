#!/bin/sh
# loop_provision.sh: qstorage on real loop devices (root): blank disks are
# provisioned into the right pools, a second run changes nothing, foreign
# disks (ext4, GPT) stay byte-for-byte intact, plan touches nothing, files
# survive a "reboot" (unmount, detach, re-attach, re-run) without any
# reformatting, a damaged disk of ours is reported not reformatted, wipe
# needs an explicit id and refuses a mounted disk.  Only loop devices this
# script attaches are ever considered (--only on their backing files).
. "$(dirname "$0")/loop_lib.sh"   # (re-runs this script in a private mount namespace)
cd "$(dirname "$0")/../.."
. tools/tap.sh
Q=$PWD/build/bin/qstorage

loop_usable || tap_skip_all "needs root and loop devices"
tap_plan 39

loop_init qstorage-loop
mkimg() { truncate -s "$2" "$T/$1.img"; }
ONLY="loop:$T/*"
qs() { "$Q" --loop --only "$ONLY" --mount-root "$T/mnt" --node-uuid 11111111-2222-3333-4444-555555555555 "$@"; }
# state/pool/mountpoint of the disk backed by image NAME, from a JSON report
field() { jq -r --arg id "loop:$T/$2.img" ".disks[] | select(.id == \$id) | .$3" "$1"; }

mkimg ssd0 256M; mkimg ssd1 256M; mkimg hdd0 256M; mkimg small 80M
mkimg ext4 128M; mkimg gpt 128M
mkfs.ext4 -q -F -L precious "$T/ext4.img"
printf 'label: gpt\n,,L\n' | sfdisk -q "$T/gpt.img" >/dev/null
SUM_EXT4=$(sha256sum < "$T/ext4.img")
SUM_GPT=$(sha256sum < "$T/gpt.img")

for d in ssd0:0 ssd1:0 hdd0:1 small:0 ext4:0 gpt:1; do attach "${d%:*}" "${d#*:}"; done

# plan: explains every disk, touches nothing
qs --disks 'size >= 100M' plan > "$T/plan.txt"
tap_is "$(grep -c "^loop" "$T/plan.txt")" 6 "plan prints one line per disk"
tap_ok "plan says blank disks would be provisioned" grep -q "would provision as qserv-fast0" "$T/plan.txt"
tap_ok "plan names the foreign signature" grep -q "foreign: ext4; untouched (allow with qserv.wipe=loop:$T/ext4.img)" "$T/plan.txt"
tap_ok "plan wrote nothing to a blank disk" cmp -s -n 268435456 "$T/ssd0.img" /dev/zero
tap_is "$(grep -c " $T/mnt" /proc/self/mounts)" 0 "plan mounted nothing"

# apply
qs --disks 'size >= 100M' apply --json > "$T/r1.json"
tap_is "$?" 0 "apply succeeds"
tap_is "$(field "$T/r1.json" ssd0 state) $(field "$T/r1.json" ssd0 pool)" "provisioned-now fast" "blank SSD provisioned into fast"
tap_is "$(field "$T/r1.json" ssd1 state) $(field "$T/r1.json" ssd1 pool)" "provisioned-now fast" "second SSD into fast"
tap_is "$(field "$T/r1.json" hdd0 state) $(field "$T/r1.json" hdd0 pool) $(field "$T/r1.json" hdd0 mountpoint)" \
	"provisioned-now bulk $T/mnt/bulk0" "rotational disk into bulk, mounted at bulk0"
tap_is "$(field "$T/r1.json" small state)" "excluded" "disk outside the selector excluded"
tap_is "$(field "$T/r1.json" ext4 state) $(field "$T/r1.json" ext4 signature)" "foreign ext4" "ext4 disk reported foreign"
tap_is "$(field "$T/r1.json" gpt state)" "foreign" "foreign GPT reported foreign"
tap_is "$(jq -r .mariadb_dir "$T/r1.json") $(jq -r .staging_dir "$T/r1.json")" "$T/mnt/fast0/mariadb $T/mnt/bulk0/staging" \
	"MariaDB on fast, staging on bulk"
tap_is "$(jq -r '.chunk_dirs | length' "$T/r1.json")" 2 "chunk tables spread over both fast disks"
tap_ok "mounted with noatime" sh -c "grep ' $T/mnt/fast0 ' /proc/self/mounts | grep -q noatime"
tap_is "$(jq -r .node "$T/mnt/fast0/.qserv-disk")" 11111111-2222-3333-4444-555555555555 "marker records the node uuid"
tap_is "$(sha256sum < "$T/ext4.img")" "$SUM_EXT4" "ext4 disk byte-for-byte intact"
tap_is "$(sha256sum < "$T/gpt.img")" "$SUM_GPT" "foreign GPT disk byte-for-byte intact"

# second run: nothing changes
echo "precious row" > "$T/mnt/fast1/chunks/row.txt"
echo "staged" > "$T/mnt/bulk0/staging/file.csv"
UUID_F1=$(blkid -s UUID -o value "$(field "$T/r1.json" ssd1 name | sed 's|^|/dev/|')p1")
qs --disks 'size >= 100M' apply --json > "$T/r2.json"
tap_is "$(jq '[.disks[] | select(.state == "provisioned-now")] | length' "$T/r2.json")" 0 "second run provisions nothing"
tap_is "$(jq '[.disks[] | select(.state == "ours-mounted")] | length' "$T/r2.json")" 3 "second run finds the three disks of ours mounted"

# reboot: unmount everything, detach, re-attach in another order, re-run
unmount_all
for l in $LOOPS; do detach "$l"; done
LOOPS=""
for d in gpt:1 ext4:0 small:0 hdd0:1 ssd1:0 ssd0:0; do attach "${d%:*}" "${d#*:}"; done
qs --disks 'size >= 100M' apply --json > "$T/r3.json"
tap_is "$(jq -r '[.disks[] | select(.pool != null) | .state] | unique | join(",")' "$T/r3.json")" "ours-mounted" "after reboot: all ours mounted as found"
tap_is "$(field "$T/r3.json" ssd1 mountpoint)" "$T/mnt/fast1" "same mount point after reboot"
tap_is "$(cat "$T/mnt/fast1/chunks/row.txt" "$T/mnt/bulk0/staging/file.csv" 2>&1 | tr '\n' ' ')" "precious row staged " "files written before the reboot are there"
tap_is "$(blkid -s UUID -o value "/dev/$(field "$T/r3.json" ssd1 name)p1")" "$UUID_F1" "filesystem not re-created (same UUID)"
tap_is "$(sha256sum < "$T/ext4.img")" "$SUM_EXT4" "ext4 disk still intact after reboot"

# wipe: refused while mounted, then a foreign disk wiped by id and provisioned
qs wipe "loop:$T/ssd0.img" --yes > /dev/null 2> "$T/wipe.err"
tap_ok "wipe refuses a mounted disk" grep -q "busy" "$T/wipe.err"
quiet() { "$@" > /dev/null 2>&1; }
tap_ok "wipe --yes of the foreign GPT by id" quiet qs wipe "loop:$T/gpt.img" --yes
qs --disks 'size >= 100M' apply --json > "$T/r4.json"
tap_is "$(field "$T/r4.json" gpt state) $(field "$T/r4.json" gpt pool) $(field "$T/r4.json" gpt mountpoint)" \
	"provisioned-now bulk $T/mnt/bulk1" "wiped disk provisioned into the next free index"

# damaged disk of ours: reported, not reformatted
HDD=/dev/$(field "$T/r4.json" hdd0 name)
umount "$T/mnt/bulk0"
[ -b "${HDD}p1" ] && dd if=/dev/zero of="${HDD}p1" bs=4096 count=1 conv=notrunc 2>/dev/null   # primary superblock gone
sync
# whole-disk checksums bypass the page cache: the partition has its own
dsum() { blockdev --flushbufs "$1"; dd if="$1" iflag=direct bs=1M 2>/dev/null | sha256sum; }
SUM_HDD=$(dsum "$HDD")
qs --disks 'size >= 100M' apply --json > "$T/r5.json"
tap_is "$(field "$T/r5.json" hdd0 state)" "error" "damaged disk of ours reported as error"
tap_diag "$(field "$T/r5.json" hdd0 reason)"
tap_is "$(dsum "$HDD")" "$SUM_HDD" "damaged disk left untouched"

# a filesystem e2fsck -p cannot repair (root inode cleared): error, not reformatted
GPTDEV=/dev/$(field "$T/r5.json" gpt name)
UUID_G=$(blkid -s UUID -o value "${GPTDEV}p1")
umount "$T/mnt/bulk1"
debugfs -w -R "clri <2>" "${GPTDEV}p1" > /dev/null 2>&1
qs --disks 'size >= 100M' apply --json > "$T/r6.json"
tap_is "$(field "$T/r6.json" gpt state)" "error" "unrepairable filesystem of ours reported as error"
REASON=$(field "$T/r6.json" gpt reason)
tap_diag "$REASON"
# e2fsck -p gives up, or trusts the clean flag and the mount refuses it
case "$REASON" in *"not reformatted"*e2fsck*) tap_pass "reason says not reformatted and how to check" ;;
	*) tap_fail "reason says not reformatted and how to check" "$REASON" ;; esac
tap_is "$(blkid -s UUID -o value "${GPTDEV}p1")" "$UUID_G" "its filesystem was not re-created"

# a disk of ours from another node is not used (marker names that node)
umount "$T/mnt/fast1"
"$Q" --loop --only "loop:$T/ssd1.img" --mount-root "$T/mnt" --node-uuid 99999999-0000-0000-0000-000000000000 apply --json > "$T/r7.json"
tap_is "$(field "$T/r7.json" ssd1 state)" "foreign" "a qserv disk of another node is foreign"
tap_diag "$(field "$T/r7.json" ssd1 reason)"
tap_ok "and it is not left mounted" sh -c "! grep -q ' $T/mnt/fast1 ' /proc/self/mounts"

# xfs on request; found again after an unmount
truncate -s 320M "$T/xfs.img"; attach xfs 0
"$Q" --loop --only "loop:$T/xfs.img" --mount-root "$T/mntx" --fs xfs apply --json > "$T/x1.json"
tap_is "$(jq -r '.disks[0] | "\(.state) \(.fs_type) \(.mountpoint)"' "$T/x1.json")" "provisioned-now xfs $T/mntx/fast0" "xfs provisioned with --fs xfs"
umount "$T/mntx/fast0"
"$Q" --loop --only "loop:$T/xfs.img" --mount-root "$T/mntx" apply --json > "$T/x2.json"
tap_is "$(jq -r '.disks[0] | "\(.state) \(.fs_type)"' "$T/x2.json")" "ours-mounted xfs" "xfs disk of ours mounted as found"

# no disk at all: a tmpfs, loudly
"$Q" --loop --only "none-such" --mount-root "$T/mntt" --tmpfs apply --json > "$T/t.json"
tap_is "$(jq -r '"\(.tmpfs) \(.mariadb_dir)"' "$T/t.json") $(grep " $T/mntt/tmpfs0 " /proc/self/mounts | cut -d' ' -f3)" \
	"true $T/mntt/tmpfs0/mariadb tmpfs" "no disk: tmpfs mounted and chosen"
tap_ok "no disk: loud warning" sh -c "jq -r .warning '$T/t.json' | grep -q 'NO DISK'"
tap_done

#!/usr/bin/env python3
"""attack_flood.py: the connection flood of attack_cluster.sh and
qemu-tests/cluster_attack.sh: idle and slow sockets held open against
several listeners while the calling test runs its legitimate clients.

    attack_flood.py STATE DONE HOST[/SRC] NAME:PORT:KIND:IDLE:SLOW...

SRC: the local address the sockets are bound to (an attacker of its own
address on loopback, e.g. 127.0.0.2).  KIND is "tls" (an HTTPS or mutual-TLS port) or "mysql" (port 4040).  An
idle socket connects and sends nothing.  A slow one starts its protocol
and then drips one byte every 2 s: on a TLS port a handshake record that
announces a 16,000-byte ClientHello; on 4040 the server's greeting is read
and a login packet announcing 1,000 bytes is begun.  When every socket is
open, STATE gets "open NAME IDLE SLOW" lines and then "ready"; the sockets
are held (dripping) until the file DONE exists (at most 300 s).  Then one
line per listener, "held NAME N/TOTAL": how many of its sockets the server
had not yet closed (informational: when it closes them is its timeouts'
business, the test asserts none of it)."""
import resource
import socket
import sys
import time

state, done, host = sys.argv[1], sys.argv[2], sys.argv[3]
host, _, src = host.partition("/")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

listeners = []
for spec in sys.argv[4:]:
    name, port, kind, idle, slow = spec.split(":")
    listeners.append((name, int(port), kind, int(idle), int(slow)))


def connect(port):
    s = socket.create_connection((host, port), timeout=10,
                                 source_address=(src, 0) if src else None)
    return s


def start_slow(s, kind):
    if kind == "tls":
        # a TLS record header: handshake, TLS 1.0, 16,000 bytes; then the
        # first byte of a ClientHello
        s.sendall(b"\x16\x03\x01\x3e\x80\x01")
    else:
        s.settimeout(10)
        try:
            s.recv(4096)            # the greeting
        except OSError:
            pass
        s.sendall(b"\xe8\x03\x00\x01\x85")   # 1,000-byte packet, seq 1, 1 byte


socks = {}      # name -> list of (socket, slow)
with open(state, "w") as out:
    for name, port, kind, idle, slow in listeners:
        lst = []
        for i in range(idle):
            try:
                lst.append((connect(port), False))
            except OSError:
                pass
        for i in range(slow):
            try:
                s = connect(port)
                start_slow(s, kind)
                lst.append((s, True))
            except OSError:
                pass
        socks[name] = lst
        out.write("open %s %d %d\n" % (name, sum(1 for _, sl in lst if not sl), sum(1 for _, sl in lst if sl)))
        out.flush()
    out.write("ready\n")

closed = set()
end = time.monotonic() + 300
while time.monotonic() < end:
    try:
        open(done).close()
        break
    except OSError:
        pass
    for lst in socks.values():
        for s, slow in lst:
            if slow and s.fileno() not in closed:
                try:
                    s.sendall(b"\x00")
                except OSError:
                    closed.add(s.fileno())
    time.sleep(2)

for name, lst in socks.items():
    held = 0
    for s, _ in lst:
        s.setblocking(False)
        try:
            if s.recv(4096):
                held += 1           # it sent something and is still open
        except BlockingIOError:
            held += 1
        except OSError:
            pass
    print("held %s %d/%d" % (name, held, len(lst)))
    for s, _ in lst:
        s.close()

# memcached-load.py: 6,000 sets of 100-6,000-byte values over 4 connections, a get after every third (for record.sh's
# memcached-t4; port 11299).
import os
import socket

conns = [socket.create_connection(("127.0.0.1", 11299)) for _ in range(4)]
val = (b"0123456789abcdef" * 400)[:6000]
for i in range(6000):
    c = conns[i % 4]
    v = val[: 100 + (i * 37) % 5900]
    c.sendall(b"set k%d 0 0 %d\r\n" % (i, len(v)) + v + b"\r\n")
    c.recv(64)
    if i % 3 == 0:
        c.sendall(b"get k%d\r\n" % (i // 2))
        data = b""
        while not data.endswith(b"END\r\n"):
            data += c.recv(65536)

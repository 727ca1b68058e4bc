#!/usr/bin/env python3
"""Raw WebSocket client (no library) that reports protocol PINGs from the
server: connects to ws://127.0.0.1:PORT/, answers each PING with a PONG
and prints one line per event ("ping T", "close T", "eof T") until the
socket closes or SECONDS pass. Used to test server keepalive and the
idle close, which wsprobe (lws answers PINGs itself) cannot observe."""
import base64
import os
import socket
import sys
import time


def main():
    port, secs = int(sys.argv[1]), float(sys.argv[2])
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws/v4/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % key).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    if b" 101 " not in buf.split(b"\r\n")[0]:
        sys.exit("no upgrade")
    buf = buf.split(b"\r\n\r\n", 1)[1]
    t0 = time.time()
    s.settimeout(0.2)
    while time.time() - t0 < secs:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            d = b""
        if not d:
            print("eof %.1f" % (time.time() - t0))
            return
        buf += d
        while len(buf) >= 2 and len(buf) >= 2 + (buf[1] & 127):
            op, ln = buf[0] & 15, buf[1] & 127
            payload, buf = buf[2:2 + ln], buf[2 + ln:]
            if op == 9:
                print("ping %.1f" % (time.time() - t0))
                mask = os.urandom(4)
                try:
                    s.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask +
                              bytes(b ^ mask[i % 4]
                                    for i, b in enumerate(payload)))
                except (BrokenPipeError, ConnectionResetError):
                    # The idle close can cross our PONG: that is the eof.
                    print("eof %.1f" % (time.time() - t0))
                    return
            elif op == 8:
                print("close %.1f" % (time.time() - t0))
    print("timeout")


if __name__ == "__main__":
    main()

"""Reachability probe for netop's policy tests (python3, stdlib only).

  probe.py serve TCP_PORTS UDP_PORTS    accept TCP connections and echo UDP datagrams, e.g. "80,5432" "53"
  probe.py tcp HOST PORT                exit 0 if a connection opens within the timeout
  probe.py udp HOST PORT                exit 0 if a datagram comes back within the timeout
  probe.py watch HOST PORT              a UDP probe every 2 ms; prints "up T" / "down T" at each change
                                        of verdict, T = when the first probe of the new verdict was
                                        sent (ms since the epoch)
"""
import collections
import selectors
import socket
import sys
import time

TIMEOUT = 1.0


def serve(tcp_ports, udp_ports):
    sel = selectors.DefaultSelector()
    for p in filter(None, tcp_ports.split(",")):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(p)))
        s.listen(64)
        sel.register(s, selectors.EVENT_READ, "tcp")
    for p in filter(None, udp_ports.split(",")):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(p)))
        sel.register(s, selectors.EVENT_READ, "udp")
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "tcp":
                conn, _ = s.accept()
                conn.close()
            else:
                data, addr = s.recvfrom(2048)
                s.sendto(data, addr)


def tcp(host, port):
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.close()


def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(b"probe", (host, int(port)))
    s.recvfrom(2048)


def watch(host, port, interval=0.002, timeout=0.2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = collections.deque()  # (seq, time sent), oldest first
    answered = set()
    state, seq = None, 0
    while True:
        now = time.time()
        try:
            s.sendto(str(seq).encode(), (host, int(port)))
        except ConnectionRefusedError:
            pass
        sent.append((seq, now))
        seq += 1
        deadline = now + interval
        while time.time() < deadline:
            try:
                answered.add(int(s.recv(64)))
            except BlockingIOError:
                time.sleep(0.0002)
            except ConnectionRefusedError:
                pass
        # Probes are resolved in the order they were sent: answered, or lost after the timeout.
        while sent and (sent[0][0] in answered or time.time() - sent[0][1] > timeout):
            n, t = sent.popleft()
            up = n in answered
            answered.discard(n)
            if up != state:
                state = up
                print(("up" if up else "down") + " %.3f" % (t * 1000), flush=True)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    try:
        {"serve": serve, "tcp": tcp, "udp": udp, "watch": watch}[mode](*args)
    except (OSError, socket.timeout):
        sys.exit(1)

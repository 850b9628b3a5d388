#!/usr/bin/python3
"""Overload behaviour of a live sglcpp-server (issue 25), standard library only.

usage: overload_check.py BASE_URL PID MAX_CONNECTIONS

The server runs with --max-connections MAX_CONNECTIONS, --http-read-timeout 2,
--http-idle-timeout 30 and --http-write-timeout 2. Checks:
  1. 10x the cap of idle connections do not lock out a client with work: each new connection
     closes the longest-idle one, /generate still answers, and the server holds no more sockets
     than the cap (plus a little slack).
  2. A slow sender (headers trickled, never finished) is closed after the read timeout while
     others are served.
  3. A slow reader (a long stream nobody reads) is dropped after the write timeout and its request
     aborted: the server is idle again and its KV free.
  4. Descriptors return to their level before the test.
"""
import json
import os
import socket
import sys
import time
import urllib.request

base, pid, cap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
host, port = base.split("//")[1].split(":")
port = int(port)
fails = []


def fail(msg):
    print("FAIL: " + msg, flush=True)
    fails.append(msg)


def fds():
    return len(os.listdir("/proc/%d/fd" % pid))


def sockets_of_server():
    n = 0
    for f in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, f)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def generate(text="hello", n=4, timeout=60):
    req = urllib.request.Request(base + "/generate", data=json.dumps(
        {"text": text, "sampling_params": {"max_new_tokens": n, "temperature": 0}}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def server_state():
    with urllib.request.urlopen(base + "/get_server_info", timeout=30) as r:
        return json.loads(r.read())["internal_states"][0]


fds_before = fds()

# 1. Idle connections: many more than the cap, each having sent one request (keep-alive).
idle = []
t0 = time.time()
for i in range(10 * cap):
    s = socket.create_connection((host, port))
    if i % 2 == 0:  # half made one request first, half never sent a byte
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            s.recv(4096)
        except OSError:
            pass
    idle.append(s)
time.sleep(0.5)
held = sockets_of_server()
if held > cap + 64 + 8:
    fail("the server holds %d sockets with a cap of %d" % (held, cap))
t1 = time.time()
try:
    status, out = generate()
    if status != 200 or not out.get("text"):
        fail("/generate among idle connections: %s %s" % (status, out))
except Exception as e:  # noqa: BLE001 - any failure to answer is the finding
    fail("/generate among %d idle connections failed: %s" % (len(idle), e))
print("idle: %d connections opened in %.1f s; server holds %d sockets (cap %d); /generate answered in %.2f s"
      % (len(idle), t1 - t0, held, cap, time.time() - t1), flush=True)
closed = 0
for s in idle:
    s.setblocking(False)
    try:
        if s.recv(4096, socket.MSG_PEEK) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
if closed < len(idle) - cap - 8:
    fail("only %d of %d idle connections were closed to make room" % (closed, len(idle)))
for s in idle:
    s.close()

# 2. A slow sender: half a request line, then nothing. Closed after --http-read-timeout (2 s).
slow = socket.create_connection((host, port))
slow.sendall(b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"text\":")
slow.settimeout(10)
t0 = time.time()
try:
    got = b""
    while True:
        chunk = slow.recv(4096)
        if not chunk:
            break
        got += chunk
    waited = time.time() - t0
    if waited > 6:
        fail("slow sender closed only after %.1f s" % waited)
    print("slow sender: closed after %.1f s (%s)" % (waited, got.split(b"\r\n")[0].decode() or "no answer"), flush=True)
except socket.timeout:
    fail("slow sender still connected after 10 s")
slow.close()

# 3. A slow reader: a long stream whose client never reads. Dropped after --http-write-timeout.
reader = socket.create_connection((host, port))
reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
body = json.dumps({"text": "x", "stream": True, "return_logprob": True, "top_logprobs_num": 20,
                   "sampling_params": {"max_new_tokens": 3000, "ignore_eos": True}}).encode()
reader.sendall(b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % len(body) + body)
t0 = time.time()
idle_again = False
while time.time() - t0 < 60:
    time.sleep(0.5)
    st = server_state()
    if st["running_batch_size"] == 0 and st["waiting_queue_size"] == 0 and time.time() - t0 > 1:
        idle_again = True
        break
if not idle_again:
    fail("the unread stream still runs after 60 s")
else:
    print("slow reader: request ended after %.1f s" % (time.time() - t0), flush=True)
reader.close()
urllib.request.urlopen(urllib.request.Request(base + "/flush_cache", data=b"", method="POST"), timeout=30).read()
st = server_state()
if st["num_used_tokens"] != 0 or st["radix_locked_nodes"] != 0:
    fail("KV not free after the dropped stream: %s" % st)

# 4. Still serving, and no descriptor leaked.
status, _ = generate()
if status != 200:
    fail("/generate after the overload: %s" % status)
time.sleep(1)
if fds() > fds_before + 2:
    fail("descriptors: %d before, %d after" % (fds_before, fds()))
print("overload: %s" % ("all checks passed" if not fails else "%d failure(s)" % len(fails)), flush=True)
sys.exit(1 if fails else 0)

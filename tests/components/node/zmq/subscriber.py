"""A libzmq subscriber (pyzmq, Debian's python3-zmq) for the node's ZMQ tests.

Connects one SUB socket to each address given, subscribes to everything,
and prints every multipart message as a JSON line on stdout: the address,
the topic, the body in hex and the trailing 4-byte little-endian count.
Prints {"ready": true} once connected; exits when stdin closes.
"""
import json
import struct
import sys
import threading

import zmq


def main() -> None:
    context = zmq.Context()
    poller = zmq.Poller()
    sockets = {}
    for address in sys.argv[1:]:
        socket = context.socket(zmq.SUB)
        socket.setsockopt(zmq.SUBSCRIBE, b"")
        socket.setsockopt(zmq.LINGER, 0)
        socket.connect(address)
        poller.register(socket, zmq.POLLIN)
        sockets[socket] = address
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    print(json.dumps({"ready": True}), flush=True)
    while not done.is_set():
        for socket, _ in poller.poll(100):
            parts = socket.recv_multipart()
            line = {
                "address": sockets[socket],
                "topic": parts[0].decode(),
                "body": parts[1].hex(),
                "count": struct.unpack("<I", parts[2])[0] if len(parts) == 3 else None,
                "parts": len(parts),
            }
            print(json.dumps(line), flush=True)
    context.destroy(linger=0)


main()

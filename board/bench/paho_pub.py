#!/usr/bin/env python3
"""Eclipse Paho Python (paho-mqtt 2.x) peer for board/bench/compare.

Publishes COUNT messages of SIZE bytes at QOS over mutual TLS (MQTT 5), as fast as
the client takes them, and exits once every one is done: PUBACK for QoS 1/2, written
to the socket for QoS 0 (paho's on_publish), then DISCONNECT. Client defaults are kept
(max_inflight_messages 20), as a GPIO-to-MQTT daemon would run it.

usage: paho_pub.py HOST PORT CAFILE CERT KEY CLIENT_ID TOPIC COUNT QOS SIZE
"""
import sys
import threading

import paho.mqtt.client as mqtt


def main() -> int:
    if len(sys.argv) != 11:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, cafile, cert, key, client_id, topic = sys.argv[1:8]
    count, qos, size = int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10])
    payload = b"x" * size
    connected = threading.Event()
    done = threading.Event()
    acknowledged = 0
    lock = threading.Lock()

    def on_connect(client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            print(f"paho_pub: CONNACK {reason_code}", file=sys.stderr)
            done.set()
        connected.set()

    def on_publish(client, userdata, mid, reason_code, properties):
        nonlocal acknowledged
        with lock:
            acknowledged += 1
            if acknowledged >= count:
                done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=cafile, certfile=cert, keyfile=key)
    client.on_connect = on_connect
    client.on_publish = on_publish
    client.connect(host, int(port), keepalive=30)
    client.loop_start()
    if not connected.wait(30):
        print("paho_pub: no CONNACK within 30 s", file=sys.stderr)
        return 1
    for _ in range(count):
        client.publish(topic, payload, qos=qos)
    finished = done.wait(600)
    client.disconnect()
    client.loop_stop()
    if not finished or acknowledged < count:
        print(f"paho_pub: only {acknowledged} of {count} done", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

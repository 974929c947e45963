#!/usr/bin/env python3
"""tests/e2e/peers/mqtt_rr.py — MQTT 5 peers for the tests, with python3-paho-mqtt (1.6.1).

  mqtt_rr.py respond PORT TOPIC [PREFIX]    responder: answers each request on TOPIC with
                                            PREFIX + its payload, published on the request's
                                            response topic with its correlation data; prints
                                            "ready" once subscribed, then "served PAYLOAD"
                                            for each request
  mqtt_rr.py request PORT TOPIC PAYLOAD...  requester: sends each PAYLOAD as a request (a
                                            response topic of its own, a correlation datum per
                                            request), one at a time, and prints each answer's
                                            payload; exit 1 when an answer does not come
                                            within 10 s or carries another correlation
  mqtt_rr.py recv PORT FILTER N             subscriber: prints N messages as
                                            "topic|content type|user properties|payload"
                                            (properties as k=v joined by ",")
"""
import queue
import sys
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def connect(port, on_message):
    """A connected MQTT 5 client with its network loop running; returns (client, subscribed)."""
    c = mqtt.Client(client_id="paho-" + uuid.uuid4().hex[:8], protocol=mqtt.MQTTv5)
    subacked = queue.Queue()
    c.on_message = on_message
    c.on_subscribe = lambda cl, ud, mid, codes, props: subacked.put(codes)
    c.connect("127.0.0.1", port, clean_start=True)
    c.loop_start()
    return c, subacked


def subscribe(c, subacked, topic, qos=1):
    c.subscribe(topic, qos=qos)
    codes = subacked.get(timeout=10)
    if any(getattr(rc, "value", 0) >= 0x80 for rc in codes):
        sys.exit("subscription refused: %r" % (codes,))


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    out = sys.stdout.buffer

    if mode == "respond":
        topic = sys.argv[3]
        prefix = sys.argv[4].encode() if len(sys.argv) > 4 else b""
        client = None

        def on_request(cl, ud, msg):
            props = getattr(msg, "properties", None)
            rt = getattr(props, "ResponseTopic", None)
            out.write(b"served " + msg.payload + b"\n")
            out.flush()
            if not rt:
                return
            p = Properties(PacketTypes.PUBLISH)
            cd = getattr(props, "CorrelationData", None)
            if cd is not None:
                p.CorrelationData = cd
            cl.publish(rt, prefix + msg.payload, qos=1, properties=p)

        client, subacked = connect(port, on_request)
        subscribe(client, subacked, topic)
        print("ready", flush=True)
        while True:
            client._thread.join(1)  # until killed
            if not client._thread.is_alive():
                sys.exit("connection lost")

    elif mode == "request":
        topic = sys.argv[3]
        answers = queue.Queue()
        client, subacked = connect(port, lambda cl, ud, msg: answers.put(msg))
        rt = "paho-responses/" + uuid.uuid4().hex
        subscribe(client, subacked, rt)
        for i, payload in enumerate(sys.argv[4:]):
            p = Properties(PacketTypes.PUBLISH)
            p.ResponseTopic = rt
            cd = ("corr-%d-" % i).encode() + uuid.uuid4().bytes
            p.CorrelationData = cd
            client.publish(topic, payload.encode(), qos=1, properties=p)
            try:
                msg = answers.get(timeout=10)
            except queue.Empty:
                sys.exit("no answer to request %d (%r)" % (i, payload))
            got = getattr(msg.properties, "CorrelationData", None)
            if got != cd:
                sys.exit("answer %d has correlation %r, sent %r" % (i, got, cd))
            out.write(msg.payload + b"\n")
            out.flush()
        client.disconnect()
        client.loop_stop()

    elif mode == "recv":
        n = int(sys.argv[4])
        msgs = queue.Queue()
        client, subacked = connect(port, lambda cl, ud, msg: msgs.put(msg))
        subscribe(client, subacked, sys.argv[3])
        print("ready", flush=True)
        for _ in range(n):
            msg = msgs.get(timeout=20)
            props = getattr(msg, "properties", None)
            ct = getattr(props, "ContentType", "") or ""
            ups = getattr(props, "UserProperty", []) or []
            line = "%s|%s|%s|" % (msg.topic, ct, ",".join("%s=%s" % kv for kv in ups))
            out.write(line.encode() + msg.payload + b"\n")
            out.flush()
        client.disconnect()
        client.loop_stop()

    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# t1501-mqtt-ws — t1500-mqtt's tests again, through mosquitto's websockets listener: mqtt+ws://
# and mqtt+wss:// run on paho.mqtt.c, mqtt:// and mqtts:// on libmosquitto, and both
# transports must behave alike (t1500-mqtt.sh says which cases need raw TCP and run there only).
MQTT_WS=1
# shellcheck source=tests/e2e/t1500-mqtt.sh
. "$(dirname "$0")/t1500-mqtt.sh"

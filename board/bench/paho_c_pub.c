/*
 * Eclipse Paho C (MQTTAsync, libpaho-mqtt3as) peer for board/bench/compare.
 *
 * Publishes COUNT messages of SIZE bytes at QOS over mutual TLS (MQTT 5) as fast as the
 * library takes them, and exits once every one is done (onSuccess: PUBACK for QoS 1/2,
 * written for QoS 0), then DISCONNECT. Library defaults are kept (maxInflight 65535, at most
 * 100 buffered messages); a send refused because too many are in flight or buffered
 * (MQTTASYNC_MAX_MESSAGES_INFLIGHT, MQTTASYNC_MAX_BUFFERED_MESSAGES) is retried after 50 us.
 *
 * usage: paho_c_pub HOST PORT CAFILE CERT KEY CLIENT_ID TOPIC COUNT QOS SIZE
 */
#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int connected;   /* 1 connected, -1 failed */
static atomic_long done;
static atomic_int failed;

static void on_connect(void *context, MQTTAsync_successData5 *response) {
    (void)context; (void)response;
    atomic_store(&connected, 1);
}

static void on_connect_failure(void *context, MQTTAsync_failureData5 *response) {
    (void)context;
    fprintf(stderr, "paho_c_pub: connect failed: %d %s\n", response ? response->code : 0,
            response && response->message ? response->message : "");
    atomic_store(&connected, -1);
}

static void on_sent(void *context, MQTTAsync_successData5 *response) {
    (void)context; (void)response;
    atomic_fetch_add(&done, 1);
}

static void on_send_failure(void *context, MQTTAsync_failureData5 *response) {
    (void)context; (void)response;
    atomic_fetch_add(&failed, 1);
    atomic_fetch_add(&done, 1);
}

static void pause_briefly(long nanoseconds) {
    struct timespec t = {0, nanoseconds};
    nanosleep(&t, NULL);
}

int main(int argc, char **argv) {
    if (argc != 11) {
        fprintf(stderr, "usage: paho_c_pub HOST PORT CAFILE CERT KEY CLIENT_ID TOPIC COUNT QOS SIZE\n");
        return 2;
    }
    char uri[512];
    snprintf(uri, sizeof uri, "ssl://%s:%s", argv[1], argv[2]);
    long count = atol(argv[8]);
    int qos = atoi(argv[9]);
    int size = atoi(argv[10]);
    char *payload = malloc((size_t)size);
    memset(payload, 'x', (size_t)size);

    MQTTAsync client;
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer5;
    if (MQTTAsync_createWithOptions(&client, uri, argv[6], MQTTCLIENT_PERSISTENCE_NONE, NULL, &create) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "paho_c_pub: create failed\n");
        return 1;
    }
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    ssl.trustStore = argv[3];
    ssl.keyStore = argv[4];
    ssl.privateKey = argv[5];
    ssl.enableServerCertAuth = 1;
    ssl.verify = 1;
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer5;
    options.keepAliveInterval = 30;
    options.cleanstart = 1;
    options.ssl = &ssl;
    options.onSuccess5 = on_connect;
    options.onFailure5 = on_connect_failure;
    if (MQTTAsync_connect(client, &options) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "paho_c_pub: connect could not start\n");
        return 1;
    }
    for (int waited = 0; atomic_load(&connected) == 0 && waited < 30000; waited++) pause_briefly(1000000);
    if (atomic_load(&connected) != 1) return 1;

    MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
    response.onSuccess5 = on_sent;
    response.onFailure5 = on_send_failure;
    MQTTAsync_message message = MQTTAsync_message_initializer;
    message.payload = payload;
    message.payloadlen = size;
    message.qos = qos;
    for (long i = 0; i < count; i++) {
        int rc;
        while ((rc = MQTTAsync_sendMessage(client, argv[7], &message, &response)) == MQTTASYNC_MAX_MESSAGES_INFLIGHT
               || rc == MQTTASYNC_MAX_BUFFERED_MESSAGES)
            pause_briefly(50000);
        if (rc != MQTTASYNC_SUCCESS) {
            fprintf(stderr, "paho_c_pub: send %ld failed: %d\n", i, rc);
            return 1;
        }
    }
    for (int waited = 0; atomic_load(&done) < count && waited < 600000; waited++) pause_briefly(1000000);
    MQTTAsync_disconnectOptions disconnect = MQTTAsync_disconnectOptions_initializer5;
    disconnect.timeout = 5000;
    MQTTAsync_disconnect(client, &disconnect);
    pause_briefly(10000000);
    MQTTAsync_destroy(&client);
    free(payload);
    if (atomic_load(&done) < count || atomic_load(&failed) > 0) {
        fprintf(stderr, "paho_c_pub: %ld of %ld done, %d failed\n", (long)atomic_load(&done), count, atomic_load(&failed));
        return 1;
    }
    return 0;
}

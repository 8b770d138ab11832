/*
 * pinpost-cmdlat — command-to-line latency on the gpio-sim guest.
 *
 *   pinpost-cmdlat VALUE_FILE COUNT OUTPUT -- PUBLISHER ARGS...
 *
 * Starts PUBLISHER (mosquitto_pub -l: one MQTT message per line of its standard input, over one
 * connection) and, COUNT times, writes a set_output command for OUTPUT to it (the opposite of the
 * line's level: "on" when it reads 0, "off" when it reads 1) and waits until the gpio-sim line's
 * VALUE_FILE (/sys/devices/platform/gpio-sim.0/gpiochipN/sim_gpioX/value) shows that level. The
 * clock starts when the command line is handed to the publisher and stops when the kernel line
 * has the level: MQTT client, TLS, broker, TLS, agent, libgpiod, kernel. One command before the
 * measured ones absorbs the publisher's connection. The line is read every 200 us (the
 * resolution), at most 20 s per command (a loaded host can stall the guest for seconds). Prints
 * each latency and then
 *   PINPOST-CMDLAT sent N applied M p50_us P p99_us Q max_us R
 * Exit 0 when every command set the line.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int read_level(const char *path) {
    char buffer[8] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    return n > 0 ? buffer[0] == '1' : -1;
}

/* Waits until the line reads `level`: 0, or -1 after 20 s (read once more after the deadline, in
   case the guest was not scheduled meanwhile). */
static int wait_level(const char *path, int level) {
    long long deadline = now_us() + 20000000;
    struct timespec pause = {0, 200000};
    for (;;) {
        if (read_level(path) == level) return 0;
        if (now_us() >= deadline) return read_level(path) == level ? 0 : -1;
        nanosleep(&pause, NULL);
    }
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int send_set(int fd, const char *output, int index, int level) {
    char line[256];
    int length = snprintf(line, sizeof line,
                          "{\"id\":\"lat-%d\",\"command\":\"set_output\",\"output\":\"%s\",\"value\":\"%s\"}\n",
                          index, output, level ? "on" : "off");
    return write(fd, line, (size_t)length) == length ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: pinpost-cmdlat VALUE_FILE COUNT OUTPUT -- PUBLISHER ARGS...\n");
        return 2;
    }
    const char *path = argv[1];
    int count = atoi(argv[2]);
    const char *output = argv[3];
    if (count < 1 || count > 10000 || read_level(path) < 0) {
        fprintf(stderr, "pinpost-cmdlat: bad COUNT or unreadable %s\n", path);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return 1;
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        dup2(pipe_fds[0], 0);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execv(argv[5], argv + 5);
        _exit(127);
    }
    close(pipe_fds[0]);
    int fd = pipe_fds[1];

    long long *samples = calloc((size_t)count, sizeof *samples);
    int applied = 0, sent = 0;
    /* Warm-up: connects the publisher; not measured. */
    int target = !read_level(path);
    if (send_set(fd, output, 0, target) != 0 || wait_level(path, target) != 0) {
        fprintf(stderr, "pinpost-cmdlat: the warm-up command did not set the line\n");
    }
    for (int i = 1; i <= count; i++) {
        target = !read_level(path);
        long long start = now_us();
        if (send_set(fd, output, i, target) != 0) break;
        sent++;
        if (wait_level(path, target) != 0) {
            printf("PINPOST-CMDLAT-SAMPLE %d timeout (line reads %d, expected %d)\n", i, read_level(path), target);
            continue;
        }
        samples[applied++] = now_us() - start;
        printf("PINPOST-CMDLAT-SAMPLE %d %lld\n", i, samples[applied - 1]);
    }
    close(fd);
    int status = 0;
    waitpid(child, &status, 0);
    if (applied == 0) {
        printf("PINPOST-CMDLAT sent %d applied 0\n", sent);
        return 1;
    }
    qsort(samples, (size_t)applied, sizeof *samples, compare);
    /* Nearest rank. */
    long long p50 = samples[(applied * 50 + 99) / 100 - 1];
    long long p99 = samples[(applied * 99 + 99) / 100 - 1];
    printf("PINPOST-CMDLAT sent %d applied %d p50_us %lld p99_us %lld max_us %lld\n", sent, applied, p50, p99,
           samples[applied - 1]);
    free(samples);
    return applied == count ? 0 : 1;
}

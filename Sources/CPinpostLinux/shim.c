#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE
#endif
#include "CPinpostLinux.h"

#ifdef __linux__
#include <sys/timex.h>
#include <sys/timerfd.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>

const int CPinpostLinux_TIME_ERROR = TIME_ERROR;

int CPinpostLinux_read_clock_status(CPinpostLinux_clock_status *out) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = 0; // read only
    int state = adjtimex(&tx);
    if (state == -1) return -1;
    out->state = state;
    out->unsynchronized = (tx.status & STA_UNSYNC) ? 1 : 0;
    out->max_error_us = tx.maxerror;
    out->estimated_error_us = tx.esterror;
    return 0;
}
static int arm_clock_step_fd(int fd) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_value.tv_sec = (time_t)0x7fffffff;  // far future: it never expires by itself
    return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL);
}

int CPinpostLinux_clock_step_fd(void) {
    int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -1;
    if (arm_clock_step_fd(fd) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int CPinpostLinux_clock_step_consume(int fd) {
    unsigned long long expirations;
    ssize_t result = read(fd, &expirations, sizeof expirations);
    if (result < 0 && errno == ECANCELED) {
        return arm_clock_step_fd(fd) == 0 ? 1 : -1;
    }
    if (result < 0 && errno == EAGAIN) return 0;
    if (result < 0) return -1;
    return 0;
}

static int month_index(const char *name) {
    static const char *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *found = strstr(months, name);
    return found ? (int)(found - months) / 3 : 0;
}

long long CPinpostLinux_build_epoch(void) {
#ifdef SOURCE_DATE_EPOCH
    return (long long)SOURCE_DATE_EPOCH;
#else
    const char *date = __DATE__;  // "Nov 23 2026"
    const char *clock = __TIME__; // "01:02:03"
    char month[4] = {date[0], date[1], date[2], 0};
    struct tm parts;
    memset(&parts, 0, sizeof parts);
    parts.tm_mon = month_index(month);
    parts.tm_mday = atoi(date + 4);
    parts.tm_year = atoi(date + 7) - 1900;
    parts.tm_hour = atoi(clock);
    parts.tm_min = atoi(clock + 3);
    parts.tm_sec = atoi(clock + 6);
    return (long long)timegm(&parts);
#endif
}

int CPinpostLinux_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int CPinpostLinux_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int CPinpostLinux_accept_cloexec(int fd) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}
#else
void CPinpostLinux_i_do_nothing_on_other_platforms(void) {}
#endif

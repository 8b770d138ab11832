#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE
#endif
#include "CPinpostLinux.h"

#ifdef __linux__
#include <sys/timex.h>
#include <string.h>

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
#else
void CPinpostLinux_i_do_nothing_on_other_platforms(void) {}
#endif

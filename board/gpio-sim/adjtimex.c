/* board/gpio-sim/adjtimex.c — a tiny NTP stand-in for the QEMU guest's clock-gate test.
 *
 *   pinpost-adjtimex show    prints the kernel's clock status (STA_UNSYNC, maxerror)
 *   pinpost-adjtimex sync    does what an NTP client does on its first good sample: clears
 *                            STA_UNSYNC with a small maxerror, after stepping the clock by 1 ms
 *                            (ADJ_SETOFFSET), which fires TFD_TIMER_CANCEL_ON_SET timers (the
 *                            kernel only fires them when the wall/monotonic offset changes).
 * Built statically on the host by run-test; needs CAP_SYS_TIME for `sync` (root in the guest). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>

static int show(void) {
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    int state = adjtimex(&tx);
    if (state < 0) { perror("adjtimex"); return 1; }
    printf("state %d unsync %d maxerror_us %ld\n", state, (tx.status & STA_UNSYNC) ? 1 : 0, tx.maxerror);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s show|sync\n", argv[0]); return 2; }
    if (strcmp(argv[1], "show") == 0) return show();
    if (strcmp(argv[1], "sync") != 0) { fprintf(stderr, "usage: %s show|sync\n", argv[0]); return 2; }
    /* Step first (a step resets the NTP state to unsynchronized), then declare synchronization. */
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_SETOFFSET | ADJ_NANO;
    tx.time.tv_sec = 0;
    tx.time.tv_usec = 1000000;  /* nanoseconds with ADJ_NANO: 1 ms */
    if (adjtimex(&tx) < 0) { perror("adjtimex ADJ_SETOFFSET"); return 1; }
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
    tx.status = 0;
    tx.maxerror = 1000;
    tx.esterror = 100;
    if (adjtimex(&tx) < 0) { perror("adjtimex ADJ_STATUS"); return 1; }
    return show();
}

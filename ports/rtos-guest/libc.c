/*
 * What picolibc needs from a bare-metal guest that links lwIP: stdio on
 * the board's UART (lwIP's diagnostics and assertions print with
 * printf/fprintf) and _exit (abort() ends there: QEMU exits non-zero).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../bm-common/board.h"

static int uart_put(char c, FILE *f)
{
    char s[2] = {c, '\0'};

    (void)f;
    board_puts(s);
    return (unsigned char)c;
}

static FILE uart = FDEV_SETUP_STREAM(uart_put, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &uart;
FILE *const stdout = &uart;
FILE *const stderr = &uart;

_Noreturn void _exit(int code)
{
    board_exit(code == 0 ? 0 : 6);
}

/* raise() (from abort()) sends the signal to the process: there is none,
 * so a signal ends the guest like _exit(1). */
int getpid(void);
int kill(int pid, int sig);

int getpid(void)
{
    return 1;
}

int kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    _exit(1);
}

/* lwIP's LWIP_RAND() is rand(): picolibc's keeps its state in thread-local
 * storage, which this start-up code does not set up, so a plain one here
 * (xorshift32, seeded from the board clock on first use). */
static unsigned rand_state;

int rand(void)
{
    unsigned x = rand_state;

    if (x == 0)
        x = (unsigned)board_now_ns() | 1u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    return (int)(x & 0x7fffffff);
}

#include "bmlib.h"

#include <hvcomm/error.h>

volatile uint32_t bm_fail[2];

static void put_num(char **o, char *end, unsigned long long v, unsigned base,
                    int width, char pad, int neg)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    if (neg)
        tmp[n++] = '-';
    while (width-- > n && *o < end)
        *(*o)++ = pad;
    while (n > 0 && *o < end)
        *(*o)++ = tmp[--n];
}

void bm_printf(const char *fmt, ...)
{
    char buf[256], *o = buf, *end = buf + sizeof(buf) - 1;
    va_list ap;

    va_start(ap, fmt);
    for (; *fmt != '\0' && o < end; fmt++) {
        int width = 0, lng = 0;
        char pad = ' ';

        if (*fmt != '%') {
            *o++ = *fmt;
            continue;
        }
        fmt++;
        if (*fmt == '0')
            pad = '0';
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            lng++, fmt++;
        switch (*fmt) {
        case 'd': {
            long long v = lng >= 2 ? va_arg(ap, long long)
                          : lng ? va_arg(ap, long) : va_arg(ap, int);
            put_num(&o, end, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v,
                    10, width, pad, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long)
                                   : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(&o, end, v, *fmt == 'u' ? 10 : 16, width, pad, 0);
            break;
        }
        case 's':
            for (const char *s = va_arg(ap, const char *); *s && o < end; s++)
                *o++ = *s;
            break;
        case 'c':
            *o++ = (char)va_arg(ap, int);
            break;
        case '%':
            *o++ = '%';
            break;
        default:
            *o++ = '?';
            break;
        }
    }
    va_end(ap);
    *o = '\0';
    board_puts(buf);
}

_Noreturn void board_fault(const char *what, uintptr_t cause, uintptr_t pc)
{
    bm_printf("core %u: FAULT %s cause 0x%lx pc 0x%lx\n", (unsigned)board_core(),
              what, (unsigned long)cause, (unsigned long)pc);
    board_exit(3);
}

/* The x86-64 guest runtime: IDT, serial, exit, PIC, printf, mem*. */
#include "rt.h"

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
};

struct frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

extern char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));

void rt_main(void);
void rt_isr(uint64_t vector, struct frame *f);

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *d, const void *s, size_t n)
{
    void *r = d;

    __asm__ __volatile__("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;

    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n-- > 0)
        dp[n] = sp[n];
    return d;
}

void *memset(void *d, int c, size_t n)
{
    void *r = d;

    __asm__ __volatile__("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

void rt_putc(char c)
{
    rt_outb(0x3f8, (uint8_t)c);
}

void rt_puts(const char *s)
{
    while (*s != '\0')
        rt_putc(*s++);
}

static void put_u(uint64_t v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n < width--)
        rt_putc(pad);
    while (n > 0)
        rt_putc(buf[--n]);
}

/* %s %c %d %u %x %p, with l/ll/z, a width and 0 padding: what hvcomm's
 * log messages and the test programs use. */
void rt_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt != '\0'; fmt++) {
        int longs = 0, width = 0;
        char pad = ' ';
        uint64_t u;
        int64_t d;

        if (*fmt != '%') {
            rt_putc(*fmt);
            continue;
        }
        fmt++;
        if (*fmt == '0')
            pad = '0';
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 's':
            rt_puts(va_arg(ap, const char *));
            break;
        case 'c':
            rt_putc((char)va_arg(ap, int));
            break;
        case 'd':
            d = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (d < 0) {
                rt_putc('-');
                u = (uint64_t)-d;
            } else {
                u = (uint64_t)d;
            }
            put_u(u, 10, width, pad);
            break;
        case 'u':
            u = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            put_u(u, 10, width, pad);
            break;
        case 'x':
            u = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            put_u(u, 16, width, pad);
            break;
        case 'p':
            rt_puts("0x");
            put_u((uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, ' ');
            break;
        case '%':
            rt_putc('%');
            break;
        default:
            rt_putc('?');
            break;
        }
    }
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
}

void rt_log(void *ctx, int level, const char *fmt, va_list ap)
{
    (void)ctx;
    rt_printf("hvcomm[%d]: ", level);
    rt_vprintf(fmt, ap);
    rt_putc('\n');
}

void rt_exit(uint32_t code)
{
    rt_outl(0xf4, code);
    for (;;)
        __asm__ __volatile__("cli; hlt");
}

void rt_pic_init(uint8_t base, uint8_t unmask_master)
{
    rt_outb(0x20, 0x11);
    rt_outb(0xa0, 0x11);
    rt_outb(0x21, base);
    rt_outb(0xa1, (uint8_t)(base + 8));
    rt_outb(0x21, 0x04);
    rt_outb(0xa1, 0x02);
    rt_outb(0x21, 0x01);
    rt_outb(0xa1, 0x01);
    rt_outb(0xa1, 0xff);
    rt_outb(0x21, (uint8_t)~unmask_master);
}

void rt_pic_eoi(void)
{
    rt_outb(0x20, 0x20);
}

__attribute__((weak)) void rt_irq(uint32_t vector)
{
    (void)vector;
}

void rt_isr(uint64_t vector, struct frame *f)
{
    if (vector < 32) {
        rt_printf("\nexception %u error %x at rip %lx rsp %lx\n", (unsigned)vector,
                  (unsigned)f->error, f->rip, f->rsp);
        rt_exit(0x7e);
    }
    rt_irq((uint32_t)vector);
}

void rt_main(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

    for (int i = 0; i < 256; i++) {
        uint64_t a = (uint64_t)(uintptr_t)(isr_stubs + 16 * i);

        idt[i] = (struct idt_gate){.off_lo = (uint16_t)a, .sel = 0x08, .type = 0x8e,
                                   .off_mid = (uint16_t)(a >> 16),
                                   .off_hi = (uint32_t)(a >> 32)};
    }
    __asm__ __volatile__("lidt %0" : : "m"(idtr));
    rt_exit((uint32_t)main());
}

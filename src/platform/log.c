/* The log hook: the library's only way to say anything. */
#define HVC__LOG_IMPL /* the real hvc_log(), also with HVC_CONFIG_NO_STRINGS */
#include <hvcomm/platform.h>

static hvc_log_fn log_fn;
static void *log_ctx;
static int log_level = HVC_LOG_WARN;

void hvc_log_set(hvc_log_fn fn, void *ctx, int max_level)
{
    log_fn = fn;
    log_ctx = ctx;
    log_level = max_level;
}

void hvc_log(int level, const char *fmt, ...)
{
    va_list ap;

    if (log_fn == NULL || level > log_level || fmt == NULL)
        return;
    va_start(ap, fmt);
    log_fn(log_ctx, level, fmt, ap);
    va_end(ap);
}

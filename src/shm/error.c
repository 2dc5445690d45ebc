/* Messages and names of the error codes, generated from HVC_ERRNO_MAP. */
#include <hvcomm/error.h>
#include <hvcomm/version.h>

#ifdef HVC_CONFIG_NO_STRINGS
/* Small targets: no message or name tables. Both calls still return a
 * valid string, one for every code. */
const char *hvc_strerror(int err)
{
    (void)err;
    return "";
}

const char *hvc_errname(int err)
{
    (void)err;
    return "";
}
#else
#define MSG(name, msg) [HVC_##name] = msg,
static const char *const messages[HVC_ERRNO_MAX] = {
    [HVC_OK] = "success",
    HVC_ERRNO_MAP(MSG)
};
#undef MSG

#define NAME(name, msg) [HVC_##name] = "HVC_" #name,
static const char *const names[HVC_ERRNO_MAX] = {
    [HVC_OK] = "HVC_OK",
    HVC_ERRNO_MAP(NAME)
};
#undef NAME

static int code_index(int err)
{
    /* Negating INT_MIN would overflow; anything that large is unknown anyway. */
    if (err < -(int)HVC_ERRNO_MAX || err > (int)HVC_ERRNO_MAX)
        return -1;
    err = err < 0 ? -err : err;
    return err < HVC_ERRNO_MAX ? err : -1;
}

const char *hvc_strerror(int err)
{
    int i = code_index(err);

    return i < 0 ? "unknown error" : messages[i];
}

const char *hvc_errname(int err)
{
    int i = code_index(err);

    return i < 0 ? "HVC_E?" : names[i];
}
#endif

const char *hvc_version(void)
{
    return HVC_VERSION_STRING;
}

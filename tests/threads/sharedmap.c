#define _GNU_SOURCE
#include "sharedmap.h"

#include <pthread.h>
#include <string.h>

#define MAXMAPS 8

struct shared {
    char name[256];
    int refs;
    struct hvc_mapping m;
    _Alignas(8) unsigned char posix_state[HVC_PLATFORM_STATE_MAX - 64];
};

struct sm_state {
    struct shared *s;
};

static struct shared maps[MAXMAPS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct hvc_platform sm;

static int sm_map(const struct hvc_platform *p, void *state, const char *name, uint64_t size,
                  unsigned flags, struct hvc_mapping *out)
{
    const struct hvc_platform *px = hvc_platform_posix();
    struct sm_state *st = state;
    struct shared *free_slot = NULL;
    int rc = 0;

    (void)p;
    if (strlen(name) >= sizeof(maps[0].name) || px->state_size > sizeof(maps[0].posix_state))
        return -HVC_EINVAL;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAXMAPS; i++) {
        if (maps[i].refs > 0 && strcmp(maps[i].name, name) == 0) {
            if ((flags & HVC_MAP_EXCL) != 0) {
                rc = -HVC_EEXIST;
                goto out;
            }
            maps[i].refs++;
            st->s = &maps[i];
            *out = maps[i].m;
            goto out;
        }
        if (maps[i].refs == 0 && free_slot == NULL)
            free_slot = &maps[i];
    }
    if (free_slot == NULL) {
        rc = -HVC_ENOMEM;
        goto out;
    }
    /* Always map writable: a read-only attach shares the writable mapping
     * (the library never writes through a read-only handle). */
    rc = px->map(px, free_slot->posix_state, name, size, flags & ~(unsigned)HVC_MAP_RDONLY,
                 &free_slot->m);
    if (rc < 0)
        goto out;
    free_slot->m.page_size = 0;
    strcpy(free_slot->name, name);
    free_slot->refs = 1;
    st->s = free_slot;
    *out = free_slot->m;
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

static int sm_unmap(const struct hvc_platform *p, void *state)
{
    const struct hvc_platform *px = hvc_platform_posix();
    struct sm_state *st = state;
    int rc = 0;

    (void)p;
    pthread_mutex_lock(&lock);
    if (st->s != NULL && --st->s->refs == 0)
        rc = px->unmap(px, st->s->posix_state);
    st->s = NULL;
    pthread_mutex_unlock(&lock);
    return rc;
}

static int sm_unlink(const struct hvc_platform *p, const char *name)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    return px->unlink(px, name);
}

static int sm_self_token(const struct hvc_platform *p, void *state, uint64_t *token)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    (void)state;
    return px->self_token(px, NULL, token);
}

static int sm_peer_alive(const struct hvc_platform *p, void *state, uint32_t peer,
                         uint64_t token)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    (void)state;
    return px->peer_alive(px, NULL, peer, token);
}

static int sm_wait_word(const struct hvc_platform *p, void *state, const uint32_t *addr,
                        uint32_t expected, int64_t timeout_ns)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    (void)state;
    return px->wait_word(px, NULL, addr, expected, timeout_ns);
}

static int sm_wake_word(const struct hvc_platform *p, void *state, const uint32_t *addr,
                        uint32_t count)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    (void)state;
    return px->wake_word(px, NULL, addr, count);
}

static uint64_t sm_now(const struct hvc_platform *p)
{
    const struct hvc_platform *px = hvc_platform_posix();

    (void)p;
    return px->now_ns(px);
}

const struct hvc_platform *hvct_sharedmap_platform(void)
{
    sm.version = HVC_PLATFORM_VERSION;
    sm.state_size = sizeof(struct sm_state);
    sm.name = "posix-shared-mapping";
    sm.map = sm_map;
    sm.unmap = sm_unmap;
    sm.unlink = sm_unlink;
    sm.self_token = sm_self_token;
    sm.peer_alive = sm_peer_alive;
    sm.wait_word = sm_wait_word;
    sm.wake_word = sm_wake_word;
    sm.now_ns = sm_now;
    return &sm;
}

/**
 * @file platform.h
 * @brief The platform ops struct: everything hvcomm needs from an OS,
 *        hypervisor or board, in one table of methods.
 *
 * A backend (POSIX host, KVM ivshmem, x86 hypervisor, bare metal) fills in a
 * `struct hvc_platform`. The model is SQLite's VFS:
 *
 * - the table starts with a version (#HVC_PLATFORM_VERSION); methods are
 *   only ever appended, and a backend built against an older version leaves
 *   the newer methods out (the dispatch layer reads no method beyond the
 *   version the backend claims);
 * - the backend's private state per mapped region has the size
 *   `state_size`, and lives inside the caller-owned
 *   `struct hvc_platform_handle`, so the core never allocates it;
 * - the functions `hvc_platform_*()` below are the only callers of the
 *   methods. They check arguments, and give every optional method that a
 *   backend leaves NULL its documented fallback or `-HVC_ENOTSUP`.
 *
 * Timeouts are relative, in nanoseconds: 0 polls, #HVC_FOREVER never expires.
 *
 * | method            | required | fallback when NULL                        |
 * |-------------------|----------|-------------------------------------------|
 * | map, unmap        | yes      | (hvc_platform_check() rejects the table)  |
 * | now_ns            | yes      | (rejected)                                |
 * | unlink            | no       | `-HVC_ENOTSUP`                            |
 * | self_id           | no       | `-HVC_ENOTSUP`: the core picks a free slot |
 * | self_token        | no       | token 0: liveness by heartbeat only       |
 * | peer_alive        | no       | `-HVC_ENOTSUP`: unknown, heartbeat decides |
 * | notify            | no       | `-HVC_ENOTSUP`                            |
 * | wait_notify       | no       | `-HVC_ENOTSUP`                            |
 * | wait_word         | no       | bounded polling of the word until timeout |
 * | wake_word         | no       | nothing to do: pollers see the change     |
 * | map_view          | no       | a pointer into the main mapping, writable |
 * | unmap_view        | no       | nothing to do                             |
 * | cache_clean       | no       | nothing to do: memory is coherent (with   |
 * |                   |          | either set: #HVC_CAP_CACHE, and rings and |
 * |                   |          | ports clean/invalidate around every       |
 * |                   |          | publication, doc/baremetal.md)            |
 * | cache_invalidate  | no       | nothing to do: memory is coherent         |
 * | caps              | no       | every method the table sets works         |
 * | token_ns (v2)     | no       | 0: tokens never asked about (heartbeat)   |
 * | control (v2)      | no       | `-HVC_ENOTSUP`                            |
 *
 * Calling context: who calls each method, and with what it may run at the
 * same time on the same per-region state. Backends must allow what this
 * table allows (no method is ever called before `map` returned or after
 * `unmap` began, for that state):
 *
 * | method            | called from                     | concurrent on the same state with |
 * |-------------------|---------------------------------|-----------------------------------|
 * | map, unmap        | thread: hvc_platform_open/close | nothing (the caller owns the handle) |
 * | unlink            | thread                          | anything (it takes no state)      |
 * | self_id, self_token | thread: format, join          | any method except map/unmap       |
 * | peer_alive        | thread: scans, format, joins, event waits | itself and every other method |
 * | notify            | any thread; an ISR where the backend says so | everything, wait_notify included |
 * | wait_notify       | thread, sleeps: event waits     | itself (several waiting threads) and everything else |
 * | wait_word         | thread, sleeps: event, segment, ring waits | itself and everything, wake_word included |
 * | wake_word         | any thread; an ISR where the backend says so | everything                |
 * | now_ns            | any context, ISRs included: must not block | everything              |
 * | map_view, unmap_view | thread: object open and close | every other method               |
 * | cache_clean, cache_invalidate | any context (no sleeping) | everything                  |
 * | caps              | any thread (a pure query)       | everything                        |
 * | control (v2)      | thread, unless the op says otherwise | every other method           |
 *
 * Liveness tokens carry a namespace (#hvc_token_ns): the backend that issued
 * a token. The peer table stores both, and the dispatch layer
 * (hvc_platform_token_alive()) asks a backend only about tokens of its own
 * namespace: a pid from a POSIX host means nothing to a bare-metal core, and
 * a core number means nothing to a POSIX host. Token 0 or namespace 0 is
 * "unknown" (liveness by heartbeat only).
 */
#ifndef HVCOMM_PLATFORM_H
#define HVCOMM_PLATFORM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hvcomm/error.h>
#include <hvcomm/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup platform Platform ops
 * @brief The backend interface and its single dispatch layer.
 * @{
 */

/** The version of `struct hvc_platform` this header describes. */
#define HVC_PLATFORM_VERSION 2

/** The largest private state (bytes) a backend may ask for per region. */
#define HVC_PLATFORM_STATE_MAX 512

/** A timeout that never expires. */
#define HVC_FOREVER (-1)

/** Flags for `map` and hvc_platform_open(). */
enum hvc_map_flags {
    HVC_MAP_CREATE = 1u << 0, /**< create the region if it does not exist */
    HVC_MAP_EXCL = 1u << 1,   /**< with CREATE: fail with EEXIST if it exists */
    HVC_MAP_RDONLY = 1u << 2, /**< map (or view) read-only */
};

/** Log levels for the log hook. */
enum hvc_log_level {
    HVC_LOG_ERROR = 0, /**< an operation failed */
    HVC_LOG_WARN = 1,  /**< a peer misbehaved, or something was recovered */
    HVC_LOG_INFO = 2,  /**< state changes: joins, leaves, formats */
    HVC_LOG_DEBUG = 3, /**< details */
};

/**
 * @brief The log hook: receives a printf-style format and its arguments.
 *
 * The library never prints; it hands its diagnostics to this hook, which
 * formats them as it likes (the library itself has no formatter, so the core
 * stays freestanding). It may be called from any thread that calls hvcomm.
 */
typedef void (*hvc_log_fn)(void *ctx, int level, const char *fmt, va_list ap);

/**
 * @brief Namespaces of liveness tokens: which kind of backend issued one.
 *
 * A backend sets its namespace in hvc_platform::token_ns (version 2). The
 * numbers are part of the wire format (stored in every peer slot): new ones
 * are only ever appended; out-of-tree backends use #HVC_TOKEN_NS_USER and up.
 */
enum hvc_token_ns {
    HVC_TOKEN_NS_NONE = 0,      /**< no token, or issued by an unknown backend */
    HVC_TOKEN_NS_POSIX = 1,     /**< POSIX host: process id and start time */
    HVC_TOKEN_NS_IVSHMEM = 2,   /**< ivshmem host or guest: HVC_IVSHMEM_TOKEN() */
    HVC_TOKEN_NS_BAREMETAL = 3, /**< bare metal: HVC_BAREMETAL_TOKEN() */
    HVC_TOKEN_NS_X86HV = 4,     /**< the x86 hypervisor's guest tokens */
    HVC_TOKEN_NS_USER = 0x100,  /**< first namespace free for other backends */
};

/** A mapping, as described by a backend's `map` method. */
struct hvc_mapping {
    void *base;         /**< start of the mapping */
    uint64_t size;      /**< bytes mapped */
    uint32_t page_size; /**< granule of map_view(), 0 when it has none */
    uint32_t reserved;  /**< 0 */
};

/**
 * @brief A backend: the methods hvcomm needs from a platform.
 *
 * Every method receives the table itself (so a backend can reach
 * `app_data`) and, where it concerns one mapped region, that region's
 * private state (`state_size` bytes, zeroed before `map`). Methods return 0
 * (or a count) or a negative `HVC_E...` code; "not supported" is always
 * `-HVC_ENOTSUP`.
 */
struct hvc_platform {
    /** Version of this table the backend implements (#HVC_PLATFORM_VERSION). */
    int version;
    /** Bytes of private state per region, at most #HVC_PLATFORM_STATE_MAX. */
    uint32_t state_size;
    /** Short name, shown in diagnostics ("posix", "ivshmem", ...). */
    const char *name;
    /** Free for the backend's own use. */
    void *app_data;

    /* ---- version 1 ---- */

    /**
     * Map (and with #HVC_MAP_CREATE create) the region called `name`.
     * `size` is the size to create, or 0 to map an existing region whole.
     * On success describes the mapping in `*out`.
     * Errors: ENOENT, EEXIST, EACCES, EINVAL, ENOMEM, EIO.
     */
    int (*map)(const struct hvc_platform *p, void *state, const char *name,
               uint64_t size, unsigned flags, struct hvc_mapping *out);
    /** Unmap the region mapped by `map` and release the state. */
    int (*unmap)(const struct hvc_platform *p, void *state);
    /** Remove the region called `name` (it stays mapped where mapped). */
    int (*unlink)(const struct hvc_platform *p, const char *name);
    /**
     * A fixed peer id given by the platform (ivshmem's IVPosition), or
     * `-HVC_ENOTSUP` when peers pick a free slot themselves.
     */
    int (*self_id)(const struct hvc_platform *p, void *state);
    /**
     * A token that identifies this running instance to other peers of the
     * same platform (on POSIX: the process id and its start time). Stored in
     * the peer table so that peer_alive() can test it.
     */
    int (*self_token)(const struct hvc_platform *p, void *state,
                      uint64_t *token);
    /**
     * Is `peer`, which registered `token`, still running? 1 yes, 0 no,
     * `-HVC_ENOTSUP` when the platform cannot tell.
     */
    int (*peer_alive)(const struct hvc_platform *p, void *state,
                      uint32_t peer, uint64_t token);
    /** Ring doorbell `vector` of `peer`. */
    int (*notify)(const struct hvc_platform *p, void *state, uint32_t peer,
                  uint32_t vector);
    /**
     * Wait up to `timeout_ns` for a doorbell to this peer; store its vector.
     * Returns 0, or -HVC_ETIMEDOUT.
     */
    int (*wait_notify)(const struct hvc_platform *p, void *state,
                       int64_t timeout_ns, uint32_t *vector);
    /**
     * Sleep while the shared word `*addr` equals `expected`, at most
     * `timeout_ns`. May return 0 spuriously; returns -HVC_ETIMEDOUT on
     * timeout. The word may be written by any peer.
     */
    int (*wait_word)(const struct hvc_platform *p, void *state,
                     const uint32_t *addr, uint32_t expected,
                     int64_t timeout_ns);
    /** Wake up to `count` waiters sleeping in wait_word() on `addr`. */
    int (*wake_word)(const struct hvc_platform *p, void *state,
                     const uint32_t *addr, uint32_t count);
    /** Monotonic time in nanoseconds (meaningful within this peer only). */
    uint64_t (*now_ns)(const struct hvc_platform *p);
    /**
     * Map a second view of `[offset, offset + len)` of the region, with
     * #HVC_MAP_RDONLY enforced by the MMU where the backend can. `offset`
     * and `len` are multiples of the page size the backend reports through
     * hvc_platform_handle::page_size.
     */
    int (*map_view)(const struct hvc_platform *p, void *state, uint64_t offset,
                    uint64_t len, unsigned flags, void **addr);
    /** Unmap a view made by map_view(). */
    int (*unmap_view)(const struct hvc_platform *p, void *state, void *addr,
                      uint64_t len);
    /** Write back cached lines of `[addr, addr + len)` (non-coherent memory). */
    void (*cache_clean)(const struct hvc_platform *p, void *state,
                        const void *addr, uint64_t len);
    /** Discard cached lines of `[addr, addr + len)` (non-coherent memory). */
    void (*cache_invalidate)(const struct hvc_platform *p, void *state,
                             const void *addr, uint64_t len);
    /**
     * Which of the optional methods work for this mapping (#hvc_platform_caps
     * bits). Needed only by a backend whose abilities depend on what `map`
     * found (an ivshmem guest without VFIO can ring doorbells but not receive
     * them); when NULL, every method the table sets is taken to work.
     */
    uint32_t (*caps)(const struct hvc_platform *p, void *state);

    /* ---- version 2 ---- */

    /**
     * The namespace (#hvc_token_ns) of the tokens self_token() gives and
     * peer_alive() understands; 0 when the backend has none (its tokens are
     * then never asked about). peer_alive() is only ever called with tokens
     * of this namespace.
     */
    uint32_t token_ns;
    /** 0 */
    uint32_t reserved_v2;
    /**
     * A backend's extras (SQLite's xFileControl): operation `op` (an
     * #hvc_platform_op) on this mapping, with an op-defined `arg`. Returns
     * the op's result (>= 0) or a negative code; `-HVC_ENOTSUP` for an op
     * the backend does not know. Called only through
     * hvc_platform_control(), so no backend's state is reached around the
     * dispatch layer.
     */
    int (*control)(const struct hvc_platform *p, void *state, uint32_t op,
                   void *arg);
};

/**
 * @brief Operations of hvc_platform_control(): each backend has its own
 *        range, and numbers are only ever appended.
 */
enum hvc_platform_op {
    /** ivshmem host and guest: the #hvc_ivshmem_mode (`arg` unused). */
    HVC_PLATFORM_OP_IVSHMEM_MODE = 0x100,
    /** ivshmem host: process the server's messages (`arg` unused); the count. */
    HVC_PLATFORM_OP_IVSHMEM_SERVICE = 0x101,
    /** ivshmem host: is the peer `*(const uint32_t *)arg` listed? 1 or 0. */
    HVC_PLATFORM_OP_IVSHMEM_PEER_LISTED = 0x102,
    /**
     * Any backend: the fence domain of this process, `*(uint32_t *)arg`,
     * never 0: the backend has registered it so that a peer fence
     * (#HVC_PLATFORM_OP_PEER_FENCE) issued by any peer of the same domain
     * reaches it. `-HVC_ENOTSUP` when it cannot (POSIX: membarrier
     * GLOBAL_EXPEDITED missing or refused). Blocking rings use it to
     * publish without a fence (doc/ring.md, "Blocking").
     */
    HVC_PLATFORM_OP_FENCE_DOMAIN = 0x200,
    /**
     * Any backend: an asymmetric fence (`arg` unused): before it returns,
     * every thread of every peer of this domain passes a full memory
     * barrier (POSIX: membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)). 0, or
     * a negative code. Only after #HVC_PLATFORM_OP_FENCE_DOMAIN succeeded.
     */
    HVC_PLATFORM_OP_PEER_FENCE = 0x201,
    /** First op free for other backends. */
    HVC_PLATFORM_OP_USER = 0x10000,
};

/** What a mapped region's backend can do, from hvc_platform_caps(). */
enum hvc_platform_caps {
    HVC_CAP_NOTIFY = 1u << 0,      /**< ring other peers' doorbells */
    HVC_CAP_WAIT_NOTIFY = 1u << 1, /**< receive doorbells (sleep on them) */
    HVC_CAP_WAIT_WORD = 1u << 2,   /**< sleep on a shared word (else: polling) */
    HVC_CAP_LIVENESS = 1u << 3,    /**< tell whether a peer is alive */
    HVC_CAP_VIEWS = 1u << 4,       /**< separate views, read-only enforced */
    HVC_CAP_SELF_ID = 1u << 5,     /**< the platform assigns peer ids */
    HVC_CAP_CACHE = 1u << 6,       /**< memory is not coherent: cache_clean /
                                        cache_invalidate must be called */
};

/**
 * @brief A platform bound to one mapped region. Caller-owned.
 *
 * Filled in by hvc_platform_open(); the fields are read-only for callers.
 */
struct hvc_platform_handle {
    const struct hvc_platform *ops; /**< the backend */
    void *base;                     /**< start of the mapping */
    uint64_t size;                  /**< size of the mapping */
    uint32_t page_size;             /**< granule of map_view(), 0 if none */
    uint32_t flags;                 /**< the #hvc_map_flags it was opened with */
    /** The backend's private state (8-byte aligned). */
    uint64_t state[HVC_PLATFORM_STATE_MAX / 8];
};

/**
 * @brief Check that a backend table can be used.
 * @param ops the table.
 * @retval 0 usable.
 * @retval -HVC_EINVAL NULL, a required method missing, or state_size too big.
 * @retval -HVC_EVERSION version below 1.
 * @retval -HVC_ENOTSUP the library was built for coherent memory only
 *         (`HVC_CONFIG_COHERENT`) and the table has cache maintenance.
 */
HVC_API int hvc_platform_check(const struct hvc_platform *ops);

/**
 * @brief Map a region through a backend.
 * @param h caller-owned handle, filled in on success.
 * @param ops the backend.
 * @param name the region's name, in the backend's terms.
 * @param size bytes to create, or 0 to map an existing region.
 * @param flags #hvc_map_flags.
 * @retval 0 mapped.
 * @retval -HVC_EINVAL bad arguments or backend table (see hvc_platform_check()).
 * @retval -HVC_EVERSION the backend table is too old.
 * @retval -HVC_ENOTSUP a coherent-only build and a backend with cache
 *         maintenance (see hvc_platform_check()).
 * @retval -HVC_ENOENT no such region and #HVC_MAP_CREATE not given.
 * @retval -HVC_EEXIST it exists and #HVC_MAP_EXCL was given.
 * @retval -HVC_EACCES permission denied.
 * @retval -HVC_ENOMEM / -HVC_EIO the platform could not map it.
 *
 * Context: thread; not from interrupt handlers.
 */
HVC_API int hvc_platform_open(struct hvc_platform_handle *h,
                              const struct hvc_platform *ops, const char *name,
                              uint64_t size, unsigned flags);

/**
 * @brief Unmap a region mapped by hvc_platform_open().
 * @retval 0 done (the handle is then zeroed).
 * @retval -HVC_EINVAL the handle is not open.
 */
HVC_API int hvc_platform_close(struct hvc_platform_handle *h);

/**
 * @brief Remove a named region from the platform.
 * @retval 0 removed.
 * @retval -HVC_ENOENT no such region.
 * @retval -HVC_ENOTSUP the backend cannot remove regions.
 * @retval -HVC_EINVAL bad arguments.
 */
HVC_API int hvc_platform_unlink(const struct hvc_platform *ops,
                                const char *name);

/**
 * @brief This peer's fixed id, if the platform assigns one.
 * @return the id (>= 0).
 * @retval -HVC_ENOTSUP peers choose a free slot themselves.
 */
HVC_API int hvc_platform_self_id(struct hvc_platform_handle *h);

/**
 * @brief This running instance's liveness token (0 when the backend has none).
 *
 * A backend whose `self_token` fails yields token 0 ("unknown": liveness by
 * heartbeat only), not an error.
 *
 * @retval 0 done: `*token` is the token, or 0.
 * @retval -HVC_EINVAL `h` is not open, or `token` is NULL.
 */
HVC_API int hvc_platform_self_token(struct hvc_platform_handle *h,
                                    uint64_t *token);

/**
 * @brief The namespace of this backend's tokens (#hvc_token_ns).
 * @return the namespace; 0 (#HVC_TOKEN_NS_NONE) when the backend has none,
 *         its table is older than version 2, or `h` is not open.
 */
HVC_API uint32_t hvc_platform_token_ns(const struct hvc_platform_handle *h);

/**
 * @brief Ask the platform whether a peer is still running, by a token of
 *        this backend's own namespace.
 *
 * For a token read from a peer slot, whose issuer is not known, use
 * hvc_platform_token_alive().
 *
 * @return 1 alive, 0 dead.
 * @retval -HVC_ENOTSUP the platform cannot tell (or the token is 0).
 * @retval -HVC_EINVAL `h` is not open.
 */
HVC_API int hvc_platform_peer_alive(struct hvc_platform_handle *h,
                                    uint32_t peer, uint64_t token);

/**
 * @brief Is the peer that stored (`ns`, `token`) still running?
 *
 * The one place where a token is judged: a token of 0, a namespace of 0,
 * or a namespace other than this backend's (hvc_platform_token_ns()) is
 * "unknown", and the backend is not asked.
 *
 * @return 1 alive, 0 dead.
 * @retval -HVC_ENOTSUP unknown: the platform cannot tell, the token is 0, or
 *         it was issued by another kind of backend.
 * @retval -HVC_EINVAL `h` is not open.
 */
HVC_API int hvc_platform_token_alive(struct hvc_platform_handle *h,
                                     uint32_t peer, uint32_t ns,
                                     uint64_t token);

/**
 * @brief Run a backend-specific operation (the backend's `control` method).
 * @param h the handle.
 * @param op an #hvc_platform_op.
 * @param arg the op's argument, as the op documents.
 * @return the op's result (>= 0).
 * @retval -HVC_ENOTSUP the backend has no `control`, or does not know `op`.
 * @retval -HVC_EINVAL `h` is not open, or the op's own argument errors.
 *
 * Context: as the op documents; never from interrupt handlers unless it says so.
 */
HVC_API int hvc_platform_control(struct hvc_platform_handle *h, uint32_t op,
                                 void *arg);

/**
 * @brief Ring a peer's doorbell.
 * @retval 0 rung.
 * @retval -HVC_ENOTSUP the backend has no doorbells.
 * @retval -HVC_EINVAL bad peer or vector.
 * @retval -HVC_EIO the platform failed to deliver it.
 *
 * Context: any thread; interrupt handlers where the backend allows.
 */
HVC_API int hvc_platform_notify(struct hvc_platform_handle *h, uint32_t peer,
                                uint32_t vector);

/**
 * @brief Wait for a doorbell to this peer.
 * @param h the handle.
 * @param timeout_ns relative timeout, 0 polls, #HVC_FOREVER.
 * @param vector receives the vector that rang.
 * @retval 0 a doorbell rang.
 * @retval -HVC_ETIMEDOUT none in time.
 * @retval -HVC_ENOTSUP the backend has no doorbells.
 */
HVC_API int hvc_platform_wait_notify(struct hvc_platform_handle *h,
                                     int64_t timeout_ns, uint32_t *vector);

/**
 * @brief Sleep while a shared word holds `expected`.
 *
 * Returns when the word changes, when woken by hvc_platform_wake_word(), on
 * timeout, or spuriously: callers re-check their condition. Without a
 * backend `wait_word`, polls the word (with a CPU relax hint) until it
 * changes or the timeout expires.
 *
 * @retval 0 woken or the word changed (possibly spuriously).
 * @retval -HVC_ETIMEDOUT the timeout expired.
 * @retval -HVC_EINVAL `addr` is NULL or outside the mapping.
 */
HVC_API int hvc_platform_wait_word(struct hvc_platform_handle *h,
                                   const uint32_t *addr, uint32_t expected,
                                   int64_t timeout_ns);

/**
 * @brief Wake up to `count` sleepers of hvc_platform_wait_word() on `addr`.
 * @retval 0 done (also when the backend needs no wake-ups).
 * @retval -HVC_EINVAL `addr` is NULL or outside the mapping.
 */
HVC_API int hvc_platform_wake_word(struct hvc_platform_handle *h,
                                   const uint32_t *addr, uint32_t count);

/**
 * @brief What the backend can do for this mapping: #hvc_platform_caps bits.
 *
 * The bits of the optional methods the table sets, narrowed by the backend's
 * `caps` method when it has one. Modules use it to choose a path (sleep on
 * doorbells, on a shared word, or poll) instead of trying a method.
 *
 * @return the bits; 0 for a handle that is not open.
 */
HVC_API uint32_t hvc_platform_caps(const struct hvc_platform_handle *h);

/** @brief Monotonic nanoseconds from the backend's clock. */
HVC_API uint64_t hvc_platform_now(const struct hvc_platform_handle *h);

/**
 * @brief Map a page-aligned view of part of the region.
 *
 * Without a backend `map_view`, returns a pointer into the main mapping and
 * the result 0 (read-only is then not enforced); with one, the result is 1
 * and #HVC_MAP_RDONLY is enforced by the MMU.
 *
 * @retval 1 a separate view, protection enforced.
 * @retval 0 a pointer into the main mapping, protection not enforced.
 * @retval -HVC_EINVAL the range is outside the region or not page-aligned.
 * @retval -HVC_ENOMEM / -HVC_EIO the platform could not map it.
 */
HVC_API int hvc_platform_map_view(struct hvc_platform_handle *h,
                                  uint64_t offset, uint64_t len,
                                  unsigned flags, void **addr);

/**
 * @brief Unmap a view from hvc_platform_map_view().
 * @retval 0 done.
 * @retval -HVC_EINVAL not a view of this handle.
 */
HVC_API int hvc_platform_unmap_view(struct hvc_platform_handle *h, void *addr,
                                    uint64_t len);

/** @brief Write back caches over a range (nothing on coherent platforms). */
HVC_API void hvc_platform_cache_clean(struct hvc_platform_handle *h,
                                      const void *addr, uint64_t len);

/** @brief Discard caches over a range (nothing on coherent platforms). */
HVC_API void hvc_platform_cache_invalidate(struct hvc_platform_handle *h,
                                           const void *addr, uint64_t len);

/**
 * @brief The methods fault injection can make fail (hvc_platform_fault_set()).
 */
enum hvc_platform_method {
    HVC_METHOD_ANY = 0,      /**< count calls of every method below together */
    HVC_METHOD_MAP = 1,      /**< map (hvc_platform_open()) */
    HVC_METHOD_UNMAP,        /**< unmap: still unmaps, then reports the error */
    HVC_METHOD_UNLINK,       /**< unlink */
    HVC_METHOD_SELF_ID,      /**< self_id */
    HVC_METHOD_SELF_TOKEN,   /**< self_token (its callers then get token 0) */
    HVC_METHOD_PEER_ALIVE,   /**< peer_alive */
    HVC_METHOD_NOTIFY,       /**< notify */
    HVC_METHOD_WAIT_NOTIFY,  /**< wait_notify */
    HVC_METHOD_WAIT_WORD,    /**< wait_word (also its polling fallback) */
    HVC_METHOD_WAKE_WORD,    /**< wake_word (also when the backend has none) */
    HVC_METHOD_MAP_VIEW,     /**< map_view (also the fallback pointer) */
    HVC_METHOD_UNMAP_VIEW,   /**< unmap_view: still unmaps, then reports */
    HVC_METHOD_CONTROL,      /**< control */
    HVC_METHOD_COUNT         /**< number of values above */
};

/**
 * @brief Fault injection for tests (SQLite's os.c): make calls of a method
 *        fail with a chosen code, in the dispatch layer, for every backend.
 *
 * From now on, calls number `nth` .. `nth + count - 1` (counted from 1) of
 * `method` (or of any method, #HVC_METHOD_ANY) fail with `rc` instead of
 * reaching the backend (`count` 0: every call from the `nth` on). Replaces
 * any earlier setting. Compiled in when CMake's HVC_FAULT_INJECTION is on
 * (it is when the tests are built); the counters are atomic, but set it
 * while no other thread calls hvcomm.
 *
 * @retval 0 armed.
 * @retval -HVC_EINVAL `method` out of range, `nth` 0, or `rc` not negative.
 * @retval -HVC_ENOTSUP the library was built without fault injection.
 */
HVC_API int hvc_platform_fault_set(int method, uint32_t nth, int rc,
                                   uint32_t count);

/**
 * @brief Disarm fault injection.
 * @return the number of calls that failed by injection since it was armed.
 */
HVC_API uint32_t hvc_platform_fault_clear(void);

/**
 * @brief Install the log hook (NULL to silence the library, the default).
 *
 * Context: set it once at start-up, before other threads call hvcomm.
 */
HVC_API void hvc_log_set(hvc_log_fn fn, void *ctx, int max_level);

/**
 * @brief Send a message to the log hook, if one is set and `level` passes.
 *
 * Used by the library and by backends; applications may use it too.
 */
HVC_API void hvc_log(int level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** @} */

#ifdef __cplusplus
}
#endif

/*
 * HVC_CONFIG_NO_STRINGS (a build option for small targets, defined when the
 * library itself is compiled): the library's own log calls keep their
 * arguments type-checked but unevaluated, so no format string reaches the
 * image. hvc_log() itself still exists for applications.
 */
#if defined(HVC_CONFIG_NO_STRINGS) && !defined(HVC__LOG_IMPL)
int hvc__log_unused(int level, const char *fmt, ...);
#define hvc_log(...) ((void)sizeof(hvc__log_unused(__VA_ARGS__)))
#endif

/* Kept reachable from here for existing users: the POSIX backend's
 * constructor, hvc_platform_posix(), lives in its own header. */
#include <hvcomm/posix.h>

#endif /* HVCOMM_PLATFORM_H */

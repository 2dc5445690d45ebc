/*
 * Messages of any size through a ring: cut into records of at most max_msg
 * bytes, flagged first (FIRST|MORE), middle (MORE) and last (LAST), and put
 * back together by the receiver. A message that fits one record travels as
 * an ordinary record (no flag), so the stream receiver also reads
 * hvc_ring_send(). Because every fragment says which one it is, a receiver
 * that starts in the middle of a message (a restart) recognises the rest as
 * unusable and drops it (counted in frag_drops), never taking the last
 * fragment for a whole message.
 *
 * The state lives in the caller's struct hvc_ring_stream, so a sender or
 * receiver that meets a full or empty ring returns -HVC_EAGAIN and carries
 * on where it stopped on the next call.
 */
#include "ring_internal.h"

#define ST_IDLE 0u
#define ST_BUSY 1u    /* a message in progress */
#define ST_DISCARD 2u /* receiving a message too large for the buffer */

void hvc_ring_stream_reset(struct hvc_ring_stream *st)
{
    if (st != NULL)
        __builtin_memset(st, 0, sizeof(*st));
}

int hvc_ring_stream_send(struct hvc_ring *q, struct hvc_ring_stream *st,
                         const void *buf, uint64_t len)
{
    const uint8_t *p = buf;

    if (q == NULL || q->w == NULL || q->role != HVC_RING_PRODUCER || st == NULL ||
        q->pending != 0 || (buf == NULL && len != 0) || st->done > len)
        return -HVC_EINVAL;
    if (st->state == ST_IDLE && len <= q->max_msg) {
        int rc = hvc__ring_put(q, buf, (uint32_t)len, 0);

        if (rc == 0)
            hvc__ring_prod_publish(q);
        return rc;
    }
    if (q->max_msg == 0)
        return -HVC_EMSGSIZE; /* no room for a byte of payload per record */
    st->state = ST_BUSY;
    while (st->done < len) {
        uint64_t rest = len - st->done;
        uint32_t chunk = rest < q->max_msg ? (uint32_t)rest : q->max_msg;
        uint32_t flags = st->done == 0 ? HVC_REC_FRAG_FIRST
                         : rest > chunk ? HVC_REC_FRAG_MIDDLE
                                        : HVC_REC_FRAG_LAST;
        int rc = hvc__ring_put(q, p + st->done, chunk, flags);

        if (rc < 0) {
            hvc__ring_prod_publish(q);
            return rc;
        }
        st->done += chunk;
        /* Publish fragment by fragment: the receiver can drain a message
         * larger than the ring while we write. */
        hvc__ring_prod_publish(q);
    }
    hvc_ring_stream_reset(st);
    return 0;
}

/* A record count of the handle that moves with every record it consumes or
 * drops: a stream in progress checks that nobody took records in between. */
static uint32_t records_seen(const struct hvc_ring *q)
{
    return (uint32_t)q->msgs + q->frag_drops;
}

static int stream_recv(struct hvc_ring *q, struct hvc_ring_stream *st, uint8_t *p,
                       uint64_t cap, uint64_t *len)
{
    if (st->state != ST_IDLE && st->mark != records_seen(q)) {
        /* Records were taken from this handle outside the stream (a plain
         * recv or peek): the message has a hole. */
        if (st->state == ST_BUSY) /* a discarded message's are counted */
            hvc__ring_frag_drop(q, st->frags);
        hvc_ring_stream_reset(st);
    }
    /* Bounded: a producer that keeps sending fragments cannot hold us
     * here; after one ring's worth of records we return -HVC_EAGAIN. */
    for (uint32_t n = 0; n <= q->capacity / 8u; n++) {
        struct hvc__rec rec;
        bool start, end;
        int rc = hvc__ring_next(q, &rec);

        if (rc < 0) {
            hvc__ring_cons_publish(q);
            return rc;
        }
        start = rec.flags == 0 || rec.flags == HVC_REC_FRAG_FIRST;
        end = rec.flags == 0 || rec.flags == HVC_REC_FRAG_LAST;
        if (st->state == ST_IDLE && !start) {
            /* A middle or last fragment without its first (we started in
             * the middle of a message): it cannot be reassembled. */
            q->head += rec.size;
            hvc__ring_frag_drop(q, 1);
            hvc__ring_cons_publish(q);
            continue;
        }
        if (st->state != ST_IDLE && start) {
            /* A new message before the end of this one (its producer
             * restarted): drop what we have; this record starts anew. */
            if (st->state == ST_BUSY)
                hvc__ring_frag_drop(q, st->frags);
            hvc_ring_stream_reset(st);
        }
        if (st->state == ST_IDLE) {
            st->state = ST_BUSY;
            st->done = 0;
            st->frags = 0;
        }
        if (st->state == ST_BUSY && rec.len > cap - st->done) {
            /* Longer than the caller's buffer: dropped whole, each of its
             * records counted in frag_drops, those taken already too (they
             * move from the received count: records_seen() is unchanged). */
            st->state = ST_DISCARD;
            q->msgs -= st->frags;
            q->bytes -= st->done;
            hvc__ring_frag_drop(q, st->frags);
        }
        if (st->state == ST_DISCARD) {
            q->head += rec.size;
            hvc__ring_frag_drop(q, 1);
        } else {
            if (rec.len != 0)
                __builtin_memcpy(p + st->done, rec.payload, rec.len);
            st->done += rec.len;
            hvc__ring_consume(q, &rec);
        }
        st->frags++;
        /* Free the space fragment by fragment (see stream_send). */
        hvc__ring_cons_publish(q);
        if (end) {
            uint32_t state = st->state;

            *len = st->done;
            hvc_ring_stream_reset(st);
            return state == ST_DISCARD ? -HVC_EMSGSIZE : 0;
        }
    }
    return -HVC_EAGAIN;
}

int hvc_ring_stream_recv(struct hvc_ring *q, struct hvc_ring_stream *st,
                         void *buf, uint64_t cap, uint64_t *len)
{
    int rc;

    if (q == NULL || q->w == NULL || q->role != HVC_RING_CONSUMER || st == NULL ||
        len == NULL || q->pending != 0 || (buf == NULL && cap != 0) ||
        st->state > ST_DISCARD || (st->state == ST_BUSY && st->done > cap))
        return -HVC_EINVAL;
    rc = stream_recv(q, st, buf, cap, len);
    if (st->state != ST_IDLE)
        st->mark = records_seen(q);
    return rc;
}

int hvc_ring_stream_send_wait(struct hvc_ring *q, struct hvc_ring_stream *st,
                              const void *buf, uint64_t len, int64_t timeout_ns)
{
    for (;;) {
        int rc = hvc_ring_stream_send(q, st, buf, len);
        uint64_t rest;

        if (rc != -HVC_EAGAIN)
            return rc;
        rest = len - st->done;
        rc = hvc_ring_wait_writable(q, rest < q->max_msg ? (uint32_t)rest : q->max_msg,
                                    timeout_ns);
        if (rc < 0)
            return rc;
    }
}

int hvc_ring_stream_recv_wait(struct hvc_ring *q, struct hvc_ring_stream *st,
                              void *buf, uint64_t cap, uint64_t *len,
                              int64_t timeout_ns)
{
    for (;;) {
        int rc = hvc_ring_stream_recv(q, st, buf, cap, len);

        if (rc != -HVC_EAGAIN)
            return rc;
        rc = hvc_ring_wait_readable(q, timeout_ns);
        if (rc < 0)
            return rc;
    }
}

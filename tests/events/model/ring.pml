/*
 * Promela model of a blocking ring's sleep protocol (doc/ring.md,
 * "Blocking"; src/shm/ring.c publish_blocking(), src/shm/ring_wait.c
 * sleep_on()), checked by spin in the test test_event_model
 * (run_model.sh).
 *
 * One producer P sends N messages through a ring of CAP slots to one
 * consumer C; both block when they must: C sleeps on the data event when
 * the ring is empty (cons_sleeping), P sleeps on the space event when it
 * is full (prod_sleeping). The waits have no timeout and the events no
 * sleep slices, so a lost wake-up is a state in which a side sleeps
 * forever: spin reports it as an invalid end state (a deadlock); the
 * protocol is correct when the only end state is "both finished, all N
 * received".
 *
 * Memory model: every process has a FIFO store buffer (x86-TSO). A plain
 * or release store enters the buffer and reaches memory later, in order
 * (process Drain); a load reads the newest buffered store of the same
 * word, else memory. So a load can pass an earlier store to another word:
 * exactly the reordering the fences are there for (release and acquire
 * keep the other orders, which this model therefore does not relax). A
 * full fence waits for the own buffer to be empty; a locked
 * read-modify-write (exchange, the events' compare-exchange) does the
 * same, then acts on memory atomically. The peer fence
 * (HVC_PLATFORM_OP_PEER_FENCE, membarrier on Linux) makes the other side
 * pass a full barrier wherever it is: the sleeper waits until the other
 * side's buffer (and its own) is empty.
 *
 * The events are auto-reset flags (their own protocol is proved by
 * events.pml): signal sets the flag, wait takes it (blocking), trywait
 * takes it if set.
 *
 * The light publication exists twice in the code, with the same steps in
 * the same order (fence word, index, compiler barrier, sleep word): out of
 * line (ring.c publish_blocking()) and inline in hvc_ring_send() /
 * hvc_ring_recv() (ring.h hvc__ring_publish_light()); `publish` below is
 * both.
 *
 * Fence domains: each side announces at start (nondeterministically)
 * whether it issues peer fences before it sleeps (cap_p, cap_c: the
 * fence words). A publisher publishes light (release store, no fence)
 * only if it has a domain itself and the other side announces it;
 * otherwise with an exchange. All four combinations are checked in one
 * run.
 *
 * The consumer publishes lazily as ring.h/ring.c do: it must when it has
 * used up what it knew or the producer's sleep word is up, and otherwise
 * may (the quarter-ring rule, flush) - a free choice, so every subset of
 * the real rule is covered. The producer may hold messages back (batches,
 * HVC_RING_MORE) except the last, and publishes what it holds before it
 * waits for room.
 *
 * Mutants (run_model.sh asserts that spin finds a deadlock in each):
 *   MUTANT_NO_PEER_FENCE  the sleeper skips the peer fence (light
 *                         publications then lose wake-ups)
 *   MUTANT_LIGHT_ALWAYS   the publisher publishes light without looking
 *                         at the other side's fence word
 *   MUTANT_NO_PUB_FENCE   the fenced publication is a plain store
 *   MUTANT_NO_SLEEP_FENCE the sleeper does not fence after raising its
 *                         sleep word (nor issue a peer fence)
 *   MUTANT_NO_RECHECK     the sleeper sleeps without re-checking the index
 */

#define N 4     /* messages */
#define CAP 2   /* ring slots */
#define BL 3    /* store buffer entries */

/* words in memory */
#define PROD 0
#define CONS 1
#define CSLEEP 2
#define PSLEEP 3
#define NWORDS 4

#define SP 0    /* producer side */
#define SC 1    /* consumer side */

byte mem[NWORDS];
byte bvar[2 * BL];
byte bval[2 * BL];
byte blen[2];

bool cap_p, cap_c;    /* fence words: the side issues peer fences */
bool dflag, sflag;    /* data event, space event */
byte received = 0;
bool p_done = false, c_done = false;

/* store through side S's buffer (blocks while it is full) */
inline store(S, V, X) {
    atomic {
        blen[S] < BL ->
        bvar[S * BL + blen[S]] = V;
        bval[S * BL + blen[S]] = X;
        blen[S]++
    }
}

/* load: newest buffered store of V by side S, else memory */
inline load(S, V, R) {
    atomic {
        R = mem[V];
        k = 0;
        do
        :: k < blen[S] ->
            if
            :: bvar[S * BL + k] == V -> R = bval[S * BL + k]
            :: else -> skip
            fi;
            k++
        :: else -> break
        od
    }
}

inline fence(S) { blen[S] == 0 }

/* membarrier: both buffers empty (its own entry barrier, and the other
 * side's barrier wherever it is) */
inline peer_fence(S) { atomic { blen[0] == 0 && blen[1] == 0 } }

/* locked exchange of V */
inline xchg(S, V, X) { atomic { blen[S] == 0 -> mem[V] = X } }

/* the events */
inline signal(S, F) { atomic { blen[S] == 0 -> F = true } }
inline ev_wait(S, F) { atomic { blen[S] == 0 && F -> F = false } }
inline trywait(S, F) {
    atomic {
        blen[S] == 0 ->
        if
        :: F -> F = false
        :: else -> skip
        fi
    }
}

proctype Drain(byte S) {
    byte i;
end:
    do
    :: atomic {
        blen[S] > 0 ->
        mem[bvar[S * BL]] = bval[S * BL];
        i = 0;
        do
        :: i + 1 < blen[S] ->
            bvar[S * BL + i] = bvar[S * BL + i + 1];
            bval[S * BL + i] = bval[S * BL + i + 1];
            i++
        :: else -> break
        od;
        blen[S]--
       }
    od
}

/* publication: index V, the other side's sleep word W and event F;
 * light when we have a domain (MINE) and the other side announces it
 * (THEIRS) */
inline publish(S, V, X, MINE, THEIRS, W, F) {
#ifdef MUTANT_LIGHT_ALWAYS
    if
    :: MINE -> store(S, V, X)
    :: else -> xchg(S, V, X)
    fi;
#else
    if
    :: MINE && THEIRS -> store(S, V, X)   /* release store, compiler barrier */
#ifdef MUTANT_NO_PUB_FENCE
    :: else -> store(S, V, X)
#else
    :: else -> xchg(S, V, X)              /* seq-cst exchange */
#endif
    fi;
#endif
    load(S, W, s);
    if
    :: s != 0 -> signal(S, F)
    :: else -> skip
    fi
}

/* sleep_on(): sleep word W of side S, index V last seen as SEEN, event
 * F; the caller then looks at the ring again */
inline sleep_on(S, W, V, SEEN, MINE, F) {
    trywait(S, F);
    store(S, W, 1);
#ifndef MUTANT_NO_SLEEP_FENCE
    fence(S);
#ifndef MUTANT_NO_PEER_FENCE
    if
    :: MINE -> peer_fence(S)
    :: else -> skip
    fi;
#endif
#endif
#ifndef MUTANT_NO_RECHECK
    load(S, V, x);
#else
    x = SEEN;
#endif
    if
    :: x != SEEN -> skip          /* moved: do not sleep */
    :: else -> ev_wait(S, F)      /* until signalled */
    fi;
    store(S, W, 0)
}

proctype Producer() {
    byte head = 0, published = 0, pcons = 0, i = 0, s, x, k, c;

    do
    :: i < N ->
RETRY_SP:
        if
        :: head - pcons >= CAP ->
            /* full: publish what we hold, then look at cons again */
            if
            :: published != head ->
                published = head;
                publish(SP, PROD, head, cap_p, cap_c, CSLEEP, dflag)
            :: else -> skip
            fi;
            load(SP, CONS, c);
            pcons = c;
            if
            :: head - pcons >= CAP ->
                sleep_on(SP, PSLEEP, CONS, c, cap_p, sflag);
                goto RETRY_SP
            :: else -> skip
            fi
        :: else -> skip
        fi;
        head++;
        i++;
        if
        :: i < N -> skip   /* held back: the batch goes on */
        :: published != head ->
            published = head;
            publish(SP, PROD, head, cap_p, cap_c, CSLEEP, dflag)
        fi
    :: else -> break
    od;
    p_done = true
}

proctype Consumer() {
    byte head = 0, published = 0, peer = 0, s, x, k, p;

    do
    :: received < N ->
        if
        :: peer == head ->
RETRY_SC:
            load(SC, PROD, p);
            peer = p;
            if
            :: peer == head ->
                sleep_on(SC, CSLEEP, PROD, p, cap_c, dflag);
                goto RETRY_SC
            :: else -> skip
            fi
        :: else -> skip
        fi;
        head++;
        received++;
        /* lazy publication */
        load(SC, PSLEEP, s);
        if
        :: peer == head || s != 0 || received == N ->
            published = head;
            publish(SC, CONS, head, cap_c, cap_p, PSLEEP, sflag)
        :: else ->
            if
            :: published = head;
               publish(SC, CONS, head, cap_c, cap_p, PSLEEP, sflag)
            :: skip
            fi
        fi
    :: else -> break
    od;
    c_done = true
}

init {
    atomic {
        if
        :: cap_p = true
        :: cap_p = false
        fi;
        if
        :: cap_c = true
        :: cap_c = false
        fi;
        run Drain(SP);
        run Drain(SC);
        run Producer();
        run Consumer()
    }
}

/*
 * Promela model of hvc_ring_wait_any()'s sleep over several rings
 * (doc/ring.md, "Waiting on several rings"; src/shm/ring_wait.c
 * sleep_any()), checked by spin in the test test_event_model
 * (run_model.sh), next to ring.pml (one ring, both directions).
 *
 * Two rings, each with its own producer (P0: M0 messages, P1: M1), one
 * consumer C that waits on both: when both look empty it takes both
 * rings' stale signals, raises both consumer sleep words, issues one
 * fence (and one peer fence when it has a fence domain), re-checks both
 * prod indices, and only if neither moved sleeps until either data event
 * is set (hvc_event_wait_any(): takes one of those that are set); then it
 * lowers both words and looks again. The producers are those of ring.pml
 * (publish light when both announce a fence domain, else with an
 * exchange; then signal their own ring's event if their ring's sleep word
 * is up) and never learn of the other ring. The rings have room for
 * every message (the space direction is ring.pml's), so a lost wake-up
 * is the consumer asleep forever with a message there: spin reports an
 * invalid end state.
 *
 * Memory model, events and fence domains as in ring.pml: x86-TSO store
 * buffers per process, drained in order by process Drain; a fence waits
 * for the own buffer; a peer fence for every buffer; auto-reset events.
 *
 * Mutants (run_model.sh asserts that spin finds a deadlock in each):
 *   MUTANT_RECHECK_ONE    the sleeper re-checks only ring 0 before it
 *                         sleeps (a publication on ring 1 made before
 *                         ring 1's word went up is never seen)
 *   MUTANT_LATE_RAISE     ring 1's sleep word is raised after the fence
 *                         and the re-checks (its producer can load the old
 *                         word and the re-check miss its prod)
 *   MUTANT_NO_PEER_FENCE  no peer fence (light publications are lost)
 */

#define M0 2    /* messages on ring 0 */
#define M1 1    /* messages on ring 1 */
#define BL 3    /* store buffer entries */

#define PROD0 0
#define PROD1 1
#define CS0 2
#define CS1 3
#define NWORDS 4

#define SP0 0
#define SP1 1
#define SC 2

byte mem[NWORDS];
byte bvar[3 * BL];
byte bval[3 * BL];
byte blen[3];

bool cap_p0, cap_p1, cap_c; /* fence words */
bool d0, d1;                /* the rings' data events */
byte received = 0;

inline store(S, V, X) {
    atomic {
        blen[S] < BL ->
        bvar[S * BL + blen[S]] = V;
        bval[S * BL + blen[S]] = X;
        blen[S]++
    }
}

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
inline peer_fence(S) { atomic { blen[0] == 0 && blen[1] == 0 && blen[2] == 0 } }
inline xchg(S, V, X) { atomic { blen[S] == 0 -> mem[V] = X } }
inline signal(S, F) { atomic { blen[S] == 0 -> F = true } }
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

/* ring.pml's publication on ring V (sleep word W, event F) */
inline publish(S, V, X, MINE, W, F) {
    if
    :: MINE && cap_c -> store(S, V, X)
    :: else -> xchg(S, V, X)
    fi;
    load(S, W, s);
    if
    :: s != 0 -> signal(S, F)
    :: else -> skip
    fi
}

proctype Producer0() {
    byte head = 0, s, k;

    do
    :: head < M0 -> head++; publish(SP0, PROD0, head, cap_p0, CS0, d0)
    :: else -> break
    od
}

proctype Producer1() {
    byte head = 0, s, k;

    do
    :: head < M1 -> head++; publish(SP1, PROD1, head, cap_p1, CS1, d1)
    :: else -> break
    od
}

/* sleep_any() over both rings, last seen empty at SEEN0, SEEN1 */
inline sleep_any(SEEN0, SEEN1) {
    trywait(SC, d0);
    trywait(SC, d1);
    store(SC, CS0, 1);
#ifndef MUTANT_LATE_RAISE
    store(SC, CS1, 1);
#endif
    fence(SC);
#ifndef MUTANT_NO_PEER_FENCE
    if
    :: cap_c -> peer_fence(SC)
    :: else -> skip
    fi;
#endif
    load(SC, PROD0, x0);
#ifndef MUTANT_RECHECK_ONE
    load(SC, PROD1, x1);
#else
    x1 = SEEN1;
#endif
#ifdef MUTANT_LATE_RAISE
    store(SC, CS1, 1);
#endif
    if
    :: x0 != SEEN0 || x1 != SEEN1 -> skip    /* moved: no sleep */
    :: else ->
        /* hvc_event_wait_any(): until one is set; takes one */
        atomic {
            blen[SC] == 0 && (d0 || d1) ->
            if
            :: d0 -> d0 = false
            :: d1 -> d1 = false
            fi
        }
    fi;
    store(SC, CS0, 0);
    store(SC, CS1, 0)
}

proctype Consumer() {
    byte h0 = 0, h1 = 0, p0, p1, x0, x1, k;

    do
    :: received < M0 + M1 ->
        load(SC, PROD0, p0);
        load(SC, PROD1, p1);
        if
        :: p0 != h0 -> h0++; received++
        :: p1 != h1 -> h1++; received++
        :: else -> sleep_any(p0, p1)
        fi
    :: else -> break
    od;
    assert(h0 == M0 && h1 == M1)
}

init {
    atomic {
        if
        :: cap_p0 = true
        :: cap_p0 = false
        fi;
        if
        :: cap_p1 = true
        :: cap_p1 = false
        fi;
        if
        :: cap_c = true
        :: cap_c = false
        fi;
        run Drain(SP0);
        run Drain(SP1);
        run Drain(SC);
        run Producer0();
        run Producer1();
        run Consumer()
    }
}

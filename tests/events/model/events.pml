/*
 * Promela model of the hvcomm event protocol (doc/events.md), checked by
 * spin in the test test_event_model (run_model.sh).
 *
 * Two signalers. A counting event by default: one signal each, two
 * waiters wait once each (as many waits as units); -DAUTO an auto-reset
 * event (flag, signals coalesce): signaler 0 signals twice and waiter 1
 * waits twice, so that a unit can be taken from under a sleeper while the
 * sleep hint is being cleared (three signals are needed to show that).
 * A broadcast event wakes every sleeper, a weaker requirement than these.
 * Waiter 1 may time out once (nondeterministically), as real waits do when
 * their deadline expires; waiter 0 waits forever and never wakes by itself,
 * so the proof does not lean on the 50 ms sleep slices of the real code
 * (which would only turn a lost wake-up into a 50 ms delay).
 *
 * Two sleep paths, as in src/events/event.c:
 *   default      the futex path: `waiters` count, sleep on the state word
 *                (FUTEX_WAIT compares the word with "hint set, count 0"
 *                atomically).
 *   -DMASK       the doorbell/bell path used by wait-any: each waiter sets
 *                its bit in `sleepers`, sleeps on its own bell word; the
 *                signaler takes the mask (exchange to 0) and rings the bells.
 *
 * What is proved (run_model.sh):
 *   safety    when nothing can move any more, no waiter is asleep while
 *             the event holds a unit or its flag (process Monitor); with a
 *             counting event (as many units as waits) every waiter has
 *             finished; nothing is consumed twice (consumed <= signalled).
 *   liveness  LTL nolost: whenever a unit is pending while waiter 0 sleeps,
 *             eventually it stops sleeping or the unit is taken by someone
 *             (checked with weak fairness, pan -a -f). The mutants are
 *             checked for liveness without the Monitor (-DNOMONITOR), so
 *             that the LTL formula alone must catch them.
 *
 * Mutants: each -D flag below removes one step of the real protocol; for
 * each, run_model.sh asserts that spin DOES find an error (both with the
 * Monitor's assertions, and with the LTL formula alone):
 *   MUTANT_CHECK_FIRST     signaler reads the sleep hint before its update
 *                          (apart from the RMW, as a separate load would)
 *   MUTANT_NO_REGISTER     waiter sleeps without registering (waiters /
 *                          sleeper mask)
 *   MUTANT_NO_HINT         waiter does not set the sleep hint (mask path;
 *                          on the futex path the sleep compares the hint,
 *                          so such a waiter never sleeps: it polls)
 *   MUTANT_NO_RECHECK      a signaler clears the hint without looking at
 *                          the registrations again afterwards
 *   MUTANT_BLIND_SLEEP     waiter sleeps without the compare (no futex
 *                          value check / bell value check)
 *   MUTANT_TIMEOUT_FIRST   a waiter woken at its deadline gives up without
 *                          trying to take (the wake-up it consumed is lost;
 *                          futex path only: the mask path rings every
 *                          registered peer, so it survives this one)
 */

#define NW 2 /* waiters */
#define NS 2 /* signalers */

/* The state word: bits 0..30 `count`, bit 31 `hint`; every step that
 * touches the word touches both in one atomic step, as the real RMWs do. */
byte count = 0;
bool hint = false;   /* "a waiter may be registered to sleep" */
byte waiters = 0;    /* futex path: registered sleepers */
byte sleepers = 0;   /* mask path: bit per waiter */
byte bell[NW];       /* mask path: per-waiter bell word */
bool queued[NW];     /* in the kernel's wait queue */
byte signalled = 0;
byte consumed = 0;
byte finished = 0;

/* FUTEX_WAKE / doorbell: dequeue one (or this) sleeper. */
inline wake_one() {
    atomic {
        if
        :: queued[0] -> queued[0] = false
        :: queued[1] -> queued[1] = false
        :: else -> skip
        fi
    }
}

/* take: seq-cst CAS loop on the state word, as one atomic step. */
#define TAKE(L) \
    atomic { \
        if \
        :: count > 0 -> count--; consumed++; assert(consumed <= signalled); goto L \
        :: else -> skip \
        fi \
    }

/* The update of the state word: counting adds a unit; auto-reset sets the
 * flag, and a signal that finds it set coalesces and returns at once
 * (without looking for sleepers), as hvc_event_signal() does. */
#ifdef AUTO
#define UPDATE atomic { if :: count == 0 -> count = 1; signalled++; h = hint :: else -> goto out fi }
#else
#define UPDATE atomic { count++; signalled++; h = hint }
#endif

/* Wake every futex sleeper (the hint-clearing re-check). */
inline wake_all() {
    atomic { queued[0] = false; queued[1] = false }
}

/* Ring the peers of the sleeper mask (taken with one exchange). */
inline ring() {
    atomic { m = sleepers; sleepers = 0 };
    if
    :: m & 1 -> bell[0]++; queued[0] = false /* fetch_add, then wake */
    :: else -> skip
    fi;
    if
    :: m & 2 -> bell[1]++; queued[1] = false
    :: else -> skip
    fi
}

proctype Signaler(byte rounds) {
    byte w, m;
    bool h, h0;
again:
#ifdef MUTANT_CHECK_FIRST
    h0 = hint;           /* the hint read apart from, before, the update */
    UPDATE;
    h = h0;
#else
    UPDATE;              /* seq-cst RMW of state: returns the old hint bit */
#endif
    if
    :: !h -> goto out    /* fast path: nobody registered to sleep */
    :: else -> skip
    fi;
    /* slow path: fence, then look at the registrations */
    w = waiters;
    m = sleepers;
#ifndef MASK
    if
    :: w > 0 -> wake_one()
    :: else -> skip
    fi;
#else
    if
    :: m != 0 -> ring()
    :: else -> skip
    fi;
#endif
    if
    :: w == 0 && m == 0 ->
        /* nobody registered: clear the hint (CAS), fence, look again */
        atomic { hint = false };
#ifndef MUTANT_NO_RECHECK
        w = waiters;
        m = sleepers;
        if
        :: w > 0 -> wake_all()
        :: else -> skip
        fi;
        if
        :: m != 0 -> ring()
        :: else -> skip
        fi
#endif
    :: else -> skip
    fi;
out:
    rounds--;
    if
    :: rounds > 0 -> goto again
    :: else -> skip
    fi
}

proctype Waiter(byte me; bool may_time_out; byte rounds) {
    bool timed_out = !may_time_out;  /* true: no timeout left */
    byte b;

again:
    /* spin phase: a few tries without registering */
    TAKE(done);
    TAKE(done);
#ifndef MASK
#ifndef MUTANT_NO_REGISTER
    atomic { waiters++ }     /* seq-cst RMW; then the fence */
#endif
loop:
#ifndef MUTANT_NO_HINT
    atomic { hint = true }   /* seq-cst OR of bit 31 into state */
#endif
    TAKE(leave);
    /* FUTEX_WAIT(&state, SLEEP|0): compare and enqueue atomically */
    atomic {
#ifdef MUTANT_BLIND_SLEEP
        queued[me] = true
#else
        if
        :: count == 0 && hint -> queued[me] = true
        :: else -> skip
        fi
#endif
    }
#else /* MASK */
loop:
    b = bell[me];            /* read the bell before registering */
#ifndef MUTANT_NO_REGISTER
    atomic { sleepers = sleepers | (1 << me) }  /* seq-cst OR */
#endif
#ifndef MUTANT_NO_HINT
    atomic { hint = true }   /* seq-cst OR of bit 31 into state; fence */
#endif
    TAKE(leave);
    /* wait_word(&bell[me], b) */
    atomic {
#ifdef MUTANT_BLIND_SLEEP
        queued[me] = true
#else
        if
        :: bell[me] == b -> queued[me] = true
        :: else -> skip
        fi
#endif
    }
#endif
    /* asleep until dequeued by a wake, or by our own timeout (once) */
end_asleep:
    if
    :: atomic { !queued[me] -> skip }
    :: atomic { queued[me] && !timed_out -> queued[me] = false; timed_out = true }
    fi;
    if
    :: !may_time_out -> timed_out = false
    :: else -> skip
    fi;
#ifdef MUTANT_TIMEOUT_FIRST
    /* the deadline passed while we were being woken: give up first */
    if
    :: may_time_out && !timed_out -> timed_out = true; goto leave
    :: true -> skip
    fi;
#endif
    TAKE(leave);             /* always take before honouring a timeout */
    if
    :: timed_out -> goto leave
    :: else -> goto loop
    fi;
leave:
#ifndef MASK
#ifndef MUTANT_NO_REGISTER
    atomic { waiters-- }
#endif
#endif
done:
    rounds--;
    if
    :: rounds > 0 -> timed_out = !may_time_out; goto again
    :: else -> skip
    fi;
    atomic { finished++ }
}

/* When nothing can move any more (all done, or the rest asleep): no
 * waiter may be asleep while its event is signalled; and with a counting
 * event (as many units as waits) every waiter must have finished. */
proctype Monitor() {
    timeout ->
    assert(!(count > 0 && (queued[0] || queued[1])));
#ifndef AUTO
    assert(finished == NW);
#endif
}

init {
    atomic {
#ifndef NOMONITOR
        run Monitor();
#endif
        run Waiter(0, false, 1); /* waits forever: may not rely on timeouts */
#ifdef AUTO
        run Waiter(1, true, 2);  /* may time out once per wait; waits twice */
#else
        run Waiter(1, true, 1);  /* may time out once */
#endif
#ifdef AUTO
        run Signaler(2);  /* three signals: a ring, a hint clearing, a fast path */
#else
        run Signaler(1);
#endif
        run Signaler(1);
    }
}

#ifndef NOLTL
/* A pending unit never coexists forever with a sleeping waiter 0. */
ltl nolost { [] ((count > 0 && queued[0]) -> <> (!queued[0] || count == 0)) }
#endif

/* What the host driver (qemu_driver.c) and the guest program (guest_init.c)
 * agree on: object names and the words of the "ping" object. */
#ifndef HVC_IVS_SCENARIO_H
#define HVC_IVS_SCENARIO_H

#define IVS_REGION_SIZE (4u << 20) /* ivshmem wants a power of two */
#define IVS_OBJ "ping"             /* 64 words, written as below */

enum ivs_word {
    W_H2G_SEQ = 0,  /* host (or first guest) -> peer: sequence, then doorbell */
    W_H2G_ACK = 1,  /* the peer's answer */
    W_G2H_SEQ = 2,  /* guest -> host: sequence, then doorbell */
    W_G2H_ACK = 3,  /* the host's answer */
    W_HOST_ID = 4,  /* the host peer's id */
    W_ROUNDS = 5,   /* round trips per phase */
    W_POLL_SEQ = 6, /* polling phase: host writes, guest spins */
    W_POLL_ACK = 7, /* polling phase: guest answers, host spins */
    W_QUESTION = 8, /* plain scenario: host asks */
    W_ANSWER = 9,   /* plain scenario: guest answers */
    W_GUEST_ID = 10,/* the guest's peer id */
    W_G2H_NS = 11,  /* guest-measured mean round trip, guest -> host, ns */
    W_PHASE = 12,   /* guest progress: 1 joined, 2 h2g done, 3 g2h done, 4 poll done */
    W_G2G_PEER = 13,/* guest-to-guest: id of the guest that answers */
    W_G2G_NS = 14,  /* guest-measured mean round trip, guest -> guest (doorbell) */
    W_G2G_POLL_NS = 15, /* the same by polling */
    W_G2G_SEQ = 16, W_G2G_ACK = 17, W_G2G_PSEQ = 18, W_G2G_PACK = 19,
    W_DONE = 20,    /* guest finished (1 pass, 2 fail) */
    W_OBS_ID = 21,  /* kill scenario: the observing guest's id */
    W_OBS_STAGE = 22, /* observer saw the victim 1 ready, 2 gone, 3 the new guest ready */
    W_VICTIM = 23,  /* kill scenario: the victim's id, kept across the rejoin */
    W_REJOIN = 24,  /* kill scenario: the id of the guest that joined after (+1) */
    W_VNET_WOKEN = 25,  /* vnet: the guest's sleeps in hvc_vnet_wait ended by a doorbell */
    W_VNET_ECHOED = 26, /* vnet: bytes the guest echoed */
    W_VNET_IDLE = 27,   /* vnet: the guest's sleeps that ran out (idle) */
    W_COUNT = 64
};

#define IVS_VEC_TO_GUEST 0u /* host -> guest doorbells use vector 0 */
#define IVS_VEC_TO_HOST 1u  /* guest -> host doorbells use vector 1 */

#endif

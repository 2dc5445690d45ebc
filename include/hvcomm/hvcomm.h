/**
 * @file hvcomm.h
 * @brief Umbrella header: includes every public hvcomm header except
 *        vnet.h, which needs lwIP's headers (include it yourself).
 *
 * @mainpage hvcomm
 *
 * hvcomm lets the guests of a hypervisor talk to each other through shared
 * memory: named objects in a versioned, validated region (region.h), a peer
 * table with death detection, and platform backends behind one ops struct
 * (platform.h). See README.md for the build and the demo, and
 * doc/design.md for the design.
 */
#ifndef HVCOMM_HVCOMM_H
#define HVCOMM_HVCOMM_H

#include <hvcomm/atomic.h>
#include <hvcomm/bridge.h>
#include <hvcomm/error.h>
#include <hvcomm/event.h>
#include <hvcomm/export.h>
#include <hvcomm/fring.h>
#include <hvcomm/ivshmem.h>
#include <hvcomm/platform.h>
#include <hvcomm/port.h>
#include <hvcomm/posix.h>
#include <hvcomm/region.h>
#include <hvcomm/ring.h>
#include <hvcomm/shm.h>
#include <hvcomm/system.h>
#include <hvcomm/version.h>
#include <hvcomm/vnet_port.h>
#include <hvcomm/wire.h>

#endif /* HVCOMM_HVCOMM_H */

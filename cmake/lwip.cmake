# lwIP for vnet, built by us with our options (the embedded way):
#   HVC_LWIP_DIR      an lwIP source tree (default: third_party/lwip, fetched
#                     from Debian by scripts/fetch-lwip.sh); point it at your own
#   HVC_LWIPOPTS_DIR  the folder with lwipopts.h and arch/cc.h (default: ports/lwip)
# Result: target hvcomm_lwip (static) and HVC_HAVE_LWIP.
set(HVC_LWIP_DIR "${PROJECT_SOURCE_DIR}/third_party/lwip" CACHE PATH "lwIP source tree")
set(HVC_LWIPOPTS_DIR "${PROJECT_SOURCE_DIR}/ports/lwip" CACHE PATH "folder of lwipopts.h")
set(HVC_HAVE_LWIP OFF)

if(EXISTS "${HVC_LWIP_DIR}/src/core/tcp.c")
  # The core, IPv4, IPv6, Ethernet and lwiperf: what a NO_SYS=1 guest links.
  file(GLOB HVC_LWIP_SOURCES
    "${HVC_LWIP_DIR}/src/core/*.c"
    "${HVC_LWIP_DIR}/src/core/ipv4/*.c"
    "${HVC_LWIP_DIR}/src/core/ipv6/*.c")
  add_library(hvcomm_lwip STATIC ${HVC_LWIP_SOURCES}
    "${HVC_LWIP_DIR}/src/netif/ethernet.c"
    "${HVC_LWIP_DIR}/src/apps/lwiperf/lwiperf.c"
    "${PROJECT_SOURCE_DIR}/ports/lwip/sys_now.c")
  # Installed (src/vnet/CMakeLists.txt) as hvcomm::hvcomm_lwip with its
  # headers and our options in include/hvcomm-lwip.
  target_include_directories(hvcomm_lwip PUBLIC
    "$<BUILD_INTERFACE:${HVC_LWIPOPTS_DIR}>" "$<BUILD_INTERFACE:${HVC_LWIP_DIR}/src/include>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/hvcomm-lwip>")
  # Third-party code: its own warnings are not ours to fix.
  target_compile_options(hvcomm_lwip PRIVATE -w)
  set(HVC_HAVE_LWIP ON)
  message(STATUS "vnet: lwIP from ${HVC_LWIP_DIR}, options from ${HVC_LWIPOPTS_DIR}")
else()
  message(STATUS "vnet: no lwIP tree at ${HVC_LWIP_DIR} (run scripts/fetch-lwip.sh); vnet not built")
endif()

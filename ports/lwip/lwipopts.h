/*
 * lwIP options for hvcomm's vnet: the NO_SYS=1 configuration (one main loop,
 * no threads), as a bare-metal or RTOS guest would build lwIP.
 *
 * A link is memory-to-memory: frames are big (MTU up to 65535), never
 * corrupted in flight, and cheap to move, so the options favour large
 * segments, large windows (with window scaling), and checksums that can be
 * switched off per netif (they stay on for a TAP edge to a real network).
 *
 * To use your own options, point HVC_LWIPOPTS_DIR at the folder holding
 * your lwipopts.h when configuring hvcomm.
 */
#ifndef HVC_LWIPOPTS_H
#define HVC_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

/* Memory: lwIP's own heap and pools, sized for 64 KiB frames. */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (4 * 1024 * 1024)
#define MEMP_NUM_PBUF 256
#define MEMP_NUM_TCP_PCB 32
#define MEMP_NUM_TCP_SEG 2048
#define MEMP_NUM_SYS_TIMEOUT 16
#define PBUF_POOL_SIZE 512
#define PBUF_POOL_BUFSIZE 1600

/* Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_IGMP 1
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
/* 64-bit hosts: lwIP's IPv6 reassembly helper holds a pointer that does not
 * fit in the 8-byte fragment header it overlays. */
#define IPV6_FRAG_COPYHEADER 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 1

/* TCP: large segments and windows for big-MTU links. The effective MSS of a
 * connection is min(TCP_MSS, netif MTU - 40), so a 1500-byte link still
 * sends 1460-byte segments. */
/* A 64 KiB link carries 65000-byte segments (one frame of 65054 bytes fits
 * lwIP's 16-bit pbuf length): a quarter of the per-segment work and ACKs
 * of the earlier 16000. lwIP 2.1's sanity check wants TCP_SNDLOWAT below
 * 0xffff - 4 * TCP_MSS, and only netconn reads it (not built): it is set
 * just below that bound, which is negative here. */
#define TCP_MSS 65000
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 4
#define TCP_WND (512 * 1024)
#define TCP_SND_BUF (512 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / 1460)
#define TCP_SNDLOWAT (0xffff - 4 * TCP_MSS - 1)
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_SACK_OUT 0
#define TCP_OVERSIZE TCP_MSS
#define LWIP_TCP_TIMESTAMPS 0

/* Checksums: generated and checked by default, switchable per netif
 * (NETIF_SET_CHECKSUM_CTRL): vnet turns them off on links that are
 * memory-to-memory (unless the link is made with HVC_VNET_CHECKSUM) and
 * keeps them for a TAP edge to a real network. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
/* Checksum-while-copying in tcp_write() would sum every byte sent even on
 * a link that generates no checksum: plain copies instead. */
#define LWIP_CHECKSUM_ON_COPY 0

/* Netif features the driver uses. */
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_SUPPORT_CUSTOM_PBUF 1
#define LWIP_NUM_NETIF_CLIENT_DATA 1
#define LWIP_SINGLE_NETIF 0

/* Applications built with the library. */
#define LWIP_IPERF 1

/* Statistics, for counters and tests. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MIB2_STATS 0

#define LWIP_DEBUG 0

#endif /* HVC_LWIPOPTS_H */

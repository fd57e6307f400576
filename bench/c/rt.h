// rtnetlink request builders used by more than one reference program. Each
// appends one message to `m` (so several can be pipelined in one datagram).
#ifndef NWB_RT_H
#define NWB_RT_H

#include "nl.h"  // first: it defines _GNU_SOURCE

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <net/if.h>

#define NEW_FLAGS (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)

// ip link add NAME [group G] [numtxqueues Q numrxqueues Q] type veth
//     peer name PEER [netns FD] [numtxqueues Q numrxqueues Q]
// group 0, peer_ns_fd -1 and queues 0 leave those attributes out (queues:
// the kernel's default, one per possible CPU for a veth).
static inline void rt_veth_queues(buf_t *m, const char *name, const char *peer, uint32_t group, int peer_ns_fd, uint32_t queues) {
  size_t at = msg_begin(m, RTM_NEWLINK, NEW_FLAGS);
  msg_struct(m, struct ifinfomsg);
  attr_str(m, IFLA_IFNAME, name);
  if (group) attr_u32(m, IFLA_GROUP, group);
  if (queues) {
    attr_u32(m, IFLA_NUM_TX_QUEUES, queues);
    attr_u32(m, IFLA_NUM_RX_QUEUES, queues);
  }
  size_t li = nest_begin(m, IFLA_LINKINFO);
  attr_str(m, IFLA_INFO_KIND, "veth");
  size_t data = nest_begin(m, IFLA_INFO_DATA);
  size_t p = nest_begin(m, VETH_INFO_PEER);
  msg_struct(m, struct ifinfomsg);  // the peer's own ifinfomsg, then its attributes
  attr_str(m, IFLA_IFNAME, peer);
  if (peer_ns_fd >= 0) attr_u32(m, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
  if (queues) {
    attr_u32(m, IFLA_NUM_TX_QUEUES, queues);
    attr_u32(m, IFLA_NUM_RX_QUEUES, queues);
  }
  nest_end(m, p);
  nest_end(m, data);
  nest_end(m, li);
  msg_end(m, at);
}

// rt_veth_queues with the kernel's default queues.
static inline void rt_veth(buf_t *m, const char *name, const char *peer, uint32_t group, int peer_ns_fd) {
  rt_veth_queues(m, name, peer, group, peer_ns_fd, 0);
}

// ip link add NAME type bridge
static inline void rt_bridge(buf_t *m, const char *name) {
  size_t at = msg_begin(m, RTM_NEWLINK, NEW_FLAGS);
  msg_struct(m, struct ifinfomsg);
  attr_str(m, IFLA_IFNAME, name);
  size_t li = nest_begin(m, IFLA_LINKINFO);
  attr_str(m, IFLA_INFO_KIND, "bridge");
  nest_end(m, li);
  msg_end(m, at);
}

// ip link del NAME
static inline void rt_dellink_name(buf_t *m, const char *name) {
  size_t at = msg_begin(m, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
  msg_struct(m, struct ifinfomsg);
  attr_str(m, IFLA_IFNAME, name);
  msg_end(m, at);
}

// ip link del group G
static inline void rt_dellink_group(buf_t *m, uint32_t group) {
  size_t at = msg_begin(m, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
  msg_struct(m, struct ifinfomsg);
  attr_u32(m, IFLA_GROUP, group);
  msg_end(m, at);
}

// ip link set {NAME | index IFINDEX} [up] [master MASTER]; master 0 leaves it out.
static inline void rt_setlink(buf_t *m, int ifindex, const char *name, int up, uint32_t master) {
  size_t at = msg_begin(m, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  struct ifinfomsg *ifi = msg_struct(m, struct ifinfomsg);
  ifi->ifi_index = ifindex;
  if (up) {
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
  }
  if (name) attr_str(m, IFLA_IFNAME, name);
  if (master) attr_u32(m, IFLA_MASTER, master);
  msg_end(m, at);
}

// ip addr add ADDR/PLEN dev IFINDEX (IPv4; addr in network byte order)
static inline void rt_addr4(buf_t *m, int ifindex, uint32_t addr, uint8_t plen) {
  size_t at = msg_begin(m, RTM_NEWADDR, NEW_FLAGS);
  struct ifaddrmsg *ifa = msg_struct(m, struct ifaddrmsg);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = plen;
  ifa->ifa_index = (uint32_t)ifindex;
  attr_put(m, IFA_LOCAL, &addr, 4);
  attr_put(m, IFA_ADDRESS, &addr, 4);
  msg_end(m, at);
}

// ip route add default via GW (IPv4, main table)
static inline void rt_default_route4(buf_t *m, uint32_t gw) {
  size_t at = msg_begin(m, RTM_NEWROUTE, NEW_FLAGS);
  struct rtmsg *r = msg_struct(m, struct rtmsg);
  r->rtm_family = AF_INET;
  r->rtm_table = RT_TABLE_MAIN;
  r->rtm_protocol = RTPROT_BOOT;
  r->rtm_scope = RT_SCOPE_UNIVERSE;
  r->rtm_type = RTN_UNICAST;
  attr_put(m, RTA_GATEWAY, &gw, 4);
  msg_end(m, at);
}

static inline uint32_t ip4(const char *s) {
  struct in_addr a;
  if (inet_pton(AF_INET, s, &a) != 1) die("bad IPv4 address %s", s);
  return a.s_addr;
}

// a.b.c.d + n, in network byte order
static inline uint32_t ip4_add(uint32_t base, uint32_t n) { return htonl(ntohl(base) + n); }

static inline int ifindex_of(const char *name) {
  unsigned i = if_nametoindex(name);
  if (!i) die("if_nametoindex(%s): %s", name, strerror(errno));
  return (int)i;
}

#endif

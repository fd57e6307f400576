// Reference for bench/container.ts: the whole container setup over plain
// rtnetlink, one request + ack per step, in a home namespace this program
// creates (bridge nwbr0 172.18.0.1/16, up).
//   container [n=200] [queues=0]
// connect, per container i (step timings in JSON):
//   netns   unshare(CLONE_NEWNET), open its fd and a netlink socket in it,
//           setns back home                        (ip netns add)
//   veth    nwcI (group 42) + peer eth0 born in the namespace via
//           IFLA_NET_NS_FD          (ip link add nwcI group 42 type veth peer
//                                     name eth0 netns cI)
//           queues > 0: that many transmit and receive queues on both ends
//           (numtxqueues Q numrxqueues Q); 0, the default: the kernel's own
//           (one per possible CPU), as `ip link add` leaves it
//   attach  ip link set nwcI master nwbr0
//   up      ip link set nwcI up
//   peer_up ip -n cI link set eth0 up
//   addr    ip -n cI addr add 172.18.x.y/16 dev eth0   (x.y = i + 2)
//   route   ip -n cI route add default via 172.18.0.1
// then the socket inside is closed (the namespace fd keeps it alive).
// eth0 is the first link created in a fresh namespace, so it is ifindex 2:
// the address request uses that (checked once, untimed, against the
// kernel's answer).
// remove_group: one RTM_DELLINK IFLA_GROUP 42 in the home namespace (takes
// the peers along) plus closing every namespace fd; per container.
// remove_netns: closing every namespace fd; timed until the RTM_DELLINK
// events of all n home ends arrived (the kernel deletes a veth's peer with
// it); per container. One JSON line.
//   container serve [queues=0]
// The same home and warm-up, then commands on stdin, for runs interleaved
// with netweave's: "connect K" connects K more containers and prints each
// one's µs on a line; "teardown" removes them all (group delete, namespace
// fds closed, settled) and prints "ok".
#include "rt.h"

#define BUF (8 << 20)
#define GROUP 42
#define MAXN 4096

enum { S_NETNS, S_VETH, S_ATTACH, S_UP, S_PEER_UP, S_ADDR, S_ROUTE, S_COUNT };
static const char *step_names[S_COUNT] = {"netns", "veth", "attach", "up", "peer_up", "addr", "route"};

static int home;
static uint32_t queues;
static nl_t hs;
static int bridge;
static int ns_fds[MAXN];
static samples_t total, steps[S_COUNT];
static buf_t m;

static void step(nl_t *s, const char *what, int k, uint64_t *t) {
  nl_call(s, &m, what);
  uint64_t now = now_ns();
  samples_add(&steps[k], (double)(now - *t) / 1000.0);
  *t = now;
}

static void connect_one(int i) {
  char host[IFNAMSIZ];
  snprintf(host, sizeof host, "nwc%d", i);
  nl_t in;
  uint64_t t0 = now_ns(), t = t0;

  ns_fds[i] = ns_create(home, &in, BUF);
  uint64_t now = now_ns();
  samples_add(&steps[S_NETNS], (double)(now - t) / 1000.0);
  t = now;

  buf_reset(&m);
  rt_veth_queues(&m, host, "eth0", GROUP, ns_fds[i], queues);
  step(&hs, "create veth with peer in the namespace", S_VETH, &t);
  buf_reset(&m);
  rt_setlink(&m, 0, host, 0, (uint32_t)bridge);
  step(&hs, "attach to bridge", S_ATTACH, &t);
  buf_reset(&m);
  rt_setlink(&m, 0, host, 1, 0);
  step(&hs, "host end up", S_UP, &t);
  buf_reset(&m);
  rt_setlink(&m, 0, "eth0", 1, 0);
  step(&in, "eth0 up", S_PEER_UP, &t);
  buf_reset(&m);
  rt_addr4(&m, 2, ip4_add(ip4("172.18.0.0"), (uint32_t)i + 2), 16);
  step(&in, "address on eth0", S_ADDR, &t);
  buf_reset(&m);
  rt_default_route4(&m, ip4("172.18.0.1"));
  step(&in, "default route", S_ROUTE, &t);
  samples_add(&total, us_since(t0));

  if (i == 0) {  // untimed: eth0 really is ifindex 2
    if (setns(ns_fds[i], CLONE_NEWNET) != 0) die("setns: %s", strerror(errno));
    if (ifindex_of("eth0") != 2) die("eth0 is not ifindex 2 in a fresh namespace");
    if (setns(home, CLONE_NEWNET) != 0) die("setns: %s", strerror(errno));
  }
  nl_close(&in);
}

// Waits until namespaces dropped so far are cleaned up: the kernel frees
// dying namespaces in order, so a later sentinel namespace going away means
// the earlier ones are gone too.
static void settle(void) {
  int fd = ns_create(home, NULL, 0);
  buf_reset(&m);
  rt_veth(&m, "nwsettle", "sentinel", 0, fd);
  nl_call(&hs, &m, "create sentinel");
  nl_t ev;
  nl_open(&ev, NETLINK_ROUTE, BUF);
  nl_join(&ev, RTNLGRP_LINK);
  close(fd);
  nl_wait_dellink(&ev, "nwsettle", 1);
  nl_close(&ev);
}

static void remove_all(int n) {
  buf_reset(&m);
  rt_dellink_group(&m, GROUP);
  nl_call(&hs, &m, "remove by group");
  for (int i = 0; i < n; i++) close(ns_fds[i]);
}

static int serve(void) {
  char cmd[32];
  int k, next = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (scanf("%31s", cmd) == 1) {
    if (strcmp(cmd, "connect") == 0 && scanf("%d", &k) == 1) {
      if (k < 0 || next + k > MAXN) die("serve: at most %d containers before a teardown", MAXN);
      for (int j = 0; j < k; j++) {
        uint64_t t0 = now_ns();
        connect_one(next++);
        printf("%.3f\n", us_since(t0));
      }
    } else if (strcmp(cmd, "teardown") == 0) {
      remove_all(next);
      next = 0;
      settle();
      printf("ok\n");
    } else {
      die("serve: unknown command %s", cmd);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  prog_name = "container";
  int serving = argc > 1 && strcmp(argv[1], "serve") == 0;
  int n = argc > 1 && !serving ? atoi(argv[1]) : 200;
  int q = argc > 2 ? atoi(argv[2]) : 0;
  if (n < 1 || n > MAXN || q < 0 || q > 4096) die("usage: container [n<=%d] [queues<=4096] | container serve [queues]", MAXN);
  queues = (uint32_t)q;
  home = ns_enter_new();
  nl_open(&hs, NETLINK_ROUTE, BUF);

  buf_reset(&m);
  rt_bridge(&m, "nwbr0");
  nl_call(&hs, &m, "create bridge");
  bridge = ifindex_of("nwbr0");
  buf_reset(&m);
  rt_addr4(&m, bridge, ip4("172.18.0.1"), 16);
  nl_call(&hs, &m, "bridge address");
  buf_reset(&m);
  rt_setlink(&m, bridge, NULL, 1, 0);
  nl_call(&hs, &m, "bridge up");

  // warm-up: a few containers, removed by group
  for (int i = 0; i < 5; i++) connect_one(i);
  buf_reset(&m);
  rt_dellink_group(&m, GROUP);
  nl_call(&hs, &m, "warm-up teardown");
  for (int i = 0; i < 5; i++) close(ns_fds[i]);
  total.n = 0;
  for (int k = 0; k < S_COUNT; k++) steps[k].n = 0;
  settle();
  if (serving) return serve();

  for (int i = 0; i < n; i++) connect_one(i);
  uint64_t t0 = now_ns();
  remove_all(n);
  double group_us = us_since(t0);
  settle();

  for (int i = 0; i < n; i++) connect_one(i);
  nl_t ev;
  nl_open(&ev, NETLINK_ROUTE, 32 << 20);
  nl_join(&ev, RTNLGRP_LINK);
  t0 = now_ns();
  for (int i = 0; i < n; i++) close(ns_fds[i]);
  nl_wait_dellink(&ev, "nwc", (size_t)n);
  double netns_us = us_since(t0);
  nl_close(&ev);

  printf("{\"bench\":\"container\",");
  json_samples(stdout, "connect", &total);
  printf(",\"steps\":{");
  for (int k = 0; k < S_COUNT; k++) {
    if (k) printf(",");
    json_samples(stdout, step_names[k], &steps[k]);
  }
  printf("},\"remove_group\":{\"n\":%d,\"total_us\":%.1f,\"us_per_container\":%.3f}", n, group_us, group_us / n);
  printf(",\"remove_netns\":{\"n\":%d,\"total_us\":%.1f,\"us_per_container\":%.3f}}\n", n, netns_us, netns_us / n);
  return 0;
}

// Reference for bench/veth.ts: veth pairs over plain rtnetlink, one request +
// ack at a time, in namespaces this program creates (its own home namespace
// first, then one per phase).
//   veth [create=200] [delete_one=20] [reps=3]
// - create: `ip link add vaI type veth peer name vbI`, awaited one by one.
// - delete_one: `ip link del vaI` one by one (each waits out the kernel's
//   rcu_barrier, ~16 ms), on the first delete_one pairs of the create phase.
// - delete_group: `create` pairs made with IFLA_GROUP 42 on the named end,
//   then one RTM_DELLINK with IFLA_GROUP 42 (the ack returns once they are
//   gone); per pair.
// - delete_netns: `create` pairs in a namespace, whose last reference (fd and
//   socket) is then closed; timed until the kernel has unregistered its
//   links, seen as the RTM_DELLINK event of a sentinel veth whose other end
//   lives in the home namespace (all devices of a dying namespace go in one
//   unregister batch); per pair.
// Every phase runs in a fresh namespace; after each, the namespace is
// dropped and its cleanup awaited, so phases do not overlap. One JSON line.
//   veth serve <netns path>
// - serve: enters the namespace and, for each stdin line "NAME PEER GROUP",
//   creates that pair (one request + ack) and prints the µs it took. The
//   bench drives it op by op, alternating with netweave's creates in the same
//   namespace, so both sides are sampled under the same conditions.
#include "rt.h"

#define BUF (8 << 20)
#define GROUP 42

typedef struct {
  int fd;
  nl_t sock;
  char sentinel[IFNAMSIZ];
} ns_t;

static int home;
static nl_t home_sock;
static unsigned ns_counter;

// A namespace with a socket in it and a sentinel veth (home end "snN").
static void ns_make(ns_t *ns) {
  ns->fd = ns_create(home, &ns->sock, BUF);
  snprintf(ns->sentinel, sizeof ns->sentinel, "sn%u", ns_counter++);
  buf_t m = {0};
  rt_veth(&m, ns->sentinel, "sentinel", 0, ns->fd);
  nl_call(&home_sock, &m, "create sentinel veth");
  free(m.b);
}

// Drops the namespace's last references; returns µs until its links are gone.
static double ns_drop(ns_t *ns) {
  nl_t ev;
  nl_open(&ev, NETLINK_ROUTE, BUF);
  nl_join(&ev, RTNLGRP_LINK);
  uint64_t t0 = now_ns();
  nl_close(&ns->sock);
  close(ns->fd);
  nl_wait_dellink(&ev, ns->sentinel, 1);
  double us = us_since(t0);
  nl_close(&ev);
  return us;
}

static void create_pairs(nl_t *s, long n, uint32_t group, samples_t *out) {
  buf_t m = {0};
  char a[IFNAMSIZ], b[IFNAMSIZ];
  for (long i = 0; i < n; i++) {
    snprintf(a, sizeof a, "va%d", (int)i);
    snprintf(b, sizeof b, "vb%d", (int)i);
    buf_reset(&m);
    rt_veth(&m, a, b, group, -1);
    uint64_t t0 = now_ns();
    nl_call(s, &m, "create veth pair");
    if (out) samples_add(out, us_since(t0));
  }
  free(m.b);
}

static double median3(double *v, int n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return v[n / 2];
}

static int serve(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) die("enter %s: %s", path, strerror(errno));
  close(fd);
  nl_t s;
  nl_open(&s, NETLINK_ROUTE, BUF);
  buf_t m = {0};
  char a[IFNAMSIZ], b[IFNAMSIZ];
  unsigned group;
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (scanf("%15s %15s %u", a, b, &group) == 3) {
    buf_reset(&m);
    rt_veth(&m, a, b, group, -1);
    uint64_t t0 = now_ns();
    nl_call(&s, &m, "create veth pair");
    printf("%.3f\n", us_since(t0));
  }
  free(m.b);
  return 0;
}

int main(int argc, char **argv) {
  prog_name = "veth";
  if (argc > 2 && strcmp(argv[1], "serve") == 0) return serve(argv[2]);
  long n = argc > 1 ? atol(argv[1]) : 200;
  long n_del = argc > 2 ? atol(argv[2]) : 20;
  int reps = argc > 3 ? atoi(argv[3]) : 3;
  if (n_del > n || reps < 1 || reps > 16) die("usage: veth [create] [delete_one<=create] [reps 1..16]");
  home = ns_enter_new();
  nl_open(&home_sock, NETLINK_ROUTE, BUF);

  samples_t create = {0}, del_one = {0};
  buf_t m = {0};
  char name[IFNAMSIZ];

  // warm-up: a few pairs so the first timed create does not pay first-use costs
  ns_t ns;
  ns_make(&ns);
  create_pairs(&ns.sock, 10, 0, NULL);
  ns_drop(&ns);

  ns_make(&ns);
  create_pairs(&ns.sock, n, 0, &create);
  for (long i = 0; i < n_del; i++) {
    snprintf(name, sizeof name, "va%d", (int)i);
    buf_reset(&m);
    rt_dellink_name(&m, name);
    uint64_t t0 = now_ns();
    nl_call(&ns.sock, &m, "delete veth pair");
    samples_add(&del_one, us_since(t0));
  }
  ns_drop(&ns);

  double group_us[16], netns_us[16];
  for (int r = 0; r < reps; r++) {
    ns_make(&ns);
    create_pairs(&ns.sock, n, GROUP, &create);
    buf_reset(&m);
    rt_dellink_group(&m, GROUP);
    uint64_t t0 = now_ns();
    nl_call(&ns.sock, &m, "delete group");
    group_us[r] = us_since(t0);
    ns_drop(&ns);

    ns_make(&ns);
    create_pairs(&ns.sock, n, 0, &create);
    netns_us[r] = ns_drop(&ns);
  }
  double g = median3(group_us, reps), d = median3(netns_us, reps);

  printf("{\"bench\":\"veth\",");
  json_samples(stdout, "create", &create);
  printf(",");
  json_samples(stdout, "delete_one", &del_one);
  printf(",\"delete_group\":{\"pairs\":%ld,\"reps\":%d,\"total_us\":%.1f,\"us_per_pair\":%.3f}", n, reps, g, g / (double)n);
  printf(",\"delete_netns\":{\"pairs\":%ld,\"reps\":%d,\"total_us\":%.1f,\"us_per_pair\":%.3f}}\n", n, reps, d, d / (double)n);
  return 0;
}

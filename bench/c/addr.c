// Reference for bench/addr.ts: IPv4 address adds on one link, in a namespace
// this program creates.
//   addr [n=1000] [rounds=3]
// Each round uses a fresh veth pair (adI/aeI; the addresses go on adI, down)
// and n addresses 10.(100+round).x.y/32, x.y = 0.1, 0.2, … (see
// bench/addr.ts: addressFor()). Awaited: `ip addr add` one request + ack at
// a time. Pipelined: all n requests in one datagram, then all n acks read
// (rtnetlink handles the whole datagram inside sendmsg). One JSON line.
#include "rt.h"

int main(int argc, char **argv) {
  prog_name = "addr";
  long n = argc > 1 ? atol(argv[1]) : 1000;
  int rounds = argc > 2 ? atoi(argv[2]) : 3;
  if (n < 1 || n > 60000 || rounds < 1 || rounds > 16) die("usage: addr [n<=60000] [rounds 1..16]");
  ns_enter_new();
  nl_t s;
  nl_open(&s, NETLINK_ROUTE, 16 << 20);
  buf_t m = {0};
  char a[IFNAMSIZ], b[IFNAMSIZ];
  int link = 0;

  samples_t awaited = {0};
  double piped[16];
  for (int r = 0; r < 2 * rounds; r++) {
    snprintf(a, sizeof a, "ad%d", link);
    snprintf(b, sizeof b, "ae%d", link);
    link++;
    buf_reset(&m);
    rt_veth(&m, a, b, 0, -1);
    nl_call(&s, &m, "create veth pair");
    int ifindex = ifindex_of(a);
    uint32_t base = ip4("10.100.0.0");
    base = ip4_add(base, (uint32_t)r << 16);
    if (r % 2 == 0) {
      for (long i = 0; i < n; i++) {
        buf_reset(&m);
        rt_addr4(&m, ifindex, ip4_add(base, (uint32_t)i + 1), 32);
        uint64_t t0 = now_ns();
        nl_call(&s, &m, "add address");
        samples_add(&awaited, us_since(t0));
      }
    } else {
      buf_reset(&m);
      for (long i = 0; i < n; i++) rt_addr4(&m, ifindex, ip4_add(base, (uint32_t)i + 1), 32);
      uint64_t t0 = now_ns();
      nl_send(&s, &m);
      nl_wait(&s, (size_t)n, "add address (pipelined)");
      piped[r / 2] = us_since(t0) / (double)n;
    }
  }
  qsort(piped, (size_t)rounds, sizeof(double), cmp_double);

  printf("{\"bench\":\"addr\",");
  json_samples(stdout, "awaited", &awaited);
  printf(",\"pipelined\":{\"n\":%ld,\"rounds\":%d,\"us_per_op\":%.3f,\"best_us_per_op\":%.3f}}\n", n, rounds,
         piped[rounds / 2], piped[0]);
  return 0;
}
